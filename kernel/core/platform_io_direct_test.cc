// Contract tests of platform::File's direct reads (core/platform_io.h),
// run against the userspace platform (O_DIRECT): alignment, the bytes read
// (also bytes still dirty in the page cache) past the page cache, the end
// of the file, refused misaligned reads, the second open file, Close() and
// Swap(); DirectRead, the same read running while its starter goes on. Skipped
// where the file system of the temporary directory cannot read directly
// (tmpfs).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/platform_io.h"
#include "core/platform_io_test_util.h"
#include "platform_user.h"

namespace mars {
namespace platform {
namespace {

using test::Pattern;
using test::TempDir;

constexpr size_t kBufferBytes = 1 << 20;

// Descriptors of this process open with O_DIRECT (the userspace platform's
// second open file).
int DirectDescriptors() {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = atoi(entry.path().filename().c_str());
    const int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_DIRECT) != 0) count++;
  }
  return count;
}

// What statx reports for direct reads of `path` ({0, 0}: nothing), asked
// here independently of the platform.
File::DirectAlignment StatxDirectAlignment(const std::string& path) {
  File::DirectAlignment alignment;
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) return alignment;
  struct statx stx = {};
  if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
      (stx.stx_mask & STATX_DIOALIGN) != 0) {
    alignment.offset = stx.stx_dio_offset_align;
    alignment.memory = stx.stx_dio_mem_align;
  }
  close(fd);
  return alignment;
}

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
    const File::DirectAlignment reported = StatxDirectAlignment(path_);
    direct_before_ = DirectDescriptors();
    alignment_ = file_.DirectReadAlignment();
    if (!reported.supported()) {
      ASSERT_FALSE(alignment_.supported());
      GTEST_SKIP() << "the file system of " << path_
                   << " cannot read with direct I/O";
    }
    ASSERT_EQ(alignment_.offset, reported.offset);
    ASSERT_EQ(alignment_.memory, reported.memory);
    ASSERT_LE(alignment_.offset, 4096u);
    ASSERT_LE(alignment_.memory, 4096u);
  }

  TempDir dir_;
  std::string path_;
  File file_;
  std::string data_;
  File::DirectAlignment alignment_;
  int direct_before_ = 0;  // O_DIRECT descriptors before the first probe
};

TEST_F(PlatformIoDirectTest, OpensOneDirectFileUntilClose) {
  EXPECT_EQ(DirectDescriptors(), direct_before_ + 1);
  EXPECT_EQ(file_.DirectReadAlignment().memory, alignment_.memory);
  EXPECT_EQ(DirectDescriptors(), direct_before_ + 1);  // not opened again
  file_.Close();
  EXPECT_EQ(DirectDescriptors(), direct_before_);
}

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

// Pages of [offset, offset + size) of the file at `path` in the page cache.
size_t CachedPages(const std::string& path, uint64_t offset, size_t size) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SIZE_MAX;
  void* map = mmap(nullptr, offset + size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return SIZE_MAX;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((offset + size + page - 1) / page);
  size_t cached = SIZE_MAX;
  if (mincore(map, offset + size, resident.data()) == 0) {
    cached = 0;
    for (size_t i = offset / page; i < resident.size(); ++i) {
      cached += resident[i] & 1;
    }
  }
  munmap(map, offset + size);
  return cached;
}

// Evicts the file's clean pages from the page cache; false if some stay.
bool DropCachedPages(const std::string& path, uint64_t size) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool dropped = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
  close(fd);
  return dropped && CachedPages(path, 0, size) == 0;
}

TEST_F(PlatformIoDirectTest, ReadsBypassThePageCache) {
  if (!DropCachedPages(path_, data_.size())) {
    GTEST_SKIP() << "cannot evict " << path_ << " from the page cache";
  }
  WriteBuffer buffer;
  size_t done = 0;
  ASSERT_TRUE(file_.ReadDirect(0, buffer.data(), 64 * 1024, &done).ok());
  EXPECT_EQ(done, 64 * 1024u);
  EXPECT_EQ(std::memcmp(buffer.data(), data_.data(), done), 0);
  EXPECT_EQ(CachedPages(path_, 0, 64 * 1024), 0u);
  // Buffered reads fill it (mincore sees the cache).
  ASSERT_TRUE(file_.Read(0, buffer.data(), 64 * 1024, &done).ok());
  EXPECT_GT(CachedPages(path_, 0, 64 * 1024), 0u);
}

// Cached(): true while the pages at both ends of the range are in the page
// cache, false once either is not; asking reads nothing into it.
TEST_F(PlatformIoDirectTest, CachedTellsWhetherThePageCacheHoldsTheRange) {
  EXPECT_TRUE(file_.Cached(0, data_.size()));  // just written
  EXPECT_TRUE(file_.Cached(5000, 1));
  EXPECT_FALSE(file_.Cached(0, 0));
  if (!DropCachedPages(path_, data_.size())) {
    GTEST_SKIP() << "cannot evict " << path_ << " from the page cache";
  }
  EXPECT_FALSE(file_.Cached(0, data_.size()));
  EXPECT_FALSE(file_.Cached(64 * 1024, 4096));
  EXPECT_EQ(CachedPages(path_, 0, data_.size()), 0u);  // asking read nothing
  WriteBuffer buffer;
  size_t done = 0;
  ASSERT_TRUE(file_.Read(0, buffer.data(), 8192, &done).ok());
  EXPECT_TRUE(file_.Cached(0, 8192));
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

TEST_F(PlatformIoDirectTest, ShortReadWhereTheFileEndsInsideABlock) {
  const std::string tail = Pattern(100, 11);
  ASSERT_TRUE(file_.Write(data_.size(), tail.data(), tail.size()).ok());
  WriteBuffer buffer;
  size_t done = 0;
  const uint64_t offset = data_.size() - 4096;
  ASSERT_TRUE(file_.ReadDirect(offset, buffer.data(), 16 * 1024, &done).ok());
  EXPECT_EQ(done, 4096 + tail.size());
  EXPECT_EQ(std::memcmp(buffer.data(), data_.data() + offset, 4096), 0);
  EXPECT_EQ(std::memcmp(buffer.data() + 4096, tail.data(), tail.size()), 0);
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
  // At the end of the file, where the file system itself reads nothing
  // without looking at the alignment (ext4, XFS): only ReadDirect's own
  // checks refuse these.
  const uint64_t end = data_.size();
  EXPECT_EQ(file_.ReadDirect(end + a / 2, buffer.data(), a, &done).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(file_.ReadDirect(end, buffer.data(), a / 2, &done).code(),
            StatusCode::kInvalidArgument);
  if (alignment_.memory > 1) {
    EXPECT_EQ(file_.ReadDirect(end, buffer.data() + 1, a, &done).code(),
              StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(done, 0u);
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
  // The swapped file knows it probed: asking again opens nothing.
  const int direct = DirectDescriptors();
  EXPECT_EQ(other.DirectReadAlignment().offset, alignment_.offset);
  EXPECT_EQ(DirectDescriptors(), direct);
  EXPECT_FALSE(file_.DirectReadAlignment().supported());
}

// DirectRead: the same read, running while the starter goes on. The
// userspace platform runs it in a thread; with a delay the buffer keeps its
// old bytes until the read really happens.
TEST_F(PlatformIoDirectTest, DirectReadRunsUntilWaitedFor) {
  WriteBuffer buffer;
  const size_t size = 128 * 1024;
  std::memset(buffer.data(), 0xA5, size);
  test::SetDirectReadDelayForTest(50ull * 1000 * 1000);
  DirectRead read;
  ASSERT_TRUE(read.Start(&file_, 4096, buffer.data(), size).ok());
  EXPECT_TRUE(read.running());
  EXPECT_EQ(buffer.data()[0], 0xA5);  // not read yet: 50 ms to go
  size_t done = 0;
  ASSERT_TRUE(read.Wait(&done).ok());
  test::SetDirectReadDelayForTest(0);
  EXPECT_FALSE(read.running());
  EXPECT_EQ(done, size);
  EXPECT_EQ(std::memcmp(buffer.data(), data_.data() + 4096, size), 0);
  // The object takes the next read.
  ASSERT_TRUE(
      read.Start(&file_, data_.size() - 4096, buffer.data(), 8192).ok());
  ASSERT_TRUE(read.Wait(&done).ok());
  EXPECT_EQ(done, 4096u);  // the end of the file
  EXPECT_EQ(
      std::memcmp(buffer.data(), data_.data() + data_.size() - 4096, 4096), 0);
}

TEST_F(PlatformIoDirectTest, DirectReadRefusesAtOnce) {
  WriteBuffer buffer;
  DirectRead read;
  const size_t a = alignment_.offset;
  EXPECT_EQ(read.Start(&file_, a / 2 + 1, buffer.data(), a).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(read.running());
  EXPECT_EQ(read.Start(&file_, 0, buffer.data(), a + 1).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(read.running());
  File closed;
  EXPECT_EQ(read.Start(&closed, 0, buffer.data(), a).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(read.running());
}

TEST_F(PlatformIoDirectTest, DirectReadIsWaitedForWhenDestroyed) {
  WriteBuffer buffer;
  std::memset(buffer.data(), 0xA5, 4096);
  test::SetDirectReadDelayForTest(20ull * 1000 * 1000);
  {
    DirectRead read;
    ASSERT_TRUE(read.Start(&file_, 0, buffer.data(), 4096).ok());
  }
  test::SetDirectReadDelayForTest(0);
  EXPECT_EQ(std::memcmp(buffer.data(), data_.data(), 4096), 0);
}

}  // namespace
}  // namespace platform
}  // namespace mars
