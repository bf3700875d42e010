// Messages that replicate the /mars tree between peers (docu/wire-protocol.md,
// "Tree messages"; the tree itself is docu/mars-tree.md): a request for every
// entry newer than a Lamport stamp, and batches of entries in reply.
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
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

// "Send me every entry whose stamp is greater than since_stamp."
struct TreeSinceRequest {
  static constexpr MessageType kType = MessageType::kTreeSinceRequest;
  uint64_t since_stamp = 0;

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

// One tree entry. The codec checks lengths and the owner's host name only;
// path syntax is the tree's business (docu/mars-tree.md).
struct TreeEntry {
  Slice path;              // relative to /mars, 1..kMaxPathSize bytes
  Slice value;             // 0..kMaxValueSize bytes; empty for a tombstone
  Slice owner;             // host that wrote the entry, IsValidHostName()
  uint64_t stamp = 0;      // Lamport stamp (docu/mars-tree.md)
  bool tombstone = false;  // the entry was deleted
};

// A batch of entries in answer to a TreeSinceRequest (or pushed unasked).
// Non-copyable (owns the entry array).
struct TreeUpdate {
  static constexpr MessageType kType = MessageType::kTreeUpdate;
  static constexpr uint8_t kFlagFinal = 1;      // batch flag bit 0
  static constexpr uint8_t kFlagTombstone = 1;  // entry flag bit 0

  // `gfp` is the context of Decode()'s entry array allocation.
  explicit TreeUpdate(platform::Gfp gfp = platform::Gfp::kKernel)
      : entries(gfp) {}

  // The last batch of this reply: the receiver now has every entry newer
  // than its request's since_stamp.
  bool final_batch = true;
  Vector<TreeEntry> entries;  // at most kMaxTreeEntriesPerBatch

  Status Encode(Bytes* out) const;
  // Context: as the constructor's gfp (allocates the entry array).
  Status Decode(Slice payload);
};

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_TREE_MESSAGES_H_
