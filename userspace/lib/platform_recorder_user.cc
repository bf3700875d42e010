// The recorder of storage operations (platform_recorder_user.h) and its test
// API: StartRecordingForTest and StopRecordingForTest (platform_user.h).
#include "platform_recorder_user.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "core/platform.h"
#include "core/platform_io.h"
#include "platform_user.h"
#include "posix_user.h"

namespace mars {
namespace platform {
namespace internal {

Recorder& Rec() {
  static Recorder* recorder = new Recorder;
  return *recorder;
}

std::atomic<bool> g_recording{false};

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

namespace {

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
}  // namespace internal

namespace test {

using internal::DeviceIdLocked;
using internal::FileDisk;
using internal::g_recording;
using internal::Rec;
using internal::Recorder;
using internal::SnapshotDirectory;

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
