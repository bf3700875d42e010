// The replay thread of a secondary: runs the Replayer (engine/replayer.h)
// in a loop while the Manager wants it (set_replay), sleeping while there is
// nothing to do; and the registration of the primary's logfiles in the
// LogDurability registry (engine/log_durability.h).
#include "core/base/memory.h"
#include "core/engine/resource.h"
#include "core/tree/log_names.h"
#include "core/tree/text.h"

namespace mars {
namespace engine {

namespace {

constexpr uint64_t kMsToNs = 1000ull * 1000;
// The replay thread looks again at least this often while it waits for
// bytes or links, and this often while replay is stopped.
constexpr uint64_t kReplayPollNs = 200 * kMsToNs;
constexpr uint64_t kReplayStoppedPollNs = 1000 * kMsToNs;

}  // namespace

void Resource::StartReplay() {
  if (replay_thread_.running()) return;
  ReplayerOptions options;
  options.root = root_;
  options.name = name_;
  options.host = host_;
  options.data = &data_;
  options.device_size = size_bytes_;
  options.clock = clock_;
  options.copies = durability_;
  Replayer* replayer = New<Replayer>(platform::Gfp::kKernel);
  Status status = replayer != nullptr
                      ? replayer->Init(options)
                      : Status(StatusCode::kNoMemory, "out of memory");
  if (status.ok()) {
    replayer_ = replayer;
    // Replaying from now on: Report() must not say otherwise while the
    // first Pass() runs (it may apply and publish everything before its
    // report is stored).
    StoreReplayReport();
    __atomic_store_n(&replay_kick_, 0, __ATOMIC_RELEASE);
    status = replay_thread_.Start("mars_replay", ReplayMain, this,
                                  platform::Gfp::kKernel);
  }
  if (!status.ok()) {
    if (replayer_ != nullptr) {
      platform::MutexGuard guard(lock_);
      replay_active_ = false;
      replay_report_ = ReplayReport();
    }
    replayer_ = nullptr;
    Delete(replayer);
    if (!replay_start_failed_) {
      platform::Log(platform::LogLevel::kError,
                    "resource %s: cannot start the replay thread: %s "
                    "(retried at every scan)",
                    name_, status.message());
    }
    replay_start_failed_ = true;
    return;
  }
  replay_start_failed_ = false;
}

void Resource::StopReplay() {
  if (!replay_thread_.running()) return;
  replay_thread_.Stop();
  Delete(replayer_);
  replayer_ = nullptr;
  platform::MutexGuard guard(lock_);
  replay_active_ = false;
  replay_report_ = ReplayReport();
}

void Resource::StoreReplayReport() {
  ReplayReport report;
  replayer_->Report(&report);
  platform::MutexGuard guard(lock_);
  replay_report_ = report;
  replay_active_ = true;
}

void Resource::ReplayMain(void* context) {
  Resource* self = static_cast<Resource*>(context);
  while (!platform::Thread::ShouldStop()) {
    __atomic_store_n(&self->replay_kick_, 0, __ATOMIC_RELEASE);
    const ReplayPass pass = self->replayer_->Pass(Replayer::kPassBytes);
    self->StoreReplayReport();
    if (pass.more) continue;
    self->replay_wq_.WaitUntil(
        [](void* c) {
          Resource* r = static_cast<Resource*>(c);
          return __atomic_load_n(&r->replay_kick_, __ATOMIC_ACQUIRE) != 0;
        },
        self,
        IsReplayStopped(pass.state) ? kReplayStoppedPollNs : kReplayPollNs);
  }
  // What is applied is flushed and published before the thread ends.
  (void)self->replayer_->PublishNow().ok();
}

// ---------------------------------------------------------------------------

void Resource::OpenDurability(uint64_t number) {
  durability_path_size_ = 0;
  if (durability_ == nullptr) return;
  tree::TextWriter w(durability_path_, sizeof(durability_path_));
  char digits[tree::kMaxDecimalU64Chars];
  const size_t n = tree::FormatDecimalU64(number, digits);
  w.CString("resource-");
  w.CString(name_);
  w.CString("/log-");
  for (size_t i = n; i < tree::kLogfileNumberDigits; ++i) w.Char('0');
  for (size_t i = 0; i < n; ++i) w.Char(digits[i]);
  w.Char('-');
  w.CString(host_);
  Status status = w.truncated()
                      ? Status(StatusCode::kInvalidArgument, "path too long")
                      : durability_->Open(Slice(durability_path_, w.size()));
  if (!status.ok()) {
    platform::Log(platform::LogLevel::kWarning,
                  "resource %s: cannot register logfile %llu for fetch: %s "
                  "(peers fetch it once it is finished)",
                  name_, static_cast<unsigned long long>(number),
                  status.message());
    return;
  }
  durability_path_size_ = w.size();
}

void Resource::AdvanceDurability(uint64_t durable_end) {
  if (durability_path_size_ == 0) return;
  durability_->Advance(Slice(durability_path_, durability_path_size_),
                       durable_end);
}

void Resource::CloseDurability() {
  if (durability_path_size_ == 0) return;
  durability_->Close(Slice(durability_path_, durability_path_size_));
  durability_path_size_ = 0;
}

}  // namespace engine
}  // namespace mars
