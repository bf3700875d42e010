// Payloads of the connection-level messages (docu/wire-protocol.md).
#include "core/wire/control_messages.h"

#include "core/wire/payload_coding.h"

namespace mars {
namespace wire {

Status AuthChallenge::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.Fixed(Slice(nonce, sizeof(nonce)));
  return w.Finish();
}

Status AuthChallenge::Decode(Slice payload) {
  PayloadReader r(payload, "auth-challenge: payload truncated");
  r.FixedCopy(nonce, sizeof(nonce));
  return r.Finish("auth-challenge: trailing bytes after payload");
}

Status AuthResponse::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.Fixed(Slice(mac, sizeof(mac)));
  return w.Finish();
}

Status AuthResponse::Decode(Slice payload) {
  PayloadReader r(payload, "auth-response: payload truncated");
  r.FixedCopy(mac, sizeof(mac));
  return r.Finish("auth-response: trailing bytes after payload");
}

Status AuthResult::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.U8(accepted ? kAccepted : kRefused);
  return w.Finish();
}

Status AuthResult::Decode(Slice payload) {
  PayloadReader r(payload, "auth-result: payload truncated");
  uint8_t verdict = 0;
  r.U8(&verdict);
  if (r.ok() && verdict != kAccepted && verdict != kRefused) {
    r.Fail(
        Status(StatusCode::kInvalidArgument, "auth-result: unknown verdict"));
  }
  accepted = verdict == kAccepted;
  return r.Finish("auth-result: trailing bytes after payload");
}

Status ErrorMessage::Encode(Bytes* out) const {
  PayloadWriter w(out);
  if (code == 0) {
    w.Fail(
        Status(StatusCode::kInvalidArgument, "error: code 0 is not an error"));
  }
  w.U32(code);
  w.String16(text, 0, kMaxErrorTextSize, "error: text too long");
  return w.Finish();
}

Status ErrorMessage::Decode(Slice payload) {
  PayloadReader r(payload, "error: payload truncated");
  r.U32(&code);
  if (r.ok() && code == 0) {
    r.Fail(
        Status(StatusCode::kInvalidArgument, "error: code 0 is not an error"));
  }
  r.String16(&text, 0, kMaxErrorTextSize, "error: text too long");
  return r.Finish("error: trailing bytes after payload");
}

Status Ping::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.U64(token);
  return w.Finish();
}

Status Ping::Decode(Slice payload) {
  PayloadReader r(payload, "ping: payload truncated");
  r.U64(&token);
  return r.Finish("ping: trailing bytes after payload");
}

Status Pong::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.U64(token);
  return w.Finish();
}

Status Pong::Decode(Slice payload) {
  PayloadReader r(payload, "pong: payload truncated");
  r.U64(&token);
  return r.Finish("pong: trailing bytes after payload");
}

}  // namespace wire
}  // namespace mars
