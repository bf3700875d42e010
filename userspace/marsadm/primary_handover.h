// The phases of `primary RES` (docu/marsadm.md, "primary"), following
// upstream MARS's planned handover:
//
//   1. check   preconditions (skipped by --force except membership and the
//              attach switch): fetch and replay switched on, local replica
//              consistent, no split brain, and every old primary (the
//              designated one and any other member whose device is still up)
//              reports its state, is alive and has its device closed;
//   2. act     primary -> (none), so the old primary gives up its device;
//   3. wait    until every old primary reports actual-OLD/is-primary 0
//              (refused when one stops being alive or loses its actual-OLD/
//              directory meanwhile);
//   4. act     primary -> HOST;
//   5. wait    until actual-HOST/is-primary is 1 (the device is up here).
//
// With --force (failover) phases 2 and 3 do nothing: primary -> HOST
// directly. When HOST already is the designated primary only phase 5 acts.
#ifndef MARS_USERSPACE_MARSADM_PRIMARY_HANDOVER_H_
#define MARS_USERSPACE_MARSADM_PRIMARY_HANDOVER_H_

#include <cstdint>
#include <vector>

#include "phases.h"

namespace mars::cli {

// A host whose heartbeat (the stamp of actual-HOST/time) is older than this
// is not alive for a handover (the default --window of view).
inline constexpr uint64_t kHandoverAliveSeconds = 60;

std::vector<Phase> PrimaryPhases();

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_PRIMARY_HANDOVER_H_
