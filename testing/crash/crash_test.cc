// Crash-consistency of the write path (docu/crash-consistency.md): each
// standard workload is recorded once, then MARS_CRASH_STATES crash states
// in total (default MARS_CRASH_DEFAULT_STATES, split evenly) are
// materialised, recovered with the engine's real recovery and checked;
// every state must pass.
#include <stdio.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "core/platform_io.h"
#include "crash_checker.h"
#include "crash_run.h"
#include "crash_workload.h"
#include "gtest/gtest.h"
#include "platform_user.h"
#include "recording_file.h"

namespace mars {
namespace crash {
namespace {

#ifndef MARS_CRASH_DEFAULT_STATES
#define MARS_CRASH_DEFAULT_STATES 10400
#endif
// Crash states in total over the workloads unless MARS_CRASH_STATES says.
constexpr uint64_t kDefaultStates = MARS_CRASH_DEFAULT_STATES;

std::string Lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

class CrashConsistency : public ::testing::TestWithParam<const char*> {};

TEST_P(CrashConsistency, EveryCrashStateRecovers) {
  const WorkloadSpec* spec = FindWorkload(GetParam());
  ASSERT_NE(spec, nullptr);
  const uint64_t workloads = StandardWorkloads().size();
  const uint64_t total = EnvNumber("MARS_CRASH_STATES", kDefaultStates);
  RunOptions options;
  options.states = (total + workloads - 1) / workloads;
  options.seed = EnvNumber("MARS_CRASH_SEED", 1);
  options.stop_after_violations = 20;
  RunResult result;
  std::string error;
  platform::test::ResetCountersForTest();
  ASSERT_TRUE(RunCrashCheck(*spec, options, &result, &error)) << error;
  if (spec->sequential_percent > 0) {
    // The streams did share records, so their crash states were checked.
    EXPECT_GT(platform::GetCounter(platform::Counter::kWritesMerged), 50u);
  }
  printf("%s\n", Summary(*spec, result).c_str());
  EXPECT_TRUE(result.violations.empty())
      << Lines(result.violations) << "reproduce: " << result.reproduce;
  EXPECT_EQ(result.stats.states, options.states);
  // Enough states exercised what they are meant to: torn and lost writes,
  // and crashes during recovery.
  EXPECT_GT(result.stats.recovery_states, options.states / 2);
  if (options.states >= 1000) {
    EXPECT_GT(result.stats.writes_torn, 0u);
    EXPECT_GT(result.stats.writes_lost, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Workloads, CrashConsistency,
                         ::testing::Values("random", "overwrite", "rotation",
                                           "writeback", "sequential"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           return std::string(p.param);
                         });

// Checks one state of a saved recording again (the command a failure
// prints): MARS_CRASH_RECORDING=FILE MARS_CRASH_STATE=N.
TEST(CrashReplay, SavedState) {
  const char* file = getenv("MARS_CRASH_RECORDING");
  if (file == nullptr) {
    GTEST_SKIP() << "set MARS_CRASH_RECORDING=FILE and MARS_CRASH_STATE=N";
  }
  RecordingHeader header;
  platform::test::Recording recording;
  std::string error;
  ASSERT_TRUE(LoadRecording(file, &header, &recording, &error)) << error;
  CheckConfig config;
  config.label = header.workload;
  config.device_bytes = header.device_bytes;
  config.seed = header.seed;
  config.work_dir = MakeWorkDir();
  config.keep_failed_states = 2;
  ASSERT_FALSE(config.work_dir.empty());
  const uint64_t index = EnvNumber("MARS_CRASH_STATE", 0);
  std::vector<std::string> violations;
  {
    Checker checker(recording, config);
    violations = checker.Check(index);
    printf("%s\n",
           Describe(checker.states().State(index), recording.events.size())
               .c_str());
  }
  if (violations.empty()) RemoveTree(config.work_dir);
  EXPECT_TRUE(violations.empty())
      << Lines(violations) << "kept in " << config.work_dir;
}

}  // namespace
}  // namespace crash
}  // namespace mars
