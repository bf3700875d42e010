// Exporters of the built-in command groups, one per commands_<noun>.cc file.
// To add a group: create commands_<noun>.cc defining a static Command array
// and `CommandGroup <Noun>Commands()`, declare it here, list it in
// Registry::BuiltIn() (registry.cc) and add the file to marsadm_lib in
// CMakeLists.txt.
#ifndef MARS_USERSPACE_MARSADM_COMMAND_GROUPS_H_
#define MARS_USERSPACE_MARSADM_COMMAND_GROUPS_H_

#include "command.h"

namespace mars::cli {

CommandGroup HelpCommands();  // commands_help.cc
CommandGroup ClusterCommands();    // commands_cluster.cc
CommandGroup ResourceCommands();   // commands_resource.cc
CommandGroup OperationCommands();  // commands_operation.cc
CommandGroup SwitchCommands();     // commands_switch.cc
CommandGroup LogCommands();        // commands_log.cc
CommandGroup StatusCommands();     // commands_status.cc (view, status)
CommandGroup ViewMacroCommands();  // commands_status.cc (view-MACRO rows)
CommandGroup DumpLogCommands();    // commands_dump_log.cc

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_COMMAND_GROUPS_H_
