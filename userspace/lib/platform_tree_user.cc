// The /mars tree's symlinks and directories of core/platform_io.h with
// POSIX (lstat, readlink, symlink + rename, unlink, mkdir, readdir,
// statvfs); changes under a recorded directory are hooked into the recorder
// (platform_recorder_user.h).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "core/base/errno_status.h"
#include "core/platform_io.h"
#include "platform_recorder_user.h"
#include "posix_user.h"

namespace mars {
namespace platform {

using internal::AppendEvent;
using internal::kNsPerSecond;
using internal::LastError;
using internal::MakeEvent;
using internal::Rec;
using internal::RecordedEvent;
using internal::RecordLock;
using internal::RelativePath;
using internal::TimespecNs;

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

}  // namespace platform
}  // namespace mars
