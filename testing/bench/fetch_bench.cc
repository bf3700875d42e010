// Fetch throughput over loopback: peer::Node against a plain socket copy.
//
// mars: host alpha (127.0.0.1) is the primary of r0 and holds a finished
// logfile 1 (its version link gives the length); host beta (127.0.0.2) is a
// secondary that fetches it with the production fetch settings (256 KiB
// requests, 4 in flight). Timed from the first bytes of beta's local copy
// to its last: (length - first size seen) / time.
//
// Reference: the same logfile read in 256 KiB pieces, sent over one TCP
// connection from 127.0.0.1 to 127.0.0.2 and written to a file by the
// receiver (what `nc < file` into `nc > file` does), timed the same way on
// the receiving side.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "benches.h"
#include "cluster_host.h"

namespace mars {
namespace bench {
namespace {

constexpr size_t kCopyChunk = 256 << 10;
constexpr uint64_t kScanNs = kNsPerSecond / 10;

// One mars fetch of `source` (a logfile of `length` bytes); MiB/s, or a
// negative number when it did not complete.
double FetchOnce(const std::string& source, uint64_t length,
                 std::string* error) {
  ClusterHost alpha("alpha", "127.0.0.1");
  ClusterHost beta("beta", "127.0.0.2");
  WriteClusterLinks(&alpha, beta, /*created=*/true);
  WriteClusterLinks(&beta, alpha, /*created=*/false);
  const std::string log = "resource-r0/" + LogfileName(1, "alpha");
  alpha.Put("resource-r0/primary", "alpha");
  alpha.Put("resource-r0/data-alpha", "/dev/null");
  alpha.Put("resource-r0/data-beta", "/dev/null");
  alpha.Put("resource-r0/todo-beta/connect", "1");
  alpha.Put("resource-r0/replay-beta", LogfileName(1, "alpha") + ",0,0");
  alpha.Put("resource-r0/replay-alpha", LogfileName(2, "alpha") + ",0,0");
  alpha.Put("resource-r0/" + VersionLinkName(1, "alpha"),
            VersionLinkValue(1, "alpha", length));
  // The same bytes (and page-cache pages) in every round.
  if (link(source.c_str(), alpha.Path(log).c_str()) != 0) {
    *error = "cannot link the logfile";
    return -1;
  }
  if (StartPair(&alpha, &beta, kScanNs) == 0) {
    *error = "no free port on 127.0.0.1 and 127.0.0.2";
    return -1;
  }
  const std::string copy = beta.Path(log);
  uint64_t first_size = 0;
  Clock::time_point first;
  if (!WaitFor(
          [&] {
            first_size = FileSize(copy);
            first = Clock::now();
            return first_size > 0;
          },
          std::chrono::seconds(30), std::chrono::microseconds(500))) {
    *error = "nothing fetched in 30 s: " + std::string(beta.Peer().last_error);
    return -1;
  }
  Clock::time_point last;
  if (!WaitFor(
          [&] {
            last = Clock::now();
            return FileSize(copy) >= length;
          },
          std::chrono::seconds(120), std::chrono::microseconds(500))) {
    *error = "fetch did not complete in 120 s";
    return -1;
  }
  StopPair(&alpha, &beta);
  const double seconds = std::chrono::duration<double>(last - first).count();
  return MiBPerSecond(length - first_size, seconds);
}

int Fail(const char* what) {
  perror(what);
  return -1;
}

// Listens on 127.0.0.2 (port 0); returns the socket and sets *port.
int ListenLoopback2(uint16_t* port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail("socket");
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(0x7f000002);
  socklen_t size = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 1) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    close(fd);
    return Fail("bind/listen 127.0.0.2");
  }
  *port = ntohs(address.sin_port);
  return fd;
}

// Receives everything from `listener`'s first connection into `path`;
// sets the time and total after the first write, and of the last one.
struct ReceiveTiming {
  Clock::time_point first, last;
  uint64_t first_bytes = 0;
  uint64_t total = 0;
  bool ok = false;
};

void Receive(int listener, const std::string& path, ReceiveTiming* timing) {
  const int fd = accept(listener, nullptr, nullptr);
  if (fd < 0) {
    perror("accept");
    return;
  }
  const int out = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<uint8_t> buffer(kCopyChunk);
  bool ok = out >= 0;
  while (ok) {
    const ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
    if (n == 0) break;
    if (n < 0) {
      ok = false;
      break;
    }
    size_t written = 0;
    while (ok && written < static_cast<size_t>(n)) {
      const ssize_t w =
          write(out, buffer.data() + written, static_cast<size_t>(n) - written);
      ok = w > 0;
      if (ok) written += static_cast<size_t>(w);
    }
    timing->total += static_cast<uint64_t>(n);
    timing->last = Clock::now();
    if (timing->first_bytes == 0) {
      timing->first = timing->last;
      timing->first_bytes = timing->total;
    }
  }
  timing->ok = ok;
  if (out >= 0) close(out);
  close(fd);
}

// The reference: `source` (`length` bytes) copied through a TCP connection
// from 127.0.0.1 to 127.0.0.2 into a file in `dir`; MiB/s or negative.
double SocketCopyOnce(const std::string& source, uint64_t length,
                      const std::string& dir) {
  uint16_t port = 0;
  const int listener = ListenLoopback2(&port);
  if (listener < 0) return -1;
  ReceiveTiming timing;
  std::thread receiver(Receive, listener, dir + "/copy", &timing);
  const int in = open(source.c_str(), O_RDONLY | O_CLOEXEC);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in local = {};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(0x7f000001);
  sockaddr_in remote = {};
  remote.sin_family = AF_INET;
  remote.sin_addr.s_addr = htonl(0x7f000002);
  remote.sin_port = htons(port);
  bool ok =
      in >= 0 && fd >= 0 &&
      bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0 &&
      connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) == 0;
  std::vector<uint8_t> buffer(kCopyChunk);
  for (uint64_t offset = 0; ok && offset < length;) {
    const ssize_t n =
        pread(in, buffer.data(), buffer.size(), static_cast<off_t>(offset));
    ok = n > 0;
    for (ssize_t sent = 0; ok && sent < n;) {
      const ssize_t s = send(fd, buffer.data() + sent,
                             static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      ok = s > 0;
      if (ok) sent += s;
    }
    if (ok) offset += static_cast<uint64_t>(n);
  }
  if (fd >= 0) close(fd);  // the receiver sees the end
  if (in >= 0) close(in);
  if (!ok) shutdown(listener, SHUT_RDWR);  // an accept() still waiting
  receiver.join();
  close(listener);
  unlink((dir + "/copy").c_str());
  if (!ok || !timing.ok || timing.total != length) return -1;
  const double seconds =
      std::chrono::duration<double>(timing.last - timing.first).count();
  return MiBPerSecond(length - timing.first_bytes, seconds);
}

}  // namespace

Measurement RunFetchBench(const FetchOptions& options) {
  Measurement m;
  m.name = "fetch, loopback";
  m.reference =
      "file -> TCP socket (127.0.0.1 -> 127.0.0.2) -> file copy of the same "
      "logfile, 256 KiB reads/writes";
  m.target_ratio = 0.9;
  TempDir work("fetch");
  const std::string source = work.path() + "/log";
  const std::vector<uint8_t> payload = PseudoRandomBytes(4 * kMiB, 7);
  const uint64_t length =
      WriteLogfile(source, 1, options.bytes, 64 << 10, 256 * kMiB, payload);
  printf("fetch: logfile of %.1f MiB, %d rounds (reference, mars)\n",
         static_cast<double>(length) / kMiB, options.rounds);
  std::vector<double> mars, reference;
  for (int round = 0; round < options.rounds; ++round) {
    const double ref = SocketCopyOnce(source, length, work.path());
    std::string error;
    const double got = FetchOnce(source, length, &error);
    printf("  round %d: socket copy %8.1f MiB/s   mars fetch %8.1f MiB/s%s%s\n",
           round + 1, ref, got, error.empty() ? "" : "  ", error.c_str());
    fflush(stdout);
    if (ref < 0 || got < 0) {
      m.ok = false;
      m.note = ref < 0 ? "the socket copy failed" : error;
      return m;
    }
    reference.push_back(ref);
    mars.push_back(got);
  }
  m.mars_mibs = Median(mars);
  m.reference_mibs = Median(reference);
  char note[128];
  snprintf(note, sizeof(note), "%.0f MiB logfile, median of %d rounds",
           static_cast<double>(length) / kMiB, options.rounds);
  m.note = note;
  return m;
}

}  // namespace bench
}  // namespace mars
