// Resource arguments (docu/marsadm.md, "Resource lists"): a single name, a
// comma-separated list "r0,r1", or `all` (every resource this host is a
// member of: resource-R/data-HOST exists). Every name is checked with the
// core's ValidateResourceName.
#ifndef MARS_USERSPACE_MARSADM_RESOURCE_LIST_H_
#define MARS_USERSPACE_MARSADM_RESOURCE_LIST_H_

#include <string>
#include <vector>

#include "exit_codes.h"
#include "tree_dir.h"

namespace mars::cli {

inline constexpr char kAllResources[] = "all";

enum class ListPolicy {
  kSingle,    // exactly one explicit name (create-resource, join-resource)
  kListOrAll  // a name, a comma-separated list, or `all`
};

struct ResourceSelection {
  std::vector<std::string> names;  // in the order given, without duplicates
  bool all = false;                // selected through `all`
};

// Parses `argument`. On error returns a non-OK ExitCode (2 for a malformed
// argument, 1 for `all` when this host is a member of no resource) and sets
// *error to a one-line message.
ExitCode SelectResources(const std::string& argument, ListPolicy policy,
                         const TreeDir& tree, const std::string& host,
                         ResourceSelection* selection, std::string* error);

// A one-line description of why `name` is not a valid resource name, or ""
// if it is valid. Uses the core's DescribeNameError.
std::string ResourceNameProblem(const std::string& name);
// The same for host names.
std::string HostNameProblem(const std::string& name);

// Names of the resources `host` is a member of (resource-R/data-HOST), sorted.
std::vector<std::string> MemberResources(const TreeDir& tree,
                                         const std::string& host);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_RESOURCE_LIST_H_
