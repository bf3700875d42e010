// Which logfiles, version links and tombstones may go (docu/marsadm.md,
// "Logfile commands" and "cron"). Pure decisions over the tree; the commands
// stage the deletions.
#ifndef MARS_USERSPACE_MARSADM_LOG_RETENTION_H_
#define MARS_USERSPACE_MARSADM_LOG_RETENTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tree_read.h"

namespace mars::cli {

struct LogDeletion {
  std::vector<std::string> logfiles;       // file names in the resource dir
  std::vector<std::string> version_links;  // link names in the resource dir
};

// Logfiles every member has replayed: number < the smallest logfile number
// of all members' replay links (a member without a valid replay link blocks
// every deletion). With `all` false only the oldest such number. Version
// links numbered below the highest deleted logfile go too, except each
// host's newest link, so one more version link than logfiles remains.
LogDeletion ReplayedLogfiles(const ResourceTree& res, bool all);

// ReplayedLogfiles(res, true) plus everything outside `primary`'s history:
// a logfile N whose origin differs from the origin in the primary's version
// link N or replay link (when the primary's logfile is N), or that is newer
// than the primary's logfile and not the primary's; a version link N of
// another host whose value differs from the primary's version link N.
LogDeletion UnreachableLogfiles(const ResourceTree& res, const std::string& primary);

// Tombstones stamped below this value have been seen by every peer: the
// smallest stamp of the peers' heartbeats actual-PEER/time (peers = hosts
// in ips/ other than `host`); 0 if a peer has no heartbeat; UINT64_MAX when
// there are no peers.
uint64_t TombstoneHorizon(const TreeDir& tree, const std::string& host);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_LOG_RETENTION_H_
