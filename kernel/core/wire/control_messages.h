// The small connection-level messages of docu/wire-protocol.md: the
// authentication challenge, response and result, Error, Ping and Pong.
//
// Every message type has the same shape: kType, Encode(Bytes*) appending the
// payload (on error the buffer is unchanged), and a strict Decode(Slice)
// (on error the message's fields are unspecified).
#ifndef MARS_CORE_WIRE_CONTROL_MESSAGES_H_
#define MARS_CORE_WIRE_CONTROL_MESSAGES_H_

#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

// The sender's fresh random nonce for this connection.
struct AuthChallenge {
  static constexpr MessageType kType = MessageType::kAuthChallenge;
  uint8_t nonce[kNonceSize] = {};

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

// The sender's HMAC-SHA256 proof (see auth_mac.h for the MACed bytes).
struct AuthResponse {
  static constexpr MessageType kType = MessageType::kAuthResponse;
  uint8_t mac[kMacSize] = {};

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

// The verdict on the peer's AuthResponse.
struct AuthResult {
  static constexpr MessageType kType = MessageType::kAuthResult;
  static constexpr uint8_t kAccepted = 1;
  static constexpr uint8_t kRefused = 2;
  bool accepted = false;

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

// A fatal error report; the sender closes the connection after it.
struct ErrorMessage {
  static constexpr MessageType kType = MessageType::kError;
  uint32_t code = 0;  // a StatusCode value, never 0 (kOk)
  Slice text;         // 0..kMaxErrorTextSize bytes, for logs only

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

// Keepalive: the receiver answers Ping with a Pong carrying the same token.
struct Ping {
  static constexpr MessageType kType = MessageType::kPing;
  uint64_t token = 0;

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

struct Pong {
  static constexpr MessageType kType = MessageType::kPong;
  uint64_t token = 0;

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_CONTROL_MESSAGES_H_
