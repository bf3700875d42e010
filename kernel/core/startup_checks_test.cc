#include "core/startup_checks.h"

#include <gtest/gtest.h>

namespace mars {
namespace {

TEST(StartupChecksTest, PassOnThisPlatform) {
  const Status s = RunStartupChecks();
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(StatusTest, CodeNamesAreDistinct) {
  EXPECT_STREQ(StatusCodeName(StatusCode::kOk), "ok");
  EXPECT_STREQ(StatusCodeName(StatusCode::kCorruption), "corruption");
  EXPECT_STRNE(StatusCodeName(StatusCode::kIoError),
               StatusCodeName(StatusCode::kInternal));
}

}  // namespace
}  // namespace mars
