// Tests of tree_links: reading, conditional writing, tree deletion
// (tombstones) and directory creation on a temporary /mars directory.
#include "core/engine/tree_links.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/platform_io.h"
#include "core/tree/names.h"
#include "gtest/gtest.h"

namespace mars {
namespace engine {
namespace {

uint64_t g_real_time = 1'700'000'000'000'000'000ull;
uint64_t FakeRealTime() { return g_real_time; }

class TreeLinksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tree_links_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string Abs(const std::string& rel) const { return root_ + "/" + rel; }

  void Link(const std::string& rel, const std::string& value, uint64_t stamp) {
    std::filesystem::create_directories(
        std::filesystem::path(Abs(rel)).parent_path());
    ASSERT_TRUE(
        platform::WriteLink(Abs(rel).c_str(), value.data(), value.size(), stamp)
            .ok());
  }

  // The raw link: value and stamp, tombstones included.
  bool Raw(const std::string& rel, std::string* value, uint64_t* stamp) {
    char buffer[platform::kMaxLinkValueBytes + 1];
    size_t size = 0;
    if (!platform::ReadLink(Abs(rel).c_str(), buffer, sizeof(buffer), &size,
                            stamp)
             .ok()) {
      return false;
    }
    value->assign(buffer, size);
    return true;
  }

  std::string root_;
  LamportClock clock_{FakeRealTime};
};

TEST_F(TreeLinksTest, ReadValueReturnsValueStampAndTerminator) {
  Link("resource-r0/size", "1048576", 1234);
  char value[32];
  memset(value, 'x', sizeof(value));
  size_t size = 0;
  uint64_t stamp = 0;
  ASSERT_TRUE(ReadValue(root_.c_str(), "resource-r0/size", value, sizeof(value),
                        &size, &stamp, nullptr)
                  .ok());
  EXPECT_EQ(std::string(value, size), "1048576");
  EXPECT_EQ(value[size], '\0');
  EXPECT_EQ(stamp, 1234u);
}

TEST_F(TreeLinksTest, ReadValueObservesTheStamp) {
  const uint64_t ahead = g_real_time + 60'000'000'000ull;
  Link("primary", "hostB", ahead);
  char value[16];
  size_t size = 0;
  ASSERT_TRUE(ReadValue(root_.c_str(), "primary", value, sizeof(value), &size,
                        nullptr, &clock_)
                  .ok());
  EXPECT_EQ(clock_.Latest(), ahead);
  EXPECT_GT(clock_.Now(), ahead);
}

TEST_F(TreeLinksTest, ReadValueAbsentTombstoneAndTooLong) {
  char value[8];
  size_t size = 0;
  EXPECT_EQ(ReadValue(root_.c_str(), "missing", value, sizeof(value), &size,
                      nullptr, nullptr)
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ReadValue(root_.c_str(), "no-dir/missing", value, sizeof(value),
                      &size, nullptr, nullptr)
                .code(),
            StatusCode::kNotFound);
  Link("gone", tree::kTombstoneValue, 5);
  EXPECT_EQ(ReadValue(root_.c_str(), "gone", value, sizeof(value), &size,
                      nullptr, nullptr)
                .code(),
            StatusCode::kNotFound);
  Link("long", "12345678", 5);  // needs 9 bytes with the terminator
  EXPECT_EQ(ReadValue(root_.c_str(), "long", value, sizeof(value), &size,
                      nullptr, nullptr)
                .code(),
            StatusCode::kOutOfRange);
  Link("fits", "1234567", 5);
  EXPECT_TRUE(ReadValue(root_.c_str(), "fits", value, sizeof(value), &size,
                        nullptr, nullptr)
                  .ok());
}

TEST_F(TreeLinksTest, InvalidPathsAreRefused) {
  char value[8];
  size_t size = 0;
  for (const char* bad : {"../etc", "/abs", "a//b", "a/.tmp.x", ""}) {
    EXPECT_EQ(ReadValue(root_.c_str(), bad, value, sizeof(value), &size,
                        nullptr, nullptr)
                  .code(),
              StatusCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(
        WriteValueIfChanged(root_.c_str(), bad, Slice("1", 1), &clock_).code(),
        StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST_F(TreeLinksTest, WriteValueIfChangedWritesOnlyChanges) {
  bool written = false;
  ASSERT_TRUE(WriteValueIfChanged(root_.c_str(), "switch", Slice("1", 1),
                                  &clock_, &written)
                  .ok());
  EXPECT_TRUE(written);
  std::string value;
  uint64_t first = 0;
  ASSERT_TRUE(Raw("switch", &value, &first));
  EXPECT_EQ(value, "1");
  EXPECT_EQ(first, clock_.Latest());

  ASSERT_TRUE(WriteValueIfChanged(root_.c_str(), "switch", Slice("1", 1),
                                  &clock_, &written)
                  .ok());
  EXPECT_FALSE(written);
  uint64_t second = 0;
  ASSERT_TRUE(Raw("switch", &value, &second));
  EXPECT_EQ(second, first);

  ASSERT_TRUE(WriteValueIfChanged(root_.c_str(), "switch", Slice("0", 1),
                                  &clock_, &written)
                  .ok());
  EXPECT_TRUE(written);
  uint64_t third = 0;
  ASSERT_TRUE(Raw("switch", &value, &third));
  EXPECT_EQ(value, "0");
  EXPECT_GT(third, first);
}

TEST_F(TreeLinksTest, WriteValueIfChangedReplacesATombstone) {
  Link("x", tree::kTombstoneValue, 7);
  bool written = false;
  ASSERT_TRUE(WriteValueIfChanged(root_.c_str(), "x", Slice(".deleted2", 9),
                                  &clock_, &written)
                  .ok());
  EXPECT_TRUE(written);
  std::string value;
  uint64_t stamp = 0;
  ASSERT_TRUE(Raw("x", &value, &stamp));
  EXPECT_EQ(value, ".deleted2");
}

TEST_F(TreeLinksTest, WriteValueRefusesValuesThatAreNotLive) {
  EXPECT_EQ(WriteValueIfChanged(root_.c_str(), "x", Slice(), &clock_).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      WriteValueIfChanged(root_.c_str(), "x",
                          Slice::FromCString(tree::kTombstoneValue), &clock_)
          .code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteValue(root_.c_str(), "x", Slice("a\0b", 3), 5).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(
      std::filesystem::exists(std::filesystem::symlink_status(Abs("x"))));
}

TEST_F(TreeLinksTest, WriteValueSetsTheGivenStamp) {
  ASSERT_TRUE(WriteValue(root_.c_str(), "t", Slice("99", 2), 99).ok());
  ASSERT_TRUE(WriteValue(root_.c_str(), "t", Slice("99", 2), 100).ok());
  std::string value;
  uint64_t stamp = 0;
  ASSERT_TRUE(Raw("t", &value, &stamp));
  EXPECT_EQ(value, "99");
  EXPECT_EQ(stamp, 100u);
}

TEST_F(TreeLinksTest, WriteNeedsTheParentDirectory) {
  EXPECT_EQ(
      WriteValueIfChanged(root_.c_str(), "no/such/dir", Slice("1", 1), &clock_)
          .code(),
      StatusCode::kNotFound);
}

TEST_F(TreeLinksTest, RemoveIfPresentWritesATombstoneOnce) {
  bool removed = true;
  ASSERT_TRUE(RemoveIfPresent(root_.c_str(), "msg", &clock_, &removed).ok());
  EXPECT_FALSE(removed);
  EXPECT_FALSE(
      std::filesystem::exists(std::filesystem::symlink_status(Abs("msg"))));

  Link("msg", "text", 10);
  ASSERT_TRUE(RemoveIfPresent(root_.c_str(), "msg", &clock_, &removed).ok());
  EXPECT_TRUE(removed);
  std::string value;
  uint64_t stamp = 0;
  ASSERT_TRUE(Raw("msg", &value, &stamp));
  EXPECT_EQ(value, tree::kTombstoneValue);
  EXPECT_EQ(stamp, clock_.Latest());

  ASSERT_TRUE(RemoveIfPresent(root_.c_str(), "msg", &clock_, &removed).ok());
  EXPECT_FALSE(removed);
  uint64_t again = 0;
  ASSERT_TRUE(Raw("msg", &value, &again));
  EXPECT_EQ(again, stamp);
  char buffer[8];
  size_t size = 0;
  EXPECT_EQ(ReadValue(root_.c_str(), "msg", buffer, sizeof(buffer), &size,
                      nullptr, nullptr)
                .code(),
            StatusCode::kNotFound);
}

TEST_F(TreeLinksTest, RemoveIfPresentReplacesARegularFile) {
  std::filesystem::create_directories(Abs("resource-r0"));
  std::ofstream(Abs("resource-r0/log-000000001-hostA")) << "records";
  bool removed = false;
  ASSERT_TRUE(RemoveIfPresent(root_.c_str(), "resource-r0/log-000000001-hostA",
                              &clock_, &removed)
                  .ok());
  EXPECT_TRUE(removed);
  std::string value;
  uint64_t stamp = 0;
  ASSERT_TRUE(Raw("resource-r0/log-000000001-hostA", &value, &stamp));
  EXPECT_EQ(value, tree::kTombstoneValue);
}

TEST_F(TreeLinksTest, EnsureDirectoryCreatesMissingParents) {
  ASSERT_TRUE(EnsureDirectory(root_.c_str(), "resource-r0/actual-hostA").ok());
  EXPECT_TRUE(std::filesystem::is_directory(Abs("resource-r0/actual-hostA")));
  ASSERT_TRUE(EnsureDirectory(root_.c_str(), "resource-r0/actual-hostA").ok());
  ASSERT_TRUE(EnsureDirectory(root_.c_str(), "actual-hostA").ok());
  EXPECT_TRUE(std::filesystem::is_directory(Abs("actual-hostA")));
  Link("file", "x", 1);
  EXPECT_FALSE(EnsureDirectory(root_.c_str(), "file/sub").ok());
  EXPECT_FALSE(EnsureDirectory((root_ + "/absent").c_str(), "a").ok());
}

TEST_F(TreeLinksTest, RelPathBuildsAndBoundsPaths) {
  RelPath path;
  path.Add("resource-").Add("r0").Add("/log-").AddDecimal(17);
  EXPECT_TRUE(path.ok());
  EXPECT_STREQ(path.c_str(), "resource-r0/log-17");
  EXPECT_EQ(path.size(), 18u);

  RelPath full;
  const std::string long_piece(tree::kMaxPathBytes, 'a');
  full.Add(long_piece.c_str());
  EXPECT_TRUE(full.ok());
  full.Add("b").Add("c");
  EXPECT_FALSE(full.ok());
  EXPECT_EQ(full.size(), 0u);
  bool written = true;
  EXPECT_EQ(WriteValueIfChanged(root_.c_str(), full.c_str(), Slice("1", 1),
                                &clock_, &written)
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(written);
}

}  // namespace
}  // namespace engine
}  // namespace mars
