// Resource lifecycle: attach (open the data device, recover), become primary
// (fresh logfile, threads, /dev/mars/DEVNAME), stop being primary (remove
// the device, drain, stop), detach; and the hooks table the Manager uses.
#include "core/engine/resource.h"

#include "core/base/errno_status.h"
#include "core/engine/recovery.h"
#include "core/engine/tree_writes.h"
#include "core/tree/log_names.h"
#include "core/tree/text.h"

namespace mars {
namespace engine {

namespace {

constexpr uint64_t kMsToNs = 1000ull * 1000;

bool CopyString(const char* from, char* to, size_t capacity) {
  if (from == nullptr) return false;
  const size_t size = __builtin_strlen(from);
  if (size == 0 || size >= capacity) return false;
  __builtin_memcpy(to, from, size + 1);
  return true;
}

// The rate counters, sampled at most once a second by Tick().
struct RateSample {
  uint64_t time_ns;
  uint64_t logged;
  uint64_t written_back;
};
RateSample g_rate_sample = {0, 0, 0};

}  // namespace

Resource::~Resource() {
  StopReplay();
  ErrorText ignored;
  (void)Detach(&ignored).ok();
}

Status Resource::Init(const ResourceSettings& settings) {
  if (!CopyString(settings.root, root_, sizeof(root_)) ||
      !CopyString(settings.name, name_, sizeof(name_)) ||
      !CopyString(settings.host, host_, sizeof(host_)) ||
      !CopyString(settings.data_path, data_path_, sizeof(data_path_)) ||
      settings.clock == nullptr) {
    return Status(StatusCode::kInvalidArgument, "resource settings invalid");
  }
  size_bytes_ = settings.size_bytes;
  clock_ = settings.clock;
  durability_ = settings.durability;
  data_access_ = settings.data_access;
  Status status =
      lock_.Init(platform::LockClass::kResource, platform::Gfp::kKernel);
  if (status.ok()) {
    status =
        logger_wq_.Init(platform::LockClass::kLogger, platform::Gfp::kKernel);
  }
  if (status.ok()) {
    status =
        space_wq_.Init(platform::LockClass::kResource, platform::Gfp::kKernel);
  }
  if (status.ok()) {
    status =
        idle_wq_.Init(platform::LockClass::kWriteback, platform::Gfp::kKernel);
  }
  if (status.ok()) {
    status =
        io_wq_.Init(platform::LockClass::kWriteback, platform::Gfp::kKernel);
  }
  if (status.ok()) {
    status =
        replay_wq_.Init(platform::LockClass::kResource, platform::Gfp::kKernel);
  }
  if (status.ok()) {
    status =
        sync_wq_.Init(platform::LockClass::kResource, platform::Gfp::kKernel);
  }
  return status;
}

bool Resource::ResourcePath(const char* leaf, char* out) const {
  tree::TextWriter w(out, kPathBytes);
  w.CString(root_);
  w.CString("/resource-");
  w.CString(name_);
  w.Char('/');
  w.CString(leaf);
  return !w.truncated();
}

bool Resource::LogfilePath(uint64_t number, char* out) const {
  if (number == 0 || number > 999999999) return false;
  char leaf[kMaxNameBytes + 16] = "log-";
  char digits[tree::kMaxDecimalU64Chars];
  const size_t n = tree::FormatDecimalU64(number, digits);
  size_t at = 4;
  for (size_t i = n; i < 9; ++i) leaf[at++] = '0';
  __builtin_memcpy(leaf + at, digits, n);
  at += n;
  leaf[at++] = '-';
  __builtin_memcpy(leaf + at, host_, __builtin_strlen(host_) + 1);
  return ResourcePath(leaf, out);
}

void Resource::SetError(const char* what, Status status) {
  platform::MutexGuard guard(lock_);
  FormatError(&error_, what, "", status);
}

void Resource::UpdateBufferedCounter(uint64_t before, uint64_t after) {
  if (after > before) {
    platform::AddCounter(platform::Counter::kBytesBuffered, after - before);
  } else if (before > after) {
    platform::SubtractCounter(platform::Counter::kBytesBuffered,
                              before - after);
  }
  __atomic_store_n(&buffered_bytes_, after, __ATOMIC_RELEASE);
}

Status Resource::Attach(ErrorText* why) {
  if (attached_) return Status::Ok();
  Status status = data_.Open(data_path_);
  if (!status.ok()) {
    FormatError(why, "cannot open data device", data_path_, status);
    if (status.code() == StatusCode::kUnavailable) {
      AppendHint(why, "is it mounted or used by another resource?");
    }
    return status;
  }
  if (data_.size() < size_bytes_) {
    data_.Close();
    tree::TextWriter w(why->text, ErrorText::kCapacity);
    w.CString("data device ");
    w.CString(data_path_);
    w.CString(" has ");
    w.Decimal(data_.size());
    w.CString(" bytes, less than the resource size ");
    w.Decimal(size_bytes_);
    return Status(StatusCode::kOutOfRange, "data device too small");
  }
  // A secondary: replay-HOST names another host's logfile. Crash recovery
  // is for this host's own log only; the replay thread continues from the
  // replay link (set_replay).
  tree::ReplayLink link;
  const LinkOwner owner{root_, name_, host_};
  if (ReadReplayLink(owner, clock_, &link).ok() &&
      link.log.host.slice() != Slice::FromCString(host_)) {
    recovered_logfile_ = 0;
    recovered_end_ = 0;
    attached_ = true;
    RegisterDataAccess();
    AllowSyncTarget();
    return Status::Ok();
  }
  RecoveryResult result;
  status = RecoverFromLog(*this, &data_, size_bytes_, clock_, &result, why);
  if (!status.ok()) {
    data_.Close();
    return status;
  }
  recovered_logfile_ = result.last_logfile;
  recovered_end_ = result.last_end;
  status = WriteReplayLink(
      *this, LogPosition{result.last_logfile, result.last_end}, clock_);
  if (!status.ok()) {
    FormatError(why, "cannot write the replay link of", name_, status);
    data_.Close();
    return status;
  }
  published_ = LogPosition{result.last_logfile, result.last_end};
  attached_ = true;
  RegisterDataAccess();
  AllowSyncTarget();
  return Status::Ok();
}

Status Resource::StartPrimary(const char* device_name, ErrorText* why) {
  if (primary_) return Status::Ok();
  if (!attached_) {
    FormatError(why, "resource is not attached:", name_, Status::Ok());
    return Status(StatusCode::kUnavailable, "not attached");
  }
  Status refused = RefuseForeignReplayLink(why);
  if (!refused.ok()) return refused;
  StopReplay();
  DisallowSyncTarget();
  // The replay thread may have moved on before it stopped.
  refused = RefuseForeignReplayLink(why);
  if (!refused.ok()) return refused;
  // A fresh logfile: the recovered one when it is empty, else the next.
  uint64_t number = recovered_logfile_;
  if (recovered_end_ > 0) {
    Status status = WriteVersionLink(*this, number, recovered_end_, clock_);
    if (!status.ok()) {
      FormatError(why, "cannot write the version link of", name_, status);
      return status;
    }
    number++;
  }
  batch_ = platform::Allocate(BatchBytes(), platform::Gfp::kKernel);
  index_ = New<DirtyIndex>(platform::Gfp::kKernel, LogPosition{number, 0});
  if (batch_ == nullptr || index_ == nullptr) {
    platform::Free(batch_);
    batch_ = nullptr;
    Delete(index_);
    index_ = nullptr;
    FormatError(why, "no memory to start", name_,
                Status(StatusCode::kNoMemory, "out of memory"));
    return Status(StatusCode::kNoMemory, "out of memory");
  }
  __atomic_store_n(&draining_, false, __ATOMIC_RELEASE);
  __atomic_store_n(&writeback_failed_, false, __ATOMIC_RELEASE);
  error_ = ErrorText();
  Status status = StartLogger(number, why);
  if (status.ok()) {
    // From here on recovery starts at the fresh logfile.
    status = PublishReplayLink(LogPosition{number, 0});
    if (!status.ok())
      FormatError(why, "cannot write the replay link of", name_, status);
  }
  if (status.ok()) {
    status = writeback_thread_.Start("mars_wb", WritebackMain, this,
                                     platform::Gfp::kKernel);
    if (!status.ok()) {
      FormatError(why, "cannot start the writeback thread of", name_, status);
    }
  }
  if (status.ok()) {
    status = front_.Create(device_name, size_bytes_, SubmitFront, this);
    if (!status.ok()) {
      FormatError(why, "cannot create /dev/mars/", device_name, status);
    }
  }
  if (!status.ok()) {
    writeback_thread_.Stop();
    StopLogger();
    Delete(index_);
    index_ = nullptr;
    platform::Free(batch_);
    batch_ = nullptr;
    return status;
  }
  recovered_logfile_ = number;
  recovered_end_ = 0;
  primary_ = true;
  return Status::Ok();
}

Status Resource::StopPrimary(ErrorText* why) {
  if (!primary_) return Status::Ok();
  if (front_.exists()) {
    Status status = front_.Destroy();
    if (!status.ok()) {
      tree::TextWriter w(why->text, ErrorText::kCapacity);
      w.CString("/dev/mars device of ");
      w.CString(name_);
      w.CString(" is open (");
      w.Decimal(static_cast<uint64_t>(front_.open_count()));
      w.CString(" openers); unmount or close it first");
      return status;
    }
  }
  // Requests already submitted finish first.
  idle_wq_.WaitUntil(
      [](void* c) {
        return __atomic_load_n(&static_cast<Resource*>(c)->front_in_flight_,
                               __ATOMIC_ACQUIRE) == 0;
      },
      this, ~0ull);
  while (__atomic_load_n(&front_in_flight_, __ATOMIC_ACQUIRE) != 0) {
    idle_wq_.WaitUntil([](void*) { return false; }, nullptr, 10 * kMsToNs);
  }
  // Drain: everything logged becomes durable and is written back, unless
  // the log or the data device failed (then the log keeps what is durable
  // and the next attach replays it).
  __atomic_store_n(&draining_, true, __ATOMIC_RELEASE);
  for (;;) {
    bool done = false;
    {
      platform::MutexGuard guard(lock_);
      done = (index_->empty() && waiters_ == nullptr) || log_failed_;
    }
    if (done || __atomic_load_n(&writeback_failed_, __ATOMIC_ACQUIRE)) break;
    __atomic_store_n(&logger_kick_, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&writeback_kick_, 1, __ATOMIC_RELEASE);
    logger_wq_.WakeAll();
    idle_wq_.WakeAll();
    idle_wq_.WaitUntil([](void*) { return false; }, nullptr, 20 * kMsToNs);
  }
  writeback_thread_.Stop();
  MaybePublishReplayLink(true);
  uint64_t end = 0;
  uint64_t number = 0;
  {
    platform::MutexGuard guard(lock_);
    number = logfile_;
    end = writer_.get() != nullptr ? writer_->AppendedEnd() : 0;
  }
  StopLogger();
  {
    platform::MutexGuard guard(lock_);
    UpdateBufferedCounter(index_->buffered_bytes(), 0);
    Delete(index_);
    index_ = nullptr;
  }
  platform::Free(batch_);
  batch_ = nullptr;
  recovered_logfile_ = number;
  recovered_end_ = end;
  primary_ = false;
  if (log_failed_ || __atomic_load_n(&writeback_failed_, __ATOMIC_ACQUIRE)) {
    // Not everything reached the data device: only a fresh attach (which
    // replays the log) may make it primary again.
    CloseDataDevice();
    attached_ = false;
  }
  AllowSyncTarget();
  return Status::Ok();
}

Status Resource::RefuseForeignReplayLink(ErrorText* why) const {
  tree::ReplayLink link;
  const LinkOwner owner{root_, name_, host_};
  const Status status = ReadReplayLink(owner, clock_, &link);
  if (!status.ok()) {
    FormatError(why, "cannot read the replay link of", name_, status);
    return status;
  }
  if (link.log.host.slice() == Slice::FromCString(host_)) return Status::Ok();
  tree::TextWriter w(why->text, ErrorText::kCapacity);
  char digits[tree::kMaxDecimalU64Chars];
  const size_t n = tree::FormatDecimalU64(link.log.number, digits);
  w.CString("this host replays logfile log-");
  for (size_t i = n; i < tree::kLogfileNumberDigits; ++i) w.Char('0');
  for (size_t i = 0; i < n; ++i) w.Char(digits[i]);
  w.Char('-');
  w.Escaped(link.log.host.slice());
  w.CString(" of another primary; handover is not supported yet");
  return Status(StatusCode::kUnavailable, "replaying another host's log");
}

Status Resource::Detach(ErrorText* why) {
  if (!attached_) return Status::Ok();
  StopReplay();
  Status status = StopPrimary(why);
  if (!status.ok()) return status;
  CloseDataDevice();
  attached_ = false;
  return Status::Ok();
}

void Resource::RequestLogfile(uint64_t number) {
  bool wake = false;
  {
    platform::MutexGuard guard(lock_);
    if (writer_.get() != nullptr && number > logfile_ &&
        writer_->AppendedEnd() > 0 && number > rotate_to_) {
      rotate_to_ = number;
      wake = true;
    }
  }
  if (wake) {
    __atomic_store_n(&logger_kick_, 1, __ATOMIC_RELEASE);
    logger_wq_.WakeAll();
  }
}

void Resource::Report(ResourceReport* report) {
  *report = ResourceReport();
  report->attached = attached_;
  report->primary = primary_ && front_.exists();
  report->open_count = front_.exists() ? front_.open_count() : 0;
  report->device_size = report->primary ? size_bytes_ : 0;
  report->data_device_size = attached_ ? data_.size() : 0;
  platform::MutexGuard guard(lock_);
  report->logfile = writer_.get() != nullptr ? logfile_ : 0;
  report->io_error =
      log_failed_ || __atomic_load_n(&writeback_failed_, __ATOMIC_ACQUIRE);
  report->error = error_;
  if (replay_active_) {
    const bool stopped = IsReplayStopped(replay_report_.state);
    report->replaying = !stopped;
    report->replay_code = replay_report_.code;
    report->replay_rate = replay_rate_;
    if (stopped) report->replay_error = replay_report_.error;
  }
}

void Resource::Tick() {
  const uint64_t now = platform::MonotonicNs();
  if (now - g_rate_sample.time_ns >= 1000 * kMsToNs) {
    const uint64_t logged =
        platform::GetCounter(platform::Counter::kBytesLogged);
    const uint64_t written =
        platform::GetCounter(platform::Counter::kBytesWrittenBack);
    if (g_rate_sample.time_ns != 0) {
      const uint64_t ms = (now - g_rate_sample.time_ns) / kMsToNs;
      platform::SetCounter(platform::Counter::kLogRateBytes,
                           (logged - g_rate_sample.logged) * 1000 / ms);
      platform::SetCounter(platform::Counter::kWritebackRateBytes,
                           (written - g_rate_sample.written_back) * 1000 / ms);
    }
    g_rate_sample = RateSample{now, logged, written};
  }
  if (primary_) {
    __atomic_store_n(&writeback_kick_, 1, __ATOMIC_RELEASE);
    idle_wq_.WakeAll();
  }
  if (replay_thread_.running()) {
    __atomic_store_n(&replay_kick_, 1, __ATOMIC_RELEASE);
    replay_wq_.WakeAll();
  }
  SampleReplayRate(now);
}

void Resource::SampleReplayRate(uint64_t now) {
  constexpr uint64_t kIntervalNs = 5000 * kMsToNs;
  bool active = false;
  uint64_t bytes = 0;
  {
    platform::MutexGuard guard(lock_);
    active = replay_active_;
    bytes = replay_report_.bytes_applied;
  }
  if (!active) {
    replay_rate_ = 0;
    replay_rate_since_ns_ = 0;
    return;
  }
  if (replay_rate_since_ns_ == 0 || bytes < replay_rate_bytes_) {
    replay_rate_since_ns_ = now;  // a new replayer: start sampling
    replay_rate_bytes_ = bytes;
    return;
  }
  const uint64_t elapsed = now - replay_rate_since_ns_;
  if (elapsed < kIntervalNs) return;
  replay_rate_ = (bytes - replay_rate_bytes_) / (elapsed / kMsToNs) * 1000;
  replay_rate_since_ns_ = now;
  replay_rate_bytes_ = bytes;
}

void Resource::SetReplay(bool run) {
  if (run && attached_ && !primary_) {
    // Replay and sync never write the data device at the same time.
    DisallowSyncTarget();
    StartReplay();
  } else {
    StopReplay();
    AllowSyncTarget();
  }
}

namespace {

Status HookCreate(const ResourceSettings& settings, void** resource) {
  Resource* r = New<Resource>(platform::Gfp::kKernel);
  if (r == nullptr) return Status(StatusCode::kNoMemory, "out of memory");
  Status status = r->Init(settings);
  if (!status.ok()) {
    Delete(r);
    return status;
  }
  *resource = r;
  return Status::Ok();
}

void HookDestroy(void* resource) { Delete(static_cast<Resource*>(resource)); }

Status HookAttach(void* resource, ErrorText* why) {
  return static_cast<Resource*>(resource)->Attach(why);
}

Status HookStartPrimary(void* resource, const char* device_name,
                        ErrorText* why) {
  return static_cast<Resource*>(resource)->StartPrimary(device_name, why);
}

Status HookStopPrimary(void* resource, ErrorText* why) {
  return static_cast<Resource*>(resource)->StopPrimary(why);
}

Status HookDetach(void* resource, ErrorText* why) {
  return static_cast<Resource*>(resource)->Detach(why);
}

void HookRequestLogfile(void* resource, uint64_t number) {
  static_cast<Resource*>(resource)->RequestLogfile(number);
}

void HookReport(void* resource, ResourceReport* report) {
  static_cast<Resource*>(resource)->Report(report);
}

void HookTick(void* resource) { static_cast<Resource*>(resource)->Tick(); }

void HookSetReplay(void* resource, bool run) {
  static_cast<Resource*>(resource)->SetReplay(run);
}

}  // namespace

const ResourceHooks kResourceHooks = {
    HookCreate,      HookDestroy,   HookAttach,         HookStartPrimary,
    HookStopPrimary, HookDetach,    HookRequestLogfile, HookReport,
    HookTick,        HookSetReplay,
};

}  // namespace engine
}  // namespace mars
