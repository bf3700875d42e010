// What a host fetches and what it serves (docu/replication.md §5 "Fetch"),
// decided from the replicated tree alone.
//
// Fetch: a host H fetches the logfiles of resource R while `data-H` is live,
// `todo-H/connect` is 1 and the designated primary (`primary`) is not H. It
// starts at the logfile of its own replay link (`replay-H`) and follows the
// history: logfile N+1 is the one a version link (`version-(N+1)-X`) or a
// replay link (`replay-X`) of any host names, the designated primary's
// first. A logfile is final once some host's version link names it with its
// length; the first logfile without one may still grow and ends the plan.
//
// Serve: a host serves a logfile up to its final length when a version link
// names it; its own logfile that it is still writing only up to the durable
// end the write path reports (engine::LogDurability), never bytes a crash
// could tear off; a copy it fetched from another host up to what it holds.
#ifndef MARS_CORE_PEER_FETCH_PLAN_H_
#define MARS_CORE_PEER_FETCH_PLAN_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/engine/log_durability.h"
#include "core/tree/log_names.h"
#include "core/tree/names.h"
#include "core/tree/tree.h"

namespace mars {
namespace peer {

// The most logfiles of one resource a plan lists (the fetch works on the
// first unfinished one; later passes plan again).
constexpr size_t kMaxPlannedLogfiles = 16;

struct FetchTarget {
  // "resource-R/log-NNNNNNNNN-ORIGIN", relative to /mars.
  char relpath[tree::kMaxPathBytes + 1] = {};
  tree::LogfileName log;
  bool final_known = false;   // a version link gives its length
  uint64_t final_length = 0;  // valid when final_known
  // Who to ask first: the designated primary, else the logfile's origin.
  tree::HostName source;
};

// Appends, per resource that `self` fetches, its logfiles in history order
// from the replay link's one to the first that is not final (inclusive),
// at most kMaxPlannedLogfiles. kNoMemory. Context: any (no I/O).
Status PlanFetch(const tree::Tree& tree, Slice self, Vector<FetchTarget>* out);

// Checks that `relpath` is exactly "resource-R/log-NNNNNNNNN-ORIGIN" with a
// valid resource name and logfile name (nothing else is ever read for a
// peer). Fills *resource and *log. kInvalidArgument "not a logfile path".
Status ParseLogfilePath(Slice relpath, Slice* resource, tree::LogfileName* log);

struct ServeLimit {
  uint64_t length = 0;    // bytes [0, length) may be served
  bool complete = false;  // length is the final length
};

// How much of logfile `relpath` (valid per ParseLogfilePath) host `self`
// may serve, given that the local file holds `file_size` bytes.
// `durability` may be null (nothing of its own logfiles is in progress).
// Context: may sleep (LogDurability's mutex).
ServeLimit ServableLength(const tree::Tree& tree, Slice relpath, Slice self,
                          engine::LogDurability* durability,
                          uint64_t file_size);

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_FETCH_PLAN_H_
