#include "help.h"

#include <algorithm>
#include <cstddef>
#include <string>

#include "exit_codes.h"
#include "global_options.h"

#ifndef MARS_VERSION
#error "MARS_VERSION must be defined by the build (a string, e.g. \"0.1.0\")"
#endif

namespace mars::cli {
namespace {

// Commands whose "name usage_args" is wider than this get their summary on
// the next line.
constexpr std::size_t kMaxCommandColumn = 30;

std::string Synopsis(const Command& command) {
  std::string synopsis = command.name;
  if (command.usage_args[0] != '\0') {
    synopsis += ' ';
    synopsis += command.usage_args;
  }
  return synopsis;
}

}  // namespace

const char* Version() { return MARS_VERSION; }

void PrintVersion(std::ostream& out) { out << "marsadm " << Version() << '\n'; }

void PrintGlobalHelp(const Registry& registry, std::ostream& out) {
  std::size_t column = 0;
  for (const CommandGroup& group : registry.groups()) {
    for (std::size_t i = 0; i < group.size; ++i) {
      column = std::max(column, Synopsis(group.commands[i]).size());
    }
  }
  column = std::min(column, kMaxCommandColumn) + 2;

  out << "Usage: marsadm [GLOBAL OPTIONS] COMMAND [ARGS...] [OPTIONS]\n"
         "       marsadm help [COMMAND]\n"
         "       marsadm --version\n"
         "\n"
         "Administer MARS asynchronous block-level replication on this "
         "node.\n"
         "\n"
      << GlobalOptionsDescription() << "\nCommands:\n";
  for (const CommandGroup& group : registry.groups()) {
    out << "  " << group.title << ":\n";
    for (std::size_t i = 0; i < group.size; ++i) {
      const Command& command = group.commands[i];
      const std::string synopsis = Synopsis(command);
      out << "    " << synopsis;
      if (synopsis.size() + 2 > column) {
        out << '\n' << std::string(4 + column, ' ');
      } else {
        out << std::string(column - synopsis.size(), ' ');
      }
      out << command.summary << '\n';
    }
  }
  out << "\nExit codes:\n";
  for (const ExitCodeInfo& info : kExitCodeTable) {
    out << "  " << static_cast<int>(info.code) << "  " << info.meaning << '\n';
  }
  out << "\nRun 'marsadm help COMMAND' for the arguments and options of one "
         "command.\n";
}

void PrintCommandHelp(const Command& command, std::ostream& out) {
  out << "Usage: marsadm [GLOBAL OPTIONS] " << Synopsis(command);
  if (command.add_options != nullptr) out << " [OPTIONS]";
  out << "\n\n" << command.summary << ".\n";
  if (command.description[0] != '\0') {
    out << '\n' << command.description << '\n';
  }
  if (command.add_options != nullptr) {
    boost::program_options::options_description options("Options");
    command.add_options(options);
    out << '\n' << options;
  }
  out << "\nGlobal options are described in 'marsadm --help'.\n";
}

}  // namespace mars::cli
