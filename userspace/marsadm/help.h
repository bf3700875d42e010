// Rendering of help and version text, all derived from the command table and
// GlobalOptionsDescription() so that help cannot drift from dispatch.
#ifndef MARS_USERSPACE_MARSADM_HELP_H_
#define MARS_USERSPACE_MARSADM_HELP_H_

#include <ostream>

#include "command.h"
#include "registry.h"

namespace mars::cli {

// The version string compiled in from MARS_VERSION, e.g. "0.1.0".
const char* Version();

// Writes "marsadm VERSION\n".
void PrintVersion(std::ostream& out);

// Writes the global usage: synopsis, global options, every command of
// `registry` with its summary (grouped by CommandGroup), and the exit codes.
void PrintGlobalHelp(const Registry& registry, std::ostream& out);

// Writes the usage line, summary, description and own options of `command`.
void PrintCommandHelp(const Command& command, std::ostream& out);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_HELP_H_
