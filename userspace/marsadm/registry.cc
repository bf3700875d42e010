#include "registry.h"

#include <cstring>
#include <stdexcept>
#include <utility>

#include "command_groups.h"

namespace mars::cli {
namespace {

bool IsValidName(const char* name) {
  if (name == nullptr || name[0] < 'a' || name[0] > 'z') return false;
  for (const char* p = name; *p != '\0'; ++p) {
    const char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

void Check(bool ok, const char* name, const char* what) {
  if (!ok) {
    throw std::logic_error(std::string("command table: '") +
                           (name != nullptr ? name : "(null)") + "': " + what);
  }
}

}  // namespace

Registry::Registry(std::vector<CommandGroup> groups)
    : groups_(std::move(groups)) {
  for (const CommandGroup& group : groups_) {
    Check(group.title != nullptr && group.title[0] != '\0', "(group)",
          "group without title");
    for (std::size_t i = 0; i < group.size; ++i) {
      const Command& command = group.commands[i];
      Check(IsValidName(command.name), command.name,
            "name must match [a-z][a-z0-9-]*");
      Check(command.summary != nullptr && command.summary[0] != '\0' &&
                std::strchr(command.summary, '\n') == nullptr,
            command.name, "summary must be one non-empty line");
      Check(command.usage_args != nullptr, command.name, "usage_args is null");
      Check(command.description != nullptr, command.name,
            "description is null");
      Check(command.run != nullptr, command.name, "run is null");
      Check(command.min_args >= 0 && (command.max_args == kUnlimitedArgs ||
                                      command.max_args >= command.min_args),
            command.name, "inconsistent min_args/max_args");
      Check(by_name_.emplace(command.name, &command).second, command.name,
            "duplicate command name");
    }
  }
}

const Command* Registry::Find(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const Registry& Registry::BuiltIn() {
  // Display order of `marsadm --help`.
  static const Registry* const kBuiltIn = new Registry({
      HelpCommands(),
      ClusterCommands(),
      ResourceCommands(),
      OperationCommands(),
      SwitchCommands(),
      LogCommands(),
      StatusCommands(),
      ViewMacroCommands(),
      DumpLogCommands(),
  });
  return *kBuiltIn;
}

}  // namespace mars::cli
