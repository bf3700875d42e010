// Messages that replicate the /mars tree between peers (docu/wire-protocol.md,
// "Tree messages"; the tree and its change cursors are docu/mars-tree.md §6):
// a request for every change after a cursor, and batches of entries in reply,
// each carrying the cursor to ask from next.
//
// Same shape as every message: kType, Encode(Bytes*) (buffer unchanged on
// error), strict Decode(Slice) whose slices point into the payload.
#ifndef MARS_CORE_WIRE_TREE_MESSAGES_H_
#define MARS_CORE_WIRE_TREE_MESSAGES_H_

#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/platform.h"
#include "core/tree/tree.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

// "Send me every change of your tree after `since`" (tree::Tree::
// CollectSince). A cursor of another incarnation (or the zero cursor) asks
// for the whole tree. The cursor also acknowledges every change up to it
// (tree::Tree::PeerSeen, docu/mars-tree.md §7).
struct TreeSinceRequest {
  static constexpr MessageType kType = MessageType::kTreeSinceRequest;
  tree::ChangeCursor since;

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

// One tree entry. The codec checks lengths and the owner's host name
// (tree::ValidateHostName) only; path and value syntax are checked by
// tree::ValidateEntry when the entry is applied.
struct TreeEntry {
  Slice path;              // relative to /mars, 1..kMaxPathSize bytes
  Slice value;             // 0..kMaxValueSize bytes; empty for a tombstone
  Slice owner;             // host that wrote the entry, a valid host name
  uint64_t stamp = 0;      // Lamport stamp (docu/mars-tree.md §5)
  bool tombstone = false;  // the entry was deleted
};

// One batch of the answer to a TreeSinceRequest; an answer is one or more
// batches, the last with final_batch set. Non-copyable (owns the entries).
struct TreeUpdate {
  static constexpr MessageType kType = MessageType::kTreeUpdate;
  static constexpr uint8_t kFlagFinal = 1;      // batch flag bit 0
  static constexpr uint8_t kFlagTombstone = 1;  // entry flag bit 0

  // `gfp` is the context of Decode()'s entry array allocation.
  explicit TreeUpdate(platform::Gfp gfp = platform::Gfp::kKernel)
      : entries(gfp) {}

  // The last batch of this answer.
  bool final_batch = true;
  // The cursor reached by this batch and the earlier ones of the answer
  // (the `next` of the CollectSince call that produced it): once it has
  // applied them, the receiver holds every change up to `next` and asks
  // from there.
  tree::ChangeCursor next;
  Vector<TreeEntry> entries;  // at most kMaxTreeEntriesPerBatch

  Status Encode(Bytes* out) const;
  // Context: as the constructor's gfp (allocates the entry array).
  Status Decode(Slice payload);
};

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_TREE_MESSAGES_H_
