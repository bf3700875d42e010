// Tests of logfile names, version-link names, replay links, fetch positions
// and the simple values (docu/mars-tree.md §2.2, §3): round trips and every
// error class.
#include "core/tree/log_names.h"

#include <gtest/gtest.h>

#include <string>

#include "core/tree/values.h"

namespace mars {
namespace tree {
namespace {

Slice S(const std::string& s) { return Slice(s.data(), s.size()); }
std::string Str(const Bytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

LogfileName Log(uint32_t number, const char* host) {
  LogfileName name;
  name.number = number;
  EXPECT_TRUE(name.host.Assign(Slice::FromCString(host)).ok());
  return name;
}

TEST(LogfileNameTest, ParsesAndFormats) {
  LogfileName name;
  ASSERT_TRUE(
      ParseLogfileName(Slice::FromCString("log-000000017-n1"), &name).ok());
  EXPECT_EQ(name.number, 17u);
  EXPECT_EQ(name.host.slice(), Slice::FromCString("n1"));
  ASSERT_TRUE(
      ParseLogfileName(Slice::FromCString("log-999999999-host-a"), &name).ok());
  EXPECT_EQ(name.number, 999999999u);
  EXPECT_EQ(name.host.slice(), Slice::FromCString("host-a"));
  Bytes out;
  ASSERT_TRUE(AppendLogfileName(Log(1, "alpha"), &out).ok());
  EXPECT_EQ(Str(out), "log-000000001-alpha");
  out.Clear();
  ASSERT_TRUE(AppendVersionLinkName(Log(42, "beta"), &out).ok());
  EXPECT_EQ(Str(out), "version-000000042-beta");
  ASSERT_TRUE(ParseVersionLinkName(S(Str(out)), &name).ok());
  EXPECT_TRUE(name == Log(42, "beta"));
}

TEST(LogfileNameTest, RefusesEveryErrorClass) {
  struct Case {
    const char* text;
    StatusCode code;
    const char* message;
  } cases[] = {
      {"", StatusCode::kInvalidArgument,
       "logfile name does not start with 'log-'"},
      {"Log-000000001-a", StatusCode::kInvalidArgument,
       "logfile name does not start with 'log-'"},
      {" log-000000001-a", StatusCode::kInvalidArgument,
       "logfile name does not start with 'log-'"},
      {"log-", StatusCode::kInvalidArgument,
       "logfile number is not exactly 9 digits"},
      {"log-00000001-a", StatusCode::kInvalidArgument,
       "logfile number is not exactly 9 digits"},
      {"log-0000000001-a", StatusCode::kInvalidArgument,
       "logfile number is not exactly 9 digits"},
      {"log-+00000001-a", StatusCode::kInvalidArgument,
       "logfile number is not exactly 9 digits"},
      {"log- 00000001-a", StatusCode::kInvalidArgument,
       "logfile number is not exactly 9 digits"},
      {"log-000000001", StatusCode::kInvalidArgument,
       "logfile number is not followed by '-'"},
      {"log-000000001_a", StatusCode::kInvalidArgument,
       "logfile number is not followed by '-'"},
      {"log-000000000-a", StatusCode::kOutOfRange, "logfile number is 0"},
      {"log-000000001-", StatusCode::kInvalidArgument, "host name is empty"},
      {"log-000000001--a", StatusCode::kInvalidArgument,
       "host name starts with '-'"},
      {"log-000000001-none", StatusCode::kInvalidArgument,
       "host name is reserved"},
      {"log-000000001-a,0,0", StatusCode::kInvalidArgument,
       "host name contains a character other than letters, digits, '_', '-'"},
  };
  for (const Case& c : cases) {
    LogfileName name = Log(5, "x");
    Status s = ParseLogfileName(Slice::FromCString(c.text), &name);
    EXPECT_EQ(s.code(), c.code) << c.text;
    EXPECT_STREQ(s.message(), c.message) << c.text;
    EXPECT_EQ(name.number, 0u) << c.text;
  }
  LogfileName name;
  EXPECT_STREQ(
      ParseVersionLinkName(Slice::FromCString("log-000000001-a"), &name)
          .message(),
      "version link name does not start with 'version-'");
  EXPECT_FALSE(
      ParseLogfileName(S(std::string("log-000000001-a\0", 16)), &name).ok());
  EXPECT_FALSE(
      ParseLogfileName(S("log-000000001-" + std::string(64, 'h')), &name).ok());
}

TEST(LogfileNameTest, FormatRefusesInvalidNames) {
  Bytes out;
  EXPECT_EQ(AppendLogfileName(Log(0, "a"), &out).code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(AppendLogfileName(Log(1000000000, "a"), &out).code(),
            StatusCode::kOutOfRange);
  EXPECT_STREQ(AppendLogfileName(LogfileName{7, HostName()}, &out).message(),
               "host name is empty");
  EXPECT_TRUE(out.empty());
}

TEST(ReplayLinkTest, ParsesAndFormats) {
  ReplayLink link;
  ASSERT_TRUE(
      ParseReplayLink(Slice::FromCString("log-000000018-n1,22789360,0"), &link)
          .ok());
  EXPECT_TRUE(link.log == Log(18, "n1"));
  EXPECT_EQ(link.position, 22789360u);
  EXPECT_EQ(link.dirty_length, 0u);
  Bytes out;
  ASSERT_TRUE(AppendReplayLink(link, &out).ok());
  EXPECT_EQ(Str(out), "log-000000018-n1,22789360,0");
  ASSERT_TRUE(
      ParseReplayLink(
          Slice::FromCString("log-000000001-a,18446744073709551615,0"), &link)
          .ok());
  EXPECT_EQ(link.position, UINT64_MAX);
  ASSERT_TRUE(ParseReplayLink(Slice::FromCString(
                                  "log-000000001-a,4096,18446744073709547519"),
                              &link)
                  .ok());
}

TEST(ReplayLinkTest, RefusesEveryErrorClass) {
  struct Case {
    const char* text;
    StatusCode code;
    const char* message;
  } cases[] = {
      {"", StatusCode::kInvalidArgument,
       "replay link has fewer than three fields"},
      {"log-000000001-a", StatusCode::kInvalidArgument,
       "replay link has fewer than three fields"},
      {"log-000000001-a,5", StatusCode::kInvalidArgument,
       "replay link has fewer than three fields"},
      {"log-00000001-a,5,0", StatusCode::kInvalidArgument,
       "logfile number is not exactly 9 digits"},
      {"log-000000001-a,,0", StatusCode::kInvalidArgument,
       "replay link position is not a canonical decimal"},
      {"log-000000001-a,+5,0", StatusCode::kInvalidArgument,
       "replay link position is not a canonical decimal"},
      {"log-000000001-a, 5,0", StatusCode::kInvalidArgument,
       "replay link position is not a canonical decimal"},
      {"log-000000001-a,05,0", StatusCode::kInvalidArgument,
       "replay link position is not a canonical decimal"},
      {"log-000000001-a,-5,0", StatusCode::kInvalidArgument,
       "replay link position is not a canonical decimal"},
      {"log-000000001-a,18446744073709551616,0", StatusCode::kOutOfRange,
       "replay link position exceeds 2^64-1"},
      {"log-000000001-a,5,", StatusCode::kInvalidArgument,
       "replay link dirty length is not a canonical decimal"},
      {"log-000000001-a,5,0,", StatusCode::kInvalidArgument,
       "replay link dirty length is not a canonical decimal"},
      {"log-000000001-a,5,0 ", StatusCode::kInvalidArgument,
       "replay link dirty length is not a canonical decimal"},
      {"log-000000001-a,5,99999999999999999999", StatusCode::kOutOfRange,
       "replay link dirty length exceeds 2^64-1"},
      {"log-000000001-a,18446744073709551615,1", StatusCode::kOutOfRange,
       "replay link position plus dirty length exceeds 2^64-1"},
  };
  for (const Case& c : cases) {
    ReplayLink link;
    link.position = 99;
    Status s = ParseReplayLink(Slice::FromCString(c.text), &link);
    EXPECT_EQ(s.code(), c.code) << c.text;
    EXPECT_STREQ(s.message(), c.message) << c.text;
    EXPECT_EQ(link.position, 0u) << c.text;
  }
  ReplayLink bad;
  bad.log = Log(1, "a");
  bad.position = UINT64_MAX;
  bad.dirty_length = 1;
  Bytes out;
  EXPECT_EQ(AppendReplayLink(bad, &out).code(), StatusCode::kOutOfRange);
  bad.position = 0;
  bad.log.number = 0;
  EXPECT_EQ(AppendReplayLink(bad, &out).code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(out.empty());
}

TEST(FetchPositionTest, ParsesAndFormats) {
  FetchPosition position;
  ASSERT_TRUE(ParseFetchPosition(
                  Slice::FromCString("log-000000018-n1,22789360"), &position)
                  .ok());
  EXPECT_TRUE(position.log == Log(18, "n1"));
  EXPECT_EQ(position.bytes, 22789360u);
  Bytes out;
  ASSERT_TRUE(AppendFetchPosition(position, &out).ok());
  EXPECT_EQ(Str(out), "log-000000018-n1,22789360");
  // Round trips at both ends of the ranges.
  for (const FetchPosition& want :
       {FetchPosition{Log(1, "a"), 0},
        FetchPosition{Log(999999999, "host-b_2"), UINT64_MAX}}) {
    out.Clear();
    ASSERT_TRUE(AppendFetchPosition(want, &out).ok());
    ASSERT_TRUE(ParseFetchPosition(S(Str(out)), &position).ok()) << Str(out);
    EXPECT_TRUE(position.log == want.log) << Str(out);
    EXPECT_EQ(position.bytes, want.bytes) << Str(out);
  }
  EXPECT_EQ(Str(out), "log-999999999-host-b_2,18446744073709551615");
}

TEST(FetchPositionTest, RefusesEveryErrorClass) {
  struct Case {
    const char* text;
    StatusCode code;
    const char* message;
  } cases[] = {
      {"", StatusCode::kInvalidArgument,
       "fetch position has fewer than two fields"},
      {"log-000000001-a", StatusCode::kInvalidArgument,
       "fetch position has fewer than two fields"},
      {"garbage", StatusCode::kInvalidArgument,
       "fetch position has fewer than two fields"},
      {",5", StatusCode::kInvalidArgument,
       "logfile name does not start with 'log-'"},
      {"log-00000001-a,5", StatusCode::kInvalidArgument,
       "logfile number is not exactly 9 digits"},
      {"log-000000000-a,5", StatusCode::kOutOfRange, "logfile number is 0"},
      {"log-000000001-,5", StatusCode::kInvalidArgument, "host name is empty"},
      {"log-000000001-a,", StatusCode::kInvalidArgument,
       "fetch position byte count is not a canonical decimal"},
      {"log-000000001-a,+5", StatusCode::kInvalidArgument,
       "fetch position byte count is not a canonical decimal"},
      {"log-000000001-a,-5", StatusCode::kInvalidArgument,
       "fetch position byte count is not a canonical decimal"},
      {"log-000000001-a,05", StatusCode::kInvalidArgument,
       "fetch position byte count is not a canonical decimal"},
      {"log-000000001-a, 5", StatusCode::kInvalidArgument,
       "fetch position byte count is not a canonical decimal"},
      {"log-000000001-a,5 ", StatusCode::kInvalidArgument,
       "fetch position byte count is not a canonical decimal"},
      {"log-000000001-a,1k", StatusCode::kInvalidArgument,
       "fetch position byte count is not a canonical decimal"},
      // A replay link's fields are not a fetch position.
      {"log-000000001-hostA,100,0", StatusCode::kInvalidArgument,
       "fetch position byte count is not a canonical decimal"},
      {"log-000000001-hostA,100,", StatusCode::kInvalidArgument,
       "fetch position byte count is not a canonical decimal"},
      {"log-000000001-a,18446744073709551616", StatusCode::kOutOfRange,
       "fetch position byte count exceeds 2^64-1"},
      {"log-000000001-a,99999999999999999999999", StatusCode::kOutOfRange,
       "fetch position byte count exceeds 2^64-1"},
  };
  for (const Case& c : cases) {
    FetchPosition position{Log(5, "x"), 99};
    Status s = ParseFetchPosition(Slice::FromCString(c.text), &position);
    EXPECT_EQ(s.code(), c.code) << c.text;
    EXPECT_STREQ(s.message(), c.message) << c.text;
    EXPECT_EQ(position.log.number, 0u) << c.text;
    EXPECT_EQ(position.bytes, 0u) << c.text;
  }
  FetchPosition position;
  EXPECT_FALSE(
      ParseFetchPosition(S(std::string("log-000000001-a,5\0", 18)), &position)
          .ok());
  // The format refuses what the parser would, and appends nothing then.
  Bytes out;
  EXPECT_EQ(AppendFetchPosition(FetchPosition{Log(0, "a"), 1}, &out).code(),
            StatusCode::kOutOfRange);
  EXPECT_STREQ(
      AppendFetchPosition(FetchPosition{LogfileName{7, HostName()}, 1}, &out)
          .message(),
      "host name is empty");
  EXPECT_TRUE(out.empty());
}

TEST(ValuesTest, ByteCountsAndResourceSize) {
  uint64_t bytes = 1;
  ASSERT_TRUE(ParseByteCount(Slice::FromCString("0"), &bytes).ok());
  EXPECT_EQ(bytes, 0u);
  ASSERT_TRUE(
      ParseResourceSize(Slice::FromCString("59055800320"), &bytes).ok());
  EXPECT_EQ(bytes, 59055800320u);
  EXPECT_STREQ(ParseByteCount(Slice::FromCString("1k"), &bytes).message(),
               "number contains a character other than a digit");
  EXPECT_EQ(ParseResourceSize(Slice::FromCString("0"), &bytes).code(),
            StatusCode::kOutOfRange);
  EXPECT_STREQ(ParseResourceSize(Slice::FromCString("512"), &bytes).message(),
               "resource size is not a multiple of 4096 bytes");
  EXPECT_EQ(bytes, 0u);
  EXPECT_STREQ(ParseResourceSize(Slice::FromCString("0512"), &bytes).message(),
               "number has a leading zero");
  Bytes out;
  ASSERT_TRUE(AppendResourceSize(8192, &out).ok());
  ASSERT_TRUE(out.PushBack(' ').ok());
  ASSERT_TRUE(AppendByteCount(7, &out).ok());
  EXPECT_EQ(Str(out), "8192 7");
  EXPECT_FALSE(AppendResourceSize(1024, &out).ok());
  EXPECT_FALSE(AppendResourceSize(0, &out).ok());
  EXPECT_EQ(Str(out), "8192 7");
}

TEST(ValuesTest, Switches) {
  bool on = false;
  ASSERT_TRUE(ParseSwitch(Slice::FromCString("1"), &on).ok());
  EXPECT_TRUE(on);
  ASSERT_TRUE(ParseSwitch(Slice::FromCString("0"), &on).ok());
  EXPECT_FALSE(on);
  for (const char* bad : {"", "2", "01", "on", "1 ", "true"}) {
    on = true;
    Status s = ParseSwitch(Slice::FromCString(bad), &on);
    EXPECT_STREQ(s.message(), "switch value is not '0' or '1'") << bad;
    EXPECT_FALSE(on);
  }
  EXPECT_EQ(FormatSwitch(true), Slice::FromCString("1"));
  EXPECT_EQ(FormatSwitch(false), Slice::FromCString("0"));
}

TEST(ValuesTest, Primary) {
  HostName host;
  ASSERT_TRUE(ParsePrimary(Slice::FromCString("n1"), &host).ok());
  EXPECT_EQ(FormatPrimary(host), Slice::FromCString("n1"));
  ASSERT_TRUE(ParsePrimary(Slice::FromCString("(none)"), &host).ok());
  EXPECT_TRUE(host.empty());
  EXPECT_EQ(FormatPrimary(host), Slice::FromCString("(none)"));
  EXPECT_STREQ(ParsePrimary(Slice::FromCString("none"), &host).message(),
               "host name is reserved");
  EXPECT_STREQ(ParsePrimary(Slice(), &host).message(), "host name is empty");
  EXPECT_FALSE(ParsePrimary(Slice::FromCString("(None)"), &host).ok());
}

}  // namespace
}  // namespace tree
}  // namespace mars
