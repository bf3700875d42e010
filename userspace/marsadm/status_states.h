// The state names of the status model and the rules that derive a host's
// role, disk state, replication state and flags, following upstream MARS's
// view macros (docu/marsadm.md, "view"). Pure functions of facts the model
// has gathered (status_model.cc), so each rule reads top to bottom.
#ifndef MARS_USERSPACE_MARSADM_STATUS_STATES_H_
#define MARS_USERSPACE_MARSADM_STATUS_STATES_H_

#include <cstddef>

#include "status_model.h"

namespace mars::cli {

// What the rules need beyond the HostStatus fields member, is_local, todo,
// actual, consistent, orphan, alive and sync.
struct StateFacts {
  bool disk_present = false;       // member, and (local) the disk exists
  bool designated_here = false;    // resource-R/primary names this host
  bool designated_exists = false;  // some host is designated
  bool designated_alive = false;   // ... and has a fresh heartbeat
  bool module_loaded = true;       // always true for peers
  bool fetch_reached = false;
  bool replay_reached = false;
  bool work_reached = false;       // nothing known is left to fetch or replay
  bool primary_emergency = false;  // the designated primary is in emergency
  size_t actual_primaries = 0;     // hosts whose device is up
};

// Sets host->role, disk_state, repl_state and flags.
void DeriveStates(const StateFacts& facts, HostStatus* host);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_STATUS_STATES_H_
