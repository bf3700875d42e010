// core/platform_net.h implemented with POSIX sockets. Every descriptor is
// non-blocking; a call that has to wait does so in ppoll() until its
// deadline, so timeouts need no socket options. Shutdown() sets the
// socket's flag and then calls shutdown(2): on Linux that wakes every poll
// on the socket, connected or listening (a listening socket is closed by it
// and polls POLLHUP), and the woken call sees the flag. The socket's state
// stays shut down, so a call that checked the flag just before Shutdown()
// still returns at once.
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "core/base/errno_status.h"
#include "core/platform.h"
#include "core/platform_net.h"

namespace mars {
namespace platform {
namespace {

constexpr uint64_t kNsPerSecond = 1000000000ull;
// As in the kernel (2^32 ms): longer timeouts mean "no timeout".
constexpr uint64_t kForeverNs = (uint64_t{1} << 32) * 1000000ull;
// One send() or recv() moves at most this much.
constexpr size_t kMaxChunk = size_t{1} << 30;
// The largest SetReceiveLowWater() (platform_net.h).
constexpr size_t kMaxLowWater = size_t{1} << 20;
// One gathered send takes at most this many pieces (platform_net.h).
constexpr size_t kMaxSendPieces = 16;

constexpr int kKeepIdleSeconds = 10;
constexpr int kKeepIntervalSeconds = 5;
constexpr int kKeepCount = 3;

Status TimedOut() { return Status(StatusCode::kUnavailable, "timed out"); }
Status ShutDown() {
  return Status(StatusCode::kUnavailable, "socket shut down");
}
Status NotOpen() { return Status(StatusCode::kInternal, "socket is not open"); }

struct SocketImpl {
  int fd = -1;
  size_t low_water = 1;  // SO_RCVLOWAT as last set
  std::atomic<bool> shut_down{false};
};

SocketImpl* Impl(void* impl) { return static_cast<SocketImpl*>(impl); }

uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSecond +
         static_cast<uint64_t>(ts.tv_nsec);
}

// The end of a wait of `timeout_ns`; UINT64_MAX: never.
uint64_t DeadlineAfter(uint64_t timeout_ns) {
  if (timeout_ns >= kForeverNs) return UINT64_MAX;
  return NowNs() + timeout_ns;
}

// Waits until `fd` has one of `events` (or an error or hangup) or the
// deadline passes. Ok means "try the operation again".
Status WaitReady(int fd, short events, uint64_t deadline) {
  for (;;) {
    struct timespec ts;
    struct timespec* timeout = nullptr;
    if (deadline != UINT64_MAX) {
      const uint64_t now = NowNs();
      const uint64_t left = deadline > now ? deadline - now : 0;
      ts.tv_sec = static_cast<time_t>(left / kNsPerSecond);
      ts.tv_nsec = static_cast<long>(left % kNsPerSecond);
      timeout = &ts;
    }
    struct pollfd pfd = {fd, events, 0};
    const int n = ppoll(&pfd, 1, timeout, nullptr);
    if (n > 0) return Status::Ok();
    if (n == 0) return TimedOut();
    if (errno != EINTR) return StatusFromErrno(errno);
  }
}

Status SetInt(int fd, int level, int name, int value) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) != 0) {
    return StatusFromErrno(errno);
  }
  return Status::Ok();
}

// TCP_NODELAY and keepalive (platform_net.h) on a connected socket.
Status ConfigureConnected(int fd) {
  Status status = SetInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  if (status.ok()) status = SetInt(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  if (status.ok()) {
    status = SetInt(fd, IPPROTO_TCP, TCP_KEEPIDLE, kKeepIdleSeconds);
  }
  if (status.ok()) {
    status = SetInt(fd, IPPROTO_TCP, TCP_KEEPINTVL, kKeepIntervalSeconds);
  }
  if (status.ok()) status = SetInt(fd, IPPROTO_TCP, TCP_KEEPCNT, kKeepCount);
  return status;
}

// `address` as a sockaddr; false for an unspecified family.
bool ToSockaddr(const NetAddress& address, struct sockaddr_storage* out,
                socklen_t* length) {
  memset(out, 0, sizeof(*out));
  if (address.family == NetAddress::kIpv4) {
    auto* in = reinterpret_cast<struct sockaddr_in*>(out);
    in->sin_family = AF_INET;
    in->sin_port = htons(address.port);
    memcpy(&in->sin_addr, address.bytes, 4);
    *length = sizeof(*in);
    return true;
  }
  if (address.family == NetAddress::kIpv6) {
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    memcpy(&in6->sin6_addr, address.bytes, 16);
    *length = sizeof(*in6);
    return true;
  }
  return false;
}

void FromSockaddr(const struct sockaddr_storage& in, NetAddress* out) {
  *out = NetAddress();
  if (in.ss_family == AF_INET) {
    const auto* in4 = reinterpret_cast<const struct sockaddr_in*>(&in);
    out->family = NetAddress::kIpv4;
    out->port = ntohs(in4->sin_port);
    memcpy(out->bytes, &in4->sin_addr, 4);
  } else if (in.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(&in);
    out->family = NetAddress::kIpv6;
    out->port = ntohs(in6->sin6_port);
    memcpy(out->bytes, &in6->sin6_addr, 16);
  }
}

// A new non-blocking TCP socket for `address`; -1 with errno set.
int NewSocket(const struct sockaddr_storage& address) {
  return socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                IPPROTO_TCP);
}

// The status of a failed call with `error` on `impl`: after Shutdown()
// every failure is "socket shut down".
Status CallError(const SocketImpl* impl, int error) {
  if (impl->shut_down.load()) return ShutDown();
  return StatusFromErrno(error);
}

}  // namespace

Status Socket::Listen(const NetAddress& address, int backlog) {
  if (!MARS_CHECK(impl_ == nullptr)) {
    return Status(StatusCode::kInternal, "socket is already open");
  }
  struct sockaddr_storage sa;
  socklen_t length = 0;
  if (!ToSockaddr(address, &sa, &length)) {
    return Status(StatusCode::kInvalidArgument, "unspecified address family");
  }
  const int fd = NewSocket(sa);
  if (fd < 0) return StatusFromErrno(errno);
  Status status = SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (status.ok() &&
      bind(fd, reinterpret_cast<struct sockaddr*>(&sa), length) != 0) {
    status = StatusFromErrno(errno);
  }
  if (status.ok() && listen(fd, backlog) != 0) status = StatusFromErrno(errno);
  if (!status.ok()) {
    close(fd);
    return status;
  }
  SocketImpl* impl = new SocketImpl;
  impl->fd = fd;
  impl_ = impl;
  return Status::Ok();
}

Status Socket::Accept(Socket* out, NetAddress* peer, uint64_t timeout_ns) {
  if (!MARS_CHECK(impl_ != nullptr)) return NotOpen();
  if (!MARS_CHECK(out != this && !out->is_open())) {
    return Status(StatusCode::kInternal, "accept target is open");
  }
  SocketImpl* impl = Impl(impl_);
  const uint64_t deadline = DeadlineAfter(timeout_ns);
  for (;;) {
    if (impl->shut_down.load()) return ShutDown();
    struct sockaddr_storage sa;
    socklen_t length = sizeof(sa);
    const int fd = accept4(impl->fd, reinterpret_cast<struct sockaddr*>(&sa),
                           &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      const Status status = ConfigureConnected(fd);
      if (!status.ok()) {
        close(fd);
        return status;
      }
      SocketImpl* accepted = new SocketImpl;
      accepted->fd = fd;
      out->impl_ = accepted;
      if (peer != nullptr) FromSockaddr(sa, peer);
      return Status::Ok();
    }
    switch (errno) {
      case EAGAIN: {
        const Status status = WaitReady(impl->fd, POLLIN, deadline);
        if (!status.ok()) return impl->shut_down.load() ? ShutDown() : status;
        continue;
      }
      // A connection that died in the queue, or a signal: try again
      // (accept(2) asks to treat pending network errors like EAGAIN).
      case EINTR:
      case ECONNABORTED:
      case ENETDOWN:
      case EPROTO:
      case ENOPROTOOPT:
      case EHOSTDOWN:
      case ENONET:
      case EHOSTUNREACH:
      case EOPNOTSUPP:
      case ENETUNREACH:
        continue;
      default:
        return CallError(impl, errno);
    }
  }
}

Status Socket::Connect(const NetAddress& address, uint64_t timeout_ns) {
  if (!MARS_CHECK(impl_ == nullptr)) {
    return Status(StatusCode::kInternal, "socket is already open");
  }
  struct sockaddr_storage sa;
  socklen_t length = 0;
  if (!ToSockaddr(address, &sa, &length)) {
    return Status(StatusCode::kInvalidArgument, "unspecified address family");
  }
  const uint64_t deadline = DeadlineAfter(timeout_ns);
  const int fd = NewSocket(sa);
  if (fd < 0) return StatusFromErrno(errno);
  Status status = ConfigureConnected(fd);
  if (status.ok() &&
      connect(fd, reinterpret_cast<struct sockaddr*>(&sa), length) != 0) {
    // EINTR: the connection goes on in the background, as for EINPROGRESS.
    if (errno != EINPROGRESS && errno != EINTR) {
      status = StatusFromErrno(errno);
    } else {
      status = WaitReady(fd, POLLOUT, deadline);
      if (status.ok()) {
        int error = 0;
        socklen_t size = sizeof(error);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) {
          error = errno;
        }
        status = StatusFromErrno(error);
      }
    }
  }
  if (!status.ok()) {
    close(fd);
    return status;
  }
  SocketImpl* impl = new SocketImpl;
  impl->fd = fd;
  impl_ = impl;
  return Status::Ok();
}

Status Socket::LocalAddress(NetAddress* out) const {
  if (!MARS_CHECK(impl_ != nullptr)) return NotOpen();
  struct sockaddr_storage sa;
  socklen_t length = sizeof(sa);
  if (getsockname(Impl(impl_)->fd, reinterpret_cast<struct sockaddr*>(&sa),
                  &length) != 0) {
    return StatusFromErrno(errno);
  }
  FromSockaddr(sa, out);
  return Status::Ok();
}

Status Socket::SendAll(const void* data, size_t size, uint64_t timeout_ns) {
  const SendPiece piece{data, size};
  return SendAll(&piece, 1, timeout_ns);
}

Status Socket::SendAll(const SendPiece* pieces, size_t count,
                       uint64_t timeout_ns) {
  if (!MARS_CHECK(impl_ != nullptr)) return NotOpen();
  SocketImpl* impl = Impl(impl_);
  if (impl->shut_down.load()) return ShutDown();
  // The first byte not sent yet: pieces[index] at `offset`.
  size_t index = 0;
  size_t offset = 0;
  uint64_t deadline = DeadlineAfter(timeout_ns);
  for (;;) {
    while (index < count && offset == pieces[index].size) {
      ++index;
      offset = 0;
    }
    if (index == count) return Status::Ok();
    struct iovec iov[kMaxSendPieces];
    size_t n_iov = 0;
    size_t total = 0;
    for (size_t i = index;
         i < count && n_iov < kMaxSendPieces && total < kMaxChunk; ++i) {
      const size_t skip = i == index ? offset : 0;
      size_t len = pieces[i].size - skip;
      if (len == 0) continue;
      if (len > kMaxChunk - total) len = kMaxChunk - total;
      iov[n_iov].iov_base = const_cast<uint8_t*>(
          static_cast<const uint8_t*>(pieces[i].data) + skip);
      iov[n_iov].iov_len = len;
      ++n_iov;
      total += len;
    }
    struct msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = n_iov;
    const ssize_t n = sendmsg(impl->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      size_t left = static_cast<size_t>(n);
      while (left > 0) {
        const size_t room = pieces[index].size - offset;
        if (left < room) {
          offset += left;
          break;
        }
        left -= room;
        ++index;
        offset = 0;
      }
      deadline = DeadlineAfter(timeout_ns);  // the timeout is per progress
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return CallError(impl, errno);
    const Status status = WaitReady(impl->fd, POLLOUT, deadline);
    if (!status.ok()) return impl->shut_down.load() ? ShutDown() : status;
    if (impl->shut_down.load()) return ShutDown();
  }
}

void Socket::SetReceiveLowWater(size_t bytes) {
  if (!MARS_CHECK(impl_ != nullptr)) return;
  SocketImpl* impl = Impl(impl_);
  if (bytes < 1) bytes = 1;
  if (bytes > kMaxLowWater) bytes = kMaxLowWater;
  if (bytes == impl->low_water) return;
  // Best effort: a kernel that refuses it wakes the reader early, no more.
  if (SetInt(impl->fd, SOL_SOCKET, SO_RCVLOWAT, static_cast<int>(bytes)).ok()) {
    impl->low_water = bytes;
  }
}

Status Socket::Receive(void* buffer, size_t size, size_t* done,
                       uint64_t timeout_ns) {
  *done = 0;
  if (!MARS_CHECK(impl_ != nullptr)) return NotOpen();
  SocketImpl* impl = Impl(impl_);
  if (impl->shut_down.load()) return ShutDown();
  if (size == 0) {
    return Status(StatusCode::kInvalidArgument, "empty receive buffer");
  }
  const size_t chunk = size < kMaxChunk ? size : kMaxChunk;
  const uint64_t deadline = DeadlineAfter(timeout_ns);
  for (;;) {
    const ssize_t n = recv(impl->fd, buffer, chunk, MSG_DONTWAIT);
    if (n > 0) {
      *done = static_cast<size_t>(n);
      return Status::Ok();
    }
    // End of stream: the peer's FIN, or our own Shutdown().
    if (n == 0) return impl->shut_down.load() ? ShutDown() : Status::Ok();
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return CallError(impl, errno);
    const Status status = WaitReady(impl->fd, POLLIN, deadline);
    if (!status.ok()) return impl->shut_down.load() ? ShutDown() : status;
  }
}

void Socket::Shutdown() {
  if (impl_ == nullptr) return;
  SocketImpl* impl = Impl(impl_);
  // The flag first: a call woken by shutdown(2) must see it.
  impl->shut_down.store(true);
  // ENOTCONN for a socket that is not connected (any more) is harmless.
  shutdown(impl->fd, SHUT_RDWR);
}

void Socket::Close() {
  if (impl_ == nullptr) return;
  SocketImpl* impl = Impl(impl_);
  close(impl->fd);  // the descriptor is gone even when close() fails
  delete impl;
  impl_ = nullptr;
}

}  // namespace platform
}  // namespace mars
