// Tree: the in-memory replica of the /mars tree (docu/mars-tree.md §5.3
// "Tree structure", §6 "Incremental exchange", §7 "Purging tombstones").
//
// Apply() merges one version of one path (last writer wins, CompareVersions
// breaks ties), so replicas converge whatever the order, duplication or
// interleaving of what they receive. Every change gets a change number;
// CollectSince() returns what changed after a peer's cursor in time
// proportional to the changes, not to the tree. Peers acknowledge cursors
// (PeerSeen), and PurgeTombstones() drops tombstones every peer has.
//
// The tree does not own a Lamport clock: a caller applying a remote entry
// first calls LamportClock::Observe(entry.stamp) and drops the entry if it
// is refused; a caller writing a local entry stamps it with clock.Now().
// Not thread-safe: callers serialise access.
#ifndef MARS_CORE_TREE_TREE_H_
#define MARS_CORE_TREE_TREE_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/platform.h"
#include "core/tree/entry.h"
#include "core/tree/names.h"

namespace mars {
namespace tree {

enum class ApplyOutcome : uint8_t {
  kInserted,   // the path was new
  kReplaced,   // the entry won over the stored version
  kUnchanged,  // identical to the stored version (a duplicate)
  kStale,      // lost to the stored version; ignored
};

// A position in one tree's change sequence. `incarnation` names the tree
// (a new one after every restart), `change` the last change covered.
struct ChangeCursor {
  uint64_t incarnation = 0;
  uint64_t change = 0;
};

class Tree {
 public:
  // `incarnation` must differ from every earlier tree of this host (e.g. a
  // fresh Lamport stamp taken when the tree is loaded), so peers' cursors
  // into an earlier tree are recognised. All memory is allocated with `gfp`.
  explicit Tree(uint64_t incarnation,
                platform::Gfp gfp = platform::Gfp::kKernel);
  ~Tree();
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;

  // Merges `entry` (validated with ValidateEntry; kInvalidArgument on
  // failure). Copies what it keeps. kNoMemory leaves the tree unchanged.
  // Cost O(log n), plus O(n) pointer moves when the path is new.
  // Context: as the tree's gfp.
  Status Apply(const EntryView& entry, ApplyOutcome* outcome = nullptr);

  // The stored version of `path` (live or tombstone), or nullptr. Valid
  // until the next Apply or PurgeTombstones.
  const Entry* Find(Slice path) const;
  // The live value of `path`: false for a missing path or a tombstone.
  bool Lookup(Slice path, Slice* value) const;

  // Entries (tombstones included) in byte-wise path order.
  size_t size() const { return entries_.size(); }
  const Entry& at(size_t index) const { return *entries_[index]; }

  uint64_t incarnation() const { return incarnation_; }
  // The cursor covering every change so far.
  ChangeCursor cursor() const {
    return ChangeCursor{incarnation_, last_change_};
  }

  // Appends to *out, in change order, at most `max_entries` entries whose
  // current version changed after `since` (every entry when
  // since.incarnation is not this tree's), and sets *next to the cursor to
  // ask from next time (equal to cursor() once nothing is left). Pointers are
  // valid until the next Apply or PurgeTombstones. On kNoMemory *out may hold
  // part of the answer and *next is unchanged.
  // Cost O(log n + c), c = changes after `since` (amortised).
  Status CollectSince(ChangeCursor since, size_t max_entries,
                      Vector<const Entry*>* out, ChangeCursor* next) const;

  // Records that `peer` has applied every change of this tree up to
  // `acked` (a cursor it got from CollectSince). Acknowledgements only
  // grow; one for another incarnation is ignored. kInvalidArgument for an
  // invalid peer name or a change not issued yet; kNoMemory.
  Status PeerSeen(Slice peer, ChangeCursor acked);
  // The acknowledged change of `peer` in this incarnation (0 if none).
  uint64_t PeerAcked(Slice peer) const;

  // Removes every tombstone whose change is <= the smallest change
  // acknowledged by each of `peers[0, count)` (nothing if a peer has not
  // acknowledged anything; every tombstone when count == 0: no one else
  // holds the tree). Returns how many were removed. Cost O(n).
  size_t PurgeTombstones(const HostName* peers, size_t count);

  // Allocations the tree holds now (entries, their bytes, its arrays), for
  // leak accounting. Cost O(n).
  size_t AllocationCount() const;

  // Records in the change index, stale ones included (for tests).
  size_t change_index_size() const { return changes_.size(); }

 private:
  struct ChangeRecord {
    uint64_t change;
    Entry* entry;  // stale when entry->change_ != change
  };

  struct PeerAck {
    HostName peer;
    uint64_t change;
  };

  // Index of the first entry whose path is >= `path`.
  size_t LowerBound(Slice path) const;
  Status Insert(size_t index, const EntryView& entry);
  Status Replace(Entry* stored, const EntryView& entry);
  // Drops stale records once they outnumber live entries.
  void MaybeCompact();
  // Drops stale records and records of purgeable tombstones (<= horizon).
  void CompactChanges(bool purge, uint64_t horizon);

  platform::Gfp gfp_;
  uint64_t incarnation_;
  uint64_t last_change_ = 0;
  Vector<Entry*> entries_;        // owned, sorted by path
  Vector<ChangeRecord> changes_;  // ascending change numbers
  Vector<PeerAck> peers_;
};

}  // namespace tree
}  // namespace mars

#endif  // MARS_CORE_TREE_TREE_H_
