// BlockDevice::ReadSync/WriteSync/FlushSync: one request through Submit(),
// then sleep until its `done` ran. Portable: shared by the kernel and the
// userspace platform, which implement only Submit().
//
// `done` may run before Submit() returns, on another CPU, or in interrupt
// context; it touches the on-stack completion last through an atomic store,
// so the waiter keeps the completion alive until that store is visible.
#include <stddef.h>
#include <stdint.h>

#include "core/base/status.h"
#include "core/io/pending_watch.h"
#include "core/platform.h"
#include "core/platform_io.h"

namespace mars {
namespace platform {
namespace {

enum : int {
  kPending = 0,
  kDone = 1,      // status is valid; done may still be inside WakeAll()
  kReleased = 2,  // done no longer touches the completion
};

struct SyncCompletion {
  WaitQueue queue;
  Status status;
  int state = kPending;  // __atomic access only
};

bool IsDone(void* context) {
  return __atomic_load_n(&static_cast<SyncCompletion*>(context)->state,
                         __ATOMIC_ACQUIRE) >= kDone;
}

bool IsReleased(void* context) {
  return __atomic_load_n(&static_cast<SyncCompletion*>(context)->state,
                         __ATOMIC_ACQUIRE) == kReleased;
}

// Context: any (the request's `done`).
void SyncDone(BlockDevice::Request* request, Status status) {
  auto* completion = static_cast<SyncCompletion*>(request->context);
  completion->status = status;
  __atomic_store_n(&completion->state, kDone, __ATOMIC_RELEASE);
  completion->queue.WakeAll();
  __atomic_store_n(&completion->state, kReleased, __ATOMIC_RELEASE);
}

// Each wait is bounded so that a wait ended early (a stop request of the
// calling thread, a signal) is simply repeated: the request owns our stack
// until `done` ran, so there is no way out before.
constexpr uint64_t kWaitRoundNs = 1000ull * 1000 * 1000;
// The window between WakeAll() and the release store is a few instructions;
// a waiter that sees it open re-checks at this interval.
constexpr uint64_t kReleasePollNs = 100ull * 1000;

Status RunSync(BlockDevice* device, BlockDevice::Op op, uint64_t offset,
               void* buffer, size_t size) {
  SyncCompletion completion;
  // No lock class names this role yet; kSelfTest's queues are only ever
  // woken, never nested in another lock.
  Status status = completion.queue.Init(LockClass::kSelfTest, Gfp::kNoIo);
  if (!status.ok()) return status;
  IoVec vec{buffer, size};
  BlockDevice::Request request;
  request.op = op;
  request.offset = offset;
  request.size = size;
  request.vecs = size == 0 ? nullptr : &vec;
  request.vec_count = size == 0 ? 0 : 1;
  request.done = SyncDone;
  request.context = &completion;
  device->Submit(&request);
  if (!IsDone(&completion)) {
    PendingWatch watch(nullptr,
                       op == BlockDevice::Op::kRead    ? "block device read"
                       : op == BlockDevice::Op::kWrite ? "block device write"
                                                       : "block device flush",
                       offset, size);
    while (!IsDone(&completion)) {
      completion.queue.WaitUntil(IsDone, &completion, kWaitRoundNs);
      watch.Check();
    }
  }
  while (!IsReleased(&completion)) {
    completion.queue.WaitUntil(IsReleased, &completion, kReleasePollNs);
  }
  return completion.status;
}

}  // namespace

Status BlockDevice::ReadSync(uint64_t offset, void* buffer, size_t size) {
  return RunSync(this, Op::kRead, offset, buffer, size);
}

Status BlockDevice::WriteSync(uint64_t offset, const void* data, size_t size) {
  // The request's vecs are shared by reads and writes; a write only reads
  // through the pointer.
  return RunSync(this, Op::kWrite, offset, const_cast<void*>(data), size);
}

Status BlockDevice::FlushSync() {
  return RunSync(this, Op::kFlush, 0, nullptr, 0);
}

}  // namespace platform
}  // namespace mars
