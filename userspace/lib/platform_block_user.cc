// I/O buffers and the backing block devices of core/platform_io.h with
// POSIX: a regular file (or a block device) per BlockDevice, whose requests
// an I/O thread per open device runs and completes asynchronously, as the
// kernel's block layer does; every write and flush is hooked into the
// recorder (platform_recorder_user.h). Plus the devices' test API of
// platform_user.h (statistics, injected failures, the async mode).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/base/errno_status.h"
#include "core/platform.h"
#include "core/platform_io.h"
#include "platform_recorder_user.h"
#include "platform_user.h"
#include "posix_user.h"

namespace mars {
namespace platform {

using internal::AppendEvent;
using internal::DeviceIdLocked;
using internal::FileDisk;
using internal::kNotRecorded;
using internal::LastError;
using internal::MakeEvent;
using internal::ReadWholeFile;
using internal::Rec;
using internal::RecordedEvent;
using internal::Recorder;
using internal::RecordLock;

// ---------------------------------------------------------------------------
// I/O buffers.

void* AllocateIoBuffer(size_t size, Gfp /*gfp*/) {
  constexpr size_t kAlign = 4096;
  const size_t rounded = (size + kAlign - 1) / kAlign * kAlign;
  return aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
}

void FreeIoBuffer(void* buffer) { free(buffer); }

void* AllocateWriteBuffer(size_t size) {
  if (size > (size_t{4} << 20)) return nullptr;
  return AllocateIoBuffer(size, Gfp::kKernel);
}

void FreeWriteBuffer(void* buffer) { free(buffer); }

// ---------------------------------------------------------------------------
// Backing block devices.

namespace {

// Test state of one path (platform_user.h): counts, injected failures, mode.
struct PathState {
  test::BlockDeviceStats stats;
  int fail_next[3] = {0, 0, 0};  // by BlockDevice::Op
  bool async = false;
  uint64_t async_delay_ns = 0;
  bool direct = false;
};

struct PathRegistry {
  std::mutex mutex;
  std::map<std::string, PathState> paths;
};

PathRegistry& Paths() {
  static PathRegistry* registry = new PathRegistry;
  return *registry;
}

}  // namespace

namespace internal {

// The file I/O of one open backing device: the single place where bytes
// move, so that a recording or failing disk can be layered here.
class FileDisk {
 public:
  // `direct_fd` is the same file opened with O_DIRECT, or -1.
  FileDisk(int fd, int direct_fd, std::string path)
      : fd_(fd), direct_fd_(direct_fd), path_(std::move(path)) {}
  ~FileDisk() {
    close(fd_);
    if (direct_fd_ >= 0) close(direct_fd_);
  }
  FileDisk(const FileDisk&) = delete;
  FileDisk& operator=(const FileDisk&) = delete;

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

  // The recording session and device index this disk was last resolved in
  // (recorder's lock).
  uint64_t rec_session = 0;
  uint32_t rec_id = kNotRecorded;

  // All of [offset, offset + sum of vecs) or an error (EIO at the end of
  // the file).
  Status Transfer(bool write, uint64_t offset, const IoVec* vecs,
                  size_t count) {
    std::vector<struct iovec> iov;
    iov.reserve(count);
    bool aligned = offset % kDirectAlign == 0;
    for (size_t i = 0; i < count; ++i) {
      if (vecs[i].size == 0) continue;
      iov.push_back({vecs[i].data, vecs[i].size});
      aligned = aligned && vecs[i].size % kDirectAlign == 0 &&
                reinterpret_cast<uintptr_t>(vecs[i].data) % kDirectAlign == 0;
    }
    const int fd = direct_fd_ >= 0 && aligned ? direct_fd_ : fd_;
    size_t index = 0;
    while (index < iov.size()) {
      const int n_iov =
          static_cast<int>(std::min<size_t>(iov.size() - index, IOV_MAX));
      const ssize_t n =
          write ? pwritev(fd, &iov[index], n_iov, static_cast<off_t>(offset))
                : preadv(fd, &iov[index], n_iov, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return LastError();
      }
      if (n == 0) return StatusFromErrno(EIO);
      offset += static_cast<uint64_t>(n);
      size_t left = static_cast<size_t>(n);
      while (left > 0) {
        struct iovec& v = iov[index];
        if (left >= v.iov_len) {
          left -= v.iov_len;
          ++index;
        } else {
          v.iov_base = static_cast<uint8_t*>(v.iov_base) + left;
          v.iov_len -= left;
          left = 0;
        }
      }
    }
    return Status::Ok();
  }

  Status Flush() { return fdatasync(fd_) == 0 ? Status::Ok() : LastError(); }

 private:
  static constexpr uint64_t kDirectAlign = 512;
  const int fd_;
  const int direct_fd_;
  const std::string path_;
};

// The disk's index in the running recording; captures its content when it
// is new to the recording. REQUIRES the recorder's lock held while recording.
uint32_t DeviceIdLocked(FileDisk* disk) {
  Recorder& rec = Rec();
  if (disk->rec_session == rec.session) return disk->rec_id;
  disk->rec_session = rec.session;
  const auto it = rec.devices.find(disk->path());
  if (it != rec.devices.end()) {
    disk->rec_id = it->second;
    return disk->rec_id;
  }
  test::RecordedDevice device;
  device.path = disk->path();
  if (rec.capture_content && !ReadWholeFile(disk->fd(), &device.initial)) {
    ReportBug(__FILE__, __LINE__);  // a recording must not miss data
  }
  rec.recording->devices.push_back(std::move(device));
  disk->rec_id = static_cast<uint32_t>(rec.recording->devices.size() - 1);
  rec.devices[disk->path()] = disk->rec_id;
  return disk->rec_id;
}

}  // namespace internal

namespace {

// A flush of `disk`, recorded as a begin and an end event.
Status FlushRecorded(FileDisk* disk) {
  uint32_t id = kNotRecorded;
  uint64_t session = 0;
  uint64_t begin = 0;
  {
    RecordLock record;
    if (record.active()) {
      id = DeviceIdLocked(disk);
      session = Rec().session;
      begin = AppendEvent(
          Rec(), MakeEvent(RecordedEvent::Kind::kDeviceFlushBegin, id));
    }
  }
  Status status = disk->Flush();
  if (id != kNotRecorded) {
    RecordLock record;
    if (record.active() && Rec().session == session) {
      RecordedEvent event = MakeEvent(RecordedEvent::Kind::kDeviceFlushEnd, id);
      event.begin = begin;
      event.ok = status.ok();
      AppendEvent(Rec(), std::move(event));
    }
  }
  return status;
}

Status CheckRequest(const BlockDevice::Request& r, uint64_t device_size) {
  uint64_t total = 0;
  for (size_t i = 0; i < r.vec_count; ++i) total += r.vecs[i].size;
  if (r.op == BlockDevice::Op::kFlush) {
    return r.size == 0 && r.vec_count == 0 ? Status::Ok()
                                           : StatusFromErrno(EINVAL);
  }
  if (r.size == 0 || r.offset % 512 != 0 || r.size % 512 != 0 ||
      total != r.size) {
    return StatusFromErrno(EINVAL);
  }
  if (r.offset > device_size || r.size > device_size - r.offset) {
    return StatusFromErrno(EIO);
  }
  return Status::Ok();
}

// Runs `r` to completion and calls its `done`.
void Execute(FileDisk* disk, uint64_t device_size, BlockDevice::Request* r) {
  const int op = static_cast<int>(r->op);
  Status status = CheckRequest(*r, device_size);
  bool injected = false;
  {
    PathRegistry& registry = Paths();
    std::lock_guard<std::mutex> lock(registry.mutex);
    PathState& state = registry.paths[disk->path()];
    if (status.ok() && state.fail_next[op] > 0) {
      --state.fail_next[op];
      injected = true;
    }
  }
  if (status.ok()) {
    if (injected) {
      status = StatusFromErrno(EIO);
    } else if (r->op == BlockDevice::Op::kFlush) {
      status = FlushRecorded(disk);
    } else {
      const bool write = r->op == BlockDevice::Op::kWrite;
      // A write takes effect under the recorder's lock (a FUA write with its
      // flush: it is durable once recorded).
      RecordLock record;
      if (!write) record.Unlock();
      const uint32_t id = record.active() ? DeviceIdLocked(disk) : kNotRecorded;
      status = disk->Transfer(write, r->offset, r->vecs, r->vec_count);
      if (status.ok() && write && r->fua) status = disk->Flush();
      if (status.ok() && id != kNotRecorded) {
        RecordedEvent event = MakeEvent(RecordedEvent::Kind::kDeviceWrite, id);
        event.offset = r->offset;
        event.fua = r->fua;
        event.data.reserve(r->size);
        for (size_t i = 0; i < r->vec_count; ++i) {
          const auto* bytes = static_cast<const uint8_t*>(r->vecs[i].data);
          event.data.insert(event.data.end(), bytes, bytes + r->vecs[i].size);
        }
        AppendEvent(Rec(), std::move(event));
      }
    }
  }
  {
    PathRegistry& registry = Paths();
    std::lock_guard<std::mutex> lock(registry.mutex);
    test::BlockDeviceStats& stats = registry.paths[disk->path()].stats;
    switch (r->op) {
      case BlockDevice::Op::kRead:
        ++stats.reads;
        if (status.ok()) stats.bytes_read += r->size;
        break;
      case BlockDevice::Op::kWrite:
        ++stats.writes;
        if (r->fua) ++stats.fua_writes;
        if (status.ok()) stats.bytes_written += r->size;
        break;
      case BlockDevice::Op::kFlush:
        ++stats.flushes;
        break;
    }
    if (!status.ok()) ++stats.failed;
  }
  r->done(r, status);
}

// An open backing device: its file, its size as of Open(), and its I/O
// thread. The thread stands in for the kernel's block layer and the
// device's queue: Submit() only queues a request; the thread runs the queued
// requests one at a time, in submission order, and calls each one's `done`
// from the thread, with no lock of the platform held. So the submitter goes
// on while its request is written, as with bios, and `done` never runs
// inside Submit() unless the thread was quicker than Submit() returning.
// A flush runs after every request submitted before it.
class OpenDevice {
 public:
  OpenDevice(int fd, int direct_fd, const char* path, uint64_t size)
      : disk_(fd, direct_fd, path), size_(size) {
    thread_ = std::thread([this] { Loop(); });
    pthread_setname_np(thread_.native_handle(), "mars_bdev_io");
  }
  // Runs what is still queued (nothing, as Close() requires), then ends the
  // thread.
  ~OpenDevice() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  OpenDevice(const OpenDevice&) = delete;
  OpenDevice& operator=(const OpenDevice&) = delete;

  FileDisk* disk() { return &disk_; }
  uint64_t size() const { return size_; }

  void Queue(BlockDevice::Request* request) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(request);
    }
    wake_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      BlockDevice::Request* request = queue_.front();
      queue_.pop_front();
      lock.unlock();
      Execute(&disk_, size_, request);
      lock.lock();
    }
  }

  FileDisk disk_;
  const uint64_t size_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<BlockDevice::Request*> queue_;  // submitted, not yet running
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

Status BlockDevice::Open(const char* path) {
  if (impl_ != nullptr) return StatusFromErrno(EBUSY);
  const int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return LastError();
  // flock() locks the open file description: a second Open() of the same
  // path conflicts even within this process, like a second holder claim.
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno == EWOULDBLOCK ? EBUSY : errno;
    close(fd);
    return StatusFromErrno(error);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int error = errno;
    close(fd);
    return StatusFromErrno(error);
  }
  uint64_t size = 0;
  if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
  } else if (S_ISBLK(st.st_mode)) {
    if (ioctl(fd, BLKGETSIZE64, &size) != 0) {
      const int error = errno;
      close(fd);
      return StatusFromErrno(error);
    }
  } else {
    close(fd);
    return StatusFromErrno(ENOTBLK);
  }
  bool direct;
  {
    PathRegistry& registry = Paths();
    std::lock_guard<std::mutex> lock(registry.mutex);
    direct = registry.paths[path].direct;
  }
  int direct_fd = -1;
  if (direct) {
    direct_fd = open(path, O_RDWR | O_CLOEXEC | O_DIRECT);
    if (direct_fd < 0) {
      const int error = errno;
      close(fd);
      return StatusFromErrno(error);
    }
  }
  auto* device = new OpenDevice(fd, direct_fd, path, size);
  {
    Recorder& rec = Rec();
    std::lock_guard<std::mutex> lock(rec.mutex);
    rec.open_disks.insert(device->disk());
    if (rec.active) DeviceIdLocked(device->disk());
  }
  impl_ = device;
  size_ = size;
  return Status::Ok();
}

void BlockDevice::Close() {
  auto* device = static_cast<OpenDevice*>(impl_);
  if (device != nullptr) {
    Recorder& rec = Rec();
    std::lock_guard<std::mutex> lock(rec.mutex);
    rec.open_disks.erase(device->disk());
  }
  delete device;
  impl_ = nullptr;
  size_ = 0;
}

void BlockDevice::Submit(Request* request) {
  auto* device = static_cast<OpenDevice*>(impl_);
  if (!MARS_CHECK(device != nullptr)) {
    request->done(request, StatusFromErrno(EBADF));
    return;
  }
  FileDisk* disk = device->disk();
  bool async;
  uint64_t delay_ns;
  {
    PathRegistry& registry = Paths();
    std::lock_guard<std::mutex> lock(registry.mutex);
    async = registry.paths[disk->path()].async;
    delay_ns = registry.paths[disk->path()].async_delay_ns;
  }
  if (!async) {
    device->Queue(request);
    return;
  }
  // SetBlockDeviceAsyncForTest(): a thread of its own, so that requests
  // overlap and complete in any order.
  const uint64_t size = device->size();
  std::thread([disk, size, request, delay_ns] {
    if (delay_ns > 0) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(delay_ns));
    }
    Execute(disk, size, request);
  }).detach();
}

namespace test {

BlockDeviceStats GetBlockDeviceStatsForTest(const char* path) {
  PathRegistry& registry = Paths();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto it = registry.paths.find(path);
  return it == registry.paths.end() ? BlockDeviceStats() : it->second.stats;
}

void ResetBlockDeviceForTest(const char* path) {
  PathRegistry& registry = Paths();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.paths.erase(path);
}

void FailBlockDeviceOpsForTest(const char* path, BlockDevice::Op op,
                               int count) {
  PathRegistry& registry = Paths();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.paths[path].fail_next[static_cast<int>(op)] = count;
}

void SetBlockDeviceAsyncForTest(const char* path, bool async) {
  PathRegistry& registry = Paths();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.paths[path].async = async;
}

void SetBlockDeviceAsyncDelayForTest(const char* path, uint64_t delay_ns) {
  PathRegistry& registry = Paths();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.paths[path].async_delay_ns = delay_ns;
}

void SetBlockDeviceDirectIoForTest(const char* path, bool direct) {
  PathRegistry& registry = Paths();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.paths[path].direct = direct;
}

}  // namespace test
}  // namespace platform
}  // namespace mars
