// Crash states of one recording (userspace/lib/recording.h): which disk
// contents a power cut could leave at a point of the recorded event stream,
// and writing such a state out as files (docu/crash-consistency.md).
//
// The model: a write to a logfile or a data device is durable once a flush
// or sync of the same file or device that began after it completed, or when
// it carried FUA; until then it may be lost, whole or per 512-byte sector, in
// any combination. Creations, removals and link writes under the recorded
// directory are metadata, committed in order (the ext4 journal): durable once
// a sync of any file there that began after them completed; a crash keeps a
// prefix of them that includes every durable one. Truncations are durable
// with the next sync of their file and are kept or lost whole.
#ifndef MARS_TESTING_CRASH_CRASH_STATE_H_
#define MARS_TESTING_CRASH_CRASH_STATE_H_

#include <stddef.h>
#include <stdint.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "recording.h"

namespace mars {
namespace crash {

using platform::test::RecordedEntry;
using platform::test::RecordedEvent;
using platform::test::Recording;

constexpr uint64_t kSectorBytes = 512;

// What happens to the writes that are not durable at the cut.
enum class Fate : uint8_t {
  kNoneKept = 0,  // all lost: only what is durable survives
  kAllKept = 1,   // all reached the media
  kRandom = 2,    // chosen by `seed`: kept, lost or torn per sector
};

const char* FateName(Fate fate);

struct CrashState {
  uint64_t index = 0;  // in the enumeration that produced it
  size_t cut = 0;      // the events [0, cut) happened, none after
  Fate fate = Fate::kNoneKept;
  uint64_t seed = 0;  // kRandom: every choice derives from it
};

// "state #12 (cut 345 of 900 events, random, seed 0x...)".
std::string Describe(const CrashState& state, size_t event_count);

// splitmix64: small, fast, the same on every platform.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, bound); bound > 0.
  uint64_t Below(uint64_t bound) { return Next() % bound; }
  bool Percent(uint64_t percent) { return Below(100) < percent; }

 private:
  uint64_t state_;
};

uint64_t MixSeed(uint64_t a, uint64_t b);

// The crash states of one recording, in a fixed order for a given seed:
// first every boundary cut (just before and just after each sync or flush
// completion, FUA device write, completion of a FUA or flush request of the
// exported device, and metadata operation; plus the start and the end) with
// everything not durable lost and with everything kept, shuffled; then
// endlessly random states: a boundary or any cut, with random fates.
class StateEnumeration {
 public:
  StateEnumeration(const Recording& recording, uint64_t seed);

  CrashState State(uint64_t index) const;
  // The states before the random ones: 2 x the boundary cuts.
  size_t boundary_states() const { return boundary_states_.size(); }
  size_t boundary_cuts() const { return boundaries_.size(); }

 private:
  size_t event_count_;
  uint64_t seed_;
  std::vector<size_t> boundaries_;
  std::vector<CrashState> boundary_states_;
};

// Facts about a materialised state that the checks need.
struct StateFacts {
  // For each regular file of the state's tree (relative path): the end of
  // the part of it that was durable at the cut (writes and truncations that
  // a completed sync covers, and the content it had when recording began).
  std::map<std::string, uint64_t> durable_end;
  uint64_t writes_durable = 0;
  uint64_t writes_kept = 0;  // not durable, kept whole
  uint64_t writes_lost = 0;  // not durable, lost whole
  uint64_t writes_torn = 0;  // not durable, some sectors kept
  uint64_t metadata_kept = 0;
  uint64_t metadata_lost = 0;
};

// Where a state lives under its directory `dir`.
std::string TreeDir(const std::string& dir);
std::string DevicePath(const std::string& dir, size_t device);

// Writes crash states to the directory `dir`, one after the other: the
// recorded directory as TreeDir(dir), device i as DevicePath(dir, i).
//
// It keeps a mirror of what the directory holds, so that a state rewrites
// only the entries and 4096-byte pages that differ from the one before.
// Whatever changes the directory in between (recovery) must be recorded
// from right after Write() and handed to Absorb(); otherwise call Forget(),
// and the next Write() rewrites everything.
class StateWriter {
 public:
  explicit StateWriter(std::string dir) : dir_(std::move(dir)) {}

  // Makes the directory hold exactly `state` of `recording`. False with
  // *error on a file system error (the mirror is then forgotten).
  bool Write(const Recording& recording, const CrashState& state,
             StateFacts* facts, std::string* error);
  // Follows the changes `changes` recorded (StartRecordingForTest on
  // TreeDir(dir)). When it was recorded without content, fills in its
  // initial contents from the mirror, making it a complete recording. False
  // with *error when it does not start from what the mirror holds (the
  // mirror is then forgotten).
  bool Absorb(Recording* changes, std::string* error);
  void Forget() { known_ = false; }
  // The mirror of device `d`; nullptr when not known.
  const std::vector<uint8_t>* Device(size_t d) const {
    return known_ && d < disk_devices_.size() ? &disk_devices_[d] : nullptr;
  }
  const std::string& dir() const { return dir_; }

 private:
  // Out to the directory: `tree` with files_ and devices_.
  bool WriteOut(const std::map<std::string, RecordedEntry>& tree,
                std::string* error);

  std::string dir_;
  // The state being written.
  std::vector<std::vector<uint8_t>> files_;  // by incarnation
  std::vector<std::vector<uint8_t>> devices_;
  // The mirror: what the directory holds, when known_.
  bool known_ = false;
  std::map<std::string, RecordedEntry> disk_tree_;  // kFile: `file` unused
  std::map<std::string, std::vector<uint8_t>> disk_files_;
  std::vector<std::vector<uint8_t>> disk_devices_;
};

// StateWriter(dir).Write(...).
bool Materialize(const Recording& recording, const CrashState& state,
                 const std::string& dir, StateFacts* facts, std::string* error);

// Removes `path` and everything below it; true when it is gone.
bool RemoveTree(const std::string& path);

}  // namespace crash
}  // namespace mars

#endif  // MARS_TESTING_CRASH_CRASH_STATE_H_
