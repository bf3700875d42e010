// The primitive view macros (`marsadm view-MACRO RES`): each prints exactly
// one value line computed from the status model of RES as the local host
// sees it. The command table gets one `view-NAME` row per entry of
// ViewMacros(), so help and dispatch come from this one table.
#ifndef MARS_USERSPACE_MARSADM_VIEW_MACROS_H_
#define MARS_USERSPACE_MARSADM_VIEW_MACROS_H_

#include <string>
#include <vector>

#include "status_model.h"

namespace mars::cli {

struct ViewMacro {
  const char* name;     // "role": the command is "view-role"
  const char* summary;  // one line, no trailing period
  // The value (no newline) for the local host `host` of `resource`.
  std::string (*value)(const ResourceStatus& resource, const std::string& host);
};

// Every macro, in the order `marsadm --help` lists them.
const std::vector<ViewMacro>& ViewMacros();

// The macro called `name` (without "view-"), or nullptr.
const ViewMacro* FindViewMacro(const std::string& name);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_VIEW_MACROS_H_
