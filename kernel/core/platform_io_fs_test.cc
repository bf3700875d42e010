// Contract tests of core/platform_io.h, run against the userspace platform
// (userspace/lib): files (read, write, sync, truncate, open errors,
// concurrent use), links (value and stamp, limits, errors, atomic
// replacement, removal) and directories (creation, listing with types,
// early stop, filesystem space).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/base/status.h"
#include "core/platform_io.h"
#include "core/platform_io_test_util.h"

namespace mars {
namespace platform {
namespace {

using test::Pattern;
using test::ReadWholeFile;
using test::TempDir;
using test::WriteWholeFile;

namespace fs = std::filesystem;

TEST(PlatformIoFileTest, WriteReadSyncTruncateSize) {
  TempDir dir;
  const std::string path = dir / "log-1";
  File file;
  ASSERT_TRUE(file.Open(path.c_str(), File::kRead | File::kWrite |
                                          File::kCreate | File::kExclusive)
                  .ok());
  EXPECT_TRUE(file.is_open());
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const std::string data = Pattern(10000, 3);
  ASSERT_TRUE(file.Write(4096, data.data(), data.size()).ok());
  ASSERT_TRUE(file.Write(0, "head", 4).ok());
  EXPECT_TRUE(file.Sync(0, 4096 + data.size()).ok());
  uint64_t size = 0;
  ASSERT_TRUE(file.Size(&size).ok());
  EXPECT_EQ(size, 4096 + data.size());

  std::string back(data.size(), '\0');
  size_t done = 0;
  ASSERT_TRUE(file.Read(4096, back.data(), back.size(), &done).ok());
  EXPECT_EQ(done, data.size());
  EXPECT_EQ(back, data);
  // At the end of the file a read is short, past it empty.
  ASSERT_TRUE(file.Read(size - 10, back.data(), 100, &done).ok());
  EXPECT_EQ(done, 10u);
  ASSERT_TRUE(file.Read(size + 5, back.data(), 100, &done).ok());
  EXPECT_EQ(done, 0u);

  ASSERT_TRUE(file.Truncate(3).ok());
  ASSERT_TRUE(file.Size(&size).ok());
  EXPECT_EQ(size, 3u);
  file.Close();
  file.Close();  // idempotent
  EXPECT_FALSE(file.is_open());
  EXPECT_EQ(ReadWholeFile(path), "hea");
}

TEST(PlatformIoFileTest, OpenErrors) {
  TempDir dir;
  const std::string path = dir / "f";
  File file;
  Status status = file.Open((dir / "missing").c_str(), File::kRead);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_STREQ(status.message(), "no such file or directory (errno 2)");
  EXPECT_EQ(file.Open((dir / "no-dir/f").c_str(), File::kWrite | File::kCreate)
                .code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(file.Open(path.c_str(), File::kWrite | File::kCreate).ok());
  // Open on an open File is refused; the first stays usable.
  EXPECT_FALSE(file.Open(path.c_str(), File::kRead).ok());
  EXPECT_TRUE(file.Write(0, "x", 1).ok());
  file.Close();

  File other;
  EXPECT_EQ(
      other.Open(path.c_str(), File::kWrite | File::kCreate | File::kExclusive)
          .code(),
      StatusCode::kAlreadyExists);
  EXPECT_EQ(other.Open(path.c_str(), 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other.Open(dir.path().c_str(), File::kWrite).code(),
            StatusCode::kInvalidArgument);  // EISDIR
  EXPECT_FALSE(other.is_open());
  // A read-only file refuses writes.
  ASSERT_TRUE(other.Open(path.c_str(), File::kRead).ok());
  EXPECT_FALSE(other.Write(0, "y", 1).ok());
  uint64_t size = 0;
  EXPECT_TRUE(other.Size(&size).ok());
  EXPECT_EQ(size, 1u);
}

TEST(PlatformIoFileTest, ConcurrentWritesAndReads) {
  TempDir dir;
  const std::string path = dir / "f";
  File file;
  ASSERT_TRUE(
      file.Open(path.c_str(), File::kRead | File::kWrite | File::kCreate).ok());
  constexpr int kThreads = 4;
  constexpr size_t kChunk = 8192;
  constexpr int kChunksPerThread = 16;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&file, t] {
      for (int i = 0; i < kChunksPerThread; ++i) {
        const std::string data = Pattern(kChunk, t * 100 + i);
        const uint64_t offset = (i * kThreads + t) * kChunk;
        EXPECT_TRUE(file.Write(offset, data.data(), data.size()).ok());
        EXPECT_TRUE(file.Sync(offset, offset + kChunk).ok());
        std::string back(kChunk, '\0');
        size_t done = 0;
        EXPECT_TRUE(file.Read(offset, back.data(), kChunk, &done).ok());
        EXPECT_EQ(back, data);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  uint64_t size = 0;
  ASSERT_TRUE(file.Size(&size).ok());
  EXPECT_EQ(size, kThreads * kChunksPerThread * kChunk);
}

// ---------------------------------------------------------------------------

std::set<std::string> ListNames(const std::string& path) {
  std::set<std::string> names;
  EXPECT_TRUE(ListDirectory(
                  path.c_str(),
                  [](void* context, const char* name, size_t size, EntryType) {
                    static_cast<std::set<std::string>*>(context)->emplace(name,
                                                                          size);
                    return true;
                  },
                  &names)
                  .ok());
  return names;
}

struct LinkRead {
  Status status;
  std::string value;
  uint64_t stamp = 0;
};

LinkRead Read(const std::string& path, size_t capacity = kMaxLinkValueBytes) {
  std::vector<char> buffer(capacity);
  size_t size = 0;
  LinkRead result;
  result.status =
      ReadLink(path.c_str(), buffer.data(), capacity, &size, &result.stamp);
  if (result.status.ok()) result.value.assign(buffer.data(), size);
  return result;
}

TEST(PlatformIoLinkTest, WriteThenReadValueAndStamp) {
  TempDir dir;
  const std::string path = dir / "primary";
  const uint64_t stamp = 1700000000123456789ull;
  ASSERT_TRUE(WriteLink(path.c_str(), "alpha", 5, stamp).ok());
  LinkRead read = Read(path);
  ASSERT_TRUE(read.status.ok());
  EXPECT_EQ(read.value, "alpha");
  EXPECT_EQ(read.stamp, stamp);
  EXPECT_EQ(fs::read_symlink(path).string(), "alpha");

  ASSERT_TRUE(WriteLink(path.c_str(), "beta-host", 9, stamp + 1).ok());
  read = Read(path);
  EXPECT_EQ(read.value, "beta-host");
  EXPECT_EQ(read.stamp, stamp + 1);
  // The staging link never stays behind.
  EXPECT_EQ(ListNames(dir.path()), std::set<std::string>{"primary"});
}

TEST(PlatformIoLinkTest, StaleStagingLinkIsReplaced) {
  TempDir dir;
  const std::string path = dir / "x";
  ASSERT_EQ(symlink("stale", (dir / ".tmp.k.x").c_str()), 0);
  ASSERT_TRUE(WriteLink(path.c_str(), "fresh", 5, 42).ok());
  EXPECT_EQ(Read(path).value, "fresh");
  EXPECT_EQ(ListNames(dir.path()), std::set<std::string>{"x"});
}

TEST(PlatformIoLinkTest, ValueLimits) {
  TempDir dir;
  const std::string path = dir / "v";
  const std::string longest(kMaxLinkValueBytes, 'v');
  ASSERT_TRUE(WriteLink(path.c_str(), longest.data(), longest.size(), 7).ok());
  EXPECT_EQ(Read(path).value, longest);
  EXPECT_EQ(Read(path, 100).status.code(), StatusCode::kOutOfRange);
  const std::string too_long(kMaxLinkValueBytes + 1, 'v');
  EXPECT_EQ(WriteLink(path.c_str(), too_long.data(), too_long.size(), 8).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteLink(path.c_str(), "", 0, 8).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteLink(path.c_str(), "a\0b", 3, 8).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Read(path).value, longest);  // unchanged by the refusals
}

TEST(PlatformIoLinkTest, Errors) {
  TempDir dir;
  WriteWholeFile(dir / "file", "data");
  EXPECT_EQ(Read(dir / "file").status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Read(dir.path()).status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Read(dir / "missing").status.code(), StatusCode::kNotFound);
  EXPECT_EQ(WriteLink((dir / "no-dir/x").c_str(), "v", 1, 1).code(),
            StatusCode::kNotFound);
}

TEST(PlatformIoLinkTest, ReadersSeeOldOrNewNeverNone) {
  TempDir dir;
  const std::string path = dir / "link";
  ASSERT_TRUE(WriteLink(path.c_str(), "1000", 4, 1000).ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint64_t stamp = 1001; stamp < 1600; ++stamp) {
      const std::string value = std::to_string(stamp);
      EXPECT_TRUE(
          WriteLink(path.c_str(), value.data(), value.size(), stamp).ok());
    }
    stop = true;
  });
  int reads = 0;
  while (!stop) {
    const LinkRead read = Read(path);
    ASSERT_TRUE(read.status.ok()) << read.status.message();
    // Value and stamp come from the same link.
    EXPECT_EQ(read.value, std::to_string(read.stamp));
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0);
}

TEST(PlatformIoLinkTest, RemoveEntry) {
  TempDir dir;
  const std::string link = dir / "link";
  ASSERT_TRUE(WriteLink(link.c_str(), "v", 1, 1).ok());
  WriteWholeFile(dir / "file", "x");
  ASSERT_EQ(mkdir((dir / "sub").c_str(), 0755), 0);
  EXPECT_TRUE(RemoveEntry(link.c_str()).ok());
  EXPECT_EQ(Read(link).status.code(), StatusCode::kNotFound);
  EXPECT_EQ(RemoveEntry(link.c_str()).code(), StatusCode::kNotFound);
  EXPECT_TRUE(RemoveEntry((dir / "file").c_str()).ok());
  EXPECT_EQ(RemoveEntry((dir / "sub").c_str()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ListNames(dir.path()), std::set<std::string>{"sub"});
}

// ---------------------------------------------------------------------------

TEST(PlatformIoDirectoryTest, MakeDirectory) {
  TempDir dir;
  const std::string path = dir / "resource-r0";
  ASSERT_TRUE(MakeDirectory(path.c_str()).ok());
  EXPECT_TRUE(fs::is_directory(path));
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read |
                fs::perms::group_exec | fs::perms::others_read |
                fs::perms::others_exec);
  EXPECT_TRUE(MakeDirectory(path.c_str()).ok());  // exists: fine
  WriteWholeFile(dir / "file", "x");
  EXPECT_EQ(MakeDirectory((dir / "file").c_str()).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(MakeDirectory((dir / "a/b").c_str()).code(), StatusCode::kNotFound);
}

TEST(PlatformIoDirectoryTest, ListsEntriesWithTypes) {
  TempDir dir;
  WriteWholeFile(dir / "file", "x");
  ASSERT_EQ(mkdir((dir / "sub").c_str(), 0755), 0);
  ASSERT_TRUE(WriteLink((dir / "link").c_str(), "target", 6, 5).ok());
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  std::vector<std::pair<std::string, EntryType>> entries;
  ASSERT_TRUE(
      ListDirectory(
          dir.path().c_str(),
          [](void* context, const char* name, size_t size, EntryType type) {
            static_cast<std::vector<std::pair<std::string, EntryType>>*>(
                context)
                ->emplace_back(std::string(name, size), type);
            return true;
          },
          &entries)
          .ok());
  std::sort(entries.begin(), entries.end());
  const std::vector<std::pair<std::string, EntryType>> expected = {
      {"fifo", EntryType::kOther},
      {"file", EntryType::kFile},
      {"link", EntryType::kLink},
      {"sub", EntryType::kDirectory},
  };
  EXPECT_EQ(entries, expected);
}

TEST(PlatformIoDirectoryTest, StopsEarlyAndReportsErrors) {
  TempDir dir;
  for (int i = 0; i < 10; ++i) WriteWholeFile(dir / std::to_string(i), "x");
  int visits = 0;
  ASSERT_TRUE(ListDirectory(
                  dir.path().c_str(),
                  [](void* context, const char*, size_t, EntryType) {
                    return ++*static_cast<int*>(context) < 3;
                  },
                  &visits)
                  .ok());
  EXPECT_EQ(visits, 3);
  auto never = [](void*, const char*, size_t, EntryType) { return true; };
  EXPECT_EQ(ListDirectory((dir / "missing").c_str(), never, nullptr).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ListDirectory((dir / "0").c_str(), never, nullptr).code(),
            StatusCode::kInvalidArgument);  // ENOTDIR
  int empty_visits = 0;
  ASSERT_EQ(mkdir((dir / "empty").c_str(), 0755), 0);
  ASSERT_TRUE(ListDirectory((dir / "empty").c_str(),
                            [](void* context, const char*, size_t, EntryType) {
                              ++*static_cast<int*>(context);
                              return true;
                            },
                            &empty_visits)
                  .ok());
  EXPECT_EQ(empty_visits, 0);
}

TEST(PlatformIoDirectoryTest, FilesystemSpace) {
  TempDir dir;
  uint64_t free_bytes = 0;
  uint64_t total_bytes = 0;
  ASSERT_TRUE(
      FilesystemSpace(dir.path().c_str(), &free_bytes, &total_bytes).ok());
  EXPECT_GT(total_bytes, 0u);
  EXPECT_LE(free_bytes, total_bytes);
  EXPECT_EQ(
      FilesystemSpace((dir / "missing").c_str(), &free_bytes, &total_bytes)
          .code(),
      StatusCode::kNotFound);
}

}  // namespace
}  // namespace platform
}  // namespace mars
