// Entry point of marsadm: parses the command line, dispatches to the command
// table and maps every failure to an exit code (exit_codes.h).
#ifndef MARS_USERSPACE_MARSADM_CLI_H_
#define MARS_USERSPACE_MARSADM_CLI_H_

#include <ostream>
#include <string>
#include <vector>

#include "registry.h"

namespace mars::cli {

// Runs marsadm on argv[1..argc) (argv[0] is ignored) with the built-in
// command table. Never throws. Returns the process exit code (ExitCode).
//
// Contract: usage errors (unknown command or option, missing or bad value,
// wrong argument count) return 2 and write exactly one line to `err`:
// "marsadm: <what>; see 'marsadm --help'", or "...; see 'marsadm help CMD'"
// when the error concerns CMD's own options or arguments. Option parsing
// follows Boost.Program_options without abbreviations; each option may be
// given once. Any escaping exception returns 5 and writes one line
// "marsadm: internal error: <what>". Nothing is written to `out` on errors
// detected before the handler runs.
int Run(int argc, const char* const argv[], std::ostream& out,
        std::ostream& err);

// As Run, with an explicit command table and the arguments after the program
// name. For tests and for callers that build their own table.
int RunWithRegistry(const Registry& registry,
                    const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_CLI_H_
