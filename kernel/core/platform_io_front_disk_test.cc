// Contract tests of the exported devices of core/platform_io.h (FrontDisk),
// run against the userspace platform (userspace/lib) and driven through its
// test client (platform_user.h): create, write, read and flush, refused
// names and malformed requests, submits from several threads, the open
// count, FUA writes completed later, and Destroy() waiting for a running
// submit call.
#include <gtest/gtest.h>
#include <string.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/base/status.h"
#include "core/platform_io.h"
#include "core/platform_io_test_util.h"
#include "platform_user.h"

namespace mars {
namespace platform {
namespace {

using test::Pattern;

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

}  // namespace
}  // namespace platform
}  // namespace mars
