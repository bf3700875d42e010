// The writeback thread: writes the newest durable version of buffered blocks
// to the data device in ascending block order, flushes the device, then
// retires them (DirtyIndex::FinishBatch) and publishes the replay position in
// replay-HOST (docu/write-path.md "Writeback").
#include "core/base/errno_status.h"
#include "core/engine/resource.h"
#include "core/engine/tree_writes.h"
#include "core/io/pending_watch.h"

namespace mars {
namespace engine {

namespace {

constexpr size_t kBatchBlocks = 256;
constexpr uint64_t kMsToNs = 1000ull * 1000;

// The I/O of one batch; lives on the writeback thread's heap.
struct Batch {
  Resource* resource;
  uint32_t pending;  // atomic
  int first_error;   // atomic StatusCode
  const char* first_message;
  DirtyIndex::BatchItem items[kBatchBlocks];
  platform::IoVec vecs[kBatchBlocks];
  platform::BlockDevice::Request requests[kBatchBlocks];
};

}  // namespace

void Resource::WritebackMain(void* context) {
  Resource* self = static_cast<Resource*>(context);
  while (!platform::Thread::ShouldStop()) {
    const size_t written = self->WritebackPass();
    self->MaybePublishReplayLink(false);
    if (written > 0) continue;
    const uint64_t wait_ns =
        __atomic_load_n(&self->writeback_failed_, __ATOMIC_ACQUIRE)
            ? 1000 * kMsToNs
            : 100 * kMsToNs;
    self->idle_wq_.WaitUntil(
        [](void* c) {
          Resource* r = static_cast<Resource*>(c);
          return __atomic_load_n(&r->writeback_kick_, __ATOMIC_ACQUIRE) != 0;
        },
        self, wait_ns);
  }
}

size_t Resource::WritebackPass() {
  __atomic_store_n(&writeback_kick_, 0, __ATOMIC_RELEASE);
  Batch* batch = static_cast<Batch*>(batch_);
  size_t count = 0;
  {
    platform::MutexGuard guard(lock_);
    if (index_ == nullptr) return 0;
    count = index_->TakeBatch(durable_, kBatchBlocks, batch->items);
  }
  if (count == 0) return 0;
  // Contiguous blocks become one request.
  size_t requests = 0;
  for (size_t i = 0; i < count; ++i) {
    batch->vecs[i].data = const_cast<void*>(batch->items[i].data);
    batch->vecs[i].size = DirtyIndex::kBlockBytes;
    const uint64_t offset = batch->items[i].block * DirtyIndex::kBlockBytes;
    if (requests > 0) {
      platform::BlockDevice::Request& last = batch->requests[requests - 1];
      if (last.offset + last.size == offset) {
        last.size += DirtyIndex::kBlockBytes;
        last.vec_count++;
        continue;
      }
    }
    platform::BlockDevice::Request& request = batch->requests[requests++];
    request = platform::BlockDevice::Request();
    request.op = platform::BlockDevice::Op::kWrite;
    request.offset = offset;
    request.size = DirtyIndex::kBlockBytes;
    request.vecs = &batch->vecs[i];
    request.vec_count = 1;
    request.context = batch;
    request.done = [](platform::BlockDevice::Request* r, Status status) {
      Batch* b = static_cast<Batch*>(r->context);
      if (!status.ok()) {
        int expected = 0;
        if (__atomic_compare_exchange_n(&b->first_error, &expected,
                                        static_cast<int>(status.code()), false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
          b->first_message = status.message();
        }
      }
      Resource* owner = b->resource;
      if (__atomic_sub_fetch(&b->pending, 1, __ATOMIC_ACQ_REL) == 0) {
        owner->io_wq_.WakeAll();
      }
    };
  }
  batch->resource = this;
  batch->first_error = 0;
  batch->first_message = "";
  __atomic_store_n(&batch->pending, static_cast<uint32_t>(requests),
                   __ATOMIC_RELEASE);
  for (size_t i = 0; i < requests; ++i) data_.Submit(&batch->requests[i]);
  platform::PendingWatch watch(name_, "writeback: data device write",
                               batch->requests[0].offset,
                               count * DirtyIndex::kBlockBytes);
  while (!io_wq_.WaitUntil(
      [](void* c) {
        return __atomic_load_n(&static_cast<Batch*>(c)->pending,
                               __ATOMIC_ACQUIRE) == 0;
      },
      batch, 1000 * kMsToNs)) {
    watch.Check();
  }
  const int code = __atomic_load_n(&batch->first_error, __ATOMIC_ACQUIRE);
  Status status =
      code == 0 ? Status::Ok()
                : Status(static_cast<StatusCode>(code), batch->first_message);
  if (status.ok()) {
#if defined(MARS_MUTATION) && MARS_MUTATION == 2
    // Deliberate fault for testing/crash: no data-device flush before the
    // replay position advances.
#else
    status = data_.FlushSync();
#endif
    platform::AddCounter(platform::Counter::kDataFlushes, 1);
  }
  if (!status.ok()) {
    {
      platform::MutexGuard guard(lock_);
      index_->AbortBatch(batch->items, count);
    }
    if (!__atomic_exchange_n(&writeback_failed_, true, __ATOMIC_ACQ_REL)) {
      platform::Log(platform::LogLevel::kError,
                    "resource %s: cannot write back to %s: %s (the data "
                    "stays in the log and in memory; retrying)",
                    name_, data_path_, status.message());
    }
    SetError("cannot write back to the data device", status);
    return 0;
  }
  if (__atomic_exchange_n(&writeback_failed_, false, __ATOMIC_ACQ_REL)) {
    platform::Log(platform::LogLevel::kNotice,
                  "resource %s: writeback to %s works again", name_,
                  data_path_);
  }
  {
    platform::MutexGuard guard(lock_);
    const uint64_t before = index_->buffered_bytes();
    index_->FinishBatch(batch->items, count);
    UpdateBufferedCounter(before, index_->buffered_bytes());
  }
  platform::AddCounter(platform::Counter::kBytesWrittenBack,
                       count * DirtyIndex::kBlockBytes);
  space_wq_.WakeAll();
  idle_wq_.WakeAll();
  return count;
}

void Resource::MaybePublishReplayLink(bool force) {
  LogPosition position;
  bool idle = false;
  {
    platform::MutexGuard guard(lock_);
    if (index_ == nullptr) return;
    position = index_->ReplayPosition();
    idle = index_->empty();
  }
  if (position == published_) return;
  const uint64_t now = platform::MonotonicNs();
  const uint64_t interval_ns =
      platform::GetTunable(platform::Tunable::kReplayLinkIntervalMs) * kMsToNs;
  if (!force && !idle && now - last_publish_ns_ < interval_ns) return;
  Status status = PublishReplayLink(position);
  if (status.ok()) last_publish_ns_ = now;
}

Status Resource::PublishReplayLink(LogPosition position) {
  Status status = WriteReplayLink(*this, position, clock_);
  if (status.ok()) {
    published_ = position;
  } else {
    SetError("cannot write the replay link", status);
  }
  return status;
}

size_t Resource::BatchBytes() { return sizeof(Batch); }

}  // namespace engine
}  // namespace mars
