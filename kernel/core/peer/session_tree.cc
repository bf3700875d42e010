// The incremental tree exchange of a Session (docu/mars-tree.md §6, §7;
// docu/wire-protocol.md, "Tree messages"), both roles on one connection:
// as requester it asks for the peer's changes after its cursor and applies
// the answer batch by batch; as server it answers the peer's requests from
// CollectSince in batches cut to the byte budget and records the peer's
// acknowledgements (Tree::PeerSeen). Pump() (session.cc) sends the batches
// while the output has room.
#include "core/peer/session.h"
#include "core/peer/session_internal.h"
#include "core/tree/entry.h"

namespace mars {
namespace peer {
namespace {

using session_internal::SaturatingAdd;

constexpr Status kErrRequestDuringAnswer(
    StatusCode::kInvalidArgument,
    "session: tree-since-request before the previous answer was complete");
constexpr Status kErrUnaskedUpdate(StatusCode::kInvalidArgument,
                                   "session: tree-update nobody asked for");

// Encoded size of one tree-update entry (docu/wire-protocol.md).
size_t EntryWireSize(const tree::Entry& e) {
  return 8 + 1 + (2 + e.path().size()) + (2 + e.owner().size()) +
         (2 + e.value().size());
}

bool SameCursor(tree::ChangeCursor a, tree::ChangeCursor b) {
  return a.incarnation == b.incarnation && a.change == b.change;
}

}  // namespace

void Session::RequestTreeNow() {
  if (!open()) return;  // the first request goes out on authentication
  if (request_outstanding_) {
    request_again_ = true;
    return;
  }
  SendTreeRequest();
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

}  // namespace peer
}  // namespace mars
