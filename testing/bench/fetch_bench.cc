// Fetch throughput over loopback: peer::Node against a plain socket copy.
//
// mars: host alpha (127.0.0.1) is the primary of r0 and holds a finished
// logfile 1 (its version link gives the length); host beta (127.0.0.2) is a
// secondary that fetches it with the production fetch settings (512 KiB
// requests, 8 in flight). Timed from the first bytes of beta's local copy
// to its last: (length - first size seen) / time.
//
// Reference: the same logfile read in 256 KiB pieces, sent over one TCP
// connection from 127.0.0.1 to 127.0.0.2 and written to a file by the
// receiver (what `nc < file` into `nc > file` does), timed the same way on
// the receiving side.
//
// Both also over a long link: SlowLinks (slow_link.h) between the hosts
// delay and rate-limit every byte as a WAN link would.
//
// Each round also prints the CPU time the two busiest threads of each side
// used while the bytes moved (mars: the serving and the asking connection
// thread; the reference: sender and receiver).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "benches.h"
#include "cluster_host.h"
#include "platform_user.h"
#include "slow_link.h"

namespace mars {
namespace bench {
namespace {

constexpr size_t kCopyChunk = 256 << 10;
constexpr uint64_t kScanNs = kNsPerSecond / 10;

// CPU time of the two busiest threads of one side (mars: the connection
// threads, the serving one and the asking one; the reference: its sender
// and receiver), from the first bytes of the copy to its last.
struct CpuMs {
  double first = 0;
  double second = 0;
};

CpuMs BusiestTwo(const std::vector<uint64_t>& used_ns) {
  CpuMs ms;
  if (used_ns.size() > 0) ms.first = used_ns[0] / 1e6;
  if (used_ns.size() > 1) ms.second = used_ns[1] / 1e6;
  return ms;
}

// One mars fetch of `source` (a logfile of `length` bytes); MiB/s, or a
// negative number when it did not complete. With `link`, the hosts reach
// each other only through a SlowLink each way: the tree gives alpha as
// 127.0.0.3 and beta as 127.0.0.4, where the links listen.
double FetchOnce(const std::string& source, uint64_t length,
                 const SlowLinkOptions* link, CpuMs* cpu, std::string* error) {
  ClusterHost alpha("alpha", "127.0.0.1");
  ClusterHost beta("beta", "127.0.0.2");
  if (link != nullptr) {
    alpha.SetTreeIp("127.0.0.3");
    beta.SetTreeIp("127.0.0.4");
  }
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
  if (::link(source.c_str(), alpha.Path(log).c_str()) != 0) {
    *error = "cannot link the logfile";
    return -1;
  }
  const uint16_t port = StartPair(&alpha, &beta, kScanNs);
  if (port == 0) {
    *error = "no free port on 127.0.0.1 and 127.0.0.2";
    return -1;
  }
  SlowLink to_alpha, to_beta;
  if (link != nullptr && (!to_alpha.Start(alpha.tree_ip(), port, alpha.ip(),
                                          port, beta.tree_ip(), *link) ||
                          !to_beta.Start(beta.tree_ip(), port, beta.ip(), port,
                                         alpha.tree_ip(), *link))) {
    StopPair(&alpha, &beta);
    *error = "cannot listen on 127.0.0.3 and 127.0.0.4 for the link";
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
  const std::map<int, uint64_t> cpu_before = ThreadsCpuNs("mars_peer");
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
  *cpu = BusiestTwo(CpuUsedNs(cpu_before, ThreadsCpuNs("mars_peer")));
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
  uint64_t cpu_first_ns = 0;  // the receiver's CPU time at `first`, `last`
  uint64_t cpu_last_ns = 0;
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
    timing->cpu_last_ns = ThisThreadCpuNs();
    if (timing->first_bytes == 0) {
      timing->first = timing->last;
      timing->first_bytes = timing->total;
      timing->cpu_first_ns = timing->cpu_last_ns;
    }
  }
  timing->ok = ok;
  if (out >= 0) close(out);
  close(fd);
}

// The reference: `source` (`length` bytes) copied through a TCP connection
// from 127.0.0.1 to 127.0.0.2 into a file in `dir`; MiB/s or negative.
// With `link`, the sender connects to a SlowLink on 127.0.0.5 that relays
// to the receiver.
double SocketCopyOnce(const std::string& source, uint64_t length,
                      const std::string& dir, const SlowLinkOptions* link,
                      CpuMs* cpu) {
  uint16_t port = 0;
  const int listener = ListenLoopback2(&port);
  if (listener < 0) return -1;
  SlowLink relay;
  uint32_t connect_ip = 0x7f000002;
  if (link != nullptr) {
    if (!relay.Start("127.0.0.5", 0, "127.0.0.2", port, "127.0.0.1", *link)) {
      close(listener);
      return -1;
    }
    connect_ip = 0x7f000005;
    port = relay.port();
  }
  ReceiveTiming timing;
  std::thread receiver(Receive, listener, dir + "/copy", &timing);
  const int in = open(source.c_str(), O_RDONLY | O_CLOEXEC);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in local = {};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(0x7f000001);
  sockaddr_in remote = {};
  remote.sin_family = AF_INET;
  remote.sin_addr.s_addr = htonl(connect_ip);
  remote.sin_port = htons(port);
  bool ok =
      in >= 0 && fd >= 0 &&
      bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0 &&
      connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) == 0;
  std::vector<uint8_t> buffer(kCopyChunk);
  const uint64_t sender_start_ns = ThisThreadCpuNs();
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
  const uint64_t sender_ns = ThisThreadCpuNs() - sender_start_ns;
  if (fd >= 0) close(fd);  // the receiver sees the end
  if (in >= 0) close(in);
  if (!ok) shutdown(listener, SHUT_RDWR);  // an accept() still waiting
  receiver.join();
  close(listener);
  unlink((dir + "/copy").c_str());
  if (!ok || !timing.ok || timing.total != length) return -1;
  *cpu = BusiestTwo({sender_ns, timing.cpu_last_ns - timing.cpu_first_ns});
  const double seconds =
      std::chrono::duration<double>(timing.last - timing.first).count();
  return MiBPerSecond(length - timing.first_bytes, seconds);
}

}  // namespace

Measurement RunFetchBench(const FetchOptions& options) {
  Measurement m;
  const SlowLinkOptions* link = options.over_link ? &options.link : nullptr;
  char text[160];
  if (link == nullptr) {
    m.name = "fetch, loopback";
    m.reference =
        "file -> TCP socket (127.0.0.1 -> 127.0.0.2) -> file copy of the "
        "same logfile, 256 KiB reads/writes";
  } else {
    snprintf(text, sizeof(text), "fetch, %.0f ms link",
             2 * link->one_way_ns / 1e6);
    m.name = text;
    if (options.inflight_bytes > 0) {
      snprintf(text, sizeof(text), ", peer_inflight_bytes %.0f MiB",
               static_cast<double>(options.inflight_bytes) / kMiB);
      m.name += text;
    }
    snprintf(text, sizeof(text),
             "the same file -> TCP -> file copy through the same link "
             "(round trip %.0f ms, %.0f Mbit/s, %.1f MiB buffer)",
             2 * link->one_way_ns / 1e6, link->rate_bytes_per_s * 8 / 1e6,
             static_cast<double>(link->router_buffer_bytes) / kMiB);
    m.reference = text;
  }
  m.target_ratio = 0.9;
  struct Tunable {
    explicit Tunable(uint64_t value) {
      if (value > 0) {
        platform::test::SetTunableForTest(platform::Tunable::kPeerInflightBytes,
                                          value);
      }
    }
    ~Tunable() { platform::test::ResetTunablesForTest(); }
  } tunable(options.inflight_bytes);
  TempDir work("fetch");
  const std::string source = work.path() + "/log";
  const std::vector<uint8_t> payload = PseudoRandomBytes(4 * kMiB, 7);
  const uint64_t length =
      WriteLogfile(source, 1, options.bytes, 64 << 10, 256 * kMiB, payload);
  printf("%s: logfile of %.1f MiB, %d rounds (reference, mars)\n",
         m.name.c_str(), static_cast<double>(length) / kMiB, options.rounds);
  std::vector<double> mars, reference;
  for (int round = 0; round < options.rounds; ++round) {
    CpuMs ref_cpu, mars_cpu;
    const double ref =
        SocketCopyOnce(source, length, work.path(), link, &ref_cpu);
    std::string error;
    const double got = FetchOnce(source, length, link, &mars_cpu, &error);
    printf(
        "  round %d: socket copy %8.1f MiB/s (CPU %.0f + %.0f ms)   "
        "mars fetch %8.1f MiB/s (CPU %.0f + %.0f ms)%s%s\n",
        round + 1, ref, ref_cpu.first, ref_cpu.second, got, mars_cpu.first,
        mars_cpu.second, error.empty() ? "" : "  ", error.c_str());
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
