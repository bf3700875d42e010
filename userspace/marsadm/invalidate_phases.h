// The phases of `invalidate RES` (docu/marsadm.md, "invalidate"), following
// upstream MARS: discard this host's replica and restart it from the
// designated primary P's current logfile N; a full sync follows.
//
//   1. check  member; P designated, not this host, with a valid replay-P;
//             the local device is not open (unless --force);
//   2. act    todo-HOST/{sync,connect,allow-replay,attach} -> 0;
//   3. wait   actual-HOST/{is-syncing,is-copying,is-replaying,is-attached}
//             are all 0;
//   4. act    syncstatus-HOST -> 0; delete this host's version links
//             numbered N and above, and those below N that differ from P's
//             link of the same number (a diverged history);
//   5. act    purge obsolete logfiles: those every member has replayed and
//             those outside P's history (log_retention.h
//             UnreachableLogfiles);
//   6. act    replay-HOST -> log-N-ORIGIN,0,0 and a copy of P's newest
//             version link below N;
//   7. act    todo-HOST/{attach,connect,allow-replay} -> 1;
//   8. act    todo-HOST/sync -> 1 (last, so the sync starts from the new
//             replay position).
//
// N and the replay link are read once (phase 4) and used by the later phases,
// so a logfile rotation on P meanwhile does not mix two restart points.
#ifndef MARS_USERSPACE_MARSADM_INVALIDATE_PHASES_H_
#define MARS_USERSPACE_MARSADM_INVALIDATE_PHASES_H_

#include <vector>

#include "phases.h"

namespace mars::cli {

std::vector<Phase> InvalidatePhases();

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_INVALIDATE_PHASES_H_
