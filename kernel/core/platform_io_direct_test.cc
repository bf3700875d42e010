// Contract tests of platform::File's direct reads (core/platform_io.h),
// run against the userspace platform (O_DIRECT): alignment, the bytes read
// (also bytes still dirty in the page cache), the end of the file, refused
// misaligned reads, Close() and Swap(). Skipped where the file system of
// the temporary directory cannot read directly (tmpfs before Linux 6.6).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "core/base/status.h"
#include "core/platform_io.h"
#include "core/platform_io_test_util.h"

namespace mars {
namespace platform {
namespace {

using test::Pattern;
using test::TempDir;

constexpr size_t kBufferBytes = 1 << 20;

// A write buffer (as replay's stages), freed at the end of the scope.
class WriteBuffer {
 public:
  WriteBuffer()
      : data_(static_cast<uint8_t*>(AllocateWriteBuffer(kBufferBytes))) {}
  ~WriteBuffer() { FreeWriteBuffer(data_); }
  uint8_t* data() const { return data_; }

 private:
  uint8_t* data_;
};

class PlatformIoDirectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "log-1";
    ASSERT_TRUE(
        file_.Open(path_.c_str(), File::kRead | File::kWrite | File::kCreate)
            .ok());
    data_ = Pattern(256 * 1024, 9);
    ASSERT_TRUE(file_.Write(0, data_.data(), data_.size()).ok());
    ASSERT_TRUE(file_.Sync(0, data_.size()).ok());
    alignment_ = file_.DirectReadAlignment();
    if (!alignment_.supported()) {
      GTEST_SKIP() << "the file system of " << path_
                   << " cannot read with direct I/O";
    }
    ASSERT_LE(alignment_.offset, 4096u);
    ASSERT_LE(alignment_.memory, 4096u);
  }

  TempDir dir_;
  std::string path_;
  File file_;
  std::string data_;
  File::DirectAlignment alignment_;
};

TEST_F(PlatformIoDirectTest, ReadsTheBytesReadWouldGive) {
  WriteBuffer buffer;
  ASSERT_NE(buffer.data(), nullptr);
  // Aligned, but not on a page boundary where the file system allows it.
  const size_t at = std::max<size_t>(alignment_.memory, 512);
  const uint64_t offset = 8 * 4096;
  const size_t size = 64 * 1024;
  size_t done = 0;
  ASSERT_TRUE(file_.ReadDirect(offset, buffer.data() + at, size, &done).ok());
  EXPECT_EQ(done, size);
  EXPECT_EQ(std::memcmp(buffer.data() + at, data_.data() + offset, size), 0);
  // Asking again reuses the second open file.
  EXPECT_EQ(file_.DirectReadAlignment().offset, alignment_.offset);
}

TEST_F(PlatformIoDirectTest, ReadsBytesNotYetWrittenBack) {
  const std::string fresh = Pattern(16 * 1024, 10);
  ASSERT_TRUE(file_.Write(4096, fresh.data(), fresh.size()).ok());  // no sync
  WriteBuffer buffer;
  size_t done = 0;
  ASSERT_TRUE(file_.ReadDirect(0, buffer.data(), 32 * 1024, &done).ok());
  EXPECT_EQ(done, 32 * 1024u);
  EXPECT_EQ(std::memcmp(buffer.data(), data_.data(), 4096), 0);
  EXPECT_EQ(std::memcmp(buffer.data() + 4096, fresh.data(), fresh.size()), 0);
}

TEST_F(PlatformIoDirectTest, ShortReadAtTheEndOfTheFile) {
  WriteBuffer buffer;
  size_t done = 0;
  const uint64_t offset = data_.size() - 8192;
  ASSERT_TRUE(file_.ReadDirect(offset, buffer.data(), 64 * 1024, &done).ok());
  EXPECT_EQ(done, 8192u);
  EXPECT_EQ(std::memcmp(buffer.data(), data_.data() + offset, 8192), 0);
  ASSERT_TRUE(file_.ReadDirect(data_.size(), buffer.data(), 4096, &done).ok());
  EXPECT_EQ(done, 0u);
}

TEST_F(PlatformIoDirectTest, MisalignedReadsAreRefused) {
  WriteBuffer buffer;
  size_t done = 7;
  const size_t a = alignment_.offset;
  EXPECT_EQ(file_.ReadDirect(a / 2 + 1, buffer.data(), a, &done).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(done, 0u);
  EXPECT_EQ(file_.ReadDirect(0, buffer.data(), a + 1, &done).code(),
            StatusCode::kInvalidArgument);
  if (alignment_.memory > 1) {
    EXPECT_EQ(file_.ReadDirect(0, buffer.data() + 1, a, &done).code(),
              StatusCode::kInvalidArgument);
  }
}

TEST_F(PlatformIoDirectTest, CloseForgetsAndSwapMovesTheDirectState) {
  WriteBuffer buffer;
  size_t done = 0;
  file_.Close();
  EXPECT_EQ(file_.ReadDirect(0, buffer.data(), 4096, &done).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(file_.DirectReadAlignment().supported());  // closed
  ASSERT_TRUE(file_.Open(path_.c_str(), File::kRead).ok());
  EXPECT_EQ(file_.ReadDirect(0, buffer.data(), 4096, &done).code(),
            StatusCode::kInvalidArgument);  // not asked for yet
  ASSERT_TRUE(file_.DirectReadAlignment().supported());
  File other;
  other.Swap(file_);
  EXPECT_EQ(file_.ReadDirect(0, buffer.data(), 4096, &done).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(other.ReadDirect(4096, buffer.data(), 4096, &done).ok());
  EXPECT_EQ(done, 4096u);
  EXPECT_EQ(std::memcmp(buffer.data(), data_.data() + 4096, 4096), 0);
}

}  // namespace
}  // namespace platform
}  // namespace mars
