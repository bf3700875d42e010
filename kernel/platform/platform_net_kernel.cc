// core/platform_net.h in the kernel: Socket over glue/net.c (kernel sockets,
// see the comment there for timeouts and shutdown). Contract checks and the
// translation of the glue's results into Status live here.
#include <stddef.h>
#include <stdint.h>

#include "core/base/errno_status.h"
#include "core/base/status.h"
#include "core/platform.h"
#include "core/platform_net.h"
#include "glue/glue_net.h"

namespace mars {
namespace platform {

static_assert(sizeof(NetAddress) == sizeof(mars_net_address),
              "NetAddress layout");
static_assert(offsetof(NetAddress, family) ==
                  offsetof(mars_net_address, family),
              "NetAddress layout");
static_assert(offsetof(NetAddress, bytes) == offsetof(mars_net_address, bytes),
              "NetAddress layout");
static_assert(offsetof(NetAddress, port) == offsetof(mars_net_address, port),
              "NetAddress layout");
static_assert(sizeof(SendPiece) == sizeof(mars_net_piece) &&
                  offsetof(SendPiece, data) == offsetof(mars_net_piece, data) &&
                  offsetof(SendPiece, size) == offsetof(mars_net_piece, size),
              "SendPiece layout");
static_assert(sizeof(NetAddress::Family) == 1 &&
                  static_cast<int>(NetAddress::kUnspecified) ==
                      MARS_NET_UNSPECIFIED &&
                  static_cast<int>(NetAddress::kIpv4) == MARS_NET_IPV4 &&
                  static_cast<int>(NetAddress::kIpv6) == MARS_NET_IPV6,
              "family map");

namespace {

// The status of a glue result (0 / -errno).
Status NetStatus(int error) {
  if (error == MARS_NET_TIMED_OUT) {
    return Status(StatusCode::kUnavailable, "timed out");
  }
  if (error == MARS_NET_SHUT_DOWN) {
    return Status(StatusCode::kUnavailable, "socket shut down");
  }
  return StatusFromErrno(error);
}

const mars_net_address* GlueAddress(const NetAddress& address) {
  return reinterpret_cast<const mars_net_address*>(&address);
}

mars_net_address* GlueAddress(NetAddress* address) {
  return reinterpret_cast<mars_net_address*>(address);
}

bool KnownFamily(const NetAddress& address) {
  return address.family == NetAddress::kIpv4 ||
         address.family == NetAddress::kIpv6;
}

Status NotOpen() { return Status(StatusCode::kInternal, "socket is not open"); }

Status AlreadyOpen() {
  return Status(StatusCode::kInternal, "socket is already open");
}

Status UnknownFamily() {
  return Status(StatusCode::kInvalidArgument, "unspecified address family");
}

}  // namespace

Status Socket::Listen(const NetAddress& address, int backlog) {
  if (!MARS_CHECK(impl_ == nullptr)) return AlreadyOpen();
  if (!KnownFamily(address)) return UnknownFamily();
  void* handle = nullptr;
  const int error =
      mars_glue_net_listen(GlueAddress(address), backlog, &handle);
  if (error != 0) return NetStatus(error);
  impl_ = handle;
  return Status::Ok();
}

Status Socket::Accept(Socket* out, NetAddress* peer, uint64_t timeout_ns) {
  if (!MARS_CHECK(impl_ != nullptr)) return NotOpen();
  if (!MARS_CHECK(out != this && !out->is_open())) {
    return Status(StatusCode::kInternal, "accept target is open");
  }
  void* handle = nullptr;
  mars_net_address glue_peer;
  const int error =
      mars_glue_net_accept(impl_, timeout_ns, &handle, &glue_peer);
  if (error != 0) return NetStatus(error);
  out->impl_ = handle;
  if (peer != nullptr) {
    *peer = NetAddress();
    *GlueAddress(peer) = glue_peer;
  }
  return Status::Ok();
}

Status Socket::Connect(const NetAddress& address, uint64_t timeout_ns) {
  if (!MARS_CHECK(impl_ == nullptr)) return AlreadyOpen();
  if (!KnownFamily(address)) return UnknownFamily();
  void* handle = nullptr;
  const int error =
      mars_glue_net_connect(GlueAddress(address), timeout_ns, &handle);
  if (error != 0) return NetStatus(error);
  impl_ = handle;
  return Status::Ok();
}

Status Socket::LocalAddress(NetAddress* out) const {
  if (!MARS_CHECK(impl_ != nullptr)) return NotOpen();
  mars_net_address address;
  const int error = mars_glue_net_local_address(impl_, &address);
  if (error != 0) return NetStatus(error);
  *out = NetAddress();
  *GlueAddress(out) = address;
  return Status::Ok();
}

Status Socket::SendAll(const void* data, size_t size, uint64_t timeout_ns) {
  const SendPiece piece{data, size};
  return SendAll(&piece, 1, timeout_ns);
}

Status Socket::SendAll(const SendPiece* pieces, size_t count,
                       uint64_t timeout_ns) {
  if (!MARS_CHECK(impl_ != nullptr)) return NotOpen();
  return NetStatus(
      mars_glue_net_send(impl_, reinterpret_cast<const mars_net_piece*>(pieces),
                         count, timeout_ns));
}

void Socket::SetReceiveLowWater(size_t bytes) {
  if (!MARS_CHECK(impl_ != nullptr)) return;
  // (The glue clamps to 1 MiB.)
  mars_glue_net_set_low_water(
      impl_, bytes > (size_t{1} << 20) ? 1 << 20 : static_cast<int>(bytes));
}

Status Socket::Receive(void* buffer, size_t size, size_t* done,
                       uint64_t timeout_ns) {
  *done = 0;
  if (!MARS_CHECK(impl_ != nullptr)) return NotOpen();
  // size 0: -EINVAL (kInvalidArgument) unless the socket was shut down.
  size_t received = 0;
  const int error =
      mars_glue_net_receive(impl_, buffer, size, timeout_ns, &received);
  if (error != 0) return NetStatus(error);
  *done = received;
  return Status::Ok();
}

void Socket::Shutdown() {
  if (impl_ == nullptr) return;
  mars_glue_net_shutdown(impl_);
}

void Socket::Close() {
  if (impl_ == nullptr) return;
  mars_glue_net_close(impl_);
  impl_ = nullptr;
}

}  // namespace platform
}  // namespace mars
