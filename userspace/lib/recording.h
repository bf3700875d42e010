// A recording of everything the engine did to storage while recording was on
// (platform_user.h: StartRecordingForTest / StopRecordingForTest), in one
// global order: writes, truncations and syncs of the regular files under the
// recorded directory (the /mars tree), creations and removals of files, link
// writes and directory creations there, writes and flushes of the backing
// block devices, and the submissions and completions of requests of the
// exported devices. testing/crash/ turns one recording into the disk states a
// power cut could leave (docu/crash-consistency.md).
//
// Order: an operation that changes storage is recorded while it takes effect
// (under the recorder's lock), a sync or flush as a begin event before it
// starts and an end event after it completed, a front request's submission
// before the engine sees it and its completion before the submitter is woken.
// So every prefix of the events is a state the system could have been in,
// and an event that depends on another (an acknowledgement on the sync it
// waited for) always comes after it.
#ifndef MARS_USERSPACE_LIB_RECORDING_H_
#define MARS_USERSPACE_LIB_RECORDING_H_

#include <stdint.h>

#include <map>
#include <string>
#include <vector>

namespace mars {
namespace platform {
namespace test {

struct RecordedEvent {
  enum class Kind : uint8_t {
    // Regular files under the recorded directory. `object` is the file's
    // incarnation (index into Recording::files).
    kFileWrite = 0,      // offset, data: pwrite completed
    kFileTruncate = 1,   // offset = the new size
    kFileSyncBegin = 2,  // fdatasync starts
    kFileSyncEnd = 3,    // fdatasync completed; begin = its begin event
    // The namespace of the recorded directory (metadata; `path` relative to
    // the directory, no leading '/').
    kCreateFile = 4,     // incarnation `object` (content Recording::files)
                         // appears at path: made by File::Open(kCreate), or
                         // a file made behind the platform's back, at its
                         // first use
    kRemoveEntry = 5,    // path is unlinked (file or link)
    kWriteLink = 6,      // path becomes the link `value` with mtime stamp_ns
    kMakeDirectory = 7,  // path becomes an empty directory
    // Backing block devices. `object` indexes Recording::devices.
    kDeviceWrite = 8,       // offset, data; fua
    kDeviceFlushBegin = 9,  // a kFlush request starts
    kDeviceFlushEnd = 10,   // it completed; begin = its begin event
    // Requests of the exported devices. `object` is the request's id.
    kFrontSubmit = 11,    // front_op, front_flags, offset, data (writes)
    kFrontComplete = 12,  // ok: completed with Status::Ok()
  };

  Kind kind = Kind::kFileWrite;
  uint32_t object = 0;
  uint64_t offset = 0;
  uint64_t begin = 0;         // k*End: index of the matching k*Begin event
  bool ok = true;             // k*End, kFrontComplete: the operation succeeded
  bool fua = false;           // kDeviceWrite
  uint8_t front_op = 0;       // kFrontSubmit: platform::FrontOp
  uint32_t front_flags = 0;   // kFrontSubmit: platform::FrontFlags
  uint64_t stamp_ns = 0;      // kWriteLink
  std::string path;           // metadata events
  std::string value;          // kWriteLink
  std::vector<uint8_t> data;  // kFileWrite, kDeviceWrite, kFrontSubmit
  uint64_t thread = 0;  // a small number per recording thread (diagnostics)
};

// One entry of the recorded directory, relative path -> entry.
struct RecordedEntry {
  enum class Type : uint8_t { kDirectory = 0, kFile = 1, kLink = 2 };
  Type type = Type::kFile;
  uint32_t file = 0;      // kFile: incarnation
  std::string value;      // kLink
  uint64_t stamp_ns = 0;  // kLink: mtime
};

struct RecordedDevice {
  std::string path;              // as given to BlockDevice::Open()
  std::vector<uint8_t> initial;  // content when recording started/it opened
};

struct Recording {
  std::string root;  // the recorded directory, without a trailing '/'
  // False when recording began without reading contents: `files` of the
  // initial tree and the devices' `initial` are empty until the caller
  // fills them in.
  bool content_captured = true;
  // The directory when recording started (directories, regular files and
  // symlinks; other entries are not recorded).
  std::map<std::string, RecordedEntry> initial_tree;
  // Content of every file incarnation when it entered the recording: from
  // the start (files of initial_tree) or empty (created while recording).
  std::vector<std::vector<uint8_t>> files;
  std::vector<RecordedDevice> devices;
  std::vector<RecordedEvent> events;
};

}  // namespace test
}  // namespace platform
}  // namespace mars

#endif  // MARS_USERSPACE_LIB_RECORDING_H_
