// Workloads for the crash checker: the engine (Resource through
// kResourceHooks) serves an exported device on files in a scratch
// directory, a seeded request stream runs against it, and everything is
// recorded (platform_user.h: StartRecordingForTest) from the first attach
// on.
#ifndef MARS_TESTING_CRASH_CRASH_WORKLOAD_H_
#define MARS_TESTING_CRASH_CRASH_WORKLOAD_H_

#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "recording.h"

namespace mars {
namespace crash {

struct WorkloadSpec {
  std::string name;
  uint64_t seed = 1;
  uint64_t device_bytes = 1 << 20;
  int requests = 300;
  int max_request_blocks = 4;  // 1..256 blocks of 4096 per write
  uint64_t hot_blocks = 0;     // writes go to blocks [0, hot); 0: anywhere
  // In percent: a write starts where the previous one ended (a stream that
  // the engine merges into shared records), else anywhere.
  int sequential_percent = 0;
  // Per request, in percent: an empty flush; else a write with FUA and/or
  // PREFLUSH (independently).
  int flush_percent = 10;
  int fua_percent = 20;
  int preflush_percent = 5;
  // Up to this many writes in flight at once (to different blocks).
  int max_in_flight = 1;
  // Tunables (0: keep the default).
  uint64_t logrotate_bytes = 0;
  uint64_t buffer_limit_bytes = 0;
  uint64_t log_sync_interval_ms = 0;
  uint64_t replay_link_interval_ms = 1;
  // Every n requests marsadm log-rotate: the next logfile appears and the
  // engine is asked to switch (0: never).
  int rotate_every = 0;
  bool async_device = false;  // data-device requests complete in a thread
  // Stop being primary at the end (drain: write everything back).
  bool stop_at_end = false;
};

// The workloads of `make check`: random writes with FUA/flush mixes,
// overwrites of a few blocks, log rotation by size and on request,
// writeback under a small buffer limit, and sequential streams of writes
// that share records.
std::vector<WorkloadSpec> StandardWorkloads();
// nullptr when no standard workload has that name.
const WorkloadSpec* FindWorkload(const std::string& name);

// Lays out /mars and the data device under `dir` (created; emptied first),
// runs `spec` with recording on, and returns the recording. The resource is
// r0 on host h1 with its data device outside the recorded tree. False with
// *error when the engine or a request failed.
bool RecordWorkload(const WorkloadSpec& spec, const std::string& dir,
                    std::unique_ptr<platform::test::Recording>* recording,
                    std::string* error);

}  // namespace crash
}  // namespace mars

#endif  // MARS_TESTING_CRASH_CRASH_WORKLOAD_H_
