// Running the crash checker over a recorded workload: shared by crash_test
// and the mutation tests (docu/crash-consistency.md).
#ifndef MARS_TESTING_CRASH_CRASH_RUN_H_
#define MARS_TESTING_CRASH_CRASH_RUN_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "crash_checker.h"
#include "crash_workload.h"

namespace mars {
namespace crash {

// A number from the environment variable `name`, or `fallback`.
uint64_t EnvNumber(const char* name, uint64_t fallback);

// A fresh scratch directory: under $MARS_CRASH_DIR, else /dev/shm (tmpfs:
// states cost no disk I/O), else $TMPDIR or /tmp.
std::string MakeWorkDir();

struct RunOptions {
  uint64_t states = 1000;  // crash states to check
  uint64_t seed = 1;       // of the state enumeration
  // Stop after this many states with violations (0: never).
  uint64_t stop_after_violations = 0;
  // Idempotence check in every n-th state (crash_checker.h).
  uint64_t idempotence_every = 1;
  // Keep the scratch directory (failed states, the saved recording) when a
  // violation was found.
  bool keep_failures = true;
};

struct RunResult {
  CheckStats stats;
  size_t events = 0;
  size_t boundary_cuts = 0;
  uint64_t boundary_states_checked = 0;
  double record_seconds = 0;
  std::vector<std::string> violations;
  // Set when there were violations: where the recording was saved, and the
  // command that checks the first failed state again.
  std::string saved_recording;
  std::string reproduce;
};

// Records `spec` in a fresh scratch directory, then checks options.states
// of its crash states: half of them (at most all) boundary states, the rest
// random ones (crash_state.h). The scratch directory is removed unless a
// violation was found and options.keep_failures. False with *error when the
// workload itself failed.
bool RunCrashCheck(const WorkloadSpec& spec, const RunOptions& options,
                   RunResult* result, std::string* error);

// One line of numbers for the test log.
std::string Summary(const WorkloadSpec& spec, const RunResult& result);

}  // namespace crash
}  // namespace mars

#endif  // MARS_TESTING_CRASH_CRASH_RUN_H_
