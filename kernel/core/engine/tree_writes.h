// The links the write path and the replayer write for their resource:
// replay-HOST (docu/mars-tree.md §3.7) and version-N-HOST (§4), each as one
// atomic link write stamped by the module's Lamport clock.
#ifndef MARS_CORE_ENGINE_TREE_WRITES_H_
#define MARS_CORE_ENGINE_TREE_WRITES_H_

#include <stdint.h>

#include "core/base/status.h"
#include "core/engine/log_position.h"
#include "core/lamport_clock.h"
#include "core/tree/log_names.h"
#include "core/tree/version_link.h"

namespace mars {
namespace engine {

class Resource;

// replay-HOST -> "log-N-HOST,OFFSET,0" for `position` (every record ending
// at or before it is on the data device). Context: may sleep.
Status WriteReplayLink(const Resource& resource, LogPosition position,
                       LamportClock* clock);

// version-N-HOST for this host's finished logfile N of `length` bytes,
// chained to version-(N-1)-HOST when that link exists and verifies (else a
// new chain starts, with a warning in the kernel log). Context: may sleep.
Status WriteVersionLink(const Resource& resource, uint64_t number,
                        uint64_t length, LamportClock* clock);

// The links of one host in one resource directory, by tree root (the /mars
// directory), resource name and host name (all NUL-terminated).
struct LinkOwner {
  const char* root = nullptr;
  const char* name = nullptr;
  const char* host = nullptr;
};

// Reads and parses resource-NAME/replay-HOST (its stamp is observed by
// `clock`). kNotFound when absent or deleted; the parser's errors.
// Context: may sleep.
Status ReadReplayLink(const LinkOwner& owner, LamportClock* clock,
                      tree::ReplayLink* link);

// replay-HOST -> "log-N-ORIGIN,POSITION,0" for the logfile `log` of any
// origin: every record of it ending at or before `position` is on HOST's
// data device. Written only when the value changes (WriteValueIfChanged).
// Context: may sleep.
Status WriteReplayLinkFor(const LinkOwner& owner, const tree::LogfileName& log,
                          uint64_t position, LamportClock* clock);

// version-N-HOST -> the value of `link` (N = link.log.number; the caller
// made or verified it). Written only when the value changes.
// Context: may sleep.
Status WriteVersionLinkValue(const LinkOwner& owner,
                             const tree::VersionLink& link,
                             LamportClock* clock);

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_TREE_WRITES_H_
