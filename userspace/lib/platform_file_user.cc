// The files of core/platform_io.h (logfiles) with POSIX: pread (also on a
// second O_DIRECT descriptor for ReadDirect and for DirectRead, which runs
// each read in a thread of its own), pwrite,
// fdatasync, ftruncate; hooked into the recorder (platform_recorder_user.h),
// plus the test hooks FailFileSyncsForTest, FileSyncsForTest and
// FileOpensForTest (platform_user.h).
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "core/base/errno_status.h"
#include "core/platform_io.h"
#include "platform_recorder_user.h"
#include "platform_user.h"
#include "posix_user.h"

namespace mars {
namespace platform {

using internal::AppendEvent;
using internal::FileIncarnationLocked;
using internal::kNotRecorded;
using internal::LastError;
using internal::MakeEvent;
using internal::NewIncarnation;
using internal::Rec;
using internal::RecordedEvent;
using internal::Recorder;
using internal::RecordLock;
using internal::RelativePath;

namespace {

struct UserFile {
  int fd;
  std::string path;
  // The recording session and incarnation this file was last resolved in.
  uint64_t session = 0;
  uint32_t id = kNotRecorded;
};

// The file's incarnation in the running recording (kNotRecorded outside the
// recorded directory). REQUIRES the recorder's lock held while recording.
uint32_t FileIdLocked(UserFile* file) {
  Recorder& rec = Rec();
  if (file->session != rec.session) {
    file->session = rec.session;
    file->id = FileIncarnationLocked(rec, file->path, file->fd);
  }
  return file->id;
}

int FdOf(void* impl) { return static_cast<UserFile*>(impl)->fd; }

// pread/pwrite until `size` bytes moved, EOF (reads) or an error.
Status ReadFully(int fd, uint64_t offset, void* buffer, size_t size,
                 size_t* done) {
  auto* p = static_cast<uint8_t*>(buffer);
  size_t total = 0;
  while (total < size) {
    const ssize_t n =
        pread(fd, p + total, size - total, static_cast<off_t>(offset + total));
    if (n < 0) {
      if (errno == EINTR) continue;
      *done = total;
      return LastError();
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  *done = total;
  return Status::Ok();
}

Status WriteFully(int fd, uint64_t offset, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  size_t total = 0;
  while (total < size) {
    const ssize_t n =
        pwrite(fd, p + total, size - total, static_cast<off_t>(offset + total));
    if (n < 0) {
      if (errno == EINTR) continue;
      return LastError();
    }
    if (n == 0) return StatusFromErrno(EIO);
    total += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Counts a successful File::Open() of `path` (FileOpensForTest()).
void CountOpen(const char* path);

}  // namespace

Status File::Open(const char* path, uint32_t flags) {
  if (impl_ != nullptr) return StatusFromErrno(EBUSY);
  int open_flags = O_CLOEXEC;
  const bool read = (flags & kRead) != 0;
  const bool write = (flags & kWrite) != 0;
  if (read && write) {
    open_flags |= O_RDWR;
  } else if (write) {
    open_flags |= O_WRONLY;
  } else if (read) {
    open_flags |= O_RDONLY;
  } else {
    return StatusFromErrno(EINVAL);
  }
  if ((flags & kCreate) != 0) {
    open_flags |= O_CREAT;
    if ((flags & kExclusive) != 0) open_flags |= O_EXCL;
  }
  RecordLock record;
  std::string rel;
  const bool recorded = record.active() && RelativePath(Rec(), path, &rel);
  struct stat st;
  const bool existed = !recorded || lstat(path, &st) == 0;
  const int fd = open(path, open_flags, 0600);
  if (fd < 0) return LastError();
  CountOpen(path);
  auto* file = new UserFile{fd, path};
  if (recorded && !existed) {
    Recorder& rec = Rec();
    file->session = rec.session;
    file->id = NewIncarnation(rec, {});
    rec.files[rel] = file->id;
    RecordedEvent event = MakeEvent(RecordedEvent::Kind::kCreateFile, file->id);
    event.path = rel;
    AppendEvent(rec, std::move(event));
  } else if (recorded) {
    FileIdLocked(file);
  }
  impl_ = file;
  return Status::Ok();
}

void File::Close() {
  if (direct_ != nullptr) {
    close(*static_cast<int*>(direct_));
    delete static_cast<int*>(direct_);
    direct_ = nullptr;
  }
  direct_alignment_ = DirectAlignment();
  direct_probed_ = false;
  if (impl_ == nullptr) return;
  close(FdOf(impl_));
  delete static_cast<UserFile*>(impl_);
  impl_ = nullptr;
}

Status File::Read(uint64_t offset, void* buffer, size_t size, size_t* done) {
  *done = 0;
  if (impl_ == nullptr) return StatusFromErrno(EBADF);
  return ReadFully(FdOf(impl_), offset, buffer, size, done);
}

Status File::Write(uint64_t offset, const void* data, size_t size) {
  if (impl_ == nullptr) return StatusFromErrno(EBADF);
  RecordLock record;
  auto* file = static_cast<UserFile*>(impl_);
  const uint32_t id = record.active() ? FileIdLocked(file) : kNotRecorded;
  Status status = WriteFully(file->fd, offset, data, size);
  if (status.ok() && id != kNotRecorded) {
    RecordedEvent event = MakeEvent(RecordedEvent::Kind::kFileWrite, id);
    event.offset = offset;
    const auto* bytes = static_cast<const uint8_t*>(data);
    event.data.assign(bytes, bytes + size);
    AppendEvent(Rec(), std::move(event));
  }
  return status;
}

namespace {

// Guards the maps of FailFileSyncsForTest(), FileSyncsForTest() and
// FileOpensForTest().
std::mutex g_sync_faults_lock;
// FailFileSyncsForTest(): path -> syncs left to fail.
std::map<std::string, int>* g_sync_faults = nullptr;

// FileSyncsForTest(): path -> File::Sync() calls so far.
std::map<std::string, uint64_t>* g_sync_counts = nullptr;
// FileOpensForTest(): path -> successful File::Open() calls so far.
std::map<std::string, uint64_t>* g_open_counts = nullptr;

void CountOpen(const char* path) {
  std::lock_guard<std::mutex> guard(g_sync_faults_lock);
  if (g_open_counts == nullptr) {
    g_open_counts = new std::map<std::string, uint64_t>;
  }
  ++(*g_open_counts)[path];
}

// Counts the sync; true when a fault was asked for (it fails).
bool TakeSyncFault(const std::string& path) {
  std::lock_guard<std::mutex> guard(g_sync_faults_lock);
  if (g_sync_counts == nullptr) {
    g_sync_counts = new std::map<std::string, uint64_t>;
  }
  ++(*g_sync_counts)[path];
  if (g_sync_faults == nullptr) return false;
  auto it = g_sync_faults->find(path);
  if (it == g_sync_faults->end() || it->second == 0) return false;
  --it->second;
  return true;
}

}  // namespace

namespace test {

void FailFileSyncsForTest(const char* path, int count) {
  std::lock_guard<std::mutex> guard(g_sync_faults_lock);
  if (g_sync_faults == nullptr) g_sync_faults = new std::map<std::string, int>;
  (*g_sync_faults)[path] = count;
}

uint64_t FileSyncsForTest(const char* path) {
  std::lock_guard<std::mutex> guard(g_sync_faults_lock);
  if (g_sync_counts == nullptr) return 0;
  auto it = g_sync_counts->find(path);
  return it == g_sync_counts->end() ? 0 : it->second;
}

uint64_t FileOpensForTest(const char* path) {
  std::lock_guard<std::mutex> guard(g_sync_faults_lock);
  if (g_open_counts == nullptr) return 0;
  auto it = g_open_counts->find(path);
  return it == g_open_counts->end() ? 0 : it->second;
}

}  // namespace test

Status File::Sync(uint64_t /*begin*/, uint64_t /*end*/) {
  if (impl_ == nullptr) return StatusFromErrno(EBADF);
  auto* file = static_cast<UserFile*>(impl_);
  if (TakeSyncFault(file->path)) return StatusFromErrno(EIO);
  uint32_t id = kNotRecorded;
  uint64_t session = 0;
  uint64_t begin = 0;
  {
    RecordLock record;
    if (record.active()) id = FileIdLocked(file);
    if (id != kNotRecorded) {
      session = Rec().session;
      begin = AppendEvent(Rec(),
                          MakeEvent(RecordedEvent::Kind::kFileSyncBegin, id));
    }
  }
  // Not under the lock: other files and devices go on meanwhile.
  Status status = fdatasync(file->fd) == 0 ? Status::Ok() : LastError();
  if (id != kNotRecorded) {
    RecordLock record;
    if (record.active() && Rec().session == session) {
      RecordedEvent event = MakeEvent(RecordedEvent::Kind::kFileSyncEnd, id);
      event.begin = begin;
      event.ok = status.ok();
      AppendEvent(Rec(), std::move(event));
    }
  }
  return status;
}

Status File::Truncate(uint64_t size) {
  if (impl_ == nullptr) return StatusFromErrno(EBADF);
  RecordLock record;
  auto* file = static_cast<UserFile*>(impl_);
  const uint32_t id = record.active() ? FileIdLocked(file) : kNotRecorded;
  if (ftruncate(file->fd, static_cast<off_t>(size)) != 0) return LastError();
  if (id != kNotRecorded) {
    RecordedEvent event = MakeEvent(RecordedEvent::Kind::kFileTruncate, id);
    event.offset = size;
    AppendEvent(Rec(), std::move(event));
  }
  return Status::Ok();
}

File::DirectAlignment File::DirectReadAlignment() {
  if (direct_probed_ || impl_ == nullptr) return direct_alignment_;
  direct_probed_ = true;
  const int fd = open(static_cast<UserFile*>(impl_)->path.c_str(),
                      O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) return direct_alignment_;  // no direct I/O here
  struct statx stx = {};
  if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) != 0 ||
      (stx.stx_mask & STATX_DIOALIGN) == 0 || stx.stx_dio_offset_align == 0 ||
      stx.stx_dio_mem_align == 0) {
    close(fd);
    return direct_alignment_;
  }
  direct_ = new int(fd);
  direct_alignment_.offset = stx.stx_dio_offset_align;
  direct_alignment_.memory = stx.stx_dio_mem_align;
  return direct_alignment_;
}

namespace {

// Whether the page of byte `offset` is in the page cache, by mincore() of
// that page mapped (a read with RWF_NOWAIT would start readahead when not).
bool PageCached(int fd, uint64_t offset) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  void* map = mmap(nullptr, page, PROT_READ, MAP_SHARED, fd,
                   static_cast<off_t>(offset - offset % page));
  if (map == MAP_FAILED) return false;
  unsigned char resident = 0;
  const bool cached = mincore(map, page, &resident) == 0 && (resident & 1);
  munmap(map, page);
  return cached;
}

// SetCachedForTest(): -1 probes the page cache, 0 or 1 is the answer.
std::atomic<int> cached_for_test{-1};

}  // namespace

bool File::Cached(uint64_t offset, uint64_t size) {
  if (impl_ == nullptr || size == 0) return false;
  const int answer = cached_for_test.load();
  if (answer >= 0) return answer != 0;
  const int fd = FdOf(impl_);
  return PageCached(fd, offset) && PageCached(fd, offset + size - 1);
}

Status File::ReadDirect(uint64_t offset, void* buffer, size_t size,
                        size_t* done) {
  *done = 0;
  const Status refused = CheckDirectRead(offset, buffer, size);
  if (!refused.ok()) return refused;
  return ReadFully(*static_cast<int*>(direct_), offset, buffer, size, done);
}

namespace {

std::atomic<uint64_t> direct_read_delay_ns{0};

// A read in flight: its thread fills `status` and `done` before it ends.
struct UserDirectRead {
  std::thread thread;
  Status status;
  size_t done = 0;
};

}  // namespace

namespace test {

void SetDirectReadDelayForTest(uint64_t delay_ns) {
  direct_read_delay_ns.store(delay_ns);
}

void SetCachedForTest(CachedForTest answer) {
  cached_for_test.store(static_cast<int>(answer));
}

}  // namespace test

Status DirectRead::Start(File* file, uint64_t offset, void* buffer,
                         size_t size) {
  if (!MARS_CHECK(!running())) {
    return Status(StatusCode::kInternal, "direct read already running");
  }
  const Status refused = file->CheckDirectRead(offset, buffer, size);
  if (!refused.ok()) return refused;
  auto* read = new UserDirectRead;
  const int fd = *static_cast<int*>(file->direct_);
  const uint64_t delay_ns = direct_read_delay_ns.load();
  read->thread = std::thread([read, fd, offset, buffer, size, delay_ns] {
    if (delay_ns > 0) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(delay_ns));
    }
    read->status = ReadFully(fd, offset, buffer, size, &read->done);
  });
  impl_ = read;
  return Status::Ok();
}

Status DirectRead::Wait(size_t* done) {
  *done = 0;
  if (!running()) return Status(StatusCode::kInternal, "no direct read");
  auto* read = static_cast<UserDirectRead*>(impl_);
  impl_ = nullptr;
  read->thread.join();
  const Status status = read->status;
  if (status.ok()) *done = read->done;
  delete read;
  return status;
}

Status File::Size(uint64_t* size) {
  if (impl_ == nullptr) return StatusFromErrno(EBADF);
  struct stat st;
  if (fstat(FdOf(impl_), &st) != 0) return LastError();
  *size = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

}  // namespace platform
}  // namespace mars
