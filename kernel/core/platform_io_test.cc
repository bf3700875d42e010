// Contract tests of core/platform_io.h, run against the userspace platform
// (userspace/lib) and its test API (platform_user.h): the process-wide
// services: monotonic clock, random bytes, host name, I/O buffers, the
// trigger, tunables and counters. Files, links and directories are in
// platform_io_fs_test.cc, backing block devices and the synchronous helpers
// in platform_io_block_test.cc, exported devices in
// platform_io_front_disk_test.cc.
#include "core/platform_io.h"

#include <gtest/gtest.h>
#include <string.h>
#include <sys/utsname.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/platform.h"
#include "platform_user.h"

namespace mars {
namespace platform {
namespace {

TEST(PlatformIoBasicsTest, MonotonicClockAdvances) {
  const uint64_t a = MonotonicNs();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_GE(MonotonicNs() - a, 2'000'000u);
}

TEST(PlatformIoBasicsTest, RandomBytesDiffer) {
  uint8_t a[32] = {};
  uint8_t b[32] = {};
  RandomBytes(a, sizeof(a));
  RandomBytes(b, sizeof(b));
  EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
}

TEST(PlatformIoBasicsTest, HostNameStopsAtFirstDotAndChecksCapacity) {
  char name[64];
  test::SetHostNameForTest("alpha.example.org");
  EXPECT_EQ(HostName(name, sizeof(name)), 5u);
  EXPECT_STREQ(name, "alpha");
  EXPECT_EQ(HostName(name, 5), 0u);  // no room for the NUL
  EXPECT_EQ(HostName(name, 6), 5u);
  test::SetHostNameForTest(nullptr);
  struct utsname uts;
  ASSERT_EQ(uname(&uts), 0);
  const std::string expected(uts.nodename, strcspn(uts.nodename, "."));
  EXPECT_EQ(HostName(name, sizeof(name)), expected.size());
  EXPECT_EQ(std::string(name), expected);
}

TEST(PlatformIoBasicsTest, IoBuffersArePageAligned) {
  void* buffer = AllocateIoBuffer(1 << 20, Gfp::kNoIo);
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer) % 4096, 0u);
  memset(buffer, 0xA5, 1 << 20);
  FreeIoBuffer(buffer);
  void* small = AllocateIoBuffer(100, Gfp::kKernel);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % 4096, 0u);
  FreeIoBuffer(small);
}

// ---------------------------------------------------------------------------
// The trigger.

void DrainTrigger() { (void)WaitForTrigger(0); }

TEST(PlatformIoTriggerTest, WakesWithLevel) {
  DrainTrigger();
  std::atomic<int> level{-1};
  std::thread waiter([&] { level = WaitForTrigger(60'000'000'000ull); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  test::TriggerForTest(2);
  waiter.join();
  EXPECT_EQ(level, 2);
}

TEST(PlatformIoTriggerTest, TriggerWithoutWaiterIsKept) {
  DrainTrigger();
  test::TriggerForTest(1);
  test::TriggerForTest(2);
  test::TriggerForTest(1);
  EXPECT_EQ(WaitForTrigger(0), 2);  // the highest level
  EXPECT_EQ(WaitForTrigger(0), 0);  // consumed
  test::TriggerForTest(3);          // not a level: ignored
  test::TriggerForTest(0);
  EXPECT_EQ(WaitForTrigger(0), 0);
}

TEST(PlatformIoTriggerTest, TimesOut) {
  DrainTrigger();
  const uint64_t start = MonotonicNs();
  EXPECT_EQ(WaitForTrigger(30'000'000), 0);
  EXPECT_GE(MonotonicNs() - start, 30'000'000u);
}

struct TriggerSleeper {
  std::atomic<int> level{-1};
  std::atomic<bool> stopped{false};
};

void SleepOnTrigger(void* context) {
  auto* s = static_cast<TriggerSleeper*>(context);
  s->level = WaitForTrigger(3600'000'000'000ull);
  s->stopped = Thread::ShouldStop();
}

TEST(PlatformIoTriggerTest, ThreadStopEndsTheWait) {
  DrainTrigger();
  TriggerSleeper sleeper;
  Thread thread;
  ASSERT_TRUE(
      thread.Start("trigger", SleepOnTrigger, &sleeper, Gfp::kKernel).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  thread.Stop();
  EXPECT_EQ(sleeper.level, 0);
  EXPECT_TRUE(sleeper.stopped);
}

// ---------------------------------------------------------------------------

TEST(PlatformIoTunablesTest, DefaultsAndOverrides) {
  test::ResetTunablesForTest();
  EXPECT_EQ(GetTunable(Tunable::kBufferLimitBytes), 64ull << 20);
  EXPECT_EQ(GetTunable(Tunable::kLogRotateBytes), 1ull << 30);
  EXPECT_EQ(GetTunable(Tunable::kLogSyncIntervalMs), 100u);
  EXPECT_EQ(GetTunable(Tunable::kReplayLinkIntervalMs), 1000u);
  test::SetTunableForTest(Tunable::kBufferLimitBytes, 1 << 20);
  EXPECT_EQ(GetTunable(Tunable::kBufferLimitBytes), 1u << 20);
  EXPECT_EQ(GetTunable(Tunable::kLogRotateBytes), 1ull << 30);
  test::ResetTunablesForTest();
  EXPECT_EQ(GetTunable(Tunable::kBufferLimitBytes), 64ull << 20);
}

TEST(PlatformIoTunablesTest, Counters) {
  test::ResetCountersForTest();
  for (int i = 0; i < static_cast<int>(Counter::kCount); ++i) {
    EXPECT_EQ(GetCounter(static_cast<Counter>(i)), 0u);
  }
  AddCounter(Counter::kBytesLogged, 4096);
  AddCounter(Counter::kBytesLogged, 512);
  AddCounter(Counter::kBytesBuffered, 8192);
  SubtractCounter(Counter::kBytesBuffered, 4096);
  SetCounter(Counter::kLogRateBytes, 12345);
  EXPECT_EQ(GetCounter(Counter::kBytesLogged), 4608u);
  EXPECT_EQ(GetCounter(Counter::kBytesBuffered), 4096u);
  EXPECT_EQ(GetCounter(Counter::kLogRateBytes), 12345u);
  EXPECT_EQ(GetCounter(Counter::kBytesWrittenBack), 0u);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 1000; ++i) AddCounter(Counter::kLogFlushes, 1);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(GetCounter(Counter::kLogFlushes), 4000u);
  test::ResetCountersForTest();
  EXPECT_EQ(GetCounter(Counter::kBytesLogged), 0u);
}

}  // namespace
}  // namespace platform
}  // namespace mars
