// The connection set-up state machine of docu/wire-protocol.md
// ("Connection set-up" and "Authentication").
#include "core/wire/handshake.h"

#include "core/wire/control_messages.h"

namespace mars {
namespace wire {
namespace {

bool IsHandshakeType(MessageType type) {
  return type == MessageType::kHello || type == MessageType::kAuthChallenge ||
         type == MessageType::kAuthResponse || type == MessageType::kAuthResult;
}

}  // namespace

Handshake::Handshake(const HandshakeConfig& config, platform::Gfp gfp)
    : config_(config), local_hello_(gfp) {}

Status Handshake::Start(Bytes* out) {
  if (state_ != State::kIdle) {
    return Status(StatusCode::kInternal, "handshake: started twice");
  }
  if (config_.secret.size() < kMinSecretSize ||
      config_.secret.size() > kMaxSecretSize) {
    return Fail(Status(StatusCode::kInvalidArgument,
                       "handshake: cluster secret size out of range"),
                out, false);
  }
  Status s = config_.hello.Encode(&local_hello_);
  if (!s.ok()) return Fail(s, out, false);
  platform::Sha256(local_hello_.data(), local_hello_.size(), local_hello_hash_);
  if (config_.role == Role::kClient) {
    FrameEncoder encoder(out);
    s = encoder.Append(static_cast<uint16_t>(MessageType::kHello),
                       AsSlice(local_hello_));
    if (!s.ok()) return Fail(s, out, false);
  }
  state_ = State::kWaitHello;
  return Status::Ok();
}

MessageType Handshake::Expected() const {
  switch (state_) {
    case State::kWaitHello:
      return MessageType::kHello;
    case State::kWaitChallenge:
      return MessageType::kAuthChallenge;
    case State::kWaitResponse:
      return MessageType::kAuthResponse;
    case State::kWaitResult:
      return MessageType::kAuthResult;
    case State::kIdle:
    case State::kAuthenticated:
    case State::kFailed:
      break;
  }
  return MessageType::kError;  // nothing is expected
}

Status Handshake::OnFrame(const Frame& frame, Bytes* out) {
  switch (state_) {
    case State::kFailed:
      return status_;
    case State::kIdle:
      return Status(StatusCode::kInternal, "handshake: frame before Start()");
    case State::kAuthenticated:
      return Status(StatusCode::kInternal,
                    "handshake: frame after authentication completed");
    default:
      break;
  }
  if (frame.type == MessageType::kError) {
    ErrorMessage error;
    if (error.Decode(frame.payload).ok()) peer_error_code_ = error.code;
    return Fail(
        Status(StatusCode::kUnavailable, "handshake: peer reported an error"),
        out, false);
  }
  // A client whose response the server refused gets a refusing AuthResult
  // instead of the server's AuthResponse.
  if (frame.type == MessageType::kAuthResult &&
      state_ == State::kWaitResponse && config_.role == Role::kClient) {
    return OnResult(frame);
  }
  if (frame.type != Expected()) {
    return Fail(Status(StatusCode::kInvalidArgument,
                       IsHandshakeType(frame.type)
                           ? "handshake: message out of order"
                           : "handshake: message before authentication"),
                out, true);
  }
  switch (frame.type) {
    case MessageType::kHello:
      return OnHello(frame, out);
    case MessageType::kAuthChallenge:
      return OnChallenge(frame, out);
    case MessageType::kAuthResponse:
      return OnResponse(frame, out);
    case MessageType::kAuthResult:
      return OnResult(frame);
    default:
      break;
  }
  return Fail(Status(StatusCode::kInternal, "handshake: bad state"), out,
              false);
}

Status Handshake::OnHello(const Frame& frame, Bytes* out) {
  Hello peer;
  Status s = peer.Decode(frame.payload);
  if (!s.ok()) return Fail(s, out, true);
  Result<Agreement> agreement = Negotiate(config_.hello, peer);
  if (!agreement.ok()) return Fail(agreement.status(), out, true);
  agreement_ = agreement.value();
  platform::Sha256(frame.payload.data(), frame.payload.size(),
                   peer_hello_hash_);
  // Lengths were checked by Decode().
  peer_host_size_ = peer.host_name.size();
  __builtin_memcpy(peer_host_, peer.host_name.data(), peer_host_size_);
  peer_version_size_ = peer.module_version.size();
  if (peer_version_size_ > 0) {
    __builtin_memcpy(peer_version_, peer.module_version.data(),
                     peer_version_size_);
  }

  FrameEncoder encoder(out);
  if (config_.role == Role::kServer) {
    s = encoder.Append(static_cast<uint16_t>(MessageType::kHello),
                       AsSlice(local_hello_));
    if (!s.ok()) return Fail(s, out, false);
  }
  AuthChallenge challenge;
  __builtin_memcpy(challenge.nonce, config_.nonce, kNonceSize);
  s = encoder.AppendMessage(challenge);
  if (!s.ok()) return Fail(s, out, false);
  state_ = State::kWaitChallenge;
  return Status::Ok();
}

Status Handshake::OnChallenge(const Frame& frame, Bytes* out) {
  AuthChallenge challenge;
  Status s = challenge.Decode(frame.payload);
  if (!s.ok()) return Fail(s, out, true);
  if (ConstantTimeEqual(challenge.nonce, config_.nonce, kNonceSize)) {
    return Fail(Status(StatusCode::kInvalidArgument,
                       "handshake: peer reflected our nonce"),
                out, true);
  }
  __builtin_memcpy(peer_nonce_, challenge.nonce, kNonceSize);
  state_ = State::kWaitResponse;
  if (config_.role == Role::kServer) {
    // The server proves itself only after the client has: it never MACs
    // anything for a peer that has not shown it knows the secret.
    return Status::Ok();
  }
  AuthResponse response;
  s = ComputeAuthMac(config_.secret, Role::kClient, Transcript(), response.mac);
  if (!s.ok()) return Fail(s, out, false);
  FrameEncoder encoder(out);
  s = encoder.AppendMessage(response);
  if (!s.ok()) return Fail(s, out, false);
  return Status::Ok();
}

Status Handshake::OnResponse(const Frame& frame, Bytes* out) {
  AuthResponse response;
  Status s = response.Decode(frame.payload);
  if (!s.ok()) return Fail(s, out, true);
  const Role peer_role =
      config_.role == Role::kClient ? Role::kServer : Role::kClient;
  const AuthTranscript transcript = Transcript();
  uint8_t expected[kMacSize];
  s = ComputeAuthMac(config_.secret, peer_role, transcript, expected);
  if (!s.ok()) return Fail(s, out, false);
  if (!ConstantTimeEqual(expected, response.mac, kMacSize)) {
    return SendResult(false, out,
                      Status(StatusCode::kInvalidArgument,
                             "handshake: peer failed authentication"));
  }
  if (config_.role == Role::kClient) {
    // The server has proved itself (and accepted us, or it would not have
    // answered): tell it and start the session.
    s = SendResult(true, out, Status::Ok());
    if (s.ok()) state_ = State::kAuthenticated;
    return s;
  }
  AuthResponse own;
  s = ComputeAuthMac(config_.secret, Role::kServer, transcript, own.mac);
  if (!s.ok()) return Fail(s, out, false);
  FrameEncoder encoder(out);
  s = encoder.AppendMessage(own);
  if (!s.ok()) return Fail(s, out, false);
  state_ = State::kWaitResult;
  return Status::Ok();
}

Status Handshake::OnResult(const Frame& frame) {
  AuthResult result;
  Status s = result.Decode(frame.payload);
  if (!s.ok()) return Fail(s, nullptr, false);
  if (!result.accepted) {
    return Fail(Status(StatusCode::kInvalidArgument,
                       "handshake: peer refused our authentication"),
                nullptr, false);
  }
  if (config_.role == Role::kClient) {
    // Acceptance comes as the server's AuthResponse, never as a result.
    return Fail(
        Status(StatusCode::kInvalidArgument, "handshake: message out of order"),
        nullptr, false);
  }
  state_ = State::kAuthenticated;
  return Status::Ok();
}

AuthTranscript Handshake::Transcript() const {
  AuthTranscript t;
  const bool client = config_.role == Role::kClient;
  __builtin_memcpy(t.client_nonce, client ? config_.nonce : peer_nonce_,
                   kNonceSize);
  __builtin_memcpy(t.server_nonce, client ? peer_nonce_ : config_.nonce,
                   kNonceSize);
  __builtin_memcpy(t.client_hello_hash,
                   client ? local_hello_hash_ : peer_hello_hash_, kDigestSize);
  __builtin_memcpy(t.server_hello_hash,
                   client ? peer_hello_hash_ : local_hello_hash_, kDigestSize);
  const Slice peer_host = peer_host_name();
  t.client_host = client ? config_.hello.host_name : peer_host;
  t.server_host = client ? peer_host : config_.hello.host_name;
  return t;
}

Status Handshake::Fail(Status s, Bytes* out, bool tell_peer) {
  state_ = State::kFailed;
  status_ = s;
  if (tell_peer && out != nullptr) {
    ErrorMessage error;
    error.code = static_cast<uint32_t>(s.code());
    error.text = Slice::FromCString(s.message());
    FrameEncoder encoder(out);
    (void)encoder.AppendMessage(error);  // best effort: we close anyway
  }
  return s;
}

Status Handshake::SendResult(bool accepted, Bytes* out, Status s) {
  AuthResult result;
  result.accepted = accepted;
  FrameEncoder encoder(out);
  const Status sent = encoder.AppendMessage(result);
  if (!accepted) return Fail(s, out, false);
  if (!sent.ok()) return Fail(sent, out, false);
  return Status::Ok();
}

}  // namespace wire
}  // namespace mars
