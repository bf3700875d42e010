// The data device as seen by the block sync (engine/data_access.h,
// docu/replication.md §6): read as the sync source on the actual primary,
// read, written and flushed as the sync target on a secondary that does not
// replay.
#include "core/engine/data_access.h"
#include "core/engine/resource.h"

namespace mars {
namespace engine {

namespace {

constexpr uint64_t kMsToNs = 1000ull * 1000;

bool RangeFits(uint64_t offset, size_t size, uint64_t limit) {
  return size <= limit && offset <= limit - size;
}

}  // namespace

Status Resource::ReadAsSyncSource(uint64_t offset, void* buffer, size_t size,
                                  LogPosition* bound) {
  if (!RangeFits(offset, size, size_bytes_)) {
    return Status(StatusCode::kOutOfRange, "beyond the resource size");
  }
  {
    platform::MutexGuard guard(lock_);
    if (writer_.get() == nullptr || log_failed_) {
      return Status(StatusCode::kUnavailable, "not the actual primary");
    }
  }
  Status status = data_.ReadSync(offset, buffer, size);
  if (!status.ok()) return status;
  // Writeback writes only records below durable_, which only grows: read
  // after the data, it bounds every record the data can reflect.
  platform::MutexGuard guard(lock_);
  if (writer_.get() == nullptr || log_failed_) {
    return Status(StatusCode::kUnavailable, "not the actual primary");
  }
  *bound = durable_;
  return Status::Ok();
}

Status Resource::AccessAsSyncTarget(SyncOp op, uint64_t offset, void* buffer,
                                    size_t size) {
  if (op != SyncOp::kFlush && !RangeFits(offset, size, size_bytes_)) {
    return Status(StatusCode::kOutOfRange, "beyond the resource size");
  }
  {
    platform::MutexGuard guard(lock_);
    if (!sync_target_ok_) {
      return Status(StatusCode::kUnavailable,
                    "not a secondary waiting for its sync");
    }
    __atomic_add_fetch(&sync_ops_, 1, __ATOMIC_ACQ_REL);
  }
  Status status;
  switch (op) {
    case SyncOp::kRead:
      status = data_.ReadSync(offset, buffer, size);
      break;
    case SyncOp::kWrite:
      status = data_.WriteSync(offset, buffer, size);
      break;
    case SyncOp::kFlush:
      status = data_.FlushSync();
      platform::AddCounter(platform::Counter::kDataFlushes, 1);
      break;
  }
  __atomic_sub_fetch(&sync_ops_, 1, __ATOMIC_ACQ_REL);
  sync_wq_.WakeAll();
  return status;
}

void Resource::AllowSyncTarget() {
  platform::MutexGuard guard(lock_);
  sync_target_ok_ = attached_ && !primary_;
}

void Resource::DisallowSyncTarget() {
  {
    platform::MutexGuard guard(lock_);
    sync_target_ok_ = false;
  }
  struct Ops {
    Resource* self;
  } ops{this};
  while (!sync_wq_.WaitUntil(
      [](void* c) {
        Resource* r = static_cast<Ops*>(c)->self;
        return __atomic_load_n(&r->sync_ops_, __ATOMIC_ACQUIRE) == 0;
      },
      &ops, 1000 * kMsToNs)) {
  }
}

void Resource::RegisterDataAccess() {
  if (data_access_ == nullptr) return;
  const Status status = data_access_->Add(Slice::FromCString(name_), this);
  if (!status.ok()) {
    platform::Log(platform::LogLevel::kWarning,
                  "resource %s: no block sync for it: %s", name_,
                  status.message());
  }
}

void Resource::CloseDataDevice() {
  DisallowSyncTarget();
  if (data_access_ != nullptr) data_access_->Remove(this);
  data_.Close();
}

}  // namespace engine
}  // namespace mars
