// core/platform_io.h implemented with POSIX, plus the test API of
// platform_user.h. This file: the clock, random bytes and the host name, the
// trigger, tunables and counters as process-wide state. The rest, one
// concept a file:
//
//   platform_file_user.cc      files (logfiles)
//   platform_tree_user.cc      links and directories of the /mars tree
//   platform_block_user.cc     I/O buffers and backing block devices
//   platform_front_user.cc     exported devices and their test client
//   platform_recorder_user.cc  the recorder of storage operations
//                              (StartRecordingForTest, recording.h)
//
// Process-wide registries are leaked heap objects, so that threads still
// running at exit never meet a destroyed mutex.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "core/platform.h"
#include "core/platform_io.h"
#include "platform_user.h"
#include "posix_user.h"

namespace mars {
namespace platform {

using internal::DeadlineAfter;
using internal::TimespecNs;

namespace {

// Like WaitQueue::WaitUntil in platform_user.cc: sleepers re-check
// Thread::ShouldStop() at least this often.
constexpr auto kStopPollInterval = std::chrono::milliseconds(10);

// ---------------------------------------------------------------------------
// Host name override.

struct HostNameOverride {
  std::mutex mutex;
  bool set = false;
  char name[64] = {};
};

HostNameOverride& HostNameState() {
  static HostNameOverride* state = new HostNameOverride;
  return *state;
}

}  // namespace

uint64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return TimespecNs(ts);
}

void RandomBytes(void* out, size_t size) {
  auto* p = static_cast<uint8_t*>(out);
  while (size > 0) {
    const ssize_t n = getrandom(p, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      ReportBug(__FILE__, __LINE__);  // getrandom cannot fail otherwise
      return;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

size_t HostName(char* out, size_t capacity) {
  char name[sizeof(utsname::nodename)];
  {
    HostNameOverride& state = HostNameState();
    std::lock_guard<std::mutex> lock(state.mutex);
    struct utsname uts;
    if (state.set) {
      snprintf(name, sizeof(name), "%s", state.name);
    } else if (uname(&uts) == 0) {
      snprintf(name, sizeof(name), "%s", uts.nodename);
    } else {
      return 0;
    }
  }
  const size_t length = strcspn(name, ".");
  if (length + 1 > capacity) return 0;
  memcpy(out, name, length);
  out[length] = '\0';
  return length;
}

// ---------------------------------------------------------------------------
// The trigger.

namespace {

struct TriggerWaiter {
  int level = 0;
};

struct TriggerState {
  std::mutex mutex;
  std::condition_variable cv;
  int pending = 0;  // written while nobody waited
  std::vector<TriggerWaiter*> waiters;
};

TriggerState& Trigger() {
  static TriggerState* state = new TriggerState;
  return *state;
}

}  // namespace

int WaitForTrigger(uint64_t timeout_ns) {
  const auto deadline = DeadlineAfter(timeout_ns);
  TriggerState& trigger = Trigger();
  std::unique_lock<std::mutex> lock(trigger.mutex);
  if (trigger.pending != 0) {
    const int level = trigger.pending;
    trigger.pending = 0;
    return level;
  }
  TriggerWaiter self;
  trigger.waiters.push_back(&self);
  while (self.level == 0 && !Thread::ShouldStop()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    trigger.cv.wait_until(lock, std::min(deadline, now + kStopPollInterval));
  }
  trigger.waiters.erase(
      std::find(trigger.waiters.begin(), trigger.waiters.end(), &self));
  return self.level;
}

// ---------------------------------------------------------------------------
// Tunables and counters.

namespace {

constexpr uint64_t kTunableDefaults[static_cast<int>(Tunable::kCount)] = {
    64ull << 20,  // kBufferLimitBytes
    1ull << 30,   // kLogRotateBytes
    100,          // kLogSyncIntervalMs
    1000,         // kReplayLinkIntervalMs
    5ull << 20,   // kPeerInflightBytes
};

std::atomic<uint64_t> g_tunables[static_cast<int>(Tunable::kCount)] = {
    {kTunableDefaults[0]},
    {kTunableDefaults[1]},
    {kTunableDefaults[2]},
    {kTunableDefaults[3]},
    {kTunableDefaults[4]},
};

std::atomic<uint64_t> g_counters[static_cast<int>(Counter::kCount)] = {};

bool ValidTunable(Tunable id) {
  return static_cast<int>(id) >= 0 && id < Tunable::kCount;
}

bool ValidCounter(Counter id) {
  return static_cast<int>(id) >= 0 && id < Counter::kCount;
}

}  // namespace

uint64_t GetTunable(Tunable id) {
  if (!MARS_CHECK(ValidTunable(id))) return 0;
  return g_tunables[static_cast<int>(id)].load();
}

uint64_t GetCounter(Counter id) {
  if (!MARS_CHECK(ValidCounter(id))) return 0;
  return g_counters[static_cast<int>(id)].load();
}

void AddCounter(Counter id, uint64_t delta) {
  if (!MARS_CHECK(ValidCounter(id))) return;
  g_counters[static_cast<int>(id)] += delta;
}

void SubtractCounter(Counter id, uint64_t delta) {
  if (!MARS_CHECK(ValidCounter(id))) return;
  g_counters[static_cast<int>(id)] -= delta;
}

void SetCounter(Counter id, uint64_t value) {
  if (!MARS_CHECK(ValidCounter(id))) return;
  g_counters[static_cast<int>(id)] = value;
}

// ---------------------------------------------------------------------------
// The rest of the test API.

namespace test {

void SetHostNameForTest(const char* name) {
  HostNameOverride& state = HostNameState();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.set = name != nullptr;
  if (name != nullptr) snprintf(state.name, sizeof(state.name), "%s", name);
}

void TriggerForTest(int level) {
  if (level != 1 && level != 2) return;
  TriggerState& trigger = Trigger();
  std::lock_guard<std::mutex> lock(trigger.mutex);
  if (trigger.waiters.empty()) {
    trigger.pending = std::max(trigger.pending, level);
  } else {
    for (TriggerWaiter* waiter : trigger.waiters) {
      waiter->level = std::max(waiter->level, level);
    }
  }
  trigger.cv.notify_all();
}

void SetTunableForTest(Tunable id, uint64_t value) {
  if (!MARS_CHECK(ValidTunable(id))) return;
  g_tunables[static_cast<int>(id)] = value;
}

void ResetTunablesForTest() {
  for (int i = 0; i < static_cast<int>(Tunable::kCount); ++i) {
    g_tunables[i] = kTunableDefaults[i];
  }
}

void ResetCountersForTest() {
  for (auto& counter : g_counters) counter = 0;
}

}  // namespace test
}  // namespace platform
}  // namespace mars
