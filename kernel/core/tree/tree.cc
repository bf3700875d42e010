// Tree: merge, change index, acknowledgements and purge
// (docu/mars-tree.md §5-§7).
#include "core/tree/tree.h"

#include "core/base/memory.h"
#include "core/base/utility.h"
#include "core/tree/text.h"

namespace mars {
namespace tree {

Tree::Tree(uint64_t incarnation, platform::Gfp gfp)
    : gfp_(gfp),
      incarnation_(incarnation),
      entries_(gfp),
      changes_(gfp),
      peers_(gfp) {}

Tree::~Tree() {
  for (Entry* entry : entries_) Delete(entry);
}

size_t Tree::AllocationCount() const {
  size_t count = (entries_.capacity() > 0) + (changes_.capacity() > 0) +
                 (peers_.capacity() > 0);
  for (const Entry* entry : entries_) {
    count += 1 + (entry->path_.capacity() > 0) + (entry->value_.capacity() > 0);
  }
  return count;
}

size_t Tree::LowerBound(Slice path) const {
  size_t lo = 0;
  size_t hi = entries_.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (entries_[mid]->path().Compare(path) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

const Entry* Tree::Find(Slice path) const {
  const size_t i = LowerBound(path);
  if (i < entries_.size() && entries_[i]->path() == path) return entries_[i];
  return nullptr;
}

bool Tree::Lookup(Slice path, Slice* value) const {
  const Entry* entry = Find(path);
  if (entry == nullptr || entry->tombstone()) return false;
  *value = entry->value();
  return true;
}

Status Tree::Apply(const EntryView& entry, ApplyOutcome* outcome) {
  Status s = ValidateEntry(entry);
  if (!s.ok()) return s;
  const size_t i = LowerBound(entry.path);
  ApplyOutcome result;
  if (i < entries_.size() && entries_[i]->path() == entry.path) {
    const int order = CompareVersions(entry, entries_[i]->view());
    if (order <= 0) {
      result = order == 0 ? ApplyOutcome::kUnchanged : ApplyOutcome::kStale;
    } else {
      s = Replace(entries_[i], entry);
      result = ApplyOutcome::kReplaced;
    }
  } else {
    s = Insert(i, entry);
    result = ApplyOutcome::kInserted;
  }
  if (!s.ok()) return s;
  if (outcome != nullptr) *outcome = result;
  MaybeCompact();
  return Status::Ok();
}

Status Tree::Insert(size_t index, const EntryView& entry) {
  Entry* fresh = New<Entry>(gfp_, gfp_);
  if (fresh == nullptr) return Status(StatusCode::kNoMemory, "out of memory");
  Status s = AppendBytes(entry.path, &fresh->path_);
  if (s.ok()) s = AppendBytes(entry.value, &fresh->value_);
  if (s.ok()) s = fresh->owner_.Assign(entry.owner);
  if (s.ok()) s = entries_.PushBack(nullptr);
  if (!s.ok()) {
    Delete(fresh);
    return s;
  }
  for (size_t j = entries_.size() - 1; j > index; --j)
    entries_[j] = entries_[j - 1];
  entries_[index] = fresh;
  s = changes_.PushBack(ChangeRecord{last_change_ + 1, fresh});
  if (!s.ok()) {
    entries_.Erase(index);
    Delete(fresh);
    return s;
  }
  fresh->tombstone_ = entry.tombstone;
  fresh->stamp_ = entry.stamp;
  fresh->change_ = ++last_change_;
  return Status::Ok();
}

Status Tree::Replace(Entry* stored, const EntryView& entry) {
  Bytes value(gfp_);
  Status s = AppendBytes(entry.value, &value);
  if (!s.ok()) return s;
  HostName owner;
  s = owner.Assign(entry.owner);
  if (!s.ok()) return s;
  // The record comes first: if it cannot be stored nothing has changed.
  s = changes_.PushBack(ChangeRecord{last_change_ + 1, stored});
  if (!s.ok()) return s;
  stored->value_ = Move(value);
  stored->owner_ = owner;
  stored->tombstone_ = entry.tombstone;
  stored->stamp_ = entry.stamp;
  stored->change_ = ++last_change_;
  return Status::Ok();
}

void Tree::MaybeCompact() {
  if (changes_.size() > 2 * entries_.size() + 64) CompactChanges(false, 0);
}

void Tree::CompactChanges(bool purge, uint64_t horizon) {
  size_t kept = 0;
  for (size_t i = 0; i < changes_.size(); ++i) {
    const ChangeRecord record = changes_[i];
    const Entry* entry = record.entry;
    if (entry->change_ != record.change) continue;  // stale
    if (purge && entry->tombstone_ && entry->change_ <= horizon) continue;
    changes_[kept++] = record;
  }
  (void)changes_.Resize(kept);  // shrinking never fails
}

Status Tree::CollectSince(ChangeCursor since, size_t max_entries,
                          Vector<const Entry*>* out, ChangeCursor* next) const {
  const uint64_t after = since.incarnation == incarnation_ ? since.change : 0;
  // First record with a change number above `after`.
  size_t lo = 0;
  size_t hi = changes_.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (changes_[mid].change <= after) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  uint64_t covered = after;  // every change up to here is answered
  size_t taken = 0;
  for (size_t i = lo; i < changes_.size(); ++i) {
    const ChangeRecord& record = changes_[i];
    if (record.entry->change_ == record.change) {  // else changed again later
      if (taken == max_entries) {
        *next = ChangeCursor{incarnation_, covered};
        return Status::Ok();
      }
      Status s = out->PushBack(record.entry);
      if (!s.ok()) return s;
      ++taken;
    }
    covered = record.change;
  }
  *next = cursor();
  return Status::Ok();
}

Status Tree::PeerSeen(Slice peer, ChangeCursor acked) {
  HostName name;
  Status s = name.Assign(peer);
  if (!s.ok()) return s;
  if (acked.incarnation != incarnation_) return Status::Ok();
  if (acked.change > last_change_) {
    return Status(StatusCode::kInvalidArgument,
                  "acknowledged change was not issued by this tree");
  }
  for (PeerAck& ack : peers_) {
    if (ack.peer == name) {
      ack.change = Max(ack.change, acked.change);
      return Status::Ok();
    }
  }
  return peers_.PushBack(PeerAck{name, acked.change});
}

uint64_t Tree::PeerAcked(Slice peer) const {
  for (const PeerAck& ack : peers_) {
    if (ack.peer.slice() == peer) return ack.change;
  }
  return 0;
}

size_t Tree::PurgeTombstones(const HostName* peers, size_t count) {
  uint64_t horizon = last_change_;
  for (size_t i = 0; i < count; ++i) {
    horizon = Min(horizon, PeerAcked(peers[i].slice()));
  }
  if (horizon == 0) return 0;
  CompactChanges(true, horizon);
  size_t kept = 0;
  size_t purged = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry* entry = entries_[i];
    if (entry->tombstone_ && entry->change_ <= horizon) {
      Delete(entry);
      ++purged;
    } else {
      entries_[kept++] = entry;
    }
  }
  (void)entries_.Resize(kept);
  return purged;
}

}  // namespace tree
}  // namespace mars
