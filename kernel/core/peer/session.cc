// The peer session of docu/wire-protocol.md ("Sessions"), the connection
// itself: configuration checks and Start(), bytes in (frames decoded and
// dispatched by type), the handshake, keepalive (Ping/Pong), the timers,
// output and backpressure, and closing. The services each have their file:
// the tree exchange session_tree.cc, logfiles session_logfile.cc, block sync
// session_sync.cc.
#include "core/peer/session.h"

#include "core/base/utility.h"
#include "core/peer/session_internal.h"
#include "core/wire/control_messages.h"

namespace mars {
namespace peer {
namespace {

using session_internal::SaturatingAdd;
using wire::MessageType;

constexpr Status kErrNotStarted(StatusCode::kInternal,
                                "session: used before Start()");
constexpr Status kErrStartedTwice(StatusCode::kInternal,
                                  "session: started twice");
constexpr Status kErrBadBatchBudget(
    StatusCode::kInvalidArgument,
    "session: max_batch_bytes outside kMinBatchBytes..kMaxPayloadSize");
constexpr Status kErrBadLimits(
    StatusCode::kInvalidArgument,
    "session: output limit, poll and ping intervals must not be zero");
constexpr Status kErrHandshakeTimeout(
    StatusCode::kUnavailable, "session: handshake did not complete in time");
constexpr Status kErrPingTimeout(StatusCode::kUnavailable,
                                 "session: peer did not answer ping");
constexpr Status kErrPeerError(StatusCode::kUnavailable,
                               "session: peer reported an error");
constexpr Status kErrSetupAfterAuth(
    StatusCode::kInvalidArgument,
    "session: set-up message after authentication");
constexpr Status kErrPingNotAgreed(
    StatusCode::kInvalidArgument,
    "session: ping without the agreed ping feature");
constexpr Status kErrUnexpectedPong(
    StatusCode::kInvalidArgument, "session: pong that answers no ping of ours");
constexpr Status kErrServiceNotAgreed(
    StatusCode::kInvalidArgument,
    "session: request for a service whose feature was not agreed");
constexpr Status kErrServiceNotServed(
    StatusCode::kUnavailable,
    "session: this side does not serve such requests");
constexpr Status kErrClosedLocally(StatusCode::kUnavailable,
                                   "session: closed by the local host");
constexpr Status kErrUnhandledType(StatusCode::kInternal,
                                   "session: message type without a handler");

wire::HandshakeConfig HandshakeConfigOf(const SessionConfig& config) {
  wire::HandshakeConfig hc;
  hc.role = config.role;
  hc.hello = config.hello;
  hc.secret = config.secret;
  __builtin_memcpy(hc.nonce, config.nonce, wire::kNonceSize);
  return hc;
}

}  // namespace

Session::Session(const SessionConfig& config, tree::Tree* tree,
                 LamportClock* clock, platform::Gfp gfp)
    : config_(config),
      tree_(tree),
      clock_(clock),
      handshake_(HandshakeConfigOf(config), gfp),
      decoder_(gfp),
      out_(gfp),
      refs_(gfp),
      incoming_(gfp),
      collected_(gfp),
      batch_(gfp) {}

Status Session::Start(uint64_t now_ns) {
  if (started_) return kErrStartedTwice;
  started_ = true;
  start_ns_ = now_ns;
  last_frame_ns_ = now_ns;
  if (config_.max_batch_bytes < kMinBatchBytes ||
      config_.max_batch_bytes > wire::kMaxPayloadSize) {
    Fail(kErrBadBatchBudget, false);
    return status_;
  }
  if (config_.output_limit == 0 || config_.poll_interval_ns == 0 ||
      config_.ping_interval_ns == 0 || config_.ping_timeout_ns == 0) {
    Fail(kErrBadLimits, false);
    return status_;
  }
  const size_t before = out_.size();
  const Status s = handshake_.Start(&out_);
  if (!s.ok()) {
    Fail(s, false);
    return status_;
  }
  CountFramesFrom(before);
  return Status::Ok();
}

Status Session::OnBytes(Slice input, uint64_t now_ns) {
  if (!started_) return kErrNotStarted;
  if (closed()) return status_;
  counters_.bytes_in += input.size();
  while (!closed()) {
    const wire::FrameDecoder::Event event = decoder_.Feed(&input);
    if (event == wire::FrameDecoder::Event::kNeedMoreBytes) break;
    if (event == wire::FrameDecoder::Event::kError) {
      Fail(decoder_.status(), true);
      break;
    }
    OnFrame(decoder_.frame(), now_ns);
  }
  Pump();
  return closed() ? status_ : Status::Ok();
}

Status Session::OnTick(uint64_t now_ns) {
  if (!started_) return kErrNotStarted;
  if (closed()) return status_;
  if (state_ == State::kHandshaking) {
    if (now_ns >= SaturatingAdd(start_ns_, config_.handshake_timeout_ns)) {
      Fail(kErrHandshakeTimeout, true);
    }
    return closed() ? status_ : Status::Ok();
  }
  if (ping_outstanding_) {
    const uint64_t since = Max(ping_sent_ns_, last_frame_ns_);
    if (now_ns >= SaturatingAdd(since, config_.ping_timeout_ns)) {
      Fail(kErrPingTimeout, true);
      return status_;
    }
  } else if ((handshake_.agreement().features & wire::kFeaturePing) != 0 &&
             now_ns >=
                 SaturatingAdd(last_frame_ns_, config_.ping_interval_ns)) {
    wire::Ping ping;
    ping.token = ++ping_token_;
    if (Send(ping)) {
      ping_outstanding_ = true;
      ping_sent_ns_ = now_ns;
      ++counters_.pings_sent;
    }
  }
  if (!closed() && !request_outstanding_ && now_ns >= next_poll_ns_) {
    SendTreeRequest();
  }
  Pump();
  return closed() ? status_ : Status::Ok();
}

uint64_t Session::NextDeadlineNs() const {
  if (!started_ || closed()) return UINT64_MAX;
  if (state_ == State::kHandshaking) {
    return SaturatingAdd(start_ns_, config_.handshake_timeout_ns);
  }
  uint64_t deadline = UINT64_MAX;
  if (ping_outstanding_) {
    deadline = SaturatingAdd(Max(ping_sent_ns_, last_frame_ns_),
                             config_.ping_timeout_ns);
  } else if ((handshake_.agreement().features & wire::kFeaturePing) != 0) {
    deadline = SaturatingAdd(last_frame_ns_, config_.ping_interval_ns);
  }
  if (!request_outstanding_) deadline = Min(deadline, next_poll_ns_);
  return deadline;
}

void Session::Close(Status reason) {
  if (closed()) return;
  Fail(reason.ok() ? kErrClosedLocally : reason, true);
}

bool Session::Sent(const Status& appended) {
  if (!appended.ok()) {
    Fail(appended, false);
    return false;
  }
  ++counters_.frames_out;
  return true;
}

bool Session::Send(const wire::LogfileData& message) {
  wire::FrameEncoder encoder(&out_);
  return Sent(encoder.AppendDataMessage(message));
}

bool Session::Send(const wire::BlockData& message) {
  wire::FrameEncoder encoder(&out_);
  return Sent(encoder.AppendDataMessage(message));
}

Slice Session::output() const {
  const size_t end = refs_.empty() ? out_.size() : refs_[0].at;
  if (out_start_ < end) {
    return Slice(out_.data() + out_start_, end - out_start_);
  }
  if (refs_.empty()) return Slice();
  return refs_[0].data.RemovePrefix(ref_sent_);
}

void Session::ConsumeOutput(size_t n) {
  const size_t piece = output().size();
  if (n > piece) {
    platform::ReportBug(__FILE__, __LINE__);
    n = piece;
  }
  counters_.bytes_out += n;
  if (!refs_.empty() && out_start_ == refs_[0].at) {
    ref_sent_ += n;
    ref_bytes_ -= n;
    if (ref_sent_ == refs_[0].data.size()) {
      refs_.Erase(0);
      ref_sent_ = 0;
    }
  } else {
    out_start_ += n;
  }
  if (out_start_ == out_.size() && refs_.empty()) {
    out_.Clear();
    out_start_ = 0;
  } else if (out_start_ >= (64u << 10) && out_start_ * 2 >= out_.size()) {
    // Drop the sent front once it is at least half the buffer, so the
    // buffer stays within the limit plus one batch.
    const size_t rest = out_.size() - out_start_;
    __builtin_memmove(out_.data(), out_.data() + out_start_, rest);
    (void)out_.Resize(rest);  // shrinking never fails
    for (OutputRef& ref : refs_) ref.at -= out_start_;
    out_start_ = 0;
  }
  Pump();
}

Status Session::TakeOutput(Bytes* out) {
  if (out->empty() && out_start_ == 0 && refs_.empty()) {
    Bytes emptied = Move(*out);
    *out = Move(out_);
    out_ = Move(emptied);
    counters_.bytes_out += out->size();
    Pump();  // as ConsumeOutput(): room for what backpressure held back
    return Status::Ok();
  }
  // What is pending now; ConsumeOutput() may produce more behind it.
  size_t left = pending();
  const Status s = out->Reserve(out->size() + left);
  if (!s.ok()) return s;
  while (left > 0) {
    const Slice piece = output();
    const size_t n = piece.size() < left ? piece.size() : left;
    (void)out->Append(piece.data(), n);  // reserved
    ConsumeOutput(n);
    left -= n;
  }
  return Status::Ok();
}

Status Session::TakeOutputPieces(OutputPieces* out) {
  if (!MARS_CHECK(out->empty())) {
    return Status(StatusCode::kInternal, "session: output taken twice");
  }
  counters_.bytes_out += pending();
  // Both buffers trade places with the caller's empty ones (no copy, no
  // allocation); the sent front goes.
  Bytes emptied_bytes = Move(out->bytes);
  out->bytes = Move(out_);
  out_ = Move(emptied_bytes);
  Vector<OutputRef> emptied_refs = Move(out->refs);
  out->refs = Move(refs_);
  refs_ = Move(emptied_refs);
  if (out_start_ > 0) {
    const size_t rest = out->bytes.size() - out_start_;
    __builtin_memmove(out->bytes.data(), out->bytes.data() + out_start_, rest);
    (void)out->bytes.Resize(rest);  // shrinking never fails
    for (OutputRef& ref : out->refs) ref.at -= out_start_;
  }
  if (!out->refs.empty()) {
    out->refs[0].data = out->refs[0].data.RemovePrefix(ref_sent_);
  }
  out_start_ = 0;
  ref_sent_ = 0;
  ref_bytes_ = 0;
  Pump();  // as ConsumeOutput(): room for what backpressure held back
  return Status::Ok();
}

Slice Session::peer_host_name() const { return handshake_.peer_host_name(); }

void Session::OnFrame(const wire::Frame& frame, uint64_t now_ns) {
  ++counters_.frames_in;
  last_frame_ns_ = now_ns;
  if (frame.type == MessageType::kError) OnPeerError(frame);
  if (state_ == State::kHandshaking) {
    const size_t before = out_.size();
    const Status s = handshake_.OnFrame(frame, &out_);
    CountFramesFrom(before);
    if (!s.ok()) {
      // The handshake queued what it had to say (Error or AuthResult).
      Fail(s, false);
    } else if (handshake_.authenticated()) {
      OnAuthenticated(now_ns);
    }
    return;
  }
  OnOpenFrame(frame, now_ns);
}

void Session::OnAuthenticated(uint64_t now_ns) {
  state_ = State::kOpen;
  counters_.connected_since_ns = now_ns;
  if (config_.cursors.cursor_for != nullptr) {
    cursor_ = config_.cursors.cursor_for(config_.cursors.context,
                                         handshake_.peer_host_name());
  }
  SendTreeRequest();
}

void Session::OnOpenFrame(const wire::Frame& frame, uint64_t now_ns) {
  const uint64_t features = handshake_.agreement().features;
  switch (frame.type) {
    case MessageType::kError:
      Fail(kErrPeerError, false);
      return;
    case MessageType::kHello:
    case MessageType::kAuthChallenge:
    case MessageType::kAuthResponse:
    case MessageType::kAuthResult:
      Fail(kErrSetupAfterAuth, true);
      return;
    case MessageType::kPing:
      OnPing(frame);
      return;
    case MessageType::kPong:
      OnPong(frame);
      return;
    case MessageType::kTreeSinceRequest:
      OnTreeSinceRequest(frame);
      return;
    case MessageType::kTreeUpdate:
      OnTreeUpdate(frame, now_ns);
      return;
    case MessageType::kLogfileRequest:
      if (ServiceAllowed(features & wire::kFeatureLogfileServe,
                         config_.serve_logfiles)) {
        OnLogfileRequest(frame);
      }
      return;
    case MessageType::kDigestRequest:
      if (ServiceAllowed(features & wire::kFeatureBlockSyncServe,
                         config_.serve_sync)) {
        OnSyncRequest<wire::DigestRequest>(frame);
      }
      return;
    case MessageType::kBlockRequest:
      if (ServiceAllowed(features & wire::kFeatureBlockSyncServe,
                         config_.serve_sync)) {
        OnSyncRequest<wire::BlockRequest>(frame);
      }
      return;
    case MessageType::kLogfileData:
      OnLogfileData(frame);
      return;
    case MessageType::kDigestReply:
      OnSyncReply<wire::DigestReply>(frame);
      return;
    case MessageType::kBlockData:
      OnSyncReply<wire::BlockData>(frame);
      return;
  }
  Fail(kErrUnhandledType, true);
}

bool Session::ServiceAllowed(uint64_t agreed_feature, bool served) {
  if (agreed_feature == 0) {
    Fail(kErrServiceNotAgreed, true);
    return false;
  }
  if (!served) {
    Fail(kErrServiceNotServed, true);
    return false;
  }
  return true;
}

void Session::OnPeerError(const wire::Frame& frame) {
  wire::ErrorMessage error;
  if (!error.Decode(frame.payload).ok()) return;
  peer_error_code_ = error.code;
  peer_error_text_size_ = Min(error.text.size(), kPeerErrorTextCapacity);
  if (peer_error_text_size_ > 0) {
    __builtin_memcpy(peer_error_text_, error.text.data(),
                     peer_error_text_size_);
  }
}

void Session::OnPing(const wire::Frame& frame) {
  if ((handshake_.agreement().features & wire::kFeaturePing) == 0) {
    Fail(kErrPingNotAgreed, true);
    return;
  }
  wire::Ping ping;
  const Status s = ping.Decode(frame.payload);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  // At most one Pong waits: a peer pings again only after our answer.
  pong_pending_ = true;
  pong_token_ = ping.token;
}

void Session::OnPong(const wire::Frame& frame) {
  wire::Pong pong;
  const Status s = pong.Decode(frame.payload);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  if (!ping_outstanding_ || pong.token != ping_token_) {
    Fail(kErrUnexpectedPong, true);
    return;
  }
  ping_outstanding_ = false;
  ++counters_.pongs_received;
}

void Session::Pump() {
  if (!open()) return;
  if (pong_pending_ && pending() < config_.output_limit) {
    wire::Pong pong;
    pong.token = pong_token_;
    if (!Send(pong)) return;
    pong_pending_ = false;
  }
  while (open() && answering_ && pending() < config_.output_limit) {
    SendTreeBatch();
  }
}

void Session::CountFramesFrom(size_t from) {
  size_t pos = from;
  while (pos + wire::kFrameHeaderSize <= out_.size()) {
    const wire::FrameHeader header = wire::ParseFrameHeader(out_.data() + pos);
    pos += wire::kFrameHeaderSize + header.payload_size;
    ++counters_.frames_out;
  }
}

void Session::Fail(Status reason, bool tell_peer) {
  if (closed()) return;
  state_ = State::kClosed;
  status_ = reason;
  answering_ = false;
  pong_pending_ = false;
  if (tell_peer) {
    wire::ErrorMessage error;
    error.code = static_cast<uint32_t>(reason.code());
    error.text = Slice::FromCString(reason.message());
    wire::FrameEncoder encoder(&out_);
    if (encoder.AppendMessage(error).ok()) ++counters_.frames_out;
  }
}

}  // namespace peer
}  // namespace mars
