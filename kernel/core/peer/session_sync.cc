// The block-sync service of a Session (docu/wire-protocol.md, "Sync
// messages"): our digest- and block-requests go out and their checked
// answers wait for the caller (TakeSyncReply); the peer's requests wait for
// the caller (TakeSyncRequest), who reads the device and answers in the
// order taken (SendDigestReply / SendBlockData). Both kinds share one queue
// per direction, so answers match requests in order across kinds.
#include "core/base/utility.h"
#include "core/peer/session.h"
#include "core/peer/session_internal.h"

namespace mars {
namespace peer {
namespace {

using session_internal::CopySlice;
using session_internal::kErrUnaskedReply;
using session_internal::SameBytes;

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
  return AnswerSync(reply, nullptr);
}

Status Session::SendBlockData(const wire::BlockData& data) {
  return AnswerSync(data, nullptr);
}

Status Session::SendBlockDataInPlace(const wire::BlockData& data,
                                     uint32_t data_crc) {
  return AnswerSync(data, &data_crc);
}

bool Session::SendSyncAnswer(const wire::DigestReply& reply, const uint32_t*) {
  return Send(reply);
}

bool Session::SendSyncAnswer(const wire::BlockData& data,
                             const uint32_t* in_place_crc) {
  return SendData(data, in_place_crc);
}

template <class M>
Status Session::AnswerSync(const M& answer, const uint32_t* in_place_crc) {
  if (closed()) return status_;
  if (sync_answering_.empty() || !Answers(sync_answering_[0], answer)) {
    Fail(kErrBadSyncAnswer, true);
    return status_;
  }
  if (!SendSyncAnswer(answer, in_place_crc)) return status_;
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
  // The bytes stay where they were received: the frame's buffer goes along.
  got.payload = PayloadOf(reply);
  got.frame = decoder_.TakePayload();
  got.kind = ask.kind;
  got.resource = Move(ask.resource);
  got.offset = ask.offset;
  got.length = ask.length;
  got.block_size = ask.block_size;
  got.unavailable = reply.unavailable();
  got.log_number = reply.log_number;
  got.log_offset = reply.log_offset;
  s = sync_got_.PushBack(Move(got));
  if (!s.ok()) {
    Fail(s, false);
    return;
  }
  sync_asked_.Erase(0);
  CountReceived(reply, &counters_);
}

// session.cc dispatches the peer's sync frames to these.
template void Session::OnSyncRequest<wire::DigestRequest>(
    const wire::Frame& frame);
template void Session::OnSyncRequest<wire::BlockRequest>(
    const wire::Frame& frame);
template void Session::OnSyncReply<wire::DigestReply>(const wire::Frame& frame);
template void Session::OnSyncReply<wire::BlockData>(const wire::Frame& frame);

}  // namespace peer
}  // namespace mars
