// Tests of the platform's threads, mutexes and wait queues (userspace build).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "core/platform.h"

namespace mars {
namespace platform {
namespace {

struct Shared {
  Mutex mutex;
  WaitQueue queue;
  // Written under mutex; read atomically by wait conditions, which must
  // not sleep (platform.h).
  std::atomic<int> counter{0};
  std::atomic<bool> body_returned{false};
};

void Init(Shared& shared) {
  ASSERT_TRUE(shared.mutex.Init(LockClass::kSelfTest, Gfp::kKernel).ok());
  ASSERT_TRUE(shared.queue.Init(LockClass::kSelfTest, Gfp::kKernel).ok());
}

bool CounterReachedTen(void* context) {
  return static_cast<Shared*>(context)->counter.load() >= 10;
}

void CountToTen(void* context) {
  auto* shared = static_cast<Shared*>(context);
  for (int i = 0; i < 10; ++i) {
    {
      MutexGuard guard(shared->mutex);
      ++shared->counter;
    }
    shared->queue.WakeAll();
  }
  shared->body_returned = true;
}

TEST(PlatformSyncTest, WaiterSeesWorkerProgress) {
  Shared shared;
  Init(shared);
  Thread worker;
  ASSERT_TRUE(worker.Start("counter", CountToTen, &shared, Gfp::kKernel).ok());
  EXPECT_TRUE(shared.queue.WaitUntil(CounterReachedTen, &shared,
                                     30'000'000'000ull));
  worker.Stop();
  EXPECT_TRUE(shared.body_returned);
  EXPECT_FALSE(worker.running());
  worker.Stop();  // idempotent
}

TEST(PlatformSyncTest, WaitTimesOutWhenConditionStaysFalse) {
  Shared shared;
  Init(shared);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(shared.queue.WaitUntil(CounterReachedTen, &shared, 50'000'000));
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(50));
}

void SleepUntilStopped(void* context) {
  auto* shared = static_cast<Shared*>(context);
  shared->queue.WaitUntil(CounterReachedTen, shared, UINT64_MAX / 2);
  EXPECT_TRUE(Thread::ShouldStop());
  shared->body_returned = true;
}

TEST(PlatformSyncTest, StopEndsAWaitingThread) {
  Shared shared;
  Init(shared);
  Thread sleeper;
  ASSERT_TRUE(
      sleeper.Start("sleeper", SleepUntilStopped, &shared, Gfp::kKernel).ok());
  sleeper.Stop();
  EXPECT_TRUE(shared.body_returned);
}

// A wait condition must not sleep: in the kernel it runs with the task
// state set. The userspace platform reports a Mutex taken there.
TEST(PlatformSyncDeathTest, MutexInAWaitConditionIsABug) {
  struct LockAndQueue {
    Mutex mutex;
    WaitQueue queue;
  } shared;
  ASSERT_TRUE(shared.mutex.Init(LockClass::kSelfTest, Gfp::kKernel).ok());
  ASSERT_TRUE(shared.queue.Init(LockClass::kSelfTest, Gfp::kKernel).ok());
  EXPECT_DEATH(shared.queue.WaitUntil(
                   [](void* c) {
                     MutexGuard guard(static_cast<LockAndQueue*>(c)->mutex);
                     return true;
                   },
                   &shared, 1000),
               "internal error");
}

TEST(PlatformSyncTest, ShouldStopIsFalseOutsidePlatformThreads) {
  EXPECT_FALSE(Thread::ShouldStop());
}

}  // namespace
}  // namespace platform
}  // namespace mars
