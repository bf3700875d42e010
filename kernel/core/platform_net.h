// The platform's network interface: TCP sockets for the peer protocol
// (docu/wire-protocol.md). Blocking calls with explicit timeouts; a socket
// can be shut down from another thread to end every call blocked on it
// (module unload, resource stop).
//
// Implemented by kernel/platform/platform_net_kernel.cc (on glue/net.c:
// sock_create_kern, kernel_accept/connect/sendmsg/recvmsg) and by
// userspace/lib/platform_net_user.cc (POSIX sockets).
//
// Every connected socket (from Connect or Accept) has TCP_NODELAY and TCP
// keepalive set: idle 10 s, interval 5 s, 3 probes, so a dead peer is
// noticed within about 25 s even on an idle connection.
//
// Errors: operating-system errors are reported as the Status of
// StatusFromErrno() (core/base/errno_status.h). A timeout is kUnavailable
// "timed out"; a call on a socket that was shut down is kUnavailable
// "socket shut down".
//
// Timeouts: 0 means "do not wait" (fail with "timed out" unless the call can
// complete at once); a positive timeout is rounded up to the platform's
// clock granularity (jiffies in the kernel); a timeout beyond ~49 days
// means no timeout.
#ifndef MARS_CORE_PLATFORM_NET_H_
#define MARS_CORE_PLATFORM_NET_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/status.h"

namespace mars {
namespace platform {

// An IPv4 or IPv6 address with a port. `bytes` holds the address in network
// byte order (4 bytes used for IPv4); `port` is in host byte order.
struct NetAddress {
  enum Family : uint8_t {
    kUnspecified = 0,
    kIpv4 = 4,
    kIpv6 = 6,
  };
  Family family = kUnspecified;
  uint8_t bytes[16] = {};
  uint16_t port = 0;
};

// One piece of a gathered send (Socket::SendAll(const SendPiece*, ...)).
struct SendPiece {
  const void* data = nullptr;
  size_t size = 0;
};

// A TCP socket: unused, listening, or connected. Not thread-safe except
// that, while the socket is open, Shutdown() may be called from any thread
// at any time, and one thread may send while another receives.
class Socket {
 public:
  Socket() = default;
  ~Socket() { Close(); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  // Exchanges the sockets of *this and `other`. Context: any.
  void Swap(Socket& other) {
    void* impl = impl_;
    impl_ = other.impl_;
    other.impl_ = impl;
  }
  bool is_open() const { return impl_ != nullptr; }

  // Binds to `address` (port 0: any free port) with SO_REUSEADDR and
  // listens. kInvalidArgument for a kUnspecified family. REQUIRES
  // !is_open(). Context: may sleep.
  Status Listen(const NetAddress& address, int backlog);
  // Waits up to `timeout_ns` for a connection on a listening socket and
  // hands it to `*out` (REQUIRES !out->is_open()); `*peer` gets its address
  // when not nullptr. Context: may sleep.
  Status Accept(Socket* out, NetAddress* peer, uint64_t timeout_ns);
  // Connects to `address`, waiting up to `timeout_ns`. The socket is open
  // only once this returns Ok, so Shutdown() cannot cut a Connect short: it
  // ends with its timeout. kInvalidArgument for a kUnspecified family.
  // REQUIRES !is_open(). Context: may sleep.
  Status Connect(const NetAddress& address, uint64_t timeout_ns);
  // The local address (e.g. the port a Listen on port 0 got).
  // Context: may sleep.
  Status LocalAddress(NetAddress* out) const;

  // Sends all `size` bytes; fails when no byte could be sent for
  // `timeout_ns` (some bytes may have been sent then: the connection is
  // unusable). Context: may sleep.
  Status SendAll(const void* data, size_t size, uint64_t timeout_ns);
  // Sends pieces[0, count) in order, as SendAll() of each would, but with
  // up to 16 pieces per system call (sendmsg with an I/O vector), so a short
  // piece is not pushed out as a segment of its own (TCP_NODELAY) before
  // the one after it. Fails as SendAll() does. Context: may sleep.
  Status SendAll(const SendPiece* pieces, size_t count, uint64_t timeout_ns);
  // Receives 1..`size` bytes into `buffer`, waiting up to `timeout_ns` for
  // the first; `*done` = 0 with Ok means the peer closed the connection.
  // kInvalidArgument when `size` is 0. Context: may sleep.
  Status Receive(void* buffer, size_t size, size_t* done, uint64_t timeout_ns);

  // For a reader that knows that `bytes` will come: a Receive() that has
  // to wait is not woken before that many (at most 1 MiB; 0 counts as 1)
  // are there, the peer closed or its timeout passed; one that finds bytes
  // there at once may still return fewer (SO_RCVLOWAT). Stays in force for
  // later calls. Context: may sleep.
  void SetReceiveLowWater(size_t bytes);
  // Makes every call blocked on this socket (Accept, Receive, SendAll),
  // and every later call, fail with "socket shut down" (Close() is still
  // needed); a connected socket also sends its FIN. Idempotent; nothing to
  // do when the socket is not open. Context: may sleep; any thread.
  void Shutdown();
  // Releases the socket; idempotent. No other thread may be using it.
  // Context: may sleep.
  void Close();

 private:
  void* impl_ = nullptr;
};

}  // namespace platform
}  // namespace mars

#endif  // MARS_CORE_PLATFORM_NET_H_
