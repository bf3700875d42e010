// Problems of the local /mars that the tree itself cannot show: when the
// module cannot write /mars (ext4 aborted its journal after an I/O error,
// the file system was remounted read-only), every link keeps the value last
// written, so `view` would show a stale but healthy-looking state. These
// checks look past the tree: the module's tree_write_errno entry
// (docu/control-interface.md) and the mount flags of the tree's directory.
#ifndef MARS_USERSPACE_MARSADM_MODULE_HEALTH_H_
#define MARS_USERSPACE_MARSADM_MODULE_HEALTH_H_

#include <string>
#include <vector>

#include "module_link.h"
#include "status_model.h"

namespace mars::cli {

// marsadm's error messages (source kMarsadm, host `host`) for:
//   tree-unwritable: the loaded module's last heartbeat write failed;
//   mars-read-only:  `root` is on a file system mounted read-only.
// None when all is well or cannot be told.
std::vector<Message> ModuleTreeProblems(const ModuleLink& module,
                                        const std::string& root,
                                        const std::string& host);

// Adds `problems` to the cluster's messages and to every resource's (the
// `view` text shows the resource messages only).
void AddClusterProblems(const std::vector<Message>& problems,
                        ClusterStatus* status);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_MODULE_HEALTH_H_
