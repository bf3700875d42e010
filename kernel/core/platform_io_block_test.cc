// Contract tests of core/platform_io.h, run against the userspace platform
// (userspace/lib) and its test API (platform_user.h): backing block devices
// (exclusive open, requests with several vecs, flush and FUA counts,
// malformed requests, injected failures, completion from another thread,
// direct I/O past the page cache)
// and the synchronous helpers ReadSync / WriteSync / FlushSync.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/base/status.h"
#include "core/platform.h"
#include "core/platform_io.h"
#include "core/platform_io_test_util.h"
#include "platform_user.h"

namespace mars {
namespace platform {
namespace {

using test::Pattern;
using test::ReadWholeFile;
using test::TempDir;
using test::WriteWholeFile;

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
  EXPECT_TRUE(completion.Wait().ok());
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

// Whether `size` bytes at `offset` of `path` are in the page cache (any page).
bool AnyPageCached(const char* path, size_t offset, size_t size) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  void* map = mmap(nullptr, offset + size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return true;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((offset + size + page - 1) / page);
  const bool ok = mincore(map, offset + size, resident.data()) == 0;
  munmap(map, offset + size);
  if (!ok) return true;
  for (size_t i = offset / page; i < resident.size(); ++i) {
    if (resident[i] & 1) return true;
  }
  return false;
}

TEST(PlatformIoBlockDeviceTest, DirectIoWritesPastThePageCache) {
  TempDir dir;
  DeviceFile file(dir);
  {
    // Nothing of the file in the page cache to start with.
    const int fd = open(file.path(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(fdatasync(fd), 0);
    ASSERT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    close(fd);
  }
  struct statfs fs;
  ASSERT_EQ(statfs(file.path(), &fs), 0);
  constexpr decltype(fs.f_type) kTmpfsMagic = 0x01021994;  // linux/magic.h
  if (fs.f_type == kTmpfsMagic) GTEST_SKIP() << "tmpfs keeps every page cached";
  const int probe = open(file.path(), O_RDWR | O_CLOEXEC | O_DIRECT);
  if (probe < 0) GTEST_SKIP() << "the file system refuses O_DIRECT";
  close(probe);
  test::SetBlockDeviceDirectIoForTest(file.path(), true);
  BlockDevice device;
  ASSERT_TRUE(device.Open(file.path()).ok());
  IoBuffer aligned(64 * 1024);
  aligned.Fill(Pattern(aligned.size(), 3));
  ASSERT_TRUE(
      device.WriteSync(256 * 1024, aligned.data(), aligned.size()).ok());
  EXPECT_FALSE(AnyPageCached(file.path(), 256 * 1024, aligned.size()));
  // Memory that O_DIRECT cannot take goes through the page cache.
  IoBuffer unaligned(8192 + 512);
  const std::string bytes = Pattern(8192, 4);
  memcpy(unaligned.data() + 7, bytes.data(), bytes.size());
  ASSERT_TRUE(device.WriteSync(512 * 1024, unaligned.data() + 7, 8192).ok());
  IoBuffer in(64 * 1024);
  ASSERT_TRUE(device.ReadSync(256 * 1024, in.data(), in.size()).ok());
  EXPECT_EQ(in.str(), aligned.str());
  ASSERT_TRUE(device.FlushSync().ok());
  device.Close();
  const std::string on_disk = file.OnDisk();
  EXPECT_EQ(on_disk.substr(256 * 1024, aligned.size()), aligned.str());
  EXPECT_EQ(on_disk.substr(512 * 1024, 8192), bytes);
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

}  // namespace
}  // namespace platform
}  // namespace mars
