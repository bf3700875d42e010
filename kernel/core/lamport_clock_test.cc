#include "core/lamport_clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace mars {
namespace {

uint64_t g_fake_now = 0;
uint64_t FakeNow() { return g_fake_now; }

class LamportClockTest : public ::testing::Test {
 protected:
  void SetUp() override { g_fake_now = 1'000'000'000'000; }
};

TEST_F(LamportClockTest, FollowsRealTimeWhenAhead) {
  LamportClock clock(&FakeNow);
  EXPECT_EQ(clock.Now(), g_fake_now);
  g_fake_now += 5000;
  EXPECT_EQ(clock.Now(), g_fake_now);
}

TEST_F(LamportClockTest, StrictlyIncreasingWhenRealTimeStandsStill) {
  LamportClock clock(&FakeNow);
  uint64_t prev = clock.Now();
  for (int i = 0; i < 1000; ++i) {
    const uint64_t next = clock.Now();
    ASSERT_GT(next, prev);
    prev = next;
  }
}

TEST_F(LamportClockTest, StrictlyIncreasingWhenRealTimeGoesBackwards) {
  LamportClock clock(&FakeNow);
  const uint64_t first = clock.Now();
  g_fake_now -= 1'000'000;
  EXPECT_GT(clock.Now(), first);
}

TEST_F(LamportClockTest, NowExceedsObservedPeerStamp) {
  LamportClock clock(&FakeNow);
  const uint64_t peer = g_fake_now + 3'600'000'000'000;  // one hour ahead
  ASSERT_TRUE(clock.Observe(peer).ok());
  EXPECT_EQ(clock.Latest(), peer);
  EXPECT_GT(clock.Now(), peer);
}

TEST_F(LamportClockTest, ObservingAnOlderStampChangesNothing) {
  LamportClock clock(&FakeNow);
  const uint64_t now = clock.Now();
  ASSERT_TRUE(clock.Observe(now - 100).ok());
  EXPECT_EQ(clock.Latest(), now);
}

TEST_F(LamportClockTest, RefusesStampTooFarInTheFuture) {
  LamportClock clock(&FakeNow);
  const uint64_t before = clock.Now();
  const uint64_t wild = g_fake_now + LamportClock::kDefaultMaxFutureNs + 1;
  const Status s = clock.Observe(wild);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(clock.Latest(), before);
  // Exactly at the limit is accepted.
  EXPECT_TRUE(clock.Observe(g_fake_now + LamportClock::kDefaultMaxFutureNs).ok());
}

TEST_F(LamportClockTest, ConfigurableFutureLimit) {
  LamportClock clock(&FakeNow, 1000);
  EXPECT_FALSE(clock.Observe(g_fake_now + 1001).ok());
  EXPECT_TRUE(clock.Observe(g_fake_now + 1000).ok());
  clock.set_max_future_ns(UINT64_MAX);  // saturates instead of overflowing
  EXPECT_TRUE(clock.Observe(UINT64_MAX - 10).ok());
}

TEST_F(LamportClockTest, DefaultSourceIsWallClock) {
  LamportClock clock;
  const uint64_t stamp = clock.Now();
  // Later than 2020-01-01 and earlier than 2100-01-01.
  EXPECT_GT(stamp, 1577836800ull * 1000000000ull);
  EXPECT_LT(stamp, 4102444800ull * 1000000000ull);
}

TEST(LamportClockConcurrencyTest, StampsAreUniqueAcrossThreads) {
  LamportClock clock;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<uint64_t>> stamps(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      stamps[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) stamps[t].push_back(clock.Now());
    });
  }
  for (auto& th : threads) th.join();
  std::vector<uint64_t> all;
  for (auto& v : stamps) {
    for (size_t i = 1; i < v.size(); ++i) ASSERT_GT(v[i], v[i - 1]);
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

}  // namespace
}  // namespace mars
