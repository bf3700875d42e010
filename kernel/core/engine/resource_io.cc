// Requests of /dev/mars/DEVNAME: reads served from the write buffer and the
// data device, writes logged and buffered, flushes and FUA completed once
// the log is durable (architecture §3; docu/write-path.md "Requests").
#include "core/base/errno_status.h"
#include "core/engine/resource.h"
#include "core/log/log_format.h"

namespace mars {
namespace engine {

namespace {

constexpr uint64_t kBlock = DirtyIndex::kBlockBytes;
constexpr size_t kMaxBlocks = platform::FrontDisk::kMaxRequestBytes / kBlock;

// Copies `size` bytes between `buffer` and the request's vecs starting at
// byte `offset` of the request. `to_vecs` chooses the direction.
void CopyVecs(const platform::FrontRequest& request, uint64_t offset,
              void* buffer, size_t size, bool to_vecs) {
  uint8_t* bytes = static_cast<uint8_t*>(buffer);
  for (size_t i = 0; i < request.vec_count && size > 0; ++i) {
    const platform::IoVec& vec = request.vecs[i];
    if (offset >= vec.size) {
      offset -= vec.size;
      continue;
    }
    size_t n = vec.size - offset;
    if (n > size) n = size;
    uint8_t* at = static_cast<uint8_t*>(vec.data) + offset;
    if (to_vecs) {
      __builtin_memcpy(at, bytes, n);
    } else {
      __builtin_memcpy(bytes, at, n);
    }
    bytes += n;
    size -= n;
    offset = 0;
  }
}

// A read with parts on the data device: one sub-request per gap.
struct ReadJob {
  Resource* resource;
  platform::FrontRequest* request;
  uint32_t pending;  // atomic
  int first_error;   // atomic: StatusCode of the first failure
  const char* first_message;
  size_t part_count;
  platform::BlockDevice::Request parts[kMaxBlocks];
  platform::IoVec vecs[kMaxBlocks];  // one block each
};

void FinishReadJob(ReadJob* job);

void ReadPartDone(platform::BlockDevice::Request* part, Status status) {
  ReadJob* job = static_cast<ReadJob*>(part->context);
  if (!status.ok()) {
    int expected = 0;
    if (__atomic_compare_exchange_n(&job->first_error, &expected,
                                    static_cast<int>(status.code()), false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      job->first_message = status.message();
    }
  }
  if (__atomic_sub_fetch(&job->pending, 1, __ATOMIC_ACQ_REL) == 0) {
    FinishReadJob(job);
  }
}

}  // namespace

void Resource::FinishFront(platform::FrontRequest* request, Status status) {
  platform::CompleteFrontRequest(request, status);
  __atomic_sub_fetch(&front_in_flight_, 1, __ATOMIC_ACQ_REL);
  idle_wq_.WakeAll();
}

namespace {

// Completes the job's request; frees the job. Context: any.
void FinishReadJob(ReadJob* job) {
  const int code = __atomic_load_n(&job->first_error, __ATOMIC_ACQUIRE);
  Status status =
      code == 0 ? Status::Ok()
                : Status(static_cast<StatusCode>(code), job->first_message);
  Resource* resource = job->resource;
  platform::FrontRequest* request = job->request;
  platform::Free(job);
  Resource::CompleteForJob(resource, request, status);
}

}  // namespace

void Resource::CompleteForJob(Resource* resource,
                              platform::FrontRequest* request, Status status) {
  resource->FinishFront(request, status);
}

void Resource::SubmitFront(void* context, platform::FrontRequest* request) {
  Resource* self = static_cast<Resource*>(context);
  __atomic_add_fetch(&self->front_in_flight_, 1, __ATOMIC_ACQ_REL);
  if (request->offset % kBlock != 0 || request->size % kBlock != 0 ||
      request->size > platform::FrontDisk::kMaxRequestBytes ||
      request->offset > self->size_bytes_ ||
      request->size > self->size_bytes_ - request->offset) {
    self->FinishFront(request, Status(StatusCode::kInvalidArgument,
                                      "request outside the device"));
    return;
  }
  switch (request->op) {
    case platform::FrontOp::kRead:
      self->SubmitRead(request);
      return;
    case platform::FrontOp::kWrite:
      self->SubmitWrite(request);
      return;
    case platform::FrontOp::kFlush:
      self->SubmitFlush(request);
      return;
  }
  self->FinishFront(request,
                    Status(StatusCode::kInvalidArgument, "unknown request"));
}

void Resource::SubmitRead(platform::FrontRequest* request) {
  const size_t blocks = static_cast<size_t>(request->size / kBlock);
  if (blocks == 0) {
    FinishFront(request, Status::Ok());
    return;
  }
  ReadJob* job = static_cast<ReadJob*>(
      platform::Allocate(sizeof(ReadJob), platform::Gfp::kNoIo));
  if (job == nullptr) {
    FinishFront(request, Status(StatusCode::kNoMemory, "no memory for read"));
    return;
  }
  job->resource = this;
  job->request = request;
  job->first_error = 0;
  job->first_message = "";
  job->part_count = 0;
  const uint64_t first_block = request->offset / kBlock;
  {
    platform::MutexGuard guard(lock_);
    for (size_t i = 0; i < blocks; ++i) {
      const void* data =
          index_ != nullptr ? index_->Lookup(first_block + i) : nullptr;
      if (data != nullptr) {
        CopyVecs(*request, i * kBlock, const_cast<void*>(data), kBlock, true);
        continue;
      }
      // Extend the previous gap when it ends right here.
      if (job->part_count > 0) {
        platform::BlockDevice::Request& last = job->parts[job->part_count - 1];
        if (last.offset + last.size == (first_block + i) * kBlock) {
          last.size += kBlock;
          last.vec_count++;
          continue;
        }
      }
      platform::BlockDevice::Request& part = job->parts[job->part_count];
      part = platform::BlockDevice::Request();
      part.op = platform::BlockDevice::Op::kRead;
      part.offset = (first_block + i) * kBlock;
      part.size = kBlock;
      part.vecs = &job->vecs[i];
      part.vec_count = 1;
      part.done = ReadPartDone;
      part.context = job;
      job->part_count++;
    }
  }
  if (job->part_count == 0) {
    platform::Free(job);
    FinishFront(request, Status::Ok());
    return;
  }
  // One vec per block of the request, pointing into its pages; a block may
  // span two request vecs only if the submitter's segments are not block
  // aligned, which the exported device's limits rule out.
  for (size_t i = 0; i < blocks; ++i) {
    uint64_t offset = i * kBlock;
    job->vecs[i].data = nullptr;
    job->vecs[i].size = kBlock;
    for (size_t v = 0; v < request->vec_count; ++v) {
      if (offset < request->vecs[v].size) {
        job->vecs[i].data =
            static_cast<uint8_t*>(request->vecs[v].data) + offset;
        job->vecs[i].size = request->vecs[v].size - offset < kBlock
                                ? request->vecs[v].size - offset
                                : kBlock;
        break;
      }
      offset -= request->vecs[v].size;
    }
    if (job->vecs[i].data == nullptr || job->vecs[i].size != kBlock) {
      platform::Free(job);
      FinishFront(request, Status(StatusCode::kInvalidArgument,
                                  "read segments are not block aligned"));
      return;
    }
  }
  job->pending = static_cast<uint32_t>(job->part_count);
  const size_t parts = job->part_count;
  for (size_t i = 0; i < parts; ++i) {
    // The job may be freed by the last completion: read nothing after it.
    data_.Submit(&job->parts[i]);
  }
}

void Resource::ThrottleWrite(uint64_t bytes) {
  const uint64_t limit =
      platform::GetTunable(platform::Tunable::kBufferLimitBytes);
  struct Room {
    Resource* self;
    uint64_t bytes;
    uint64_t limit;
  } room{this, bytes, limit};
  auto has_room = [](void* context) {
    Room* r = static_cast<Room*>(context);
    const uint64_t used =
        __atomic_load_n(&r->self->buffered_bytes_, __ATOMIC_ACQUIRE);
    return used == 0 || used + r->bytes <= r->limit ||
           __atomic_load_n(&r->self->log_failed_, __ATOMIC_ACQUIRE);
  };
  if (has_room(&room)) return;
  platform::AddCounter(platform::Counter::kWritesThrottled, 1);
  __atomic_add_fetch(&throttled_writers_, 1, __ATOMIC_ACQ_REL);
  __atomic_store_n(&writeback_kick_, 1, __ATOMIC_RELEASE);
  __atomic_store_n(&logger_kick_, 1, __ATOMIC_RELEASE);
  logger_wq_.WakeAll();
  idle_wq_.WakeAll();
  while (!space_wq_.WaitUntil(has_room, &room, 100ull * 1000 * 1000)) {
    __atomic_store_n(&logger_kick_, 1, __ATOMIC_RELEASE);
    logger_wq_.WakeAll();
  }
  __atomic_sub_fetch(&throttled_writers_, 1, __ATOMIC_ACQ_REL);
}

void Resource::SubmitWrite(platform::FrontRequest* request) {
  const size_t blocks = static_cast<size_t>(request->size / kBlock);
  if (blocks == 0) {
    SubmitFlush(request);
    return;
  }
  ThrottleWrite(request->size);
  // The new versions, copied before taking the lock.
  struct WriteJob {
    void* buffers[kMaxBlocks];
    Slice pieces[kMaxBlocks];
  };
  WriteJob* job = static_cast<WriteJob*>(
      platform::Allocate(sizeof(WriteJob), platform::Gfp::kNoIo));
  if (job == nullptr) {
    FinishFront(request, Status(StatusCode::kNoMemory, "no memory for write"));
    return;
  }
  size_t copied = 0;
  for (; copied < blocks; ++copied) {
    void* buffer = platform::AllocateIoBuffer(kBlock, platform::Gfp::kNoIo);
    if (buffer == nullptr) break;
    CopyVecs(*request, copied * kBlock, buffer, kBlock, false);
    job->buffers[copied] = buffer;
    job->pieces[copied] = Slice(buffer, kBlock);
  }
  Status status = copied == blocks
                      ? Status::Ok()
                      : Status(StatusCode::kNoMemory, "no memory for write");
  size_t installed = 0;
  bool complete_now = false;
  if (status.ok()) {
    platform::MutexGuard guard(lock_);
    for (;;) {
      if (log_failed_ || writer_.get() == nullptr) {
        status = Status(StatusCode::kIoError, "the log of this device failed");
        break;
      }
      // A logfile that reached logrotate_bytes takes no further record, so
      // it ends at most one record beyond the limit.
      NoteRotationDueLocked();
      if (!rotating_ &&
          writer_->FreeBytes() >= log::kMaxHeaderBytes + request->size) {
        break;
      }
      // The ring is full or the logfile is being switched: wait.
      lock_.Unlock();
      __atomic_store_n(&logger_kick_, 1, __ATOMIC_RELEASE);
      logger_wq_.WakeAll();
      struct Ready {
        Resource* self;
      } ready{this};
      space_wq_.WaitUntil(
          [](void* context) {
            Resource* self = static_cast<Ready*>(context)->self;
            return __atomic_load_n(&self->logger_kick_, __ATOMIC_ACQUIRE) == 0;
          },
          &ready, 10ull * 1000 * 1000);
      lock_.Lock();
    }
    if (status.ok()) {
      log::RecordFields fields;
      fields.flags = log::kKindWrite;
      fields.stamp_ns = clock_->Now();
      fields.device_offset = request->offset;
      log::RecordPosition position;
      DirtyIndex::Record* record = nullptr;
      const uint64_t appended_before = writer_->AppendedEnd();
      if (last_record_ != nullptr &&
          writer_->ExtendLast(fields, job->pieces, blocks, &position)) {
        // A contiguous write joins the record before it (write-path.md,
        // "Contiguous writes share a record").
        record = last_record_;
        status =
            index_->ExtendRecord(record, LogPosition{logfile_, position.end});
        if (!status.ok()) FailLogLocked("cannot track a log record", status);
        platform::AddCounter(platform::Counter::kWritesMerged, 1);
      } else {
        status = writer_->Append(fields, job->pieces, blocks, &position);
        if (status.ok()) {
          status =
              index_->AddRecord(LogPosition{logfile_, position.begin},
                                LogPosition{logfile_, position.end}, &record);
          if (!status.ok()) FailLogLocked("cannot track a log record", status);
        }
        last_record_ = status.ok() ? record : nullptr;
      }
      const uint64_t before = index_->buffered_bytes();
      for (; status.ok() && installed < blocks; ++installed) {
        status = index_->Install(request->offset / kBlock + installed,
                                 job->buffers[installed], record);
        if (!status.ok()) FailLogLocked("cannot buffer a write", status);
      }
      UpdateBufferedCounter(before, index_->buffered_bytes());
      if (status.ok()) {
        platform::AddCounter(platform::Counter::kBytesLogged,
                             writer_->AppendedEnd() - appended_before);
        if ((request->flags &
             (platform::kFrontFua | platform::kFrontPreflush)) != 0) {
          status = WaitForDurableLocked(request,
                                        LogPosition{logfile_, position.end});
          if (status.ok()) request = nullptr;  // the logger completes it
        } else {
          complete_now = true;
        }
      }
    }
  }
  for (size_t i = installed; i < copied; ++i) {
    platform::FreeIoBuffer(job->buffers[i]);
  }
  platform::Free(job);
  logger_wq_.WakeAll();
  if (request == nullptr) return;
  (void)complete_now;
  FinishFront(request, status);
}

void Resource::SubmitFlush(platform::FrontRequest* request) {
  Status status = Status::Ok();
  {
    platform::MutexGuard guard(lock_);
    if (log_failed_ || writer_.get() == nullptr) {
      status = Status(StatusCode::kIoError, "the log of this device failed");
    } else {
      status = WaitForDurableLocked(
          request, LogPosition{logfile_, writer_->AppendedEnd()});
      if (status.ok()) request = nullptr;
    }
  }
  logger_wq_.WakeAll();
  if (request != nullptr) FinishFront(request, status);
}

Status Resource::WaitForDurableLocked(platform::FrontRequest* request,
                                      LogPosition position) {
#if defined(MARS_MUTATION) && MARS_MUTATION == 1
  // Deliberate fault for testing/crash: FUA and flush complete before the
  // log is durable.
  position = durable_;
#endif
  // `position` must stay a record end: the record there takes no more
  // payload.
  if (writer_.get() != nullptr) writer_->CloseLast();
  if (position <= durable_) {
    // Completing under lock_ is allowed: completion does not sleep.
    FinishFront(request, Status::Ok());
    return Status::Ok();
  }
  DurabilityWaiter* waiter = static_cast<DurabilityWaiter*>(
      platform::Allocate(sizeof(DurabilityWaiter), platform::Gfp::kNoIo));
  if (waiter == nullptr) {
    return Status(StatusCode::kNoMemory, "no memory to wait for the log");
  }
  waiter->request = request;
  waiter->position = position;
  waiter->next = nullptr;
  if (waiters_tail_ != nullptr) {
    waiters_tail_->next = waiter;
  } else {
    waiters_ = waiter;
  }
  waiters_tail_ = waiter;
  __atomic_store_n(&logger_kick_, 1, __ATOMIC_RELEASE);
  return Status::Ok();
}

}  // namespace engine
}  // namespace mars
