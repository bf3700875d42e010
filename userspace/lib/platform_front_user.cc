// The exported devices of core/platform_io.h in userspace: a process-wide
// registry of FrontDisks, driven by the test client of platform_user.h
// (StartFrontIo, SubmitToFrontDisk) in place of the kernel's block layer;
// submissions and completions are hooked into the recorder
// (platform_recorder_user.h).
#include <errno.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/base/errno_status.h"
#include "core/platform.h"
#include "core/platform_io.h"
#include "platform_recorder_user.h"
#include "platform_user.h"
#include "posix_user.h"

namespace mars {
namespace platform {

using internal::AppendEvent;
using internal::DeadlineAfter;
using internal::MakeEvent;
using internal::Rec;
using internal::RecordedEvent;
using internal::Recorder;
using internal::RecordLock;

namespace {

struct FrontDiskState {
  std::string name;
  uint64_t size;
  FrontDisk::SubmitFunction submit;
  void* context;
  // Protected by FrontRegistry::mutex.
  int open_count = 0;
  int active_submits = 0;
};

struct FrontRegistry {
  std::mutex mutex;
  std::condition_variable idle;  // an active_submits dropped to 0
  std::map<std::string, FrontDiskState*> disks;
};

FrontRegistry& Fronts() {
  static FrontRegistry* registry = new FrontRegistry;
  return *registry;
}

}  // namespace

namespace test {

struct FrontDiskHandle {
  FrontDiskState* disk;
};

struct FrontIo::State {
  mutable std::mutex mutex;
  std::condition_variable completed;
  bool done = false;
  Status status;
  std::vector<IoVec> vecs;
  FrontRequest request;
  // The request's id in the recording session `record_session` (0: none).
  uint64_t record_session = 0;
  uint32_t record_id = 0;

  void Complete(Status result) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!MARS_CHECK(!done)) return;  // completed twice
    done = true;
    status = result;
    // Notified under the mutex: the waiter may free this State as soon as
    // it can take the mutex again.
    completed.notify_all();
  }
};

}  // namespace test

void CompleteFrontRequest(FrontRequest* request, Status status) {
  auto* state = static_cast<test::FrontIo::State*>(request->platform);
  if (!MARS_CHECK(state != nullptr)) return;
  if (state->record_session != 0) {
    // Recorded before the submitter can see the completion.
    RecordLock record;
    if (record.active() && Rec().session == state->record_session) {
      RecordedEvent event =
          MakeEvent(RecordedEvent::Kind::kFrontComplete, state->record_id);
      event.ok = status.ok();
      AppendEvent(Rec(), std::move(event));
    }
  }
  state->Complete(status);
}

Status FrontDisk::Create(const char* name, uint64_t size_bytes,
                         SubmitFunction submit, void* context) {
  if (impl_ != nullptr) return StatusFromErrno(EEXIST);
  if (name == nullptr || name[0] == '\0' || size_bytes == 0 ||
      size_bytes % kLogicalBlockBytes != 0 || submit == nullptr) {
    return StatusFromErrno(EINVAL);
  }
  FrontRegistry& registry = Fronts();
  std::lock_guard<std::mutex> lock(registry.mutex);
  if (registry.disks.count(name) != 0) return StatusFromErrno(EEXIST);
  auto* disk = new FrontDiskState{name, size_bytes, submit, context};
  registry.disks[name] = disk;
  impl_ = disk;
  return Status::Ok();
}

Status FrontDisk::Destroy() {
  auto* disk = static_cast<FrontDiskState*>(impl_);
  if (disk == nullptr) return Status::Ok();
  FrontRegistry& registry = Fronts();
  {
    std::unique_lock<std::mutex> lock(registry.mutex);
    if (disk->open_count > 0) return StatusFromErrno(EBUSY);
    registry.disks.erase(disk->name);
    registry.idle.wait(lock, [disk] { return disk->active_submits == 0; });
  }
  delete disk;
  impl_ = nullptr;
  return Status::Ok();
}

int FrontDisk::open_count() const {
  auto* disk = static_cast<FrontDiskState*>(impl_);
  if (disk == nullptr) return 0;
  FrontRegistry& registry = Fronts();
  std::lock_guard<std::mutex> lock(registry.mutex);
  return disk->open_count;
}

namespace test {

FrontDiskHandle* OpenFrontDisk(const char* name) {
  FrontRegistry& registry = Fronts();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto it = registry.disks.find(name);
  if (it == registry.disks.end()) return nullptr;
  ++it->second->open_count;
  return new FrontDiskHandle{it->second};
}

void CloseFrontDisk(FrontDiskHandle* handle) {
  if (handle == nullptr) return;
  {
    FrontRegistry& registry = Fronts();
    std::lock_guard<std::mutex> lock(registry.mutex);
    --handle->disk->open_count;
  }
  delete handle;
}

uint64_t FrontDiskSizeForTest(const char* name) {
  FrontRegistry& registry = Fronts();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto it = registry.disks.find(name);
  return it == registry.disks.end() ? 0 : it->second->size;
}

FrontIo::FrontIo(std::unique_ptr<State> state) : state_(std::move(state)) {}

FrontIo::~FrontIo() {
  if (state_ != nullptr) (void)Wait();
}

bool FrontIo::done() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->done;
}

Status FrontIo::Wait() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->completed.wait(lock, [this] { return state_->done; });
  return state_->status;
}

bool FrontIo::WaitFor(uint64_t timeout_ns) {
  std::unique_lock<std::mutex> lock(state_->mutex);
  return state_->completed.wait_until(lock, DeadlineAfter(timeout_ns),
                                      [this] { return state_->done; });
}

namespace {

Status CheckFrontRequest(const FrontRequest& r, uint64_t disk_size) {
  uint64_t total = 0;
  for (size_t i = 0; i < r.vec_count; ++i) total += r.vecs[i].size;
  if (r.op == FrontOp::kFlush) {
    return r.size == 0 && r.vec_count == 0 ? Status::Ok()
                                           : StatusFromErrno(EINVAL);
  }
  if (r.size == 0 || r.size > FrontDisk::kMaxRequestBytes ||
      r.offset % FrontDisk::kLogicalBlockBytes != 0 ||
      r.size % FrontDisk::kLogicalBlockBytes != 0 || total != r.size) {
    return StatusFromErrno(EINVAL);
  }
  if (r.offset > disk_size || r.size > disk_size - r.offset) {
    return StatusFromErrno(EIO);
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<FrontIo> StartFrontIo(FrontTarget target, FrontOp op,
                                      uint32_t flags, uint64_t offset,
                                      std::vector<IoVec> vecs) {
  auto state = std::make_unique<FrontIo::State>();
  FrontIo::State* s = state.get();
  auto io = std::make_unique<FrontIo>(std::move(state));
  s->vecs = std::move(vecs);
  FrontRequest& request = s->request;
  request.op = op;
  request.flags = flags;
  request.offset = offset;
  for (const IoVec& vec : s->vecs) request.size += vec.size;
  request.vecs = s->vecs.empty() ? nullptr : s->vecs.data();
  request.vec_count = s->vecs.size();
  request.platform = s;

  FrontRegistry& registry = Fronts();
  FrontDiskState* disk = nullptr;
  {
    std::lock_guard<std::mutex> lock(registry.mutex);
    if (target.handle() != nullptr) {
      disk = target.handle()->disk;
    } else if (target.name() != nullptr) {
      auto it = registry.disks.find(target.name());
      if (it != registry.disks.end()) disk = it->second;
    }
    if (disk == nullptr) {
      s->Complete(StatusFromErrno(ENOENT));
      return io;
    }
    const Status check = CheckFrontRequest(request, disk->size);
    if (!check.ok()) {
      s->Complete(check);
      return io;
    }
    ++disk->active_submits;
  }
  {
    RecordLock record;
    if (record.active()) {
      Recorder& rec = Rec();
      s->record_session = rec.session;
      s->record_id = rec.next_front_id++;
      RecordedEvent event =
          MakeEvent(RecordedEvent::Kind::kFrontSubmit, s->record_id);
      event.front_op = static_cast<uint8_t>(op);
      event.front_flags = flags;
      event.offset = offset;
      if (op == FrontOp::kWrite) {
        for (const IoVec& vec : s->vecs) {
          const auto* bytes = static_cast<const uint8_t*>(vec.data);
          event.data.insert(event.data.end(), bytes, bytes + vec.size);
        }
      }
      AppendEvent(rec, std::move(event));
    }
  }
  disk->submit(disk->context, &request);
  {
    std::lock_guard<std::mutex> lock(registry.mutex);
    if (--disk->active_submits == 0) registry.idle.notify_all();
  }
  return io;
}

std::unique_ptr<FrontIo> StartFrontIo(FrontTarget target, FrontOp op,
                                      uint32_t flags, uint64_t offset,
                                      void* data, size_t size) {
  std::vector<IoVec> vecs;
  if (size > 0) vecs.push_back(IoVec{data, size});
  return StartFrontIo(target, op, flags, offset, std::move(vecs));
}

Status SubmitToFrontDisk(FrontTarget target, FrontOp op, uint32_t flags,
                         uint64_t offset, void* data, size_t size) {
  return StartFrontIo(target, op, flags, offset, data, size)->Wait();
}

Status SubmitToFrontDisk(FrontTarget target, FrontOp op, uint32_t flags,
                         uint64_t offset, std::vector<IoVec> vecs) {
  return StartFrontIo(target, op, flags, offset, std::move(vecs))->Wait();
}

}  // namespace test

}  // namespace platform
}  // namespace mars
