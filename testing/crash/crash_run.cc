// Recording a workload and checking its crash states (crash_run.h).
#include "crash_run.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "recording_file.h"

namespace mars {
namespace crash {

namespace {

constexpr size_t kMaxViolationLines = 40;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

double PerState(double seconds, uint64_t states) {
  return states != 0 ? 1000.0 * seconds / static_cast<double>(states) : 0.0;
}

std::string SelfPath() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return "crash_test";
  return std::string(path, static_cast<size_t>(n));
}

}  // namespace

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* text = getenv(name);
  if (text == nullptr || text[0] == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long value = strtoull(text, &end, 0);
  return *end == '\0' ? value : fallback;
}

std::string MakeWorkDir() {
  std::string base;
  if (getenv("MARS_CRASH_DIR") != nullptr) {
    base = getenv("MARS_CRASH_DIR");
  } else if (access("/dev/shm", W_OK) == 0) {
    base = "/dev/shm";
  } else {
    base = getenv("TMPDIR") != nullptr ? getenv("TMPDIR") : "/tmp";
  }
  std::string pattern = base + "/mars-crash.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

bool RunCrashCheck(const WorkloadSpec& spec, const RunOptions& options,
                   RunResult* result, std::string* error) {
  *result = RunResult();
  const std::string work = MakeWorkDir();
  if (work.empty()) {
    *error = "cannot make a scratch directory";
    return false;
  }
  const auto record_start = std::chrono::steady_clock::now();
  std::unique_ptr<platform::test::Recording> recording;
  if (!RecordWorkload(spec, work + "/workload", &recording, error)) {
    RemoveTree(work);
    return false;
  }
  result->record_seconds = SecondsSince(record_start);

  CheckConfig config;
  config.label = spec.name;
  config.device_bytes = spec.device_bytes;
  config.seed = options.seed;
  config.work_dir = work + "/check";
  config.idempotence_every = options.idempotence_every;
  config.keep_failed_states = options.keep_failures ? 3 : 0;
  Checker checker(*recording, config);
  result->events = recording->events.size();
  result->boundary_cuts = checker.states().boundary_cuts();
  // Half of the budget (at most all of them) for boundary states, the rest
  // for random ones.
  const uint64_t boundary = std::min<uint64_t>(
      checker.states().boundary_states(), (options.states + 1) / 2);
  uint64_t first_failed = UINT64_MAX;
  for (uint64_t i = 0; i < options.states; ++i) {
    const uint64_t index =
        i < boundary ? i : checker.states().boundary_states() + (i - boundary);
    if (i < boundary) result->boundary_states_checked++;
    std::vector<std::string> found = checker.Check(index);
    if (found.empty()) continue;
    if (first_failed == UINT64_MAX) first_failed = index;
    for (std::string& line : found) {
      if (result->violations.size() < kMaxViolationLines) {
        result->violations.push_back(std::move(line));
      }
    }
    if (options.stop_after_violations != 0 &&
        checker.stats().violations >= options.stop_after_violations) {
      break;
    }
  }
  result->stats = checker.stats();
  if (first_failed == UINT64_MAX || !options.keep_failures) {
    RemoveTree(work);
    return true;
  }
  RecordingHeader header;
  header.workload = spec.name;
  header.seed = options.seed;
  header.device_bytes = spec.device_bytes;
  const std::string saved = work + "/" + spec.name + ".rec";
  std::string save_error;
  if (SaveRecording(saved, header, *recording, &save_error)) {
    result->saved_recording = saved;
    result->reproduce = "MARS_CRASH_RECORDING=" + saved +
                        " MARS_CRASH_STATE=" + std::to_string(first_failed) +
                        " " + SelfPath() + " --gtest_filter='CrashReplay.*'";
  } else {
    result->reproduce = "(recording not saved: " + save_error + ")";
  }
  return true;
}

std::string Summary(const WorkloadSpec& spec, const RunResult& result) {
  const CheckStats& s = result.stats;
  char text[640];
  snprintf(text, sizeof(text),
           "%s: %zu events, %zu boundary cuts; %llu crash states (%llu at "
           "boundaries, %llu random) + %llu crashes during recovery; %llu "
           "states with violations; %llu writes torn, %llu lost; recorded in "
           "%.2f s, checked in %.2f s (%.2f ms per state: materialise %.2f, "
           "recover %.2f, compare %.2f)",
           spec.name.c_str(), result.events, result.boundary_cuts,
           static_cast<unsigned long long>(s.states),
           static_cast<unsigned long long>(result.boundary_states_checked),
           static_cast<unsigned long long>(s.states -
                                           result.boundary_states_checked),
           static_cast<unsigned long long>(s.recovery_states),
           static_cast<unsigned long long>(s.violations),
           static_cast<unsigned long long>(s.writes_torn),
           static_cast<unsigned long long>(s.writes_lost),
           result.record_seconds, s.seconds, PerState(s.seconds, s.states),
           PerState(s.materialize_seconds, s.states),
           PerState(s.recover_seconds, s.states),
           PerState(s.compare_seconds, s.states));
  return text;
}

}  // namespace crash
}  // namespace mars
