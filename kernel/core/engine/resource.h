// Resource: the primary write path of one resource on this host
// (docu/write-path.md; contract: architecture §3). It owns the data device,
// the current logfile, the write buffer (DirtyIndex), the logger and
// writeback threads, and /dev/mars/DEVNAME. The Manager drives it through
// kResourceHooks (engine/resource_hooks.h).
//
// Threads: requests of /dev/mars/DEVNAME arrive in the submitters' contexts
// (resource_io.cc); the logger thread writes and syncs the logfile and
// completes requests waiting for durability (resource_logger.cc); the
// writeback thread writes durable blocks to the data device and publishes
// replay-HOST (resource_writeback.cc). On a secondary the replay thread
// applies fetched logfiles instead (resource_replay.cc, engine/replayer.h).
// `lock_` protects the log writer, the index and every field marked
// "lock_".
#ifndef MARS_CORE_ENGINE_RESOURCE_H_
#define MARS_CORE_ENGINE_RESOURCE_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/memory.h"
#include "core/base/status.h"
#include "core/engine/data_access.h"
#include "core/engine/dirty_index.h"
#include "core/engine/error_text.h"
#include "core/engine/log_durability.h"
#include "core/engine/log_position.h"
#include "core/engine/replayer.h"
#include "core/engine/resource_hooks.h"
#include "core/log/log_writer.h"
#include "core/platform.h"
#include "core/platform_io.h"
#include "core/tree/names.h"

namespace mars {
namespace engine {

// The real engine behind the Manager.
extern const ResourceHooks kResourceHooks;

class Resource {
 public:
  static constexpr size_t kPathBytes = 512;
  static constexpr size_t kMaxNameBytes = 64;

  Resource() = default;
  ~Resource();
  Resource(const Resource&) = delete;
  Resource& operator=(const Resource&) = delete;

  // Copies the settings. kInvalidArgument for names or paths that do not fit.
  Status Init(const ResourceSettings& settings);

  Status Attach(ErrorText* why);
  Status StartPrimary(const char* device_name, ErrorText* why);
  Status StopPrimary(ErrorText* why);
  Status Detach(ErrorText* why);
  void RequestLogfile(uint64_t number);
  void Report(ResourceReport* report);
  void Tick();
  // Updates replay_rate_ from the replayer's bytes applied (every 5 s).
  void SampleReplayRate(uint64_t now);
  void SetReplay(bool run);

  // Block sync (resource_sync.cc, through engine::DataAccess).
  enum class SyncOp : uint8_t { kRead, kWrite, kFlush };
  // Reads the data device as the sync source: kUnavailable unless this host
  // is the actual primary with a working log. *bound: the data reflects no
  // log record at or after it (durable_ after the read). Context: may sleep.
  Status ReadAsSyncSource(uint64_t offset, void* buffer, size_t size,
                          LogPosition* bound);
  // Reads, writes or flushes the data device as the sync target:
  // kUnavailable unless attached, not primary and not replaying. Role
  // changes wait until such a call is done. Context: may sleep.
  Status AccessAsSyncTarget(SyncOp op, uint64_t offset, void* buffer,
                            size_t size);

  const char* name() const { return name_; }
  const char* host() const { return host_; }

  // Builds root/resource-NAME/`leaf` (leaf may contain '/'). Returns false
  // when it does not fit kPathBytes.
  bool ResourcePath(const char* leaf, char* out) const;
  // root/resource-NAME/log-NNNNNNNNN-HOST for this host's logfile `number`.
  bool LogfilePath(uint64_t number, char* out) const;

  // The exported device's submit function (resource_io.cc).
  static void SubmitFront(void* context, platform::FrontRequest* request);
  // Completes a request on behalf of an asynchronous read. Context: any.
  static void CompleteForJob(Resource* resource,
                             platform::FrontRequest* request, Status status);

 private:
  // A request waiting until the log is durable up to `position`.
  struct DurabilityWaiter {
    platform::FrontRequest* request;
    LogPosition position;
    DurabilityWaiter* next;
  };

  // resource_io.cc
  void SubmitRead(platform::FrontRequest* request);
  void SubmitWrite(platform::FrontRequest* request);
  void SubmitFlush(platform::FrontRequest* request);
  // Completes `request` and drops it from the in-flight count.
  void FinishFront(platform::FrontRequest* request, Status status);
  // Waits (not holding lock_) until the write buffer has room for `bytes`.
  void ThrottleWrite(uint64_t bytes);
  // Queues `request` until the log is durable up to `position`, or completes
  // it at once when it already is. REQUIRES lock_ held.
  Status WaitForDurableLocked(platform::FrontRequest* request,
                              LogPosition position);

  // resource_logger.cc
  // Creates the empty logfile `number` (kAlreadyExists if it has data) and
  // a log writer for it; on failure nothing stays open and *why says what.
  Status OpenFreshLogfile(uint64_t number, platform::File* file,
                          UniquePtr<log::LogWriter>* writer,
                          ErrorText* why) const;
  Status StartLogger(uint64_t logfile_number, ErrorText* why);
  void StopLogger();
  static void LoggerMain(void* context);
  // One pass: write what is appended, sync when due, complete waiters.
  // Returns false when the log failed.
  bool LoggerPass(bool force_sync);
  // REQUIRES lock_ held and writer_ set. Marks a rotation due when the
  // logfile reached logrotate_bytes or a later logfile was requested; from
  // then on writers wait (rotating_) until the logger switched files.
  void NoteRotationDueLocked();
  Status RotateLogfile(uint64_t number);
  // REQUIRES lock_ held. Fails every waiter and marks the log failed.
  void FailLogLocked(const char* what, Status status);
  // After a log failure, with the logger stopped: truncates the logfile to
  // synced_end_ (what is durable).
  void CutUndurableTail();

  // Refuses (kUnavailable, *why) while replay-HOST names another host's
  // logfile.
  Status RefuseForeignReplayLink(ErrorText* why) const;

  // resource_sync.cc. The Manager's thread allows the sync target while
  // attached, not primary and not replaying; disallowing waits until no
  // sync call is inside.
  void AllowSyncTarget();
  void DisallowSyncTarget();
  // Registers in data_access_ (after attach) / unregisters, waiting for
  // calls in progress, and closes the data device.
  void RegisterDataAccess();
  void CloseDataDevice();

  // resource_replay.cc
  void StartReplay();
  // Stops and joins the replay thread (it publishes its position first).
  void StopReplay();
  static void ReplayMain(void* context);
  void StoreReplayReport();

  // The current logfile in the LogDurability registry (logger thread, or
  // the Manager's while the logger is stopped).
  void OpenDurability(uint64_t number);
  void AdvanceDurability(uint64_t durable_end);
  void CloseDurability();

  // resource_writeback.cc
  static void WritebackMain(void* context);
  // Writes one batch back. Returns the number of blocks written (0: idle).
  size_t WritebackPass();
  Status PublishReplayLink(LogPosition position);
  void MaybePublishReplayLink(bool force);
  static size_t BatchBytes();

  void SetError(const char* what, Status status);
  void UpdateBufferedCounter(uint64_t before, uint64_t after);

  // Settings.
  char root_[kPathBytes] = {};
  char name_[kMaxNameBytes] = {};
  char host_[kMaxNameBytes] = {};
  char data_path_[kPathBytes] = {};
  uint64_t size_bytes_ = 0;
  LamportClock* clock_ = nullptr;
  LogDurability* durability_ = nullptr;  // may be null
  DataAccess* data_access_ = nullptr;    // may be null

  // State changed only by the Manager's thread.
  bool attached_ = false;
  bool primary_ = false;
  platform::BlockDevice data_;
  platform::FrontDisk front_;
  platform::File log_file_;
  platform::Thread logger_thread_;
  platform::Thread writeback_thread_;
  // Where recovery left the log: the last logfile and its valid end.
  uint64_t recovered_logfile_ = 0;
  uint64_t recovered_end_ = 0;

  platform::Mutex lock_;
  platform::WaitQueue logger_wq_;  // logger sleeps here
  platform::WaitQueue space_wq_;   // writers wait for ring/buffer room
  platform::WaitQueue idle_wq_;    // drain waits; writeback sleeps here
  platform::WaitQueue io_wq_;      // writeback waits for its batch I/O
  void* batch_ = nullptr;          // writeback thread's batch (BatchBytes())
  bool sync_initialised_ = false;

  // lock_: the current logfile and its writer.
  UniquePtr<log::LogWriter> writer_;
  uint64_t logfile_ = 0;
  DirtyIndex* index_ = nullptr;
  // The tracker of writer_'s last record while writer_->ExtendLast() may
  // grow it; null after a logfile switch.
  DirtyIndex::Record* last_record_ = nullptr;
  DurabilityWaiter* waiters_ = nullptr;  // FIFO by position
  DurabilityWaiter* waiters_tail_ = nullptr;
  uint64_t rotate_to_ = 0;   // requested logfile number (0: none)
  bool rotating_ = false;    // writers wait: the logger switches files
  bool log_failed_ = false;  // the log write path failed for good
  ErrorText error_;          // last write-path failure

  // Written under lock_, read anywhere (atomics).
  LogPosition durable_;             // lock_: the log is durable up to here
  uint64_t written_end_ = 0;        // logger thread: written to the file
  uint64_t synced_end_ = 0;         // logger thread: synced
  uint64_t last_sync_ns_ = 0;       // logger thread
  uint64_t buffered_bytes_ = 0;     // atomic mirror of index_->buffered_bytes
  uint64_t throttled_writers_ = 0;  // atomic: writers waiting for room
  uint64_t front_in_flight_ = 0;    // atomic: requests not yet completed
  uint64_t writeback_kick_ = 0;     // atomic: new durable data or drain
  uint64_t logger_kick_ = 0;        // atomic: sync wanted
  bool draining_ = false;           // atomic: write everything back now
  bool writeback_failed_ = false;   // atomic: last batch failed

  // Writeback thread only.
  LogPosition published_;  // replay position last written
  uint64_t last_publish_ns_ = 0;

  // Logger thread (see OpenDurability): "resource-NAME/log-N-HOST" of the
  // logfile registered in durability_, size 0 when none.
  char durability_path_[tree::kMaxPathBytes + 1] = {};
  size_t durability_path_size_ = 0;

  // Replay (secondary). The thread and replayer_ are started and stopped by
  // the Manager's thread; replayer_ is used only by the replay thread.
  platform::Thread replay_thread_;
  platform::WaitQueue replay_wq_;  // the replay thread sleeps here
  uint64_t replay_kick_ = 0;       // atomic: look again now
  Replayer* replayer_ = nullptr;
  bool replay_start_failed_ = false;  // logged once
  bool replay_active_ = false;        // lock_: replay_report_ is current
  ReplayReport replay_report_;        // lock_: the replayer's last report
  // Block sync: the target role (lock_) and calls inside it (atomic).
  bool sync_target_ok_ = false;
  uint32_t sync_ops_ = 0;
  platform::WaitQueue sync_wq_;  // DisallowSyncTarget waits here
  // Manager thread (Tick, Report): the replay rate and its last sample.
  uint64_t replay_rate_ = 0;
  uint64_t replay_rate_bytes_ = 0;
  uint64_t replay_rate_since_ns_ = 0;
};

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_RESOURCE_H_
