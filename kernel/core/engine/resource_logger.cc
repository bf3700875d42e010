// The logger thread: writes appended records to the current logfile, makes
// them durable with one fdatasync for everything written so far when someone
// waits for durability (FUA, flush), when writers wait for room, when the
// logfile is switched, or at the latest log_sync_interval_ms after the first
// unsynced byte; completes the requests waiting for it; switches logfiles
// (docu/write-path.md "Logger", "Rotation").
#include "core/base/errno_status.h"
#include "core/engine/log_apply.h"
#include "core/engine/resource.h"
#include "core/engine/tree_writes.h"

namespace mars {
namespace engine {

namespace {

constexpr size_t kChunkBytes = size_t{1} << 20;
constexpr size_t kChunkCount = 8;
// Payloads of the records that replay reads in place start aligned for
// direct reads (LogApplier, docu/log-format.md "Padding").
constexpr uint32_t kLogPayloadAlignment = LogApplier::kPayloadAlignment;
constexpr uint32_t kLogAlignedPayloadMin = LogApplier::kInPlaceMinPayload;
constexpr size_t kMaxRangesPerPass = kChunkCount + 1;
constexpr uint64_t kMsToNs = 1000ull * 1000;

}  // namespace

Status Resource::OpenFreshLogfile(uint64_t number, platform::File* file,
                                  UniquePtr<log::LogWriter>* writer,
                                  ErrorText* why) const {
  char path[kPathBytes];
  if (!LogfilePath(number, path)) {
    const Status status(StatusCode::kInvalidArgument, "logfile path too long");
    FormatError(why, "cannot name logfile of", name_, status);
    return status;
  }
  Status status =
      file->Open(path, platform::File::kRead | platform::File::kWrite |
                           platform::File::kCreate);
  uint64_t size = 0;
  if (status.ok()) status = file->Size(&size);
  if (status.ok() && size != 0) {
    status = Status(StatusCode::kAlreadyExists, "new logfile is not empty");
  }
  if (!status.ok()) {
    FormatError(why, "cannot open the new logfile", path, status);
    file->Close();
    return status;
  }
  log::LogWriterOptions options;
  platform::RandomBytes(&options.salt, sizeof(options.salt));
  if (options.salt == 0) options.salt = 1;
  options.logfile_number = number;
  options.chunk_bytes = kChunkBytes;
  options.chunk_count = kChunkCount;
  options.gfp = platform::Gfp::kKernel;
  options.payload_alignment = kLogPayloadAlignment;
  options.aligned_payload_min = kLogAlignedPayloadMin;
  UniquePtr<log::LogWriter> made(New<log::LogWriter>(platform::Gfp::kKernel));
  status = made ? made->Init(options)
                : Status(StatusCode::kNoMemory, "no memory for the log");
  if (!status.ok()) {
    FormatError(why, "cannot set up the log buffer for", path, status);
    file->Close();
    return status;
  }
  *writer = Move(made);
  return Status::Ok();
}

Status Resource::StartLogger(uint64_t logfile_number, ErrorText* why) {
  platform::File file;
  UniquePtr<log::LogWriter> writer;
  Status status = OpenFreshLogfile(logfile_number, &file, &writer, why);
  if (!status.ok()) return status;
  log_file_.Swap(file);
  {
    platform::MutexGuard guard(lock_);
    writer_ = Move(writer);
    last_record_ = nullptr;
    logfile_ = logfile_number;
    durable_ = LogPosition{logfile_number, 0};
    rotate_to_ = 0;
    rotating_ = false;
    log_failed_ = false;
  }
  written_end_ = 0;
  synced_end_ = 0;
  last_sync_ns_ = platform::MonotonicNs();
  // Peers may fetch what becomes durable of it from now on.
  OpenDurability(logfile_number);
  status = logger_thread_.Start("mars_log", LoggerMain, this,
                                platform::Gfp::kKernel);
  if (!status.ok()) {
    FormatError(why, "cannot start the logger thread of", name_, status);
    CloseDurability();
    platform::MutexGuard guard(lock_);
    writer_.Reset();
    log_file_.Close();
  }
  return status;
}

void Resource::StopLogger() {
  logger_thread_.Stop();
  // Whatever is still appended becomes durable now (or fails).
  while (!log_failed_ && LoggerPass(true)) {
    platform::MutexGuard guard(lock_);
    if (writer_.get() == nullptr || writer_->PendingBytes() == 0) break;
  }
  if (log_failed_ && log_file_.is_open()) CutUndurableTail();
  CloseDurability();
  platform::MutexGuard guard(lock_);
  writer_.Reset();
  log_file_.Close();
}

void Resource::CutUndurableTail() {
  // Bytes after synced_end_ were written (maybe in part) but never made
  // durable: after a failed fdatasync they may sit in the page cache though
  // they never reached the disk, and recovery would replay them and
  // publish a log end that the disk does not have. Cut them, so that the
  // logfile is exactly what was durable (acknowledged FUA writes are below
  // synced_end_).
  uint64_t size = 0;
  Status status = log_file_.Size(&size);
  if (!status.ok() || size <= synced_end_) return;
  status = log_file_.Truncate(synced_end_);
  if (status.ok()) status = log_file_.Sync(0, synced_end_);
  if (!status.ok()) {
    platform::Log(platform::LogLevel::kWarning,
                  "resource %s: cannot cut logfile %llu at its durable end "
                  "%llu: %s (recovery reads what reached the disk once "
                  "/mars is remounted)",
                  name_, static_cast<unsigned long long>(logfile_),
                  static_cast<unsigned long long>(synced_end_),
                  status.message());
    return;
  }
  platform::Log(platform::LogLevel::kNotice,
                "resource %s: logfile %llu cut at its durable end %llu "
                "(%llu bytes were never durable)",
                name_, static_cast<unsigned long long>(logfile_),
                static_cast<unsigned long long>(synced_end_),
                static_cast<unsigned long long>(size - synced_end_));
}

void Resource::LoggerMain(void* context) {
  Resource* self = static_cast<Resource*>(context);
  while (!platform::Thread::ShouldStop()) {
    const uint64_t interval_ns =
        platform::GetTunable(platform::Tunable::kLogSyncIntervalMs) * kMsToNs;
    self->logger_wq_.WaitUntil(
        [](void* c) {
          Resource* r = static_cast<Resource*>(c);
          return __atomic_load_n(&r->logger_kick_, __ATOMIC_ACQUIRE) != 0;
        },
        self, interval_ns);
    if (!self->LoggerPass(false)) {
      // The log failed: nothing more to do until the resource stops.
      self->logger_wq_.WaitUntil([](void*) { return false; }, nullptr,
                                 1000 * kMsToNs);
    }
  }
}

bool Resource::LoggerPass(bool force_sync) {
  log::LogWrite ranges[kMaxRangesPerPass];
  size_t range_count = 0;
  bool has_waiters = false;
  bool rotating = false;
  uint64_t appended_end = 0;
  __atomic_store_n(&logger_kick_, 0, __ATOMIC_RELEASE);
  {
    platform::MutexGuard guard(lock_);
    if (log_failed_ || writer_.get() == nullptr) return false;
    NoteRotationDueLocked();
    while (range_count < kMaxRangesPerPass &&
           writer_->TakeWrite(log::TakePolicy::kAll, &ranges[range_count])) {
      range_count++;
    }
    has_waiters = waiters_ != nullptr;
    rotating = rotating_;
    appended_end = writer_->AppendedEnd();
  }
  for (size_t i = 0; i < range_count; ++i) {
    Status status =
        log_file_.Write(ranges[i].file_offset, ranges[i].data, ranges[i].size);
    if (!status.ok()) {
      platform::MutexGuard guard(lock_);
      FailLogLocked("cannot write the logfile", status);
      return false;
    }
    written_end_ = ranges[i].end();
  }
  const uint64_t now = platform::MonotonicNs();
  const uint64_t interval_ns =
      platform::GetTunable(platform::Tunable::kLogSyncIntervalMs) * kMsToNs;
  const bool sync_due =
      force_sync || has_waiters || rotating ||
      __atomic_load_n(&throttled_writers_, __ATOMIC_ACQUIRE) != 0 ||
      __atomic_load_n(&draining_, __ATOMIC_ACQUIRE) ||
      now - last_sync_ns_ >= interval_ns;
  const bool sync = written_end_ > synced_end_ && sync_due;
  if (sync) {
    Status status = log_file_.Sync(synced_end_, written_end_);
    if (!status.ok()) {
      platform::MutexGuard guard(lock_);
      FailLogLocked("cannot sync the logfile", status);
      return false;
    }
    platform::AddCounter(platform::Counter::kLogFlushes, 1);
    synced_end_ = written_end_;
    last_sync_ns_ = now;
    AdvanceDurability(synced_end_);
  } else if (written_end_ == synced_end_) {
    last_sync_ns_ = now;  // the interval counts from the first unsynced byte
  }
  DurabilityWaiter* done = nullptr;
  {
    platform::MutexGuard guard(lock_);
    if (range_count > 0) {
      Status status = writer_->Release(written_end_);
      if (!MARS_CHECK(status.ok())) {
        FailLogLocked("log buffer bookkeeping failed", status);
        return false;
      }
    }
    if (sync) writer_->NoteDurable(synced_end_);
    durable_ = LogPosition{logfile_, synced_end_};
    // Waiters are in position order: complete the durable prefix.
    DurabilityWaiter** tail = &done;
    while (waiters_ != nullptr && waiters_->position <= durable_) {
      *tail = waiters_;
      tail = &waiters_->next;
      waiters_ = waiters_->next;
    }
    *tail = nullptr;
    if (waiters_ == nullptr) waiters_tail_ = nullptr;
    if (writer_->PendingBytes() > 0 || waiters_ != nullptr) {
      __atomic_store_n(&logger_kick_, 1, __ATOMIC_RELEASE);
    }
  }
  while (done != nullptr) {
    DurabilityWaiter* next = done->next;
    FinishFront(done->request, Status::Ok());
    platform::Free(done);
    done = next;
  }
  space_wq_.WakeAll();
  if (sync) {
    __atomic_store_n(&writeback_kick_, 1, __ATOMIC_RELEASE);
    idle_wq_.WakeAll();
  }
  if (rotating && synced_end_ == appended_end && written_end_ == appended_end) {
    uint64_t target = 0;
    {
      platform::MutexGuard guard(lock_);
      target = rotate_to_;
    }
    Status status = RotateLogfile(target);
    if (!status.ok()) {
      platform::MutexGuard guard(lock_);
      FailLogLocked("cannot switch to the next logfile", status);
      return false;
    }
  }
  return true;
}

void Resource::NoteRotationDueLocked() {
  const uint64_t rotate_bytes =
      platform::GetTunable(platform::Tunable::kLogRotateBytes);
  if (rotate_to_ == 0 && writer_->AppendedEnd() >= rotate_bytes) {
    rotate_to_ = logfile_ + 1;
  }
  if (rotate_to_ > logfile_) rotating_ = true;
}

Status Resource::RotateLogfile(uint64_t number) {
  // Writers wait while rotating_; every appended byte is written and synced.
  const uint64_t old_number = logfile_;
  const uint64_t final_length = written_end_;
  platform::File next;
  UniquePtr<log::LogWriter> writer;
  ErrorText why;
  // The caller reports a failure (FailLogLocked) with the status.
  Status status = OpenFreshLogfile(number, &next, &writer, &why);
  if (!status.ok()) return status;
  // The finished logfile's version link, before anything of the next one
  // can be acknowledged.
  status = WriteVersionLink(*this, old_number, final_length, clock_);
  if (!status.ok()) {
    platform::Log(platform::LogLevel::kWarning,
                  "resource %s: cannot write the version link of logfile "
                  "%llu: %s",
                  name_, static_cast<unsigned long long>(old_number),
                  status.message());
  }
  // Finished and its version link written: fetch serves it by that link.
  CloseDurability();
  log_file_.Close();
  {
    platform::MutexGuard guard(lock_);
    writer_ = Move(writer);
    last_record_ = nullptr;
    logfile_ = number;
    durable_ = LogPosition{number, 0};
    if (rotate_to_ <= number) rotate_to_ = 0;
    rotating_ = false;
  }
  // `next` hands its open file over to log_file_.
  log_file_.Swap(next);
  written_end_ = 0;
  synced_end_ = 0;
  last_sync_ns_ = platform::MonotonicNs();
  OpenDurability(number);
  space_wq_.WakeAll();
  platform::Log(platform::LogLevel::kInfo,
                "resource %s: logfile %llu finished at %llu bytes, now "
                "writing logfile %llu",
                name_, static_cast<unsigned long long>(old_number),
                static_cast<unsigned long long>(final_length),
                static_cast<unsigned long long>(number));
  return Status::Ok();
}

void Resource::FailLogLocked(const char* what, Status status) {
  if (!log_failed_) {
    platform::Log(platform::LogLevel::kError, "resource %s: %s: %s", name_,
                  what, status.message());
    FormatError(&error_, what, "", status);
  }
  log_failed_ = true;
  while (waiters_ != nullptr) {
    DurabilityWaiter* next = waiters_->next;
    FinishFront(waiters_->request,
                Status(StatusCode::kIoError, "the log of this device failed"));
    platform::Free(waiters_);
    waiters_ = next;
  }
  waiters_tail_ = nullptr;
  space_wq_.WakeAll();
  idle_wq_.WakeAll();
}

}  // namespace engine
}  // namespace mars
