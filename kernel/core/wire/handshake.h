// Handshake: the sans-I/O state machine that opens every peer connection
// (docu/wire-protocol.md, "Connection set-up"): Hello exchange and
// negotiation, then mutual challenge/response authentication with
// HMAC-SHA256 under the shared cluster secret.
//
// Input events are Start() and OnFrame() with each frame the FrameDecoder
// yields; output is the frames appended to the caller's buffer, to be sent
// in order. Until authenticated() every other message type is refused. On
// any error the handshake is failed for good: send what was appended (an
// Error or a refusing AuthResult) and close the connection.
#ifndef MARS_CORE_WIRE_HANDSHAKE_H_
#define MARS_CORE_WIRE_HANDSHAKE_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/platform.h"
#include "core/wire/auth_mac.h"
#include "core/wire/frame.h"
#include "core/wire/hello.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

struct HandshakeConfig {
  Role role = Role::kClient;
  // Our Hello. Its slices must outlive the Handshake.
  Hello hello;
  // The cluster secret, kMinSecretSize..kMaxSecretSize bytes. Must outlive
  // the Handshake.
  Slice secret;
  // Fresh random bytes for this connection only (the core has no random
  // source: the caller supplies them). Never reuse a nonce.
  uint8_t nonce[kNonceSize] = {};
};

class Handshake {
 public:
  enum class State {
    kIdle,           // Start() not called yet
    kWaitHello,      // waiting for the peer's Hello
    kWaitChallenge,  // waiting for the peer's AuthChallenge
    kWaitResponse,   // waiting for the peer's AuthResponse
    kWaitResult,     // server: waiting for the client's AuthResult
    kAuthenticated,  // both sides proved the secret; the session may start
    kFailed,         // status() says why; close the connection
  };

  // `gfp` is the context of the handshake's small allocations.
  Handshake(const HandshakeConfig& config,
            platform::Gfp gfp = platform::Gfp::kKernel);
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  // Begins the exchange: the client appends its Hello to *out; the server
  // appends nothing and waits. Errors: kInvalidArgument for a bad secret size
  // or an invalid own Hello. Context: as `gfp`.
  Status Start(Bytes* out);

  // Handles one frame from the peer, appending any answer to *out. Returns
  // the error that failed the handshake (then *out may hold a last frame to
  // send before closing), or Ok. Context: may sleep (HMAC-SHA256).
  Status OnFrame(const Frame& frame, Bytes* out);

  State state() const { return state_; }
  bool authenticated() const { return state_ == State::kAuthenticated; }
  bool failed() const { return state_ == State::kFailed; }
  // Ok unless failed().
  Status status() const { return status_; }

  // Valid from the peer's Hello on (state past kWaitHello).
  const Agreement& agreement() const { return agreement_; }
  Slice peer_host_name() const { return Slice(peer_host_, peer_host_size_); }
  Slice peer_module_version() const {
    return Slice(peer_version_, peer_version_size_);
  }
  // The code of an Error message received from the peer, else 0.
  uint32_t peer_error_code() const { return peer_error_code_; }

 private:
  Status OnHello(const Frame& frame, Bytes* out);
  Status OnChallenge(const Frame& frame, Bytes* out);
  Status OnResponse(const Frame& frame, Bytes* out);
  Status OnResult(const Frame& frame);
  // The message type expected in the current state.
  MessageType Expected() const;
  AuthTranscript Transcript() const;
  // Fails the handshake with `s`; appends an Error frame when `tell_peer`.
  Status Fail(Status s, Bytes* out, bool tell_peer);
  // Appends an AuthResult frame, then (when refused) fails with `s`.
  Status SendResult(bool accepted, Bytes* out, Status s);

  HandshakeConfig config_;
  State state_ = State::kIdle;
  Status status_;
  Bytes local_hello_;  // our encoded Hello payload
  uint8_t local_hello_hash_[kDigestSize] = {};
  uint8_t peer_hello_hash_[kDigestSize] = {};
  uint8_t peer_nonce_[kNonceSize] = {};
  Agreement agreement_;
  uint8_t peer_host_[kMaxHostNameSize] = {};
  size_t peer_host_size_ = 0;
  uint8_t peer_version_[kMaxModuleVersionSize] = {};
  size_t peer_version_size_ = 0;
  uint32_t peer_error_code_ = 0;
};

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_HANDSHAKE_H_
