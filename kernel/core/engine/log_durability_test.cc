#include "core/engine/log_durability.h"

#include <gtest/gtest.h>

namespace mars {
namespace engine {
namespace {

TEST(LogDurabilityTest, RegisteredLogfilesReportTheirDurableEnd) {
  LogDurability d;
  ASSERT_TRUE(d.Init(platform::Gfp::kKernel).ok());
  const Slice log = Slice::FromCString("resource-r0/log-000000001-a");
  uint64_t end = 99;
  EXPECT_FALSE(d.DurableEnd(log, &end));
  ASSERT_TRUE(d.Open(log).ok());
  ASSERT_TRUE(d.DurableEnd(log, &end));
  EXPECT_EQ(end, 0u);
  d.Advance(log, 4096);
  d.Advance(log, 1024);  // never lowered
  ASSERT_TRUE(d.DurableEnd(log, &end));
  EXPECT_EQ(end, 4096u);
  d.Advance(Slice::FromCString("resource-r0/log-000000002-a"), 8192);
  EXPECT_FALSE(d.DurableEnd(Slice::FromCString("resource-r0/log-000000002-a"),
                            &end));
  d.Close(log);
  EXPECT_FALSE(d.DurableEnd(log, &end));
}

TEST(LogDurabilityTest, CapacityAndPathLimits) {
  LogDurability d;
  ASSERT_TRUE(d.Init(platform::Gfp::kKernel).ok());
  char path[64];
  for (size_t i = 0; i < LogDurability::kCapacity; ++i) {
    int n = snprintf(path, sizeof(path), "resource-r%zu/log-000000001-a", i);
    ASSERT_TRUE(d.Open(Slice(path, n)).ok()) << i;
  }
  EXPECT_EQ(d.Open(Slice::FromCString("resource-x/log-000000001-a")).code(),
            StatusCode::kUnavailable);
  d.Close(Slice::FromCString("resource-r7/log-000000001-a"));
  EXPECT_TRUE(d.Open(Slice::FromCString("resource-x/log-000000001-a")).ok());
  char longpath[300];
  memset(longpath, 'a', sizeof(longpath));
  EXPECT_EQ(d.Open(Slice(longpath, 256)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d.Open(Slice()).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace engine
}  // namespace mars
