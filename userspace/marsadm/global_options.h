// The global options (--root, --host, ...): their description, value
// validation and defaults. They are accepted before and after the command
// name.
#ifndef MARS_USERSPACE_MARSADM_GLOBAL_OPTIONS_H_
#define MARS_USERSPACE_MARSADM_GLOBAL_OPTIONS_H_

#include <boost/any.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <optional>
#include <string>
#include <vector>

#include "command.h"

namespace mars::cli {

// Names of the options that the dispatcher handles itself.
inline constexpr char kHelpOption[] = "help";
inline constexpr char kVersionOption[] = "version";

// Default of --root when MARS_ROOT is unset or empty.
inline constexpr char kDefaultRoot[] = "/mars";

// Value type of --timeout: a non-negative decimal number of seconds that fits
// in an int, or the word "forever" (Context::kWaitForever).
struct TimeoutValue {
  int seconds;
};

// Value type of options that must not be empty (--root, --host).
struct NonEmptyString {
  std::string value;
};

// Boost.Program_options validators, found by argument-dependent lookup. They
// throw boost::program_options errors for bad input (a usage error).
void validate(boost::any& result, const std::vector<std::string>& values,
              TimeoutValue* /*tag*/, int /*tag*/);
void validate(boost::any& result, const std::vector<std::string>& values,
              NonEmptyString* /*tag*/, int /*tag*/);

// The global options, including --help and --version, as shown by --help.
boost::program_options::options_description GlobalOptionsDescription();

// $MARS_ROOT if set and non-empty, else kDefaultRoot.
std::string DefaultRoot();

// The node name as reported by `uname -n`; nullopt if it cannot be
// determined or is empty.
std::optional<std::string> DefaultHost();

// Sets the global fields of `context` from `options` (parsed with
// GlobalOptionsDescription()), applying the defaults for absent options.
// Returns false, leaving context.host empty, only if --host is absent and
// DefaultHost() fails.
bool ApplyGlobalOptions(const boost::program_options::variables_map& options,
                        Context& context);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_GLOBAL_OPTIONS_H_
