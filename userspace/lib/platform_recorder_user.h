// The recorder of storage operations behind StartRecordingForTest
// (platform_user.h, recording.h), shared by the POSIX platform's files that
// hook into it (files, links and directories, backing devices, exported
// devices). Internal to userspace/lib.
//
// While a recording runs, every hooked operation takes effect under the
// recorder's lock and is appended as an event before the lock is dropped,
// so the events are in the order the operations took effect; without a
// recording the hooks only read an atomic flag. The lock is innermost:
// nothing under it calls back into the engine.
#ifndef MARS_USERSPACE_LIB_PLATFORM_RECORDER_USER_H_
#define MARS_USERSPACE_LIB_PLATFORM_RECORDER_USER_H_

#include <stdint.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "recording.h"

namespace mars {
namespace platform {
namespace internal {

class FileDisk;  // an open backing device (platform_block_user.cc)

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

// The process-wide recorder (a leaked heap object).
Recorder& Rec();

// True while a recording runs (set and cleared under the recorder's lock).
extern std::atomic<bool> g_recording;

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
bool RelativePath(const Recorder& rec, const char* path, std::string* rel);

// REQUIRES the lock held while recording. Returns the event's index.
uint64_t AppendEvent(Recorder& rec, RecordedEvent event);

RecordedEvent MakeEvent(RecordedEvent::Kind kind, uint32_t object);

// The whole content of the open file `fd` (or block device).
bool ReadWholeFile(int fd, std::vector<uint8_t>* out);

uint32_t NewIncarnation(Recorder& rec, std::vector<uint8_t> content);

// The incarnation of the regular file `path`, open as `fd`. REQUIRES the lock
// held while recording. A file under the directory that the recording does
// not know (made behind the platform's back) enters it now with its current
// content, as if created at this point.
uint32_t FileIncarnationLocked(Recorder& rec, const std::string& path, int fd);

// The disk's index in the running recording; captures its content when it
// is new to the recording. REQUIRES the recorder's lock held while recording.
// In platform_block_user.cc.
uint32_t DeviceIdLocked(FileDisk* disk);

}  // namespace internal
}  // namespace platform
}  // namespace mars

#endif  // MARS_USERSPACE_LIB_PLATFORM_RECORDER_USER_H_
