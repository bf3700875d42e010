// The contract between the marsadm dispatcher (cli.cc) and command handlers.
//
// A command is one row of a static table (struct Command). Each
// commands_<noun>.cc file defines the rows for one noun (resources, hosts,
// ...) and exports them as a CommandGroup; registry.cc concatenates all
// groups. Help output and dispatch both read this table, so they cannot
// drift apart.
#ifndef MARS_USERSPACE_MARSADM_COMMAND_H_
#define MARS_USERSPACE_MARSADM_COMMAND_H_

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "exit_codes.h"

namespace mars::cli {

class Registry;

// Settings shared by all commands, filled from the global options before the
// handler runs. Handlers write normal output to `out` and diagnostics to
// `err`; every diagnostic is one line starting with "marsadm: " (report.h).
struct Context {
  // timeout_seconds value meaning "wait without limit" (--timeout forever).
  static constexpr int kWaitForever = -1;
  // Default of --timeout.
  static constexpr int kDefaultTimeoutSeconds = 60;

  Context(std::ostream& out_stream, std::ostream& err_stream)
      : out(out_stream), err(err_stream) {}

  std::string root;      // Non-empty: MARS state directory (--root).
  std::string host;      // Non-empty: the name of this node (--host).
  bool dry_run = false;  // Report what would be done; change nothing.
  bool force = false;    // Override refusals that would exit with 1.
  // Upper bound for waiting; >= 0 seconds (0: check once, do not wait), or
  // kWaitForever.
  int timeout_seconds = kDefaultTimeoutSeconds;
  bool verbose = false;  // Print more detail.
  std::ostream& out;
  std::ostream& err;
};

struct Command;

// One parsed command line, handed to Command::run. The positional arguments
// already satisfy the command's min_args/max_args bounds and all options
// passed validation, so handlers only check semantic preconditions.
struct Invocation {
  const Command& command;
  // The table the command came from (lets `help` list the same commands that
  // dispatch knows).
  const Registry& registry;
  // Positional arguments after the command name, in order.
  std::vector<std::string> args;
  // Global and command-specific options. Global ones are also in Context;
  // handlers should read those from there.
  boost::program_options::variables_map options;
};

// Value of Command::max_args for "no upper bound".
inline constexpr int kUnlimitedArgs = -1;

// One row of the command table. All strings are static and non-null.
struct Command {
  // What the user types: lower case letters, digits and '-', unique.
  const char* name;
  // One line without trailing period, shown by `marsadm --help`.
  const char* summary;
  // Positional arguments for usage lines, e.g. "RESOURCE [HOST]"; "" if none.
  const char* usage_args;
  // Bounds on the number of positional arguments, checked before `run` is
  // called (exit 2 when violated). max_args may be kUnlimitedArgs.
  int min_args;
  int max_args;
  // Longer help for `marsadm help NAME`: lines of at most 78 columns,
  // separated by '\n', no trailing newline; "" if the summary says it all.
  const char* description;
  // Adds the command's own options; nullptr if it has none. Option values
  // that can be wrong must be validated here (typed values / validate
  // overloads) so that bad input is a usage error (exit 2).
  void (*add_options)(boost::program_options::options_description& options);
  // Executes the command. Returns the exit code; may throw only for internal
  // errors (mapped to ExitCode::kInternalError).
  ExitCode (*run)(const Invocation& invocation, Context& context);
};

// The commands of one commands_<noun>.cc file, in the order `--help` lists
// them under `title`.
struct CommandGroup {
  const char* title;  // Heading in `marsadm --help`, e.g. "Resources".
  const Command* commands;
  std::size_t size;
};

// Builds a CommandGroup from a static array of commands.
template <std::size_t N>
constexpr CommandGroup MakeCommandGroup(const char* title,
                                        const Command (&commands)[N]) {
  return CommandGroup{title, commands, N};
}

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_COMMAND_H_
