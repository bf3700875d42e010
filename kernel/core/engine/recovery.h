// Crash recovery of the primary write path (docu/write-path.md
// "Recovery"): replays this host's logfiles from the position in
// replay-HOST up to the last valid record onto the data device, so that the
// data device holds every write that was acknowledged as durable. Replay is
// idempotent: running it again (after a crash during recovery) gives the
// same data.
#ifndef MARS_CORE_ENGINE_RECOVERY_H_
#define MARS_CORE_ENGINE_RECOVERY_H_

#include <stdint.h>

#include "core/base/status.h"
#include "core/engine/resource_hooks.h"
#include "core/lamport_clock.h"
#include "core/platform_io.h"

namespace mars {
namespace engine {

class Resource;

struct RecoveryResult {
  // The newest logfile of the log (the replay link's, or a later one that
  // exists) and the end of its valid records. The file is truncated to
  // that end when a torn tail or stale bytes followed it.
  uint64_t last_logfile = 0;
  uint64_t last_end = 0;
  uint64_t records_applied = 0;
  uint64_t bytes_applied = 0;
};

// Reads replay-HOST, applies every record after its position in logfile N,
// then every record of N+1, N+2, ... while they exist, and flushes `data`.
// A corrupt or unsupported record stops recovery with kCorruption (nothing
// after it is applied; the data device holds everything before it) and
// *why names the logfile, offset and defect. REQUIRES `data` open, no
// other user of the logfiles. Context: may sleep.
Status RecoverFromLog(const Resource& resource, platform::BlockDevice* data,
                      uint64_t device_size, LamportClock* clock,
                      RecoveryResult* result, ErrorText* why);

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_RECOVERY_H_
