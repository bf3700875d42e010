// Helpers shared by the tree-changing commands (commands_cluster.cc,
// commands_resource.cc, commands_operation.cc, commands_log.cc): argument
// parsing (sizes, IP addresses, devices), the common per-resource
// preconditions, and running a phase plan over a resource argument.
#ifndef MARS_USERSPACE_MARSADM_COMMAND_SUPPORT_H_
#define MARS_USERSPACE_MARSADM_COMMAND_SUPPORT_H_

#include <boost/any.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "phases.h"
#include "resource_list.h"
#include "tree_read.h"

namespace mars::cli {

// Smallest resource size accepted by create-resource and resize (exclusive).
inline constexpr uint64_t kMinResourceSize = 64 * 1024;

// Parses a size: decimal bytes, optionally followed by one of k K M G T
// (binary: 2^10, 2^10, 2^20, 2^30, 2^40). Returns nullopt for anything else
// or on overflow.
std::optional<uint64_t> ParseSize(const std::string& text);

// True for a numeric IPv4 or IPv6 address (inet_pton).
bool IsIpAddress(const std::string& text);
// The first address of `host` from the resolver (IPv4 preferred), or nullopt.
std::optional<std::string> ResolveHost(const std::string& host);

// Value type of --ip; its validator makes a bad address a usage error.
struct IpAddressValue {
  std::string text;
};
void validate(boost::any& result, const std::vector<std::string>& values,
              IpAddressValue* /*tag*/, int /*tag*/);
// The value of --ip, or "" if not given.
std::string IpOption(const Invocation& invocation);

// The size in bytes of the block device or regular file at `path`. On error
// returns nullopt and sets *error to a one-line message.
std::optional<uint64_t> DeviceSize(const std::string& path, std::string* error);

// Common preconditions; nullopt when they hold, else the failure.
std::optional<Outcome> RequireResource(const ResourceTree& res);
std::optional<Outcome> RequireMember(const ResourceTree& res,
                                     const std::string& host);

// Formats a byte count for messages: "1 MiB" when exact, else "1000 bytes".
std::string HumanBytes(uint64_t bytes);

// Selects the resources named by invocation.args[0] (see resource_list.h)
// and runs `phases` over them. Reports selection errors itself.
ExitCode RunOnResources(const Invocation& invocation, Context& context,
                        ListPolicy policy, bool needs_module,
                        std::vector<Phase> phases);
// Runs `phases` once for the cluster as a whole (resource "").
ExitCode RunOnCluster(Context& context, bool needs_module,
                      std::vector<Phase> phases);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_COMMAND_SUPPORT_H_
