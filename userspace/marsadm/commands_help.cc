// The `help` command.
#include <string>

#include "command.h"
#include "command_groups.h"
#include "help.h"
#include "registry.h"
#include "report.h"

namespace mars::cli {
namespace {

ExitCode RunHelp(const Invocation& invocation, Context& context) {
  if (invocation.args.empty()) {
    PrintGlobalHelp(invocation.registry, context.out);
    return ExitCode::kOk;
  }
  const std::string& name = invocation.args[0];
  const Command* const command = invocation.registry.Find(name);
  if (command == nullptr) {
    return ReportUsageError(context.err, "unknown command '" + name + "'",
                            nullptr);
  }
  PrintCommandHelp(*command, context.out);
  return ExitCode::kOk;
}

const Command kHelpCommands[] = {
    {
        /*name=*/"help",
        /*summary=*/"Show the global help, or the help of one command",
        /*usage_args=*/"[COMMAND]",
        /*min_args=*/0,
        /*max_args=*/1,
        /*description=*/
        "Without COMMAND, print the same text as 'marsadm --help': global\n"
        "options, all commands and the exit codes. With COMMAND, print its\n"
        "usage, description and options; 'marsadm COMMAND --help' does the\n"
        "same. An unknown COMMAND is a usage error (exit 2).",
        /*add_options=*/nullptr,
        /*run=*/RunHelp,
    },
};

}  // namespace

CommandGroup HelpCommands() {
  return MakeCommandGroup("Getting help", kHelpCommands);
}

}  // namespace mars::cli
