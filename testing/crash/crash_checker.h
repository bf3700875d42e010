// The crash-consistency checker (docu/crash-consistency.md): for a state of
// a workload's recording, writes the disks out as files, runs the engine's
// real recovery (Resource attach through kResourceHooks) on them and checks
// the data device against what the exported device acknowledged:
//
// - a write acknowledged as durable (a FUA write, or any write acknowledged
//   before a flush request was submitted that was acknowledged before the
//   crash; a write with PREFLUSH counts as such a flush) reads back exactly,
//   unless a later write to the same block replaced it;
// - every other block holds one of the versions written to it or its
//   initial content, never anything else;
// - attach succeeds: a torn never-synced tail is never taken for corruption,
//   even when a later unsynced record survived the crash;
// - recovery is idempotent: recovery is recorded too, a crash during it at a
//   random point of its own recorded writes is materialised, recovered
//   again, and checked in the same way.
#ifndef MARS_TESTING_CRASH_CRASH_CHECKER_H_
#define MARS_TESTING_CRASH_CRASH_CHECKER_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crash_state.h"

namespace mars {
namespace crash {

struct CheckConfig {
  std::string label;  // names the workload in messages
  std::string resource = "r0";
  std::string host = "h1";
  uint64_t device_bytes = 0;  // the resource size
  uint64_t seed = 1;          // of the state enumeration
  std::string work_dir;       // scratch space (created if missing)
  // Crash recovery itself in every n-th state (1: all, 0: never).
  uint64_t idempotence_every = 1;
  // The data device is checked in the state writer's mirror of it (what was
  // written plus the recorded writes of recovery); every n-th state it is
  // read from the file instead, which must equal the mirror (1: always).
  uint64_t read_device_every = 8;
  // Failed states kept (as they were before recovery) as
  // <work_dir>/failed-<label>-<index>[-recovery].
  int keep_failed_states = 3;
};

struct CheckStats {
  uint64_t states = 0;           // workload states checked
  uint64_t recovery_states = 0;  // crashes during recovery checked
  uint64_t attached = 0;         // attaches that succeeded (both kinds)
  uint64_t violations = 0;  // states with at least one violation
  uint64_t writes_torn = 0;
  uint64_t writes_lost = 0;
  double seconds = 0;  // all of Check(), of which:
  double materialize_seconds = 0;
  double recover_seconds = 0;  // attach and detach, recording included
  double compare_seconds = 0;
};

class Checker {
 public:
  // `workload` must outlive the checker; exactly one backing device.
  Checker(const Recording& workload, CheckConfig config);
  ~Checker();
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  // Checks state `index` of states(). Returns one line per violation, each
  // naming the label, the state and, for data, the block.
  std::vector<std::string> Check(uint64_t index);

  const StateEnumeration& states() const { return states_; }
  const CheckStats& stats() const { return stats_; }

 private:
  struct FrontWrite;
  struct Expectation;
  struct Recovery;

  void BuildExpectation(size_t cut, Expectation* expect) const;
  // Attaches and detaches the resource on the writer's directory, recorded;
  // the writer absorbs the recording, which becomes complete.
  Recovery Recover(StateWriter* writer) const;
  // Appends the violations of the recovered data device of `writer`'s
  // directory (and a harness error when the writer's mirror of it is off).
  void CheckData(const Expectation& expect, const StateWriter& writer,
                 bool read_file, const std::string& what,
                 std::vector<std::string>* out);
  void CheckAttach(const Recovery& recovery, const StateFacts& facts,
                   const std::string& dir, const std::string& what,
                   std::vector<std::string>* out);
  // Writes `state` of `recording` once more as <work_dir>/<name>.
  void KeepFailed(const Recording& recording, const CrashState& state,
                  const std::string& name);

  const Recording& workload_;
  CheckConfig config_;
  StateEnumeration states_;
  StateWriter state_writer_;           // <work_dir>/state
  StateWriter recovery_writer_;        // <work_dir>/recovery-state
  std::vector<FrontWrite> writes_;     // in submission order
  std::vector<size_t> flush_submits_;  // durability requests: submit index
  std::vector<size_t> flush_completes_;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> block_versions_;
  CheckStats stats_;
  int kept_ = 0;
  std::vector<uint8_t> device_buffer_;  // CheckData's, kept between states
};

}  // namespace crash
}  // namespace mars

#endif  // MARS_TESTING_CRASH_CRASH_CHECKER_H_
