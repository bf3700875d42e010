// What a host syncs (docu/replication.md §6 "Sync"), decided from the
// replicated tree alone.
//
// Host H syncs resource R from its designated primary P while `data-H` is
// live, `todo-H/sync` is 1, P is not H and `syncstatus-H` (absent: 0) is
// below `size`. The sync continues at syncstatus-H, rounded down to a
// digest block; `syncpos-H`, if present, is the log bound recorded so far.
#ifndef MARS_CORE_PEER_SYNC_PLAN_H_
#define MARS_CORE_PEER_SYNC_PLAN_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/tree/log_names.h"
#include "core/tree/names.h"
#include "core/tree/tree.h"

namespace mars {
namespace peer {

struct SyncTarget {
  char resource[tree::kMaxNameChars + 1] = {};
  tree::HostName source;  // the designated primary
  uint64_t size = 0;      // resource-R/size
  uint64_t synced = 0;    // syncstatus-H
  bool has_syncpos = false;
  tree::ReplayLink syncpos;  // syncpos-H, when has_syncpos
};

// Appends one target per resource that `self` syncs now. kNoMemory.
// Context: any (no I/O).
Status PlanSync(const tree::Tree& tree, Slice self, Vector<SyncTarget>* out);

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_SYNC_PLAN_H_
