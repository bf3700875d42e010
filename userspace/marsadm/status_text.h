// Text rendering of the status model (status_model.h): the `view` line of a
// resource, its progress and message lines, and the tokens the view macros
// print. The JSON rendering (json_status.h) reads the same model.
#ifndef MARS_USERSPACE_MARSADM_STATUS_TEXT_H_
#define MARS_USERSPACE_MARSADM_STATUS_TEXT_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "status_model.h"

namespace mars::cli {

// "OutDated[FR]" style tokens: the state name plus, for OutDated, which of
// fetch (F) and replay (R) is behind.
std::string DiskStateToken(const HostStatus& host);
// "Connected", "Alone" or "Unreachable[hostB,hostC]".
std::string CommStateToken(const ResourceStatus& resource);
// The designated primary, or "(none)".
std::string PrimaryNodeToken(const ResourceStatus& resource);

// "<res> <diskstate> <replstate> <flags> <role> <primarynode> <commstate>"
// for the local host (no newline).
std::string ViewLine(const ResourceStatus& resource, const std::string& host);

// The view line, then progress lines (sync, fetch, replay) while something
// is not reached, a fetch line for each peer whose fetch progress is known
// while it is behind, a split-brain line, and the messages (errors and
// warnings; infos too when `verbose`).
void RenderView(const ResourceStatus& resource, const std::string& host,
                bool verbose, std::ostream& out);

// 1536 -> "1.50 KiB"; below 1024: "512 B".
std::string HumanBinary(uint64_t bytes);
// 3723 -> "01:02:03"; with days: "2d 01:02:03".
std::string HumanDuration(uint64_t seconds);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_STATUS_TEXT_H_
