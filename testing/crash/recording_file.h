// Recordings (userspace/lib/recording.h) saved to and loaded from a file, so
// that a crash state reported by a test can be checked again from exactly
// the same recording (docu/crash-consistency.md, "Reproducing a state").
#ifndef MARS_TESTING_CRASH_RECORDING_FILE_H_
#define MARS_TESTING_CRASH_RECORDING_FILE_H_

#include <stdint.h>

#include <string>

#include "recording.h"

namespace mars {
namespace crash {

struct RecordingHeader {
  std::string workload;  // the workload's name
  uint64_t seed = 0;     // of the state enumeration
  uint64_t device_bytes = 0;
};

// False with *error when the file cannot be written or read, or is not a
// recording of this format.
bool SaveRecording(const std::string& path, const RecordingHeader& header,
                   const platform::test::Recording& recording,
                   std::string* error);
bool LoadRecording(const std::string& path, RecordingHeader* header,
                   platform::test::Recording* recording, std::string* error);

}  // namespace crash
}  // namespace mars

#endif  // MARS_TESTING_CRASH_RECORDING_FILE_H_
