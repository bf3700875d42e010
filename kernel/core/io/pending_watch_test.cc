// Tests of PendingWatch (core/io/pending_watch.h) on the userspace
// platform, whose log goes to stderr.
#include "core/io/pending_watch.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <string>
#include <thread>

namespace mars {
namespace platform {
namespace {

constexpr uint64_t kWarnAfterNs = 20ull * 1000 * 1000;

TEST(PendingWatchTest, QuietWhileTheRequestIsYoung) {
  testing::internal::CaptureStderr();
  {
    PendingWatch watch(nullptr, "block device write", 4096, 512, kWarnAfterNs);
    EXPECT_FALSE(watch.Check());
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(PendingWatchTest, WarnsOnceAndSaysWhenItCompleted) {
  setenv("MARS_LOG_LEVEL", "5", 1);  // notices too
  testing::internal::CaptureStderr();
  {
    PendingWatch watch("r0", "log replay: data device write", 1 << 20, 65536,
                       kWarnAfterNs);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    EXPECT_TRUE(watch.Check());
    EXPECT_TRUE(watch.Check());  // still pending: no second warning
  }
  const std::string log = testing::internal::GetCapturedStderr();
  unsetenv("MARS_LOG_LEVEL");
  EXPECT_NE(
      log.find(
          "mars: warning: resource r0: log replay: data device write of 65536 "
          "bytes at offset 1048576 has been pending for 0 s; the "
          "device has not completed it, still waiting\n"),
      std::string::npos)
      << log;
  EXPECT_EQ(log.find("pending", log.find("pending") + 1), std::string::npos)
      << log;
  EXPECT_NE(
      log.find(
          "mars: notice: resource r0: log replay: data device write of 65536 "
          "bytes at offset 1048576 completed after 0 s\n"),
      std::string::npos)
      << log;
}

}  // namespace
}  // namespace platform
}  // namespace mars
