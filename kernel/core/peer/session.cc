// The peer session of docu/wire-protocol.md ("Sessions"): handshake,
// keepalive and the incremental tree exchange in both directions, and the
// logfile and block-sync services.
#include "core/peer/session.h"

#include "core/base/utility.h"
#include "core/tree/entry.h"
#include "core/wire/control_messages.h"

namespace mars {
namespace peer {
namespace {

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
constexpr Status kErrRequestDuringAnswer(
    StatusCode::kInvalidArgument,
    "session: tree-since-request before the previous answer was complete");
constexpr Status kErrUnaskedUpdate(StatusCode::kInvalidArgument,
                                   "session: tree-update nobody asked for");
constexpr Status kErrServiceNotAgreed(
    StatusCode::kInvalidArgument,
    "session: request for a service whose feature was not agreed");
constexpr Status kErrServiceNotServed(
    StatusCode::kUnavailable,
    "session: this side does not serve such requests");
constexpr Status kErrUnaskedReply(StatusCode::kInvalidArgument,
                                  "session: logfile or sync reply nobody "
                                  "asked for");
constexpr Status kErrTooManyLogfileRequests(
    StatusCode::kInvalidArgument,
    "session: more logfile requests outstanding than allowed");
constexpr Status kErrWrongLogfileData(
    StatusCode::kInvalidArgument,
    "session: logfile data does not answer the request outstanding");
constexpr Status kErrBadLogfileAnswer(
    StatusCode::kInternal,
    "session: logfile answer does not match the request taken");
constexpr Status kErrTooManySyncRequests(
    StatusCode::kInvalidArgument,
    "session: more sync requests outstanding than allowed");
constexpr Status kErrWrongSyncReply(
    StatusCode::kInvalidArgument,
    "session: sync reply does not answer the request outstanding");
constexpr Status kErrBadSyncAnswer(
    StatusCode::kInternal,
    "session: sync answer does not match the request taken");
constexpr Status kErrCannotRequestSync(StatusCode::kUnavailable,
                                       "cannot request sync data now");
constexpr Status kErrBadSyncResource(StatusCode::kInvalidArgument,
                                     "sync: resource name empty or too long");
constexpr Status kErrClosedLocally(StatusCode::kUnavailable,
                                   "session: closed by the local host");
constexpr Status kErrUnhandledType(StatusCode::kInternal,
                                   "session: message type without a handler");

// Encoded size of one tree-update entry (docu/wire-protocol.md).
size_t EntryWireSize(const tree::Entry& e) {
  return 8 + 1 + (2 + e.path().size()) + (2 + e.owner().size()) +
         (2 + e.value().size());
}

bool SameCursor(tree::ChangeCursor a, tree::ChangeCursor b) {
  return a.incarnation == b.incarnation && a.change == b.change;
}

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

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
      incoming_(gfp),
      collected_(gfp),
      batch_(gfp) {}

template <class M>
bool Session::Send(const M& message) {
  wire::FrameEncoder encoder(&out_);
  const Status s = encoder.AppendMessage(message);
  if (!s.ok()) {
    Fail(s, false);
    return false;
  }
  ++counters_.frames_out;
  return true;
}

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

void Session::RequestTreeNow() {
  if (!open()) return;  // the first request goes out on authentication
  if (request_outstanding_) {
    request_again_ = true;
    return;
  }
  SendTreeRequest();
}

void Session::Close(Status reason) {
  if (closed()) return;
  Fail(reason.ok() ? kErrClosedLocally : reason, true);
}

void Session::ConsumeOutput(size_t n) {
  if (n > pending()) {
    platform::ReportBug(__FILE__, __LINE__);
    n = pending();
  }
  out_start_ += n;
  counters_.bytes_out += n;
  if (out_start_ == out_.size()) {
    out_.Clear();
    out_start_ = 0;
  } else if (out_start_ >= (64u << 10) && out_start_ * 2 >= out_.size()) {
    // Drop the sent front once it is at least half the buffer, so the
    // buffer stays within the limit plus one batch.
    const size_t rest = pending();
    __builtin_memmove(out_.data(), out_.data() + out_start_, rest);
    (void)out_.Resize(rest);  // shrinking never fails
    out_start_ = 0;
  }
  Pump();
}

Status Session::TakeOutput(Bytes* out) {
  const Slice bytes = output();
  const Status s = AppendSlice(out, bytes);
  if (!s.ok()) return s;
  ConsumeOutput(bytes.size());
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

void Session::OnTreeSinceRequest(const wire::Frame& frame) {
  wire::TreeSinceRequest request;
  const Status s = request.Decode(frame.payload);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  if (answering_) {
    Fail(kErrRequestDuringAnswer, true);
    return;
  }
  // The cursor acknowledges every change up to it. Frames are handled in
  // order, so every answer the peer sent before this request is applied
  // already (the channel rule, docu/mars-tree.md §7). A refused
  // acknowledgement (beyond our last change) or a failure to record it only
  // delays purging: ignored.
  (void)tree_->PeerSeen(handshake_.peer_host_name(), request.since);
  ++counters_.tree_requests_served;
  answering_ = true;
  answer_cursor_ = request.since;
}

void Session::OnTreeUpdate(const wire::Frame& frame, uint64_t now_ns) {
  if (!request_outstanding_) {
    Fail(kErrUnaskedUpdate, true);
    return;
  }
  Status s = incoming_.Decode(frame.payload);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  // Validate the whole batch first: a bad entry applies nothing of it.
  for (const wire::TreeEntry& e : incoming_.entries) {
    tree::EntryView view;
    view.path = e.path;
    view.value = e.value;
    view.tombstone = e.tombstone;
    view.stamp = e.stamp;
    view.owner = e.owner;
    s = tree::ValidateEntry(view);
    if (!s.ok()) {
      Fail(s, true);
      return;
    }
  }
  ++counters_.tree_batches_received;
  for (const wire::TreeEntry& e : incoming_.entries) {
    ++counters_.entries_received;
    if (!clock_->Observe(e.stamp).ok()) {
      // Too far in the future (docu/mars-tree.md §5.2): dropped.
      ++counters_.entries_refused;
      continue;
    }
    tree::EntryView view;
    view.path = e.path;
    view.value = e.value;
    view.tombstone = e.tombstone;
    view.stamp = e.stamp;
    view.owner = e.owner;
    tree::ApplyOutcome outcome = tree::ApplyOutcome::kUnchanged;
    s = tree_->Apply(view, &outcome);
    if (!s.ok()) {
      // Only kNoMemory is left; the cursor stays before this batch, so the
      // next connection asks for it again.
      Fail(s, true);
      return;
    }
    if (outcome == tree::ApplyOutcome::kInserted ||
        outcome == tree::ApplyOutcome::kReplaced) {
      ++counters_.entries_applied;
    }
  }
  cursor_ = incoming_.next;
  if (!incoming_.final_batch) return;
  request_outstanding_ = false;
  counters_.last_tree_exchange_ns = now_ns;
  next_poll_ns_ = SaturatingAdd(now_ns, config_.poll_interval_ns);
  if (request_again_) {
    request_again_ = false;
    SendTreeRequest();
  }
}

void Session::SendTreeRequest() {
  wire::TreeSinceRequest request;
  request.since = cursor_;
  if (!Send(request)) return;
  request_outstanding_ = true;
  ++counters_.tree_requests_sent;
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

void Session::SendTreeBatch() {
  collected_.Clear();
  tree::ChangeCursor next;
  Status s = tree_->CollectSince(answer_cursor_, wire::kMaxTreeEntriesPerBatch,
                                 &collected_, &next);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  // Cut the batch at the byte budget; then collect again for exactly the
  // entries that fit, so `next` is the cursor CollectSince gives for them.
  size_t bytes = kTreeUpdateHeaderSize;
  size_t fit = 0;
  while (fit < collected_.size()) {
    const size_t size = EntryWireSize(*collected_[fit]);
    if (bytes + size > config_.max_batch_bytes) break;
    bytes += size;
    ++fit;
  }
  if (fit < collected_.size()) {
    collected_.Clear();
    s = tree_->CollectSince(answer_cursor_, fit, &collected_, &next);
    if (!s.ok()) {
      Fail(s, true);
      return;
    }
  }
  batch_.entries.Clear();
  s = batch_.entries.Reserve(collected_.size());
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  for (const tree::Entry* entry : collected_) {
    wire::TreeEntry e;
    e.path = entry->path();
    e.value = entry->value();
    e.owner = entry->owner();
    e.stamp = entry->stamp();
    e.tombstone = entry->tombstone();
    (void)batch_.entries.PushBack(e);  // reserved: cannot fail
  }
  batch_.next = next;
  // CollectSince returns the tree's cursor exactly when nothing is left.
  batch_.final_batch = SameCursor(next, tree_->cursor());
  if (!Send(batch_)) return;
  ++counters_.tree_batches_sent;
  counters_.entries_sent += collected_.size();
  answer_cursor_ = next;
  if (batch_.final_batch) answering_ = false;
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

namespace {

Status CopySlice(Slice from, Bytes* to) {
  to->Clear();
  return to->Append(from.data(), from.size());
}

bool SameBytes(const Bytes& a, Slice b) {
  return a.size() == b.size() &&
         (a.size() == 0 || __builtin_memcmp(a.data(), b.data(), a.size()) == 0);
}

// The sync messages, by type: what a request asks, whether an answer fits
// a request, what an answer carries, and what it counts.
void Describe(const wire::DigestRequest& m, SyncAsk* ask) {
  ask->kind = SyncAsk::Kind::kDigests;
  ask->offset = m.offset;
  ask->length = m.length;
  ask->block_size = m.block_size;
}

void Describe(const wire::BlockRequest& m, SyncAsk* ask) {
  ask->kind = SyncAsk::Kind::kBlocks;
  ask->offset = m.offset;
  ask->length = m.length;
  ask->block_size = 0;
}

bool Answers(const SyncAsk& ask, const wire::DigestReply& m) {
  return ask.kind == SyncAsk::Kind::kDigests &&
         SameBytes(ask.resource, m.resource) && ask.offset == m.offset &&
         ask.length == m.length && ask.block_size == m.block_size;
}

bool Answers(const SyncAsk& ask, const wire::BlockData& m) {
  return ask.kind == SyncAsk::Kind::kBlocks &&
         SameBytes(ask.resource, m.resource) && ask.offset == m.offset &&
         (m.unavailable() || m.data.size() == ask.length);
}

Slice PayloadOf(const wire::DigestReply& m) { return m.digests; }
Slice PayloadOf(const wire::BlockData& m) { return m.data; }

void CountReceived(const wire::DigestReply& m, SessionCounters* c) {
  c->sync_digests_received += m.digests.size() / wire::kDigestSize;
}

void CountReceived(const wire::BlockData& m, SessionCounters* c) {
  c->sync_bytes_received += m.data.size();
}

void CountSent(const wire::DigestReply&, SessionCounters* c) {
  ++c->sync_requests_served;
}

void CountSent(const wire::BlockData& m, SessionCounters* c) {
  ++c->sync_requests_served;
  c->sync_bytes_sent += m.data.size();
}

}  // namespace

Status Session::RequestLogfile(Slice name, uint64_t offset,
                               uint32_t max_length) {
  if (!open() ||
      (handshake_.agreement().features & wire::kFeatureLogfileServe) == 0 ||
      asked_.size() >= kMaxLogfileRequests) {
    return Status(StatusCode::kUnavailable, "cannot request a logfile now");
  }
  if (name.empty() || name.size() > wire::kMaxPathSize || max_length == 0 ||
      max_length > wire::kMaxDataChunk) {
    return Status(StatusCode::kInvalidArgument, "bad logfile request");
  }
  LogfileAsk ask;
  Status s = CopySlice(name, &ask.name);
  if (s.ok()) s = asked_.Reserve(asked_.size() + 1);
  if (!s.ok()) {
    Fail(s, false);
    return s;
  }
  ask.offset = offset;
  ask.max_length = max_length;
  wire::LogfileRequest request;
  request.name = name;
  request.offset = offset;
  request.max_length = max_length;
  if (!Send(request)) return status_;
  Status pushed = asked_.PushBack(Move(ask));  // reserved: cannot fail
  (void)pushed;
  ++counters_.logfile_requests_sent;
  return Status::Ok();
}

bool Session::TakeLogfileData(LogfileGot* got) {
  if (got_.empty()) return false;
  *got = Move(got_[0]);
  got_.Erase(0);
  return true;
}

uint64_t Session::NextLogfileRequestBytes() const {
  return asks_.empty() ? 0 : asks_[0].max_length;
}

bool Session::TakeLogfileRequest(LogfileAsk* ask) {
  if (asks_.empty() ||
      !answering_asks_.Reserve(answering_asks_.size() + 1).ok()) {
    return false;
  }
  LogfileAsk copy;
  if (!CopySlice(Slice(asks_[0].name.data(), asks_[0].name.size()), &copy.name)
           .ok()) {
    return false;
  }
  copy.offset = asks_[0].offset;
  copy.max_length = asks_[0].max_length;
  *ask = Move(asks_[0]);
  asks_.Erase(0);
  Status pushed = answering_asks_.PushBack(Move(copy));  // reserved
  (void)pushed;
  return true;
}

Status Session::SendLogfileData(const wire::LogfileData& data) {
  if (closed()) return status_;
  if (answering_asks_.empty() ||
      !SameBytes(answering_asks_[0].name, data.name) ||
      data.offset != answering_asks_[0].offset ||
      data.data.size() > answering_asks_[0].max_length) {
    Fail(kErrBadLogfileAnswer, true);
    return status_;
  }
  if (!Send(data)) return status_;
  answering_asks_.Erase(0);
  ++counters_.logfile_requests_served;
  counters_.logfile_bytes_sent += data.data.size();
  return Status::Ok();
}

void Session::OnLogfileRequest(const wire::Frame& frame) {
  wire::LogfileRequest request;
  Status s = request.Decode(frame.payload);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  if (asks_.size() + answering_asks_.size() >= kMaxLogfileRequests) {
    Fail(kErrTooManyLogfileRequests, true);
    return;
  }
  LogfileAsk ask;
  s = CopySlice(request.name, &ask.name);
  if (s.ok()) {
    ask.offset = request.offset;
    ask.max_length = request.max_length;
    s = asks_.PushBack(Move(ask));
  }
  if (!s.ok()) Fail(s, false);
}

void Session::OnLogfileData(const wire::Frame& frame) {
  wire::LogfileData data;
  Status s = data.Decode(frame.payload);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  if (asked_.empty()) {
    Fail(kErrUnaskedReply, true);
    return;
  }
  const LogfileAsk& ask = asked_[0];
  if (!SameBytes(ask.name, data.name) || data.offset != ask.offset ||
      data.data.size() > ask.max_length) {
    Fail(kErrWrongLogfileData, true);
    return;
  }
  LogfileGot got;
  s = CopySlice(data.data, &got.data);
  if (s.ok()) {
    got.name = Move(asked_[0].name);
    got.offset = data.offset;
    got.max_length = ask.max_length;
    got.file_size = data.file_size;
    got.end_of_file = data.end_of_file;
    got.file_complete = data.file_complete;
    s = got_.PushBack(Move(got));
  }
  if (!s.ok()) {
    Fail(s, false);
    return;
  }
  asked_.Erase(0);
  counters_.logfile_bytes_received += data.data.size();
}

Status Session::RequestDigests(Slice resource, uint64_t offset, uint64_t length,
                               uint32_t block_size) {
  wire::DigestRequest request;
  request.resource = resource;
  request.offset = offset;
  request.length = length;
  request.block_size = block_size;
  return RequestSync(request);
}

Status Session::RequestBlocks(Slice resource, uint64_t offset,
                              uint32_t length) {
  wire::BlockRequest request;
  request.resource = resource;
  request.offset = offset;
  request.length = length;
  return RequestSync(request);
}

template <class M>
Status Session::RequestSync(const M& request) {
  if (!open() ||
      (handshake_.agreement().features & wire::kFeatureBlockSyncServe) == 0 ||
      sync_asked_.size() >= kMaxSyncRequests) {
    return kErrCannotRequestSync;
  }
  if (request.resource.empty() ||
      request.resource.size() > wire::kMaxResourceNameSize) {
    return kErrBadSyncResource;
  }
  // The request's own range rules (the codec's messages).
  SyncAsk ask;
  Describe(request, &ask);
  Status s =
      ask.kind == SyncAsk::Kind::kDigests
          ? wire::ValidateDigestRange(ask.offset, ask.length, ask.block_size)
          : wire::ValidateBlockRange(ask.offset, ask.length);
  if (!s.ok()) return s;
  s = CopySlice(request.resource, &ask.resource);
  if (s.ok()) s = sync_asked_.Reserve(sync_asked_.size() + 1);
  if (!s.ok()) {
    Fail(s, false);
    return s;
  }
  if (!Send(request)) return status_;
  Status pushed = sync_asked_.PushBack(Move(ask));  // reserved: cannot fail
  (void)pushed;
  ++counters_.sync_requests_sent;
  return Status::Ok();
}

bool Session::TakeSyncReply(SyncGot* got) {
  if (sync_got_.empty()) return false;
  *got = Move(sync_got_[0]);
  sync_got_.Erase(0);
  return true;
}

uint64_t Session::NextSyncRequestBytes() const {
  if (sync_asks_.empty()) return 0;
  const SyncAsk& ask = sync_asks_[0];
  if (ask.kind == SyncAsk::Kind::kBlocks) return ask.length;
  if (ask.block_size == 0) return 0;
  return (ask.length + ask.block_size - 1) / ask.block_size * wire::kDigestSize;
}

bool Session::TakeSyncRequest(SyncAsk* ask) {
  if (sync_asks_.empty() ||
      !sync_answering_.Reserve(sync_answering_.size() + 1).ok()) {
    return false;
  }
  SyncAsk copy;
  if (!CopySlice(
           Slice(sync_asks_[0].resource.data(), sync_asks_[0].resource.size()),
           &copy.resource)
           .ok()) {
    return false;
  }
  copy.kind = sync_asks_[0].kind;
  copy.offset = sync_asks_[0].offset;
  copy.length = sync_asks_[0].length;
  copy.block_size = sync_asks_[0].block_size;
  *ask = Move(sync_asks_[0]);
  sync_asks_.Erase(0);
  Status pushed = sync_answering_.PushBack(Move(copy));  // reserved
  (void)pushed;
  return true;
}

Status Session::SendDigestReply(const wire::DigestReply& reply) {
  return AnswerSync(reply);
}

Status Session::SendBlockData(const wire::BlockData& data) {
  return AnswerSync(data);
}

template <class M>
Status Session::AnswerSync(const M& answer) {
  if (closed()) return status_;
  if (sync_answering_.empty() || !Answers(sync_answering_[0], answer)) {
    Fail(kErrBadSyncAnswer, true);
    return status_;
  }
  if (!Send(answer)) return status_;
  sync_answering_.Erase(0);
  CountSent(answer, &counters_);
  return Status::Ok();
}

template <class M>
void Session::OnSyncRequest(const wire::Frame& frame) {
  M request;
  Status s = request.Decode(frame.payload);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  if (sync_asks_.size() + sync_answering_.size() >= kMaxSyncRequests) {
    Fail(kErrTooManySyncRequests, true);
    return;
  }
  SyncAsk ask;
  Describe(request, &ask);
  s = CopySlice(request.resource, &ask.resource);
  if (s.ok()) s = sync_asks_.PushBack(Move(ask));
  if (!s.ok()) Fail(s, false);
}

template <class M>
void Session::OnSyncReply(const wire::Frame& frame) {
  M reply;
  Status s = reply.Decode(frame.payload);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  if (sync_asked_.empty()) {
    Fail(kErrUnaskedReply, true);
    return;
  }
  SyncAsk& ask = sync_asked_[0];
  if (!Answers(ask, reply)) {
    Fail(kErrWrongSyncReply, true);
    return;
  }
  SyncGot got;
  s = CopySlice(PayloadOf(reply), &got.payload);
  if (s.ok()) {
    got.kind = ask.kind;
    got.resource = Move(ask.resource);
    got.offset = ask.offset;
    got.length = ask.length;
    got.block_size = ask.block_size;
    got.unavailable = reply.unavailable();
    got.log_number = reply.log_number;
    got.log_offset = reply.log_offset;
    s = sync_got_.PushBack(Move(got));
  }
  if (!s.ok()) {
    Fail(s, false);
    return;
  }
  sync_asked_.Erase(0);
  CountReceived(reply, &counters_);
}

}  // namespace peer
}  // namespace mars
