// Tests of the name, path and value rules and of the text helpers
// (docu/mars-tree.md §2, §3.1): every error class and its exact message.
#include "core/tree/names.h"

#include <gtest/gtest.h>

#include <string>

#include "core/tree/text.h"

namespace mars {
namespace tree {
namespace {

Slice S(const std::string& s) { return Slice(s.data(), s.size()); }

std::string Describe(NameKind kind, const std::string& name) {
  NameError error;
  (void)ValidateName(kind, S(name), &error);
  char out[256];
  const size_t n = DescribeNameError(kind, S(name), error, out, sizeof(out));
  EXPECT_EQ(n, std::string(out).size());
  return out;
}

TEST(NamesTest, AcceptsValidNames) {
  for (const char* name : {"a", "hostA", "r0", "0", "_", "a-b_c", "db-01",
                           "None", "LOCALHOST", "nonex", "alll"}) {
    EXPECT_TRUE(ValidateHostName(Slice::FromCString(name)).ok()) << name;
    EXPECT_TRUE(ValidateResourceName(Slice::FromCString(name)).ok()) << name;
  }
  EXPECT_TRUE(ValidateHostName(S(std::string(63, 'x'))).ok());
}

TEST(NamesTest, RefusesEmpty) {
  NameError error;
  Status s = ValidateHostName(Slice(), &error);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_STREQ(s.message(), "host name is empty");
  EXPECT_EQ(error.problem, NameProblem::kEmpty);
  EXPECT_EQ(Describe(NameKind::kHost, ""), "host name '' is empty");
}

TEST(NamesTest, RefusesTooLong) {
  const std::string name(64, 'r');
  Status s = ValidateResourceName(S(name));
  EXPECT_STREQ(s.message(), "resource name is longer than 63 characters");
  EXPECT_EQ(Describe(NameKind::kResource, name),
            "resource name '" + name + "' is longer than 63 characters");
}

TEST(NamesTest, RefusesLeadingDash) {
  Status s = ValidateHostName(Slice::FromCString("-a"));
  EXPECT_STREQ(s.message(), "host name starts with '-'");
  EXPECT_EQ(Describe(NameKind::kHost, "-a"), "host name '-a' starts with '-'");
}

TEST(NamesTest, RefusesBadCharactersWithPosition) {
  NameError error;
  Status s = ValidateResourceName(Slice::FromCString("x y"), &error);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(error.problem, NameProblem::kBadCharacter);
  EXPECT_EQ(error.position, 1u);
  EXPECT_EQ(error.character, ' ');
  EXPECT_EQ(Describe(NameKind::kResource, "x y"),
            "resource name 'x y' contains ' '");
  for (const char* name : {"a.b", "a/b", "a,b", "a:b", "(none)", "ä", "a\\b"}) {
    EXPECT_FALSE(ValidateHostName(Slice::FromCString(name)).ok()) << name;
  }
  EXPECT_EQ(Describe(NameKind::kHost, std::string("a\x01", 2)),
            "host name 'a\\x01' contains '\\x01'");
  EXPECT_EQ(Describe(NameKind::kHost, std::string("a\0b", 3)),
            "host name 'a\\x00b' contains '\\x00'");
  EXPECT_EQ(Describe(NameKind::kHost, "a\\b"),
            "host name 'a\\\\b' contains '\\\\'");
}

TEST(NamesTest, RefusesReservedWordsCaseSensitively) {
  for (const char* word : {"none", "all", "any", "full", "empty", "undefined",
                           "remote", "local", "localhost"}) {
    EXPECT_TRUE(IsReservedName(Slice::FromCString(word)));
    Status s = ValidateHostName(Slice::FromCString(word));
    EXPECT_STREQ(s.message(), "host name is reserved") << word;
    EXPECT_STREQ(ValidateResourceName(Slice::FromCString(word)).message(),
                 "resource name is reserved");
  }
  EXPECT_EQ(Describe(NameKind::kHost, "none"), "host name 'none' is reserved");
  EXPECT_FALSE(IsReservedName(Slice::FromCString("All")));
  EXPECT_FALSE(IsReservedName(Slice::FromCString("local1")));
}

TEST(NamesTest, DescriptionTruncatesSafely) {
  NameError error;
  (void)ValidateHostName(Slice::FromCString("none"), &error);
  char out[8];
  const size_t n = DescribeNameError(
      NameKind::kHost, Slice::FromCString("none"), error, out, sizeof(out));
  EXPECT_EQ(n, 7u);
  EXPECT_STREQ(out, "host na");
  char one[1];
  EXPECT_EQ(DescribeNameError(NameKind::kHost, Slice(), error, one, 1), 0u);
  EXPECT_EQ(one[0], '\0');
}

TEST(NamesTest, HostNameAssign) {
  HostName host;
  EXPECT_TRUE(host.empty());
  ASSERT_TRUE(host.Assign(Slice::FromCString("alpha")).ok());
  EXPECT_EQ(host.slice(), Slice::FromCString("alpha"));
  EXPECT_FALSE(host.Assign(Slice::FromCString("bad name")).ok());
  EXPECT_EQ(host.slice(), Slice::FromCString("alpha"));  // unchanged
  HostName other;
  ASSERT_TRUE(other.Assign(Slice::FromCString("alpha")).ok());
  EXPECT_TRUE(host == other);
  ASSERT_TRUE(other.Assign(S(std::string(63, 'z'))).ok());
  EXPECT_EQ(other.size(), 63u);
  EXPECT_TRUE(host != other);
}

TEST(TreePathTest, AcceptsPaths) {
  for (const char* path : {"uuid", "ips/ip-hostA", "resource-r0/replay-hostA",
                           "resource-r0/todo-hostA/allow-replay",
                           "resource-r0/logstatus-h.status", "a/b/c/d/e"}) {
    EXPECT_TRUE(ValidateTreePath(Slice::FromCString(path)).ok()) << path;
  }
  EXPECT_TRUE(ValidateTreePath(S(std::string(255, 'p'))).ok());
}

TEST(TreePathTest, RefusesEveryErrorClass) {
  struct Case {
    std::string path;
    const char* message;
  } cases[] = {
      {"", "path is empty"},
      {std::string(256, 'p'), "path is longer than 255 bytes"},
      {"/mars/uuid", "path starts with '/'"},
      {"a//b", "path has an empty component"},
      {"a/", "path has an empty component"},
      {"a/./b", "path component starts with '.'"},
      {"a/../b", "path component starts with '.'"},
      {"..", "path component starts with '.'"},
      {"resource-r0/.tmp.123.primary", "path component starts with '.'"},
      {"a b",
       "path contains a character other than letters, digits, '.', "
       "'_', '-' and '/'"},
      {std::string("a\0b", 3),
       "path contains a character other than "
       "letters, digits, '.', '_', '-' and '/'"},
  };
  for (const Case& c : cases) {
    Status s = ValidateTreePath(S(c.path));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.path;
    EXPECT_STREQ(s.message(), c.message) << c.path;
  }
}

TEST(EntryValueTest, AcceptsAndRefuses) {
  EXPECT_TRUE(ValidateEntryValue(Slice::FromCString("/dev/vg/r0")).ok());
  EXPECT_TRUE(
      ValidateEntryValue(Slice::FromCString("a message, with: spaces")).ok());
  EXPECT_TRUE(ValidateEntryValue(Slice::FromCString(".deleted2")).ok());
  EXPECT_TRUE(ValidateEntryValue(S(std::string(4095, 'v'))).ok());
  EXPECT_STREQ(ValidateEntryValue(Slice()).message(), "value is empty");
  EXPECT_STREQ(ValidateEntryValue(S(std::string(4096, 'v'))).message(),
               "value is longer than 4095 bytes");
  EXPECT_STREQ(ValidateEntryValue(S(std::string("a\0", 2))).message(),
               "value contains a NUL byte");
  EXPECT_STREQ(ValidateEntryValue(Slice::FromCString(".deleted")).message(),
               "value is the tombstone marker '.deleted'");
}

TEST(TextTest, DecimalParsing) {
  uint64_t v = 7;
  EXPECT_TRUE(ParseDecimalU64(Slice::FromCString("0"), &v).ok());
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(
      ParseDecimalU64(Slice::FromCString("18446744073709551615"), &v).ok());
  EXPECT_EQ(v, UINT64_MAX);
  struct Case {
    const char* text;
    StatusCode code;
    const char* message;
  } cases[] = {
      {"", StatusCode::kInvalidArgument, "number is empty"},
      {"+1", StatusCode::kInvalidArgument, "number has a sign"},
      {"-1", StatusCode::kInvalidArgument, "number has a sign"},
      {" 1", StatusCode::kInvalidArgument,
       "number contains a character other than a digit"},
      {"1 ", StatusCode::kInvalidArgument,
       "number contains a character other than a digit"},
      {"0x10", StatusCode::kInvalidArgument,
       "number contains a character other than a digit"},
      {"01", StatusCode::kInvalidArgument, "number has a leading zero"},
      {"00", StatusCode::kInvalidArgument, "number has a leading zero"},
      {"18446744073709551616", StatusCode::kOutOfRange,
       "number exceeds 18446744073709551615"},
      {"99999999999999999999999", StatusCode::kOutOfRange,
       "number exceeds 18446744073709551615"},
  };
  for (const Case& c : cases) {
    Status s = ParseDecimalU64(Slice::FromCString(c.text), &v);
    EXPECT_EQ(s.code(), c.code) << c.text;
    EXPECT_STREQ(s.message(), c.message) << c.text;
    EXPECT_EQ(v, 0u);
  }
  char out[kMaxDecimalU64Chars];
  EXPECT_EQ(std::string(out, FormatDecimalU64(UINT64_MAX, out)),
            "18446744073709551615");
  EXPECT_EQ(std::string(out, FormatDecimalU64(0, out)), "0");
}

TEST(TextTest, HexParsing) {
  uint8_t bytes[2];
  EXPECT_TRUE(ParseLowerHex(Slice::FromCString("0aff"), bytes, 2).ok());
  EXPECT_EQ(bytes[0], 0x0a);
  EXPECT_EQ(bytes[1], 0xff);
  EXPECT_STREQ(ParseLowerHex(Slice::FromCString("0aFF"), bytes, 2).message(),
               "hex digits contain an uppercase letter");
  EXPECT_STREQ(ParseLowerHex(Slice::FromCString("0ag0"), bytes, 2).message(),
               "hex digits contain a non-hex character");
  EXPECT_STREQ(ParseLowerHex(Slice::FromCString("0a0"), bytes, 2).message(),
               "hex digits have the wrong length");
  Bytes out;
  ASSERT_TRUE(AppendLowerHex(bytes, 2, &out).ok());
  EXPECT_EQ(AsSlice(out), Slice::FromCString("0aff"));
}

}  // namespace
}  // namespace tree
}  // namespace mars
