// Lookup over the command table: the concatenation of CommandGroups.
#ifndef MARS_USERSPACE_MARSADM_REGISTRY_H_
#define MARS_USERSPACE_MARSADM_REGISTRY_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"

namespace mars::cli {

class Registry {
 public:
  // Takes the groups in display order. Throws std::logic_error if the table
  // is malformed: bad or duplicate name, missing summary/handler, a summary
  // spanning lines, or inconsistent argument bounds. The referenced Command
  // arrays must outlive the Registry.
  explicit Registry(std::vector<CommandGroup> groups);

  // The command called `name`, or nullptr.
  const Command* Find(std::string_view name) const;

  const std::vector<CommandGroup>& groups() const { return groups_; }

  // The table of all built-in commands (command_groups.h), built on first
  // use. Throws std::logic_error if that table is malformed.
  static const Registry& BuiltIn();

 private:
  std::vector<CommandGroup> groups_;
  std::map<std::string, const Command*, std::less<>> by_name_;
};

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_REGISTRY_H_
