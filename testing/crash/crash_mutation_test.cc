// The checker checks itself: this test is linked against the engine built
// with one deliberate fault (-DMARS_MUTATION=N, the `#if MARS_MUTATION`
// points in kernel/core) and passes only when the crash checker reports at
// least one violation for it (docu/crash-consistency.md, "Mutations").
#include <stdio.h>

#include <string>
#include <vector>

#include "crash_run.h"
#include "crash_workload.h"
#include "gtest/gtest.h"

#if !defined(MARS_MUTATION) || MARS_MUTATION < 1 || MARS_MUTATION > 3
#error "crash_mutation_test is built with -DMARS_MUTATION=1, 2 or 3"
#endif

namespace mars {
namespace crash {
namespace {

// The fault, and the workload meant to expose it first.
#if MARS_MUTATION == 1
constexpr char kFault[] =
    "FUA writes and flushes are acknowledged before their log record is "
    "durable";
const std::vector<std::string> kOrder = {"random", "overwrite", "rotation",
                                         "writeback"};
#elif MARS_MUTATION == 2
constexpr char kFault[] =
    "writeback advances the replay position without flushing the data "
    "device";
const std::vector<std::string> kOrder = {"writeback", "random", "overwrite",
                                         "rotation"};
#else
constexpr char kFault[] = "recovery replays a record whose checksum failed";
const std::vector<std::string> kOrder = {"random", "overwrite", "rotation",
                                         "writeback"};
#endif

TEST(CrashMutation, CheckerReportsAViolation) {
  RunOptions options;
  options.states = EnvNumber("MARS_CRASH_MUTATION_STATES", 4000);
  options.seed = EnvNumber("MARS_CRASH_SEED", 1);
  options.stop_after_violations = 1;
  options.keep_failures = false;
  std::string caught;
  for (const std::string& name : kOrder) {
    const WorkloadSpec* spec = FindWorkload(name);
    ASSERT_NE(spec, nullptr);
    RunResult result;
    std::string error;
    ASSERT_TRUE(RunCrashCheck(*spec, options, &result, &error)) << error;
    printf("mutation %d (%s): %s\n", MARS_MUTATION, kFault,
           Summary(*spec, result).c_str());
    if (!result.violations.empty()) {
      caught = result.violations.front();
      break;
    }
  }
  EXPECT_FALSE(caught.empty())
      << "mutation " << MARS_MUTATION << " (" << kFault
      << ") was not caught: the checker or its workloads are too weak";
  printf("mutation %d caught: %s\n", MARS_MUTATION, caught.c_str());
}

}  // namespace
}  // namespace crash
}  // namespace mars
