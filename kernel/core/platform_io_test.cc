// Contract tests of core/platform_io.h, run against the userspace platform
// (userspace/lib/platform_io_user.cc) and its test API (platform_user.h):
// files, links, directories, backing block devices and the synchronous
// helpers, exported devices, the trigger, tunables and counters.
#include "core/platform_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/base/status.h"
#include "core/platform.h"
#include "platform_user.h"

namespace mars {
namespace platform {
namespace {

namespace fs = std::filesystem;

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && base[0] != '\0' ? base : "/tmp") +
        "/mars-platform-io-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

void WriteWholeFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::string Pattern(size_t size, int seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i * 7 + seed);
  return s;
}

// ---------------------------------------------------------------------------

TEST(PlatformIoBasicsTest, MonotonicClockAdvances) {
  const uint64_t a = MonotonicNs();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_GE(MonotonicNs() - a, 2'000'000u);
}

TEST(PlatformIoBasicsTest, RandomBytesDiffer) {
  uint8_t a[32] = {};
  uint8_t b[32] = {};
  RandomBytes(a, sizeof(a));
  RandomBytes(b, sizeof(b));
  EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
}

TEST(PlatformIoBasicsTest, HostNameStopsAtFirstDotAndChecksCapacity) {
  char name[64];
  test::SetHostNameForTest("alpha.example.org");
  EXPECT_EQ(HostName(name, sizeof(name)), 5u);
  EXPECT_STREQ(name, "alpha");
  EXPECT_EQ(HostName(name, 5), 0u);  // no room for the NUL
  EXPECT_EQ(HostName(name, 6), 5u);
  test::SetHostNameForTest(nullptr);
  struct utsname uts;
  ASSERT_EQ(uname(&uts), 0);
  const std::string expected(uts.nodename, strcspn(uts.nodename, "."));
  EXPECT_EQ(HostName(name, sizeof(name)), expected.size());
  EXPECT_EQ(std::string(name), expected);
}

TEST(PlatformIoBasicsTest, IoBuffersArePageAligned) {
  void* buffer = AllocateIoBuffer(1 << 20, Gfp::kNoIo);
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer) % 4096, 0u);
  memset(buffer, 0xA5, 1 << 20);
  FreeIoBuffer(buffer);
  void* small = AllocateIoBuffer(100, Gfp::kKernel);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % 4096, 0u);
  FreeIoBuffer(small);
}

// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Backing block devices.

// A 1 MiB "device" file with a known pattern; its test state is reset.
class DeviceFile {
 public:
  explicit DeviceFile(const TempDir& dir, size_t size = 1 << 20)
      : path_(dir / "disk"), contents_(Pattern(size, 11)) {
    WriteWholeFile(path_, contents_);
    test::ResetBlockDeviceForTest(path_.c_str());
  }
  ~DeviceFile() { test::ResetBlockDeviceForTest(path_.c_str()); }
  const char* path() const { return path_.c_str(); }
  std::string OnDisk() const { return ReadWholeFile(path_); }

 private:
  std::string path_;
  std::string contents_;
};

// An I/O buffer from AllocateIoBuffer(), freed at scope exit.
class IoBuffer {
 public:
  explicit IoBuffer(size_t size)
      : data_(static_cast<char*>(AllocateIoBuffer(size, Gfp::kKernel))),
        size_(size) {}
  ~IoBuffer() { FreeIoBuffer(data_); }
  char* data() const { return data_; }
  size_t size() const { return size_; }
  std::string str() const { return std::string(data_, size_); }
  void Fill(const std::string& s) { memcpy(data_, s.data(), size_); }

 private:
  char* data_;
  size_t size_;
};

// Records the completion of one BlockDevice request.
struct Completion {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  Status status;
  std::thread::id thread;

  static void Done(BlockDevice::Request* request, Status status) {
    auto* c = static_cast<Completion*>(request->context);
    std::lock_guard<std::mutex> lock(c->mutex);
    c->done = true;
    c->status = status;
    c->thread = std::this_thread::get_id();
    c->cv.notify_all();
  }
  Status Wait() {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [this] { return done; });
    return status;
  }
};

Status RunRequest(BlockDevice& device, BlockDevice::Op op, uint64_t offset,
                  std::vector<IoVec> vecs, bool fua = false) {
  Completion completion;
  BlockDevice::Request request;
  request.op = op;
  request.fua = fua;
  request.offset = offset;
  for (const IoVec& v : vecs) request.size += v.size;
  request.vecs = vecs.data();
  request.vec_count = vecs.size();
  request.done = Completion::Done;
  request.context = &completion;
  device.Submit(&request);
  return completion.Wait();
}

TEST(PlatformIoBlockDeviceTest, OpenIsExclusive) {
  TempDir dir;
  DeviceFile file(dir);
  BlockDevice device;
  ASSERT_TRUE(device.Open(file.path()).ok());
  EXPECT_TRUE(device.is_open());
  EXPECT_EQ(device.size(), 1u << 20);
  BlockDevice second;
  const Status busy = second.Open(file.path());
  EXPECT_EQ(busy.code(), StatusCode::kUnavailable);
  EXPECT_STREQ(busy.message(), "device or resource busy (errno 16)");
  EXPECT_FALSE(second.is_open());
  device.Close();
  device.Close();  // idempotent
  EXPECT_EQ(device.size(), 0u);
  EXPECT_TRUE(second.Open(file.path()).ok());
  BlockDevice other;
  EXPECT_EQ(other.Open((dir / "missing").c_str()).code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(other.Open(dir.path().c_str()).ok());
}

TEST(PlatformIoBlockDeviceTest, SubmitWithSeveralVecs) {
  TempDir dir;
  DeviceFile file(dir);
  BlockDevice device;
  ASSERT_TRUE(device.Open(file.path()).ok());
  IoBuffer a(4096), b(512), c(3584);
  const std::string data = Pattern(8192, 5);
  memcpy(a.data(), data.data(), 4096);
  memcpy(b.data(), data.data() + 4096, 512);
  memcpy(c.data(), data.data() + 4608, 3584);

  // Synchronous userspace I/O completes before Submit() returns.
  Completion completion;
  std::vector<IoVec> vecs = {
      {a.data(), 4096}, {b.data(), 512}, {c.data(), 3584}};
  BlockDevice::Request request;
  request.op = BlockDevice::Op::kWrite;
  request.offset = 65536;
  request.size = 8192;
  request.vecs = vecs.data();
  request.vec_count = vecs.size();
  request.done = Completion::Done;
  request.context = &completion;
  device.Submit(&request);
  EXPECT_TRUE(completion.done);
  EXPECT_TRUE(completion.status.ok());
  EXPECT_EQ(file.OnDisk().substr(65536, 8192), data);

  IoBuffer x(1024), y(7168);
  ASSERT_TRUE(RunRequest(device, BlockDevice::Op::kRead, 65536,
                         {{x.data(), 1024}, {y.data(), 7168}})
                  .ok());
  EXPECT_EQ(x.str() + y.str(), data);
}

TEST(PlatformIoBlockDeviceTest, CountsFlushesAndFuaWrites) {
  TempDir dir;
  DeviceFile file(dir);
  BlockDevice device;
  ASSERT_TRUE(device.Open(file.path()).ok());
  IoBuffer buffer(4096);
  buffer.Fill(Pattern(4096, 1));
  ASSERT_TRUE(RunRequest(device, BlockDevice::Op::kWrite, 0,
                         {{buffer.data(), 4096}}, true)
                  .ok());
  ASSERT_TRUE(
      RunRequest(device, BlockDevice::Op::kWrite, 4096, {{buffer.data(), 4096}})
          .ok());
  ASSERT_TRUE(RunRequest(device, BlockDevice::Op::kFlush, 0, {}).ok());
  ASSERT_TRUE(
      RunRequest(device, BlockDevice::Op::kRead, 8192, {{buffer.data(), 4096}})
          .ok());
  const test::BlockDeviceStats stats =
      test::GetBlockDeviceStatsForTest(file.path());
  EXPECT_EQ(stats.reads, 1u);
  EXPECT_EQ(stats.writes, 2u);
  EXPECT_EQ(stats.fua_writes, 1u);
  EXPECT_EQ(stats.flushes, 1u);
  EXPECT_EQ(stats.bytes_read, 4096u);
  EXPECT_EQ(stats.bytes_written, 8192u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST(PlatformIoBlockDeviceTest, RefusesMalformedRequests) {
  TempDir dir;
  DeviceFile file(dir);
  const std::string before = file.OnDisk();
  BlockDevice device;
  ASSERT_TRUE(device.Open(file.path()).ok());
  IoBuffer buffer(4096);
  using Op = BlockDevice::Op;
  EXPECT_EQ(RunRequest(device, Op::kWrite, 100, {{buffer.data(), 512}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(RunRequest(device, Op::kWrite, 0, {{buffer.data(), 100}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      RunRequest(device, Op::kRead, (1 << 20) - 512, {{buffer.data(), 1024}})
          .code(),
      StatusCode::kIoError);  // beyond the end
  EXPECT_EQ(RunRequest(device, Op::kFlush, 0, {{buffer.data(), 512}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(file.OnDisk(), before);
  EXPECT_EQ(test::GetBlockDeviceStatsForTest(file.path()).failed, 4u);
}

TEST(PlatformIoBlockDeviceTest, InjectedFailures) {
  TempDir dir;
  DeviceFile file(dir);
  const std::string before = file.OnDisk();
  BlockDevice device;
  ASSERT_TRUE(device.Open(file.path()).ok());
  IoBuffer buffer(4096);
  buffer.Fill(Pattern(4096, 77));
  using Op = BlockDevice::Op;
  test::FailBlockDeviceOpsForTest(file.path(), Op::kWrite, 2);
  test::FailBlockDeviceOpsForTest(file.path(), Op::kFlush, 1);
  for (int i = 0; i < 2; ++i) {
    const Status status =
        RunRequest(device, Op::kWrite, 0, {{buffer.data(), 4096}}, i == 1);
    EXPECT_EQ(status.code(), StatusCode::kIoError);
    EXPECT_STREQ(status.message(), "input/output error (errno 5)");
  }
  EXPECT_EQ(file.OnDisk(), before);  // failed writes wrote nothing
  EXPECT_EQ(RunRequest(device, Op::kFlush, 0, {}).code(), StatusCode::kIoError);
  EXPECT_TRUE(RunRequest(device, Op::kWrite, 0, {{buffer.data(), 4096}}).ok());
  EXPECT_TRUE(RunRequest(device, Op::kFlush, 0, {}).ok());
  EXPECT_EQ(file.OnDisk().substr(0, 4096), buffer.str());
  const test::BlockDeviceStats stats =
      test::GetBlockDeviceStatsForTest(file.path());
  EXPECT_EQ(stats.failed, 3u);
  EXPECT_EQ(stats.writes, 3u);
  EXPECT_EQ(stats.flushes, 2u);
}

TEST(PlatformIoBlockDeviceTest, AsyncModeCompletesFromAnotherThread) {
  TempDir dir;
  DeviceFile file(dir);
  test::SetBlockDeviceAsyncForTest(file.path(), true);
  BlockDevice device;
  ASSERT_TRUE(device.Open(file.path()).ok());
  IoBuffer buffer(4096);
  buffer.Fill(Pattern(4096, 9));
  Completion completion;
  IoVec vec{buffer.data(), 4096};
  BlockDevice::Request request;
  request.op = BlockDevice::Op::kWrite;
  request.offset = 4096;
  request.size = 4096;
  request.vecs = &vec;
  request.vec_count = 1;
  request.done = Completion::Done;
  request.context = &completion;
  device.Submit(&request);
  EXPECT_TRUE(completion.Wait().ok());
  EXPECT_NE(completion.thread, std::this_thread::get_id());
  EXPECT_EQ(file.OnDisk().substr(4096, 4096), buffer.str());
}

// ---------------------------------------------------------------------------
// ReadSync / WriteSync / FlushSync (core/io/block_device_sync.cc).

void RoundTripSync(bool async) {
  TempDir dir;
  DeviceFile file(dir);
  test::SetBlockDeviceAsyncForTest(file.path(), async);
  BlockDevice device;
  ASSERT_TRUE(device.Open(file.path()).ok());
  IoBuffer out(8192), in(8192);
  // Many rounds: each may meet `done` at a different point of the wait.
  for (int round = 0; round < 100; ++round) {
    out.Fill(Pattern(8192, round));
    const uint64_t offset = (round % 64) * 8192ull;
    ASSERT_TRUE(device.WriteSync(offset, out.data(), out.size()).ok());
    ASSERT_TRUE(device.ReadSync(offset, in.data(), in.size()).ok());
    ASSERT_EQ(in.str(), out.str());
  }
  ASSERT_TRUE(device.FlushSync().ok());
  const test::BlockDeviceStats stats =
      test::GetBlockDeviceStatsForTest(file.path());
  EXPECT_EQ(stats.writes, 100u);
  EXPECT_EQ(stats.reads, 100u);
  EXPECT_EQ(stats.flushes, 1u);
}

TEST(PlatformIoSyncHelpersTest, RoundTripInlineCompletion) {
  RoundTripSync(false);
}

TEST(PlatformIoSyncHelpersTest, RoundTripCompletionFromAnotherThread) {
  RoundTripSync(true);
}

TEST(PlatformIoSyncHelpersTest, ErrorsArriveAsStatus) {
  TempDir dir;
  DeviceFile file(dir);
  BlockDevice device;
  ASSERT_TRUE(device.Open(file.path()).ok());
  IoBuffer buffer(4096);
  test::FailBlockDeviceOpsForTest(file.path(), BlockDevice::Op::kWrite, 1);
  test::FailBlockDeviceOpsForTest(file.path(), BlockDevice::Op::kFlush, 1);
  EXPECT_EQ(device.WriteSync(0, buffer.data(), 4096).code(),
            StatusCode::kIoError);
  EXPECT_EQ(device.FlushSync().code(), StatusCode::kIoError);
  EXPECT_EQ(device.ReadSync(1 << 20, buffer.data(), 4096).code(),
            StatusCode::kIoError);
  EXPECT_TRUE(device.WriteSync(0, buffer.data(), 4096).ok());
}

// A thread asked to stop still waits for its request: the request owns the
// caller's buffer until `done` ran.
struct StoppingReader {
  BlockDevice* device;
  IoBuffer* buffer;
  std::atomic<int> reads{0};
  std::atomic<bool> last_ok{false};
  std::atomic<bool> saw_stop{false};
};

void ReadUntilStopped(void* context) {
  auto* r = static_cast<StoppingReader*>(context);
  while (!Thread::ShouldStop()) {
    EXPECT_TRUE(r->device->ReadSync(0, r->buffer->data(), 4096).ok());
    ++r->reads;
  }
  r->saw_stop = true;
  r->last_ok = r->device->ReadSync(0, r->buffer->data(), 4096).ok();
}

TEST(PlatformIoSyncHelpersTest, StoppingThreadStillWaitsForCompletion) {
  TempDir dir;
  DeviceFile file(dir);
  test::SetBlockDeviceAsyncForTest(file.path(), true);
  BlockDevice device;
  ASSERT_TRUE(device.Open(file.path()).ok());
  IoBuffer buffer(4096);
  StoppingReader reader{&device, &buffer};
  Thread thread;
  ASSERT_TRUE(
      thread.Start("reader", ReadUntilStopped, &reader, Gfp::kKernel).ok());
  while (reader.reads < 5) std::this_thread::yield();
  thread.Stop();
  EXPECT_TRUE(reader.saw_stop);
  EXPECT_TRUE(reader.last_ok);
  EXPECT_EQ(buffer.str(), file.OnDisk().substr(0, 4096));
}

// ---------------------------------------------------------------------------
// Exported devices, driven through the test client.

// A RAM disk standing in for the engine. With `defer_writes`, writes are
// only completed by ReleaseWrites() (from the test thread), while reads and
// flushes complete inline.
class RamEngine {
 public:
  explicit RamEngine(size_t size) : memory_(size, '\0') {}

  static void Submit(void* context, FrontRequest* request) {
    static_cast<RamEngine*>(context)->Handle(request);
  }

  void set_defer_writes(bool defer) { defer_writes_ = defer; }
  int submits() const { return submits_; }
  size_t deferred() {
    std::lock_guard<std::mutex> lock(mutex_);
    return deferred_.size();
  }
  void ReleaseWrites() {
    std::deque<FrontRequest*> requests;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests.swap(deferred_);
    }
    for (FrontRequest* request : requests) Execute(request);
  }
  std::string Bytes(size_t offset, size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    return memory_.substr(offset, size);
  }

  // Blocks the next submit call until Unblock(); Entered() tells when the
  // call is inside.
  void BlockNextSubmit() { block_ = true; }
  bool Entered() const { return entered_; }
  void Unblock() {
    std::lock_guard<std::mutex> lock(mutex_);
    block_ = false;
    unblocked_.notify_all();
  }

 private:
  void Handle(FrontRequest* request) {
    ++submits_;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (block_) {
        entered_ = true;
        unblocked_.wait(lock, [this] { return !block_; });
      }
      if (defer_writes_ && request->op == FrontOp::kWrite) {
        deferred_.push_back(request);
        return;
      }
    }
    Execute(request);
  }

  void Execute(FrontRequest* request) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      uint64_t offset = request->offset;
      for (size_t i = 0; i < request->vec_count; ++i) {
        const IoVec& vec = request->vecs[i];
        if (request->op == FrontOp::kWrite) {
          memory_.replace(offset, vec.size, static_cast<char*>(vec.data),
                          vec.size);
        } else if (request->op == FrontOp::kRead) {
          memcpy(vec.data, memory_.data() + offset, vec.size);
        }
        offset += vec.size;
      }
    }
    CompleteFrontRequest(request, Status::Ok());
  }

  std::mutex mutex_;
  std::condition_variable unblocked_;
  std::string memory_;
  std::deque<FrontRequest*> deferred_;
  std::atomic<bool> defer_writes_{false};
  std::atomic<int> submits_{0};
  bool block_ = false;  // protected by mutex_
  std::atomic<bool> entered_{false};
};

constexpr uint64_t kDiskBytes = 1 << 20;

TEST(PlatformIoFrontDiskTest, CreateWriteReadFlush) {
  RamEngine engine(kDiskBytes);
  FrontDisk disk;
  ASSERT_TRUE(
      disk.Create("pio-r0", kDiskBytes, RamEngine::Submit, &engine).ok());
  EXPECT_TRUE(disk.exists());
  EXPECT_EQ(test::FrontDiskSizeForTest("pio-r0"), kDiskBytes);
  std::string data = Pattern(8192, 4);
  // One request split into three vecs.
  ASSERT_TRUE(test::SubmitToFrontDisk(
                  "pio-r0", FrontOp::kWrite, kFrontFua, 4096,
                  {{&data[0], 1024}, {&data[1024], 4096}, {&data[5120], 3072}})
                  .ok());
  EXPECT_EQ(engine.Bytes(4096, 8192), data);
  std::string back(8192, '\0');
  ASSERT_TRUE(test::SubmitToFrontDisk("pio-r0", FrontOp::kRead, 0, 4096,
                                      &back[0], back.size())
                  .ok());
  EXPECT_EQ(back, data);
  EXPECT_TRUE(test::SubmitToFrontDisk("pio-r0", FrontOp::kFlush, kFrontPreflush,
                                      0, nullptr, 0)
                  .ok());
  EXPECT_EQ(engine.submits(), 3);
  EXPECT_TRUE(disk.Destroy().ok());
  EXPECT_FALSE(disk.exists());
  EXPECT_TRUE(disk.Destroy().ok());  // idempotent
}

TEST(PlatformIoFrontDiskTest, CreateErrors) {
  RamEngine engine(kDiskBytes);
  FrontDisk disk;
  EXPECT_EQ(disk.Create("pio-bad", 4095, RamEngine::Submit, &engine).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(
      disk.Create("pio-dup", kDiskBytes, RamEngine::Submit, &engine).ok());
  FrontDisk same_name;
  EXPECT_EQ(same_name.Create("pio-dup", kDiskBytes, RamEngine::Submit, &engine)
                .code(),
            StatusCode::kAlreadyExists);
  EXPECT_FALSE(same_name.exists());
}

TEST(PlatformIoFrontDiskTest, RefusesMalformedRequestsBeforeSubmit) {
  RamEngine engine(kDiskBytes);
  FrontDisk disk;
  ASSERT_TRUE(
      disk.Create("pio-chk", kDiskBytes, RamEngine::Submit, &engine).ok());
  std::vector<char> buffer((2 << 20) + 4096);
  auto submit = [&](FrontOp op, uint64_t offset, size_t size) {
    return test::SubmitToFrontDisk("pio-chk", op, 0, offset,
                                   size == 0 ? nullptr : buffer.data(), size)
        .code();
  };
  EXPECT_EQ(submit(FrontOp::kWrite, 512, 4096), StatusCode::kInvalidArgument);
  EXPECT_EQ(submit(FrontOp::kWrite, 0, 512), StatusCode::kInvalidArgument);
  EXPECT_EQ(submit(FrontOp::kWrite, 0, 0), StatusCode::kInvalidArgument);
  EXPECT_EQ(submit(FrontOp::kRead, 0, (1 << 20) + 4096),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(submit(FrontOp::kRead, kDiskBytes, 4096), StatusCode::kIoError);
  EXPECT_EQ(submit(FrontOp::kFlush, 0, 4096), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      test::SubmitToFrontDisk("pio-none", FrontOp::kFlush, 0, 0, nullptr, 0)
          .code(),
      StatusCode::kNotFound);
  EXPECT_EQ(engine.submits(), 0);
}

TEST(PlatformIoFrontDiskTest, SubmitsFromSeveralThreads) {
  RamEngine engine(kDiskBytes);
  FrontDisk disk;
  ASSERT_TRUE(
      disk.Create("pio-mt", kDiskBytes, RamEngine::Submit, &engine).ok());
  constexpr int kThreads = 4;
  constexpr int kBlocksPerThread = 32;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      test::FrontDiskHandle* handle = test::OpenFrontDisk("pio-mt");
      ASSERT_NE(handle, nullptr);
      for (int i = 0; i < kBlocksPerThread; ++i) {
        std::string data = Pattern(4096, t * 1000 + i);
        const uint64_t offset = (i * kThreads + t) * 4096ull;
        EXPECT_TRUE(test::SubmitToFrontDisk(handle, FrontOp::kWrite, 0, offset,
                                            &data[0], data.size())
                        .ok());
        std::string back(4096, '\0');
        EXPECT_TRUE(test::SubmitToFrontDisk(handle, FrontOp::kRead, 0, offset,
                                            &back[0], back.size())
                        .ok());
        EXPECT_EQ(back, data);
      }
      test::CloseFrontDisk(handle);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(engine.submits(), 2 * kThreads * kBlocksPerThread);
  EXPECT_EQ(disk.open_count(), 0);
}

TEST(PlatformIoFrontDiskTest, OpenCountBlocksDestroy) {
  RamEngine engine(kDiskBytes);
  FrontDisk disk;
  ASSERT_TRUE(
      disk.Create("pio-open", kDiskBytes, RamEngine::Submit, &engine).ok());
  test::FrontDiskHandle* first = test::OpenFrontDisk("pio-open");
  test::FrontDiskHandle* second = test::OpenFrontDisk("pio-open");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(disk.open_count(), 2);
  EXPECT_EQ(disk.Destroy().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(disk.exists());
  test::CloseFrontDisk(first);
  EXPECT_EQ(disk.Destroy().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(
      test::SubmitToFrontDisk(second, FrontOp::kFlush, 0, 0, nullptr, 0).ok());
  test::CloseFrontDisk(second);
  EXPECT_EQ(disk.open_count(), 0);
  ASSERT_TRUE(disk.Destroy().ok());
  EXPECT_EQ(test::OpenFrontDisk("pio-open"), nullptr);
  EXPECT_EQ(test::FrontDiskSizeForTest("pio-open"), 0u);
  EXPECT_EQ(
      test::SubmitToFrontDisk("pio-open", FrontOp::kFlush, 0, 0, nullptr, 0)
          .code(),
      StatusCode::kNotFound);
  EXPECT_EQ(engine.submits(), 1);
  // The name is free again.
  ASSERT_TRUE(
      disk.Create("pio-open", kDiskBytes, RamEngine::Submit, &engine).ok());
}

TEST(PlatformIoFrontDiskTest, FuaWriteCompletesLaterWhileReadsRun) {
  RamEngine engine(kDiskBytes);
  engine.set_defer_writes(true);
  FrontDisk disk;
  ASSERT_TRUE(
      disk.Create("pio-async", kDiskBytes, RamEngine::Submit, &engine).ok());
  test::FrontDiskHandle* handle = test::OpenFrontDisk("pio-async");
  std::string data = Pattern(4096, 8);
  std::unique_ptr<test::FrontIo> write = test::StartFrontIo(
      handle, FrontOp::kWrite, kFrontFua, 8192, &data[0], data.size());
  EXPECT_FALSE(write->done());
  EXPECT_FALSE(write->WaitFor(20'000'000));
  EXPECT_EQ(engine.deferred(), 1u);
  std::string back(4096, 'x');
  std::thread reader([&] {
    EXPECT_TRUE(test::SubmitToFrontDisk(handle, FrontOp::kRead, 0, 8192,
                                        &back[0], back.size())
                    .ok());
  });
  reader.join();
  EXPECT_EQ(back, std::string(4096, '\0'));  // the write is not applied yet
  EXPECT_FALSE(write->done());
  std::thread completer([&engine] { engine.ReleaseWrites(); });
  EXPECT_TRUE(write->Wait().ok());
  EXPECT_TRUE(write->done());
  completer.join();
  EXPECT_EQ(engine.Bytes(8192, 4096), data);
  test::CloseFrontDisk(handle);
}

TEST(PlatformIoFrontDiskTest, DestroyWaitsForRunningSubmitCall) {
  RamEngine engine(kDiskBytes);
  FrontDisk disk;
  ASSERT_TRUE(
      disk.Create("pio-drain", kDiskBytes, RamEngine::Submit, &engine).ok());
  engine.BlockNextSubmit();
  std::thread submitter([] {
    EXPECT_TRUE(
        test::SubmitToFrontDisk("pio-drain", FrontOp::kFlush, 0, 0, nullptr, 0)
            .ok());
  });
  while (!engine.Entered()) std::this_thread::yield();
  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    EXPECT_TRUE(disk.Destroy().ok());
    destroyed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(destroyed);
  // New submissions no longer reach the engine once Destroy() started.
  EXPECT_EQ(
      test::SubmitToFrontDisk("pio-drain", FrontOp::kFlush, 0, 0, nullptr, 0)
          .code(),
      StatusCode::kNotFound);
  engine.Unblock();
  destroyer.join();
  submitter.join();
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(engine.submits(), 1);
}

// ---------------------------------------------------------------------------
// The trigger.

void DrainTrigger() { (void)WaitForTrigger(0); }

TEST(PlatformIoTriggerTest, WakesWithLevel) {
  DrainTrigger();
  std::atomic<int> level{-1};
  std::thread waiter([&] { level = WaitForTrigger(60'000'000'000ull); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  test::TriggerForTest(2);
  waiter.join();
  EXPECT_EQ(level, 2);
}

TEST(PlatformIoTriggerTest, TriggerWithoutWaiterIsKept) {
  DrainTrigger();
  test::TriggerForTest(1);
  test::TriggerForTest(2);
  test::TriggerForTest(1);
  EXPECT_EQ(WaitForTrigger(0), 2);  // the highest level
  EXPECT_EQ(WaitForTrigger(0), 0);  // consumed
  test::TriggerForTest(3);          // not a level: ignored
  test::TriggerForTest(0);
  EXPECT_EQ(WaitForTrigger(0), 0);
}

TEST(PlatformIoTriggerTest, TimesOut) {
  DrainTrigger();
  const uint64_t start = MonotonicNs();
  EXPECT_EQ(WaitForTrigger(30'000'000), 0);
  EXPECT_GE(MonotonicNs() - start, 30'000'000u);
}

struct TriggerSleeper {
  std::atomic<int> level{-1};
  std::atomic<bool> stopped{false};
};

void SleepOnTrigger(void* context) {
  auto* s = static_cast<TriggerSleeper*>(context);
  s->level = WaitForTrigger(3600'000'000'000ull);
  s->stopped = Thread::ShouldStop();
}

TEST(PlatformIoTriggerTest, ThreadStopEndsTheWait) {
  DrainTrigger();
  TriggerSleeper sleeper;
  Thread thread;
  ASSERT_TRUE(
      thread.Start("trigger", SleepOnTrigger, &sleeper, Gfp::kKernel).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  thread.Stop();
  EXPECT_EQ(sleeper.level, 0);
  EXPECT_TRUE(sleeper.stopped);
}

// ---------------------------------------------------------------------------

TEST(PlatformIoTunablesTest, DefaultsAndOverrides) {
  test::ResetTunablesForTest();
  EXPECT_EQ(GetTunable(Tunable::kBufferLimitBytes), 64ull << 20);
  EXPECT_EQ(GetTunable(Tunable::kLogRotateBytes), 1ull << 30);
  EXPECT_EQ(GetTunable(Tunable::kLogSyncIntervalMs), 100u);
  EXPECT_EQ(GetTunable(Tunable::kReplayLinkIntervalMs), 1000u);
  test::SetTunableForTest(Tunable::kBufferLimitBytes, 1 << 20);
  EXPECT_EQ(GetTunable(Tunable::kBufferLimitBytes), 1u << 20);
  EXPECT_EQ(GetTunable(Tunable::kLogRotateBytes), 1ull << 30);
  test::ResetTunablesForTest();
  EXPECT_EQ(GetTunable(Tunable::kBufferLimitBytes), 64ull << 20);
}

TEST(PlatformIoTunablesTest, Counters) {
  test::ResetCountersForTest();
  for (int i = 0; i < static_cast<int>(Counter::kCount); ++i) {
    EXPECT_EQ(GetCounter(static_cast<Counter>(i)), 0u);
  }
  AddCounter(Counter::kBytesLogged, 4096);
  AddCounter(Counter::kBytesLogged, 512);
  AddCounter(Counter::kBytesBuffered, 8192);
  SubtractCounter(Counter::kBytesBuffered, 4096);
  SetCounter(Counter::kLogRateBytes, 12345);
  EXPECT_EQ(GetCounter(Counter::kBytesLogged), 4608u);
  EXPECT_EQ(GetCounter(Counter::kBytesBuffered), 4096u);
  EXPECT_EQ(GetCounter(Counter::kLogRateBytes), 12345u);
  EXPECT_EQ(GetCounter(Counter::kBytesWrittenBack), 0u);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 1000; ++i) AddCounter(Counter::kLogFlushes, 1);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(GetCounter(Counter::kLogFlushes), 4000u);
  test::ResetCountersForTest();
  EXPECT_EQ(GetCounter(Counter::kBytesLogged), 0u);
}

}  // namespace
}  // namespace platform
}  // namespace mars
