// The links the write path writes for its own resource: replay-HOST
// (docu/mars-tree.md §3.7) and version-N-HOST (§4), each as one atomic
// platform::WriteLink stamped by the module's Lamport clock.
#ifndef MARS_CORE_ENGINE_TREE_WRITES_H_
#define MARS_CORE_ENGINE_TREE_WRITES_H_

#include <stdint.h>

#include "core/base/status.h"
#include "core/engine/log_position.h"
#include "core/lamport_clock.h"

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

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_TREE_WRITES_H_
