// The cluster secret: ROOT/secret, a regular file (mode 0600, never
// replicated through the tree) holding kSecretBytes random bytes as
// lowercase hex and a newline. Peers authenticate each other with it
// (docu/marsadm.md, "create-cluster"). create-cluster writes it; the admin
// copies it to every host before join-cluster.
#ifndef MARS_USERSPACE_MARSADM_CLUSTER_SECRET_H_
#define MARS_USERSPACE_MARSADM_CLUSTER_SECRET_H_

#include <cstddef>
#include <optional>
#include <string>

#include "phases.h"
#include "tree_dir.h"

namespace mars::cli {

inline constexpr char kSecretFile[] = "secret";
inline constexpr std::size_t kSecretBytes = 32;

// `bytes` random bytes from getrandom(2) as lowercase hex.
std::string RandomHex(std::size_t bytes);

// A file action writing a fresh secret under a staging name, then renaming
// it into place.
FileAction WriteSecret(const TreeDir& tree);

// Nullopt if ROOT/secret holds a well-formed secret, else what is wrong
// ("is missing", "is readable by others than root (chmod 600)", ...).
std::optional<std::string> SecretProblem(const TreeDir& tree);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_CLUSTER_SECRET_H_
