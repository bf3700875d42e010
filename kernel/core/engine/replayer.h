// Replayer: applies the logfiles a secondary host fetched from the primary
// to its data device, in log order (docu/write-path.md "Replay on a
// secondary"). Sans-thread: a caller (the Resource's replay thread) calls
// Pass() in a loop and sleeps when it reports nothing to do.
//
// Where it starts: replay-HOST (log-N-ORIGIN,POS,DIRTY), read once by the
// first Pass(); records ending at or before POS are on the data device
// already (replay is idempotent, so the dirty range is simply applied again).
// What it reads: the local copies resource-R/log-N-ORIGIN that fetch appends
// to; a copy is complete when a version link for N names exactly
// log-N-ORIGIN (its length is then final). Only records that verify are
// applied. What it writes: the data device (flushed before every
// publication), replay-HOST (about once a second while records flow, at once
// when a logfile is finished or replay goes idle) and version-N-HOST for
// every logfile it finished. A damaged local copy is cut at its last valid
// record so that fetch brings the rest again.
//
// Not thread-safe: one caller at a time. Context of every function: may
// sleep.
#ifndef MARS_CORE_ENGINE_REPLAYER_H_
#define MARS_CORE_ENGINE_REPLAYER_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/status.h"
#include "core/engine/log_apply.h"
#include "core/engine/log_durability.h"
#include "core/engine/resource_hooks.h"
#include "core/lamport_clock.h"
#include "core/log/log_reader.h"
#include "core/platform_io.h"
#include "core/tree/log_names.h"
#include "core/tree/names.h"
#include "core/tree/text.h"
#include "core/tree/version_link.h"

namespace mars {
namespace engine {

// Values are reported (tests, diagnostics); append only.
enum class ReplayState : uint8_t {
  // Records were applied and more are ready: call Pass() again at once.
  kReplaying = 0,
  // The current logfile is not complete here: fetch has not brought (all)
  // its bytes yet, its local copy does not exist yet, or no version link
  // gives its final length yet.
  kWaitingForBytes = 1,
  // Every logfile named so far is applied; no link names the next one yet.
  kIdle = 2,
  // The local copy was damaged and cut at its last valid record; waiting
  // for fetch to bring the rest again.
  kRefetching = 3,
  // Stopped (nothing more is applied; see ReplayCode()):
  // the histories diverge: version links for the logfile differ, a replay
  // position lies beyond a logfile's final length, or two origins are named
  // for one logfile number. Stays until a new Replayer starts.
  kSplitBrain = 4,
  // A later logfile is named but the next one is not (a gap in the
  // numbering), for at least kHoleConfirmNs. Checked again every second;
  // replay goes on once the next logfile is named.
  kHole = 5,
  // A record that verifies but cannot be applied (unknown kind, outside the
  // data device), or damage at the same offset after kMaxRefetches cuts.
  // Stays until a new Replayer starts.
  kCorrupt = 6,
  // Reading a logfile or a link, writing or flushing the data device, or
  // writing a link failed. Retried after kRetryNs from the same record.
  kIoError = 7,
};

// A short stable name, e.g. "split-brain". Context: any.
const char* ReplayStateName(ReplayState state);
// True for kSplitBrain, kHole, kCorrupt, kIoError. Context: any.
bool IsReplayStopped(ReplayState state);
// actual-HOST/replay-code of a state: 0 unless stopped; -EPROTO (-71) split
// brain, -ENODATA (-61) hole, -EBADMSG (-74) corrupt, -EIO (-5) I/O error.
// Context: any.
int64_t ReplayCode(ReplayState state);

struct ReplayerOptions {
  const char* root = nullptr;  // the /mars directory, no trailing '/'
  const char* name = nullptr;  // resource name R
  const char* host = nullptr;  // this host H
  // The data device: open, outliving the Replayer, used by nobody else
  // while Pass() runs.
  platform::BlockDevice* data = nullptr;
  uint64_t device_size = 0;              // resource size: records must fit it
  LamportClock* clock = nullptr;         // stamps of the links it writes
  uint64_t (*monotonic_ns)() = nullptr;  // nullptr: platform::MonotonicNs
  // Its LockCopies() is held around every cut of a local copy (the fetch
  // appends under it); may be null when nothing fetches (tests).
  LogDurability* copies = nullptr;
};

// What one Pass() did.
struct ReplayPass {
  ReplayState state = ReplayState::kIdle;
  uint64_t bytes_applied = 0;  // payload bytes written to the data device
  // More is ready at once (kReplaying): call Pass() again without sleeping.
  bool more = false;
};

struct ReplayReport {
  ReplayState state = ReplayState::kIdle;
  // The logfile being replayed (number 0 before the first Pass()).
  tree::LogfileName log;
  // Every record of `log` ending at or before it is applied (maybe not yet
  // flushed); `published`: what replay-HOST says.
  uint64_t position = 0;
  uint64_t published = 0;
  uint64_t bytes_applied = 0;    // payload bytes since Init()
  uint64_t records_applied = 0;  // write records since Init()
  uint64_t logfiles_finished = 0;
  uint64_t refetches = 0;  // times a damaged local copy was cut
  // Records read from the local copy straight into the data device's
  // staging buffers (LogApplier), since Init().
  uint64_t records_read_in_place = 0;
  // Of those, records whose payload was read with direct I/O, and of these
  // the ones read ahead while the record before was verified.
  uint64_t records_read_direct = 0;
  uint64_t records_read_ahead = 0;
  int64_t code = 0;  // ReplayCode(state)
  // Stopped or kRefetching: one line saying what and why; else empty.
  ErrorText error;
};

class Replayer {
 public:
  // Default budget of one Pass(): bytes of logfile read.
  static constexpr uint64_t kPassBytes = 8ull << 20;
  // Links (version-N-*, replay-*, primary) are scanned at most this often
  // while waiting.
  static constexpr uint64_t kLinkScanIntervalNs = 1000ull * 1000 * 1000;
  // A gap in the logfile numbering must persist this long to be a hole
  // (links of one change may arrive one after the other).
  static constexpr uint64_t kHoleConfirmNs = 2000ull * 1000 * 1000;
  // An I/O error is retried after this long.
  static constexpr uint64_t kRetryNs = 10000ull * 1000 * 1000;
  // Damage at the same offset of a logfile stops replay (kCorrupt) after
  // this many cuts and refetches.
  static constexpr uint32_t kMaxRefetches = 3;

  Replayer() = default;
  ~Replayer();
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  // Copies the names and allocates the buffers once (window of
  // 2 * log::kMaxRecordBytes, staging buffer, link scratch; Gfp::kKernel).
  // kInvalidArgument for missing or too long settings, kNoMemory.
  Status Init(const ReplayerOptions& options);

  // Does a bounded amount of work: reads at most about `max_bytes` of
  // logfile (plus one record), applying what verifies; finishes logfiles,
  // moves to the next one; checks links while waiting. Never blocks for
  // bytes or links to arrive. Stopped states return at once (kHole and
  // kIoError are retried when due).
  ReplayPass Pass(uint64_t max_bytes = kPassBytes);

  // Flushes the data device and publishes the applied position in
  // replay-HOST now, if it changed (before the caller stops replaying).
  Status PublishNow();

  void Report(ReplayReport* report) const;

 private:
  static constexpr size_t kNameBytes = tree::kMaxNameChars + 1;
  static constexpr size_t kRootBytes = 512;
  // scratch_: one link value and its NUL.
  static constexpr size_t kLinkBufferBytes = platform::kMaxLinkValueBytes + 1;

  // What one scan of the resource directory found (ScanLinks()), for the
  // current logfile N (log_) and the next number.
  struct LinkFacts {
    tree::HostName designated;  // resource-R/primary; empty: none
    // Version links for N naming log_ (other hosts'): the final length.
    bool final_found = false;
    uint64_t final_length = 0;
    bool length_conflict = false;
    // The designated primary's and the origin's version link for N.
    bool primary_has_n = false;
    tree::VersionLink primary_n;
    bool origin_has_n = false;
    tree::VersionLink origin_n;
    bool any_has_n = false;  // some matching link, for adoption
    tree::VersionLink any_n;
    // The designated primary's version link for N names another logfile.
    bool primary_names_other = false;
    // The next logfile N+1 as named by version links for N+1 or replay
    // links: by the designated primary, and by the others (the first name,
    // and whether another name differs from it).
    bool primary_next_found = false;
    tree::LogfileName primary_next;
    bool other_next_found = false;
    tree::LogfileName other_next;
    bool other_next_conflict = false;
    tree::LogfileName other_next_conflicting;
    // Some link names a logfile after N+1.
    uint32_t beyond = 0;  // the lowest such number, 0: none
  };

  uint64_t Now() const;
  bool Start();
  // Returns true when replay may go on.
  bool Resume(uint64_t now);
  bool OpenLogfile();
  void CloseLogfile();
  bool ResetReader(uint64_t offset, uint64_t next_record_number, uint64_t salt);
  // After a data-device write error: reads again from the first record
  // whose data may be missing (LogApplier::failed_offset()).
  void RetryFromFailedWrite();
  Status ScanLinks();
  static bool VisitEntry(void* context, const char* name, size_t size,
                         platform::EntryType type);
  void VisitVersionLink(const tree::LogfileName& name, Slice entry);
  void VisitReplayLink(const tree::HostName& host, Slice entry);
  void NoteNext(const tree::LogfileName& log, bool from_primary);
  void NoteBeyond(uint32_t number);
  bool ReadEntry(Slice entry, size_t* size);
  // The checks on facts_ while log N is read. False when stopped.
  bool CheckFacts();
  // At the clean end of a complete logfile. False when replay cannot go on
  // in this pass.
  bool FinishLogfile(uint64_t now);
  // Truncates the local copy to `length` (under copies_->LockCopies()) and
  // syncs it.
  Status CutLocalCopy(uint64_t length);
  bool WriteOwnVersionLink();
  // Looks for the next logfile (scanning links first unless `scanned`).
  // True when it switched to it.
  bool SelectNext(uint64_t now, bool scanned);
  void CutDamage(const log::ReadResult& read);
  // Reads records of the current logfile; false when nothing more can be
  // done in this pass (*more: the budget ran out first).
  bool Run(uint64_t now, uint64_t max_bytes, bool* more);
  // Applies a verified record unless the replay link covers it. False when
  // replay stopped.
  bool ApplyRecord(const log::RecordView& record);
  // At the end of the local bytes of a logfile not known to be complete:
  // looks for its version links when due. *look_again: the final length is
  // known now. False when replay stopped (split brain).
  bool LearnFinalLength(uint64_t now, bool* look_again);
  // Flush and replay-HOST when due (or `force`). False when it failed
  // (stopped with kIoError).
  bool MaybePublish(bool force);
  // Enters a stopped state with error_ as prepared by the caller; logs it
  // once per distinct text.
  void Stop(ReplayState state);
  // kIoError "WHAT LOG: MESSAGE", retried after kRetryNs.
  void StopIo(const char* what, Status status);
  // Appends "log-NNNNNNNNN-ORIGIN" (`prefix` "log-") or
  // "version-NNNNNNNNN-HOST" to `w`.
  static void AppendName(const char* prefix, const tree::LogfileName& log,
                         tree::TextWriter* w);
  // Appends `host`, escaped as in error texts.
  static void AppendHost(const tree::HostName& host, tree::TextWriter* w);

  // Settings.
  char root_[kRootBytes] = {};
  char name_[kNameBytes] = {};
  char host_[kNameBytes] = {};
  char dir_[kRootBytes + kNameBytes + 16] = {};  // root/resource-NAME
  platform::BlockDevice* data_ = nullptr;
  uint64_t device_size_ = 0;
  LamportClock* clock_ = nullptr;
  LogDurability* copies_ = nullptr;
  uint64_t (*monotonic_ns_)() = nullptr;
  LogApplier applier_;
  char* scratch_ = nullptr;  // link values: kLinkBufferBytes
  LinkFacts* facts_ = nullptr;

  // Where replay is.
  bool started_ = false;
  tree::LogfileName log_;
  uint64_t skip_until_ = 0;  // records ending at or before it: applied
  uint64_t position_ = 0;    // end of the last record applied or skipped
  bool final_known_ = false;
  uint64_t final_length_ = 0;
  bool finished_ = false;  // log_ is done; looking for the next logfile
  platform::File file_;
  log::LogReader reader_;
  uint64_t file_size_ = 0;  // of the local copy, at the last look

  // Publication.
  tree::LogfileName published_log_;
  uint64_t published_ = 0;
  bool unflushed_ = false;
  uint64_t last_publish_ns_ = 0;

  // Links and waiting.
  uint64_t next_scan_ns_ = 0;
  uint64_t hole_since_ns_ = 0;
  uint64_t retry_ns_ = 0;

  // Damage.
  uint32_t damage_log_ = 0;
  uint64_t damage_offset_ = 0;
  uint32_t damage_cuts_ = 0;
  bool refetching_ = false;

  ReplayState state_ = ReplayState::kIdle;
  ErrorText error_;
  char logged_[ErrorText::kCapacity] = {};  // last stop logged
  uint64_t bytes_applied_ = 0;
  uint64_t records_applied_ = 0;
  uint64_t logfiles_finished_ = 0;
  uint64_t refetches_ = 0;
  uint64_t pass_bytes_ = 0;  // applied in the current Pass()
};

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_REPLAYER_H_
