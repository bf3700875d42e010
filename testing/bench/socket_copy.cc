// The plain TCP file copy of the benchmarks (socket_copy.h).
#include "socket_copy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "bench_util.h"

namespace mars {
namespace bench {
namespace {

// The sender reads and sends 256 KiB at a time (its buffer stays in the
// CPU's cache between the read and the send). The receiver writes what it
// receives in pieces of the size of mars's fetch requests, each received
// whole (MSG_WAITALL) and written at its offset as mars writes an answer:
// both sides write the page cache in the same pieces, which the kernel
// backs with folios of the same size (docu/benchmarks.md, "Whole pieces
// on both sides").
constexpr size_t kSendPiece = 256 << 10;
constexpr size_t kWritePiece = 512 << 10;

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
  // The receiver's run and wait times at `first` and after the last write.
  SchedNs sched_first, sched_last;
  bool ok = false;
};

void Receive(int listener, const std::string& path, ReceiveTiming* timing) {
  const int fd = accept(listener, nullptr, nullptr);
  if (fd < 0) {
    perror("accept");
    return;
  }
  const int out = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<uint8_t> buffer(kWritePiece);
  bool ok = out >= 0;
  while (ok) {
    // A whole piece, fewer bytes only at the end of the stream.
    const ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_WAITALL);
    if (n == 0) break;
    if (n < 0) {
      ok = errno == EINTR;
      if (ok) continue;
      break;
    }
    size_t written = 0;
    while (ok && written < static_cast<size_t>(n)) {
      const ssize_t w =
          pwrite(out, buffer.data() + written, static_cast<size_t>(n) - written,
                 static_cast<off_t>(timing->total + written));
      ok = w > 0;
      if (ok) written += static_cast<size_t>(w);
    }
    timing->total += static_cast<uint64_t>(n);
    timing->last = Clock::now();
    if (timing->first_bytes == 0) {
      timing->first = timing->last;
      timing->first_bytes = timing->total;
      timing->sched_first = ThisThreadSchedNs();
    }
  }
  // Read once at the end, not per piece: only the end of the stream was
  // received since the last write.
  timing->sched_last = ThisThreadSchedNs();
  timing->ok = ok;
  if (out >= 0) close(out);
  close(fd);
}

}  // namespace

CpuMs BusiestTwo(const std::vector<SchedNs>& used) {
  CpuMs ms;
  if (used.size() > 0) {
    ms.first = used[0].run / 1e6;
    ms.first_wait = used[0].wait / 1e6;
  }
  if (used.size() > 1) {
    ms.second = used[1].run / 1e6;
    ms.second_wait = used[1].wait / 1e6;
  }
  return ms;
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
  std::vector<uint8_t> buffer(kSendPiece);
  const SchedNs sender_start = ThisThreadSchedNs();
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
  const SchedNs sender = SchedSince(sender_start, ThisThreadSchedNs());
  if (fd >= 0) close(fd);  // the receiver sees the end
  if (in >= 0) close(in);
  if (!ok) shutdown(listener, SHUT_RDWR);  // an accept() still waiting
  receiver.join();
  close(listener);
  unlink((dir + "/copy").c_str());
  if (!ok || !timing.ok || timing.total != length) return -1;
  *cpu =
      BusiestTwo({sender, SchedSince(timing.sched_first, timing.sched_last)});
  const double seconds =
      std::chrono::duration<double>(timing.last - timing.first).count();
  return MiBPerSecond(length - timing.first_bytes, seconds);
}

bool RecordCopyRound(int round, const char* what, const CopyRound& r,
                     Measurement* m, std::vector<double>* reference,
                     std::vector<double>* mars) {
  printf(
      "  round %d: socket copy %8.1f MiB/s (CPU %.0f + %.0f ms, waited "
      "%.0f + %.0f)   mars %s %8.1f MiB/s (CPU %.0f + %.0f ms, waited %.0f + "
      "%.0f%s)%s%s\n",
      round + 1, r.reference_mibs, r.reference_cpu.first,
      r.reference_cpu.second, r.reference_cpu.first_wait,
      r.reference_cpu.second_wait, what, r.mars_mibs, r.mars_cpu.first,
      r.mars_cpu.second, r.mars_cpu.first_wait, r.mars_cpu.second_wait,
      r.extra.c_str(), r.error.empty() ? "" : "  ", r.error.c_str());
  fflush(stdout);
  if (r.reference_mibs < 0 || r.mars_mibs < 0) {
    m->ok = false;
    m->note = r.reference_mibs < 0 ? "the socket copy failed" : r.error;
    return false;
  }
  reference->push_back(r.reference_mibs);
  mars->push_back(r.mars_mibs);
  return true;
}

}  // namespace bench
}  // namespace mars
