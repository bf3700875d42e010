// core/platform_io.h implemented with POSIX, plus the test API of
// platform_user.h: files and the tree on the local filesystem, regular files
// (or block devices) as backing devices with synchronous I/O, exported
// devices as a process-wide registry driven by test clients, the trigger,
// tunables and counters as process-wide state, and the recorder of storage
// operations (StartRecordingForTest, recording.h).
//
// Process-wide registries are leaked heap objects, so that threads still
// running at exit never meet a destroyed mutex.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/base/errno_status.h"
#include "core/platform.h"
#include "core/platform_io.h"
#include "platform_user.h"
#include "recording.h"

namespace mars {
namespace platform {
namespace {

Status LastError() { return StatusFromErrno(errno); }

constexpr uint64_t kNsPerSecond = 1000000000ull;

uint64_t TimespecNs(const struct timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSecond +
         static_cast<uint64_t>(ts.tv_nsec);
}

// Deadline of a wait of `timeout_ns`; beyond a century means never.
std::chrono::steady_clock::time_point DeadlineAfter(uint64_t timeout_ns) {
  constexpr uint64_t kCenturyNs = 100ull * 365 * 24 * 3600 * kNsPerSecond;
  if (timeout_ns >= kCenturyNs) {
    return std::chrono::steady_clock::time_point::max();
  }
  return std::chrono::steady_clock::now() +
         std::chrono::nanoseconds(timeout_ns);
}

// Like WaitQueue::WaitUntil in platform_user.cc: sleepers re-check
// Thread::ShouldStop() at least this often.
constexpr auto kStopPollInterval = std::chrono::milliseconds(10);

// ---------------------------------------------------------------------------
// Host name override.

struct HostNameOverride {
  std::mutex mutex;
  bool set = false;
  char name[64] = {};
};

HostNameOverride& HostNameState() {
  static HostNameOverride* state = new HostNameOverride;
  return *state;
}

}  // namespace

uint64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return TimespecNs(ts);
}

void RandomBytes(void* out, size_t size) {
  auto* p = static_cast<uint8_t*>(out);
  while (size > 0) {
    const ssize_t n = getrandom(p, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      ReportBug(__FILE__, __LINE__);  // getrandom cannot fail otherwise
      return;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

size_t HostName(char* out, size_t capacity) {
  char name[sizeof(utsname::nodename)];
  {
    HostNameOverride& state = HostNameState();
    std::lock_guard<std::mutex> lock(state.mutex);
    struct utsname uts;
    if (state.set) {
      snprintf(name, sizeof(name), "%s", state.name);
    } else if (uname(&uts) == 0) {
      snprintf(name, sizeof(name), "%s", uts.nodename);
    } else {
      return 0;
    }
  }
  const size_t length = strcspn(name, ".");
  if (length + 1 > capacity) return 0;
  memcpy(out, name, length);
  out[length] = '\0';
  return length;
}

// ---------------------------------------------------------------------------
// The recorder (StartRecordingForTest, recording.h). While a recording runs,
// every hooked operation takes effect under the recorder's lock and is
// appended as an event before the lock is dropped, so the events are in the
// order the operations took effect; without a recording the hooks only read
// an atomic flag. The lock is innermost: nothing under it calls back into
// the engine.

namespace {

class FileDisk;

struct Recorder {
  std::mutex mutex;
  bool active = false;
  uint64_t session = 0;  // bumped by every start: tells stale handles apart
  std::string root;      // the recorded directory, no trailing '/'
  bool capture_content = true;  // snapshots read files and devices
  std::unique_ptr<test::Recording> recording;
  std::map<std::string, uint32_t> files;    // relative path -> incarnation
  std::map<std::string, uint32_t> devices;  // device path -> index
  std::map<std::thread::id, uint64_t> threads;
  uint32_t next_front_id = 0;
  // Every open backing device, recording or not: captured at the start.
  std::set<FileDisk*> open_disks;
};

Recorder& Rec() {
  static Recorder* recorder = new Recorder;
  return *recorder;
}

std::atomic<bool> g_recording{false};

// Holds the recorder's lock while a recording runs.
class RecordLock {
 public:
  RecordLock() {
    if (!g_recording.load(std::memory_order_acquire)) return;
    lock_ = std::unique_lock<std::mutex>(Rec().mutex);
    if (!Rec().active) lock_.unlock();
  }
  bool active() const { return lock_.owns_lock(); }
  void Unlock() {
    if (lock_.owns_lock()) lock_.unlock();
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

constexpr uint32_t kNotRecorded = UINT32_MAX;

using test::RecordedEvent;

// `path` relative to the recorded directory; false when outside it.
bool RelativePath(const Recorder& rec, const char* path, std::string* rel) {
  const size_t n = rec.root.size();
  if (strncmp(path, rec.root.c_str(), n) != 0 || path[n] != '/') return false;
  *rel = path + n + 1;
  return !rel->empty();
}

// REQUIRES the lock held while recording. Returns the event's index.
uint64_t AppendEvent(Recorder& rec, RecordedEvent event) {
  const auto thread =
      rec.threads.emplace(std::this_thread::get_id(), rec.threads.size());
  event.thread = thread.first->second;
  rec.recording->events.push_back(std::move(event));
  return rec.recording->events.size() - 1;
}

RecordedEvent MakeEvent(RecordedEvent::Kind kind, uint32_t object) {
  RecordedEvent event;
  event.kind = kind;
  event.object = object;
  return event;
}

// The whole content of the open file `fd` (or block device).
bool ReadWholeFile(int fd, std::vector<uint8_t>* out) {
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size) != 0) return false;
  out->resize(size);
  for (uint64_t done = 0; done < size;) {
    const ssize_t n =
        pread(fd, out->data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<uint64_t>(n);
  }
  // A file that grew meanwhile is not one this recording may capture.
  uint8_t more;
  return pread(fd, &more, 1, static_cast<off_t>(size)) == 0;
}

uint32_t NewIncarnation(Recorder& rec, std::vector<uint8_t> content) {
  rec.recording->files.push_back(std::move(content));
  return static_cast<uint32_t>(rec.recording->files.size() - 1);
}

// The incarnation of the regular file `path`, open as `fd`. REQUIRES the lock
// held while recording. A file under the directory that the recording does
// not know (made behind the platform's back) enters it now with its current
// content, as if created at this point.
uint32_t FileIncarnationLocked(Recorder& rec, const std::string& path, int fd) {
  std::string rel;
  if (!RelativePath(rec, path.c_str(), &rel)) return kNotRecorded;
  const auto it = rec.files.find(rel);
  if (it != rec.files.end()) return it->second;
  std::vector<uint8_t> content;
  if (!ReadWholeFile(fd, &content)) {
    ReportBug(__FILE__, __LINE__);  // a recording must not miss data
  }
  const uint32_t id = NewIncarnation(rec, std::move(content));
  rec.files[rel] = id;
  RecordedEvent event = MakeEvent(RecordedEvent::Kind::kCreateFile, id);
  event.path = rel;
  AppendEvent(rec, std::move(event));
  return id;
}

// Captures the directory `dir` (relative name `rel`, "" for the root) into
// the recording's initial tree.
bool SnapshotDirectory(Recorder& rec, const std::string& dir,
                       const std::string& rel) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return false;
  bool ok = true;
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const struct dirent* entry = readdir(d);
    if (entry == nullptr) {
      ok = errno == 0;
      break;
    }
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) {
      continue;
    }
    names.push_back(entry->d_name);
  }
  closedir(d);
  for (const std::string& name : names) {
    if (!ok) break;
    const std::string path = dir + "/" + name;
    const std::string name_rel = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return false;
    test::RecordedEntry entry;
    if (S_ISDIR(st.st_mode)) {
      entry.type = test::RecordedEntry::Type::kDirectory;
      rec.recording->initial_tree[name_rel] = entry;
      ok = SnapshotDirectory(rec, path, name_rel);
    } else if (S_ISREG(st.st_mode)) {
      std::vector<uint8_t> content;
      if (rec.capture_content) {
        const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        ok = fd >= 0 && ReadWholeFile(fd, &content);
        if (fd >= 0) close(fd);
      }
      entry.type = test::RecordedEntry::Type::kFile;
      entry.file = NewIncarnation(rec, std::move(content));
      rec.files[name_rel] = entry.file;
      rec.recording->initial_tree[name_rel] = entry;
    } else if (S_ISLNK(st.st_mode)) {
      char value[kMaxLinkValueBytes + 1];
      const ssize_t n = readlink(path.c_str(), value, sizeof(value));
      if (n < 0) return false;
      entry.type = test::RecordedEntry::Type::kLink;
      entry.value.assign(value, static_cast<size_t>(n));
      entry.stamp_ns = TimespecNs(st.st_mtim);
      rec.recording->initial_tree[name_rel] = entry;
    }
  }
  return ok;
}

}  // namespace

// ---------------------------------------------------------------------------
// Files.

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

// FailFileSyncsForTest(): path -> syncs left to fail.
std::mutex g_sync_faults_lock;
std::map<std::string, int>* g_sync_faults = nullptr;

bool TakeSyncFault(const std::string& path) {
  std::lock_guard<std::mutex> guard(g_sync_faults_lock);
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

Status File::Size(uint64_t* size) {
  if (impl_ == nullptr) return StatusFromErrno(EBADF);
  struct stat st;
  if (fstat(FdOf(impl_), &st) != 0) return LastError();
  *size = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Links and directories.

Status ReadLink(const char* path, char* value, size_t capacity, size_t* size,
                uint64_t* stamp_ns) {
  // lstat, readlink, lstat: the value and stamp belong to one link only if
  // the inode and mtime did not change meanwhile (WriteLink renames a new
  // link over the old one); otherwise read again.
  constexpr int kAttempts = 100;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    struct stat before;
    if (lstat(path, &before) != 0) return LastError();
    if (!S_ISLNK(before.st_mode)) return StatusFromErrno(EINVAL);
    const ssize_t n = readlink(path, value, capacity);
    if (n < 0) {
      if (errno == EINVAL || errno == ENOENT) continue;  // replaced/removed
      return LastError();
    }
    struct stat after;
    if (lstat(path, &after) != 0) {
      if (errno == ENOENT) continue;
      return LastError();
    }
    if (after.st_ino != before.st_ino || after.st_dev != before.st_dev ||
        TimespecNs(after.st_mtim) != TimespecNs(before.st_mtim)) {
      continue;
    }
    if (static_cast<size_t>(n) == capacity &&
        static_cast<uint64_t>(before.st_size) > capacity) {
      return Status(StatusCode::kOutOfRange, "link value exceeds the buffer");
    }
    *size = static_cast<size_t>(n);
    *stamp_ns = TimespecNs(before.st_mtim);
    return Status::Ok();
  }
  return Status(StatusCode::kUnavailable, "link keeps changing while read");
}

Status WriteLink(const char* path, const char* value, size_t size,
                 uint64_t stamp_ns) {
  if (size == 0 || size > kMaxLinkValueBytes ||
      memchr(value, '\0', size) != nullptr) {
    return StatusFromErrno(EINVAL);
  }
  const std::string target_path(path);
  const size_t slash = target_path.rfind('/');
  if (slash == std::string::npos || slash + 1 == target_path.size()) {
    return StatusFromErrno(EINVAL);
  }
  const std::string staging = target_path.substr(0, slash + 1) + ".tmp.k." +
                              target_path.substr(slash + 1);
  const std::string text(value, size);
  // The staging link and the rename are one event: the link op of the model.
  RecordLock record;
  if (unlink(staging.c_str()) != 0 && errno != ENOENT) return LastError();
  if (symlink(text.c_str(), staging.c_str()) != 0) return LastError();
  struct timespec times[2];
  times[0].tv_sec = static_cast<time_t>(stamp_ns / kNsPerSecond);
  times[0].tv_nsec = static_cast<long>(stamp_ns % kNsPerSecond);
  times[1] = times[0];
  if (utimensat(AT_FDCWD, staging.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0 ||
      rename(staging.c_str(), path) != 0) {
    const int error = errno;
    unlink(staging.c_str());
    return StatusFromErrno(error);
  }
  std::string rel;
  if (record.active() && RelativePath(Rec(), path, &rel)) {
    Rec().files.erase(rel);
    RecordedEvent event = MakeEvent(RecordedEvent::Kind::kWriteLink, 0);
    event.path = rel;
    event.value = text;
    event.stamp_ns = stamp_ns;
    AppendEvent(Rec(), std::move(event));
  }
  return Status::Ok();
}

Status RemoveEntry(const char* path) {
  RecordLock record;
  if (unlink(path) != 0) return LastError();
  std::string rel;
  if (record.active() && RelativePath(Rec(), path, &rel)) {
    Rec().files.erase(rel);
    RecordedEvent event = MakeEvent(RecordedEvent::Kind::kRemoveEntry, 0);
    event.path = rel;
    AppendEvent(Rec(), std::move(event));
  }
  return Status::Ok();
}

Status MakeDirectory(const char* path) {
  RecordLock record;
  if (mkdir(path, 0755) == 0) {
    std::string rel;
    if (record.active() && RelativePath(Rec(), path, &rel)) {
      RecordedEvent event = MakeEvent(RecordedEvent::Kind::kMakeDirectory, 0);
      event.path = rel;
      AppendEvent(Rec(), std::move(event));
    }
    return Status::Ok();
  }
  const int error = errno;
  struct stat st;
  if (error == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    return Status::Ok();
  }
  return StatusFromErrno(error);
}

Status ListDirectory(const char* path, DirectoryVisitor visit, void* context) {
  DIR* dir = opendir(path);
  if (dir == nullptr) return LastError();
  Status status;
  for (;;) {
    errno = 0;
    const struct dirent* entry = readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) status = LastError();
      break;
    }
    const char* name = entry->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // removed meanwhile
        status = LastError();
        break;
      }
      type = S_ISREG(st.st_mode)   ? DT_REG
             : S_ISDIR(st.st_mode) ? DT_DIR
             : S_ISLNK(st.st_mode) ? DT_LNK
                                   : DT_UNKNOWN;
    }
    const EntryType entry_type = type == DT_REG   ? EntryType::kFile
                                 : type == DT_DIR ? EntryType::kDirectory
                                 : type == DT_LNK ? EntryType::kLink
                                                  : EntryType::kOther;
    if (!visit(context, name, strlen(name), entry_type)) break;
  }
  closedir(dir);
  return status;
}

Status FilesystemSpace(const char* path, uint64_t* free_bytes,
                       uint64_t* total_bytes) {
  struct statvfs st;
  if (statvfs(path, &st) != 0) return LastError();
  *free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  *total_bytes = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// I/O buffers.

void* AllocateIoBuffer(size_t size, Gfp /*gfp*/) {
  constexpr size_t kAlign = 4096;
  const size_t rounded = (size + kAlign - 1) / kAlign * kAlign;
  return aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
}

void FreeIoBuffer(void* buffer) { free(buffer); }

// ---------------------------------------------------------------------------
// Backing block devices.

namespace {

// Test state of one path (platform_user.h): counts, injected failures, mode.
struct PathState {
  test::BlockDeviceStats stats;
  int fail_next[3] = {0, 0, 0};  // by BlockDevice::Op
  bool async = false;
};

struct PathRegistry {
  std::mutex mutex;
  std::map<std::string, PathState> paths;
};

PathRegistry& Paths() {
  static PathRegistry* registry = new PathRegistry;
  return *registry;
}

// The file I/O of one open backing device: the single place where bytes
// move, so that a recording or failing disk can be layered here.
class FileDisk {
 public:
  FileDisk(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileDisk() { close(fd_); }
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
    for (size_t i = 0; i < count; ++i) {
      if (vecs[i].size > 0) iov.push_back({vecs[i].data, vecs[i].size});
    }
    size_t index = 0;
    while (index < iov.size()) {
      const int n_iov =
          static_cast<int>(std::min<size_t>(iov.size() - index, IOV_MAX));
      const ssize_t n =
          write ? pwritev(fd_, &iov[index], n_iov, static_cast<off_t>(offset))
                : preadv(fd_, &iov[index], n_iov, static_cast<off_t>(offset));
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
  const int fd_;
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
  auto* disk = new FileDisk(fd, path);
  {
    Recorder& rec = Rec();
    std::lock_guard<std::mutex> lock(rec.mutex);
    rec.open_disks.insert(disk);
    if (rec.active) DeviceIdLocked(disk);
  }
  impl_ = disk;
  size_ = size;
  return Status::Ok();
}

void BlockDevice::Close() {
  if (impl_ != nullptr) {
    Recorder& rec = Rec();
    std::lock_guard<std::mutex> lock(rec.mutex);
    rec.open_disks.erase(static_cast<FileDisk*>(impl_));
  }
  delete static_cast<FileDisk*>(impl_);
  impl_ = nullptr;
  size_ = 0;
}

void BlockDevice::Submit(Request* request) {
  auto* disk = static_cast<FileDisk*>(impl_);
  if (!MARS_CHECK(disk != nullptr)) {
    request->done(request, StatusFromErrno(EBADF));
    return;
  }
  bool async;
  {
    PathRegistry& registry = Paths();
    std::lock_guard<std::mutex> lock(registry.mutex);
    async = registry.paths[disk->path()].async;
  }
  if (!async) {
    Execute(disk, size_, request);
    return;
  }
  const uint64_t size = size_;
  std::thread([disk, size, request] { Execute(disk, size, request); }).detach();
}

// ---------------------------------------------------------------------------
// Exported devices.

namespace {

struct FrontDiskState {
  std::string name;
  uint64_t size;
  FrontDisk::SubmitFunction submit;
  void* context;
  // Protected by FrontRegistry::mutex.
  int open_count = 0;
  int active_submits = 0;
};

struct FrontRegistry {
  std::mutex mutex;
  std::condition_variable idle;  // an active_submits dropped to 0
  std::map<std::string, FrontDiskState*> disks;
};

FrontRegistry& Fronts() {
  static FrontRegistry* registry = new FrontRegistry;
  return *registry;
}

}  // namespace

namespace test {

struct FrontDiskHandle {
  FrontDiskState* disk;
};

struct FrontIo::State {
  mutable std::mutex mutex;
  std::condition_variable completed;
  bool done = false;
  Status status;
  std::vector<IoVec> vecs;
  FrontRequest request;
  // The request's id in the recording session `record_session` (0: none).
  uint64_t record_session = 0;
  uint32_t record_id = 0;

  void Complete(Status result) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!MARS_CHECK(!done)) return;  // completed twice
    done = true;
    status = result;
    // Notified under the mutex: the waiter may free this State as soon as
    // it can take the mutex again.
    completed.notify_all();
  }
};

}  // namespace test

void CompleteFrontRequest(FrontRequest* request, Status status) {
  auto* state = static_cast<test::FrontIo::State*>(request->platform);
  if (!MARS_CHECK(state != nullptr)) return;
  if (state->record_session != 0) {
    // Recorded before the submitter can see the completion.
    RecordLock record;
    if (record.active() && Rec().session == state->record_session) {
      RecordedEvent event =
          MakeEvent(RecordedEvent::Kind::kFrontComplete, state->record_id);
      event.ok = status.ok();
      AppendEvent(Rec(), std::move(event));
    }
  }
  state->Complete(status);
}

Status FrontDisk::Create(const char* name, uint64_t size_bytes,
                         SubmitFunction submit, void* context) {
  if (impl_ != nullptr) return StatusFromErrno(EEXIST);
  if (name == nullptr || name[0] == '\0' || size_bytes == 0 ||
      size_bytes % kLogicalBlockBytes != 0 || submit == nullptr) {
    return StatusFromErrno(EINVAL);
  }
  FrontRegistry& registry = Fronts();
  std::lock_guard<std::mutex> lock(registry.mutex);
  if (registry.disks.count(name) != 0) return StatusFromErrno(EEXIST);
  auto* disk = new FrontDiskState{name, size_bytes, submit, context};
  registry.disks[name] = disk;
  impl_ = disk;
  return Status::Ok();
}

Status FrontDisk::Destroy() {
  auto* disk = static_cast<FrontDiskState*>(impl_);
  if (disk == nullptr) return Status::Ok();
  FrontRegistry& registry = Fronts();
  {
    std::unique_lock<std::mutex> lock(registry.mutex);
    if (disk->open_count > 0) return StatusFromErrno(EBUSY);
    registry.disks.erase(disk->name);
    registry.idle.wait(lock, [disk] { return disk->active_submits == 0; });
  }
  delete disk;
  impl_ = nullptr;
  return Status::Ok();
}

int FrontDisk::open_count() const {
  auto* disk = static_cast<FrontDiskState*>(impl_);
  if (disk == nullptr) return 0;
  FrontRegistry& registry = Fronts();
  std::lock_guard<std::mutex> lock(registry.mutex);
  return disk->open_count;
}

namespace test {

FrontDiskHandle* OpenFrontDisk(const char* name) {
  FrontRegistry& registry = Fronts();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto it = registry.disks.find(name);
  if (it == registry.disks.end()) return nullptr;
  ++it->second->open_count;
  return new FrontDiskHandle{it->second};
}

void CloseFrontDisk(FrontDiskHandle* handle) {
  if (handle == nullptr) return;
  {
    FrontRegistry& registry = Fronts();
    std::lock_guard<std::mutex> lock(registry.mutex);
    --handle->disk->open_count;
  }
  delete handle;
}

uint64_t FrontDiskSizeForTest(const char* name) {
  FrontRegistry& registry = Fronts();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto it = registry.disks.find(name);
  return it == registry.disks.end() ? 0 : it->second->size;
}

FrontIo::FrontIo(std::unique_ptr<State> state) : state_(std::move(state)) {}

FrontIo::~FrontIo() {
  if (state_ != nullptr) (void)Wait();
}

bool FrontIo::done() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->done;
}

Status FrontIo::Wait() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->completed.wait(lock, [this] { return state_->done; });
  return state_->status;
}

bool FrontIo::WaitFor(uint64_t timeout_ns) {
  std::unique_lock<std::mutex> lock(state_->mutex);
  return state_->completed.wait_until(lock, DeadlineAfter(timeout_ns),
                                      [this] { return state_->done; });
}

namespace {

Status CheckFrontRequest(const FrontRequest& r, uint64_t disk_size) {
  uint64_t total = 0;
  for (size_t i = 0; i < r.vec_count; ++i) total += r.vecs[i].size;
  if (r.op == FrontOp::kFlush) {
    return r.size == 0 && r.vec_count == 0 ? Status::Ok()
                                           : StatusFromErrno(EINVAL);
  }
  if (r.size == 0 || r.size > FrontDisk::kMaxRequestBytes ||
      r.offset % FrontDisk::kLogicalBlockBytes != 0 ||
      r.size % FrontDisk::kLogicalBlockBytes != 0 || total != r.size) {
    return StatusFromErrno(EINVAL);
  }
  if (r.offset > disk_size || r.size > disk_size - r.offset) {
    return StatusFromErrno(EIO);
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<FrontIo> StartFrontIo(FrontTarget target, FrontOp op,
                                      uint32_t flags, uint64_t offset,
                                      std::vector<IoVec> vecs) {
  auto state = std::make_unique<FrontIo::State>();
  FrontIo::State* s = state.get();
  auto io = std::make_unique<FrontIo>(std::move(state));
  s->vecs = std::move(vecs);
  FrontRequest& request = s->request;
  request.op = op;
  request.flags = flags;
  request.offset = offset;
  for (const IoVec& vec : s->vecs) request.size += vec.size;
  request.vecs = s->vecs.empty() ? nullptr : s->vecs.data();
  request.vec_count = s->vecs.size();
  request.platform = s;

  FrontRegistry& registry = Fronts();
  FrontDiskState* disk = nullptr;
  {
    std::lock_guard<std::mutex> lock(registry.mutex);
    if (target.handle() != nullptr) {
      disk = target.handle()->disk;
    } else if (target.name() != nullptr) {
      auto it = registry.disks.find(target.name());
      if (it != registry.disks.end()) disk = it->second;
    }
    if (disk == nullptr) {
      s->Complete(StatusFromErrno(ENOENT));
      return io;
    }
    const Status check = CheckFrontRequest(request, disk->size);
    if (!check.ok()) {
      s->Complete(check);
      return io;
    }
    ++disk->active_submits;
  }
  {
    RecordLock record;
    if (record.active()) {
      Recorder& rec = Rec();
      s->record_session = rec.session;
      s->record_id = rec.next_front_id++;
      RecordedEvent event =
          MakeEvent(RecordedEvent::Kind::kFrontSubmit, s->record_id);
      event.front_op = static_cast<uint8_t>(op);
      event.front_flags = flags;
      event.offset = offset;
      if (op == FrontOp::kWrite) {
        for (const IoVec& vec : s->vecs) {
          const auto* bytes = static_cast<const uint8_t*>(vec.data);
          event.data.insert(event.data.end(), bytes, bytes + vec.size);
        }
      }
      AppendEvent(rec, std::move(event));
    }
  }
  disk->submit(disk->context, &request);
  {
    std::lock_guard<std::mutex> lock(registry.mutex);
    if (--disk->active_submits == 0) registry.idle.notify_all();
  }
  return io;
}

std::unique_ptr<FrontIo> StartFrontIo(FrontTarget target, FrontOp op,
                                      uint32_t flags, uint64_t offset,
                                      void* data, size_t size) {
  std::vector<IoVec> vecs;
  if (size > 0) vecs.push_back(IoVec{data, size});
  return StartFrontIo(target, op, flags, offset, std::move(vecs));
}

Status SubmitToFrontDisk(FrontTarget target, FrontOp op, uint32_t flags,
                         uint64_t offset, void* data, size_t size) {
  return StartFrontIo(target, op, flags, offset, data, size)->Wait();
}

Status SubmitToFrontDisk(FrontTarget target, FrontOp op, uint32_t flags,
                         uint64_t offset, std::vector<IoVec> vecs) {
  return StartFrontIo(target, op, flags, offset, std::move(vecs))->Wait();
}

}  // namespace test

// ---------------------------------------------------------------------------
// The trigger.

namespace {

struct TriggerWaiter {
  int level = 0;
};

struct TriggerState {
  std::mutex mutex;
  std::condition_variable cv;
  int pending = 0;  // written while nobody waited
  std::vector<TriggerWaiter*> waiters;
};

TriggerState& Trigger() {
  static TriggerState* state = new TriggerState;
  return *state;
}

}  // namespace

int WaitForTrigger(uint64_t timeout_ns) {
  const auto deadline = DeadlineAfter(timeout_ns);
  TriggerState& trigger = Trigger();
  std::unique_lock<std::mutex> lock(trigger.mutex);
  if (trigger.pending != 0) {
    const int level = trigger.pending;
    trigger.pending = 0;
    return level;
  }
  TriggerWaiter self;
  trigger.waiters.push_back(&self);
  while (self.level == 0 && !Thread::ShouldStop()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    trigger.cv.wait_until(lock, std::min(deadline, now + kStopPollInterval));
  }
  trigger.waiters.erase(
      std::find(trigger.waiters.begin(), trigger.waiters.end(), &self));
  return self.level;
}

// ---------------------------------------------------------------------------
// Tunables and counters.

namespace {

constexpr uint64_t kTunableDefaults[static_cast<int>(Tunable::kCount)] = {
    64ull << 20,  // kBufferLimitBytes
    1ull << 30,   // kLogRotateBytes
    100,          // kLogSyncIntervalMs
    1000,         // kReplayLinkIntervalMs
    5ull << 20,   // kPeerInflightBytes
};

std::atomic<uint64_t> g_tunables[static_cast<int>(Tunable::kCount)] = {
    {kTunableDefaults[0]},
    {kTunableDefaults[1]},
    {kTunableDefaults[2]},
    {kTunableDefaults[3]},
    {kTunableDefaults[4]},
};

std::atomic<uint64_t> g_counters[static_cast<int>(Counter::kCount)] = {};

bool ValidTunable(Tunable id) {
  return static_cast<int>(id) >= 0 && id < Tunable::kCount;
}

bool ValidCounter(Counter id) {
  return static_cast<int>(id) >= 0 && id < Counter::kCount;
}

}  // namespace

uint64_t GetTunable(Tunable id) {
  if (!MARS_CHECK(ValidTunable(id))) return 0;
  return g_tunables[static_cast<int>(id)].load();
}

uint64_t GetCounter(Counter id) {
  if (!MARS_CHECK(ValidCounter(id))) return 0;
  return g_counters[static_cast<int>(id)].load();
}

void AddCounter(Counter id, uint64_t delta) {
  if (!MARS_CHECK(ValidCounter(id))) return;
  g_counters[static_cast<int>(id)] += delta;
}

void SubtractCounter(Counter id, uint64_t delta) {
  if (!MARS_CHECK(ValidCounter(id))) return;
  g_counters[static_cast<int>(id)] -= delta;
}

void SetCounter(Counter id, uint64_t value) {
  if (!MARS_CHECK(ValidCounter(id))) return;
  g_counters[static_cast<int>(id)] = value;
}

// ---------------------------------------------------------------------------
// The rest of the test API.

namespace test {

void SetHostNameForTest(const char* name) {
  HostNameOverride& state = HostNameState();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.set = name != nullptr;
  if (name != nullptr) snprintf(state.name, sizeof(state.name), "%s", name);
}

void TriggerForTest(int level) {
  if (level != 1 && level != 2) return;
  TriggerState& trigger = Trigger();
  std::lock_guard<std::mutex> lock(trigger.mutex);
  if (trigger.waiters.empty()) {
    trigger.pending = std::max(trigger.pending, level);
  } else {
    for (TriggerWaiter* waiter : trigger.waiters) {
      waiter->level = std::max(waiter->level, level);
    }
  }
  trigger.cv.notify_all();
}

void SetTunableForTest(Tunable id, uint64_t value) {
  if (!MARS_CHECK(ValidTunable(id))) return;
  g_tunables[static_cast<int>(id)] = value;
}

void ResetTunablesForTest() {
  for (int i = 0; i < static_cast<int>(Tunable::kCount); ++i) {
    g_tunables[i] = kTunableDefaults[i];
  }
}

void ResetCountersForTest() {
  for (auto& counter : g_counters) counter = 0;
}

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

bool StartRecordingForTest(const char* root, bool capture_content) {
  Recorder& rec = Rec();
  std::lock_guard<std::mutex> lock(rec.mutex);
  if (rec.active || root == nullptr) return false;
  std::string dir(root);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  rec.recording = std::make_unique<Recording>();
  rec.recording->root = dir;
  rec.recording->content_captured = capture_content;
  rec.root = dir;
  rec.capture_content = capture_content;
  rec.files.clear();
  rec.devices.clear();
  rec.threads.clear();
  rec.next_front_id = 0;
  ++rec.session;
  if (!SnapshotDirectory(rec, dir, "")) {
    rec.recording.reset();
    return false;
  }
  for (FileDisk* disk : rec.open_disks) DeviceIdLocked(disk);
  rec.active = true;
  g_recording.store(true, std::memory_order_release);
  return true;
}

std::unique_ptr<Recording> StopRecordingForTest() {
  Recorder& rec = Rec();
  std::lock_guard<std::mutex> lock(rec.mutex);
  if (!rec.active) return nullptr;
  rec.active = false;
  g_recording.store(false, std::memory_order_release);
  rec.files.clear();
  rec.devices.clear();
  return std::move(rec.recording);
}

}  // namespace test
}  // namespace platform
}  // namespace mars
