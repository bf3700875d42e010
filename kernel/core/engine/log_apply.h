// LogApplier: reads one logfile through a log::LogReader in windows of file
// bytes and writes the data of its records to a data device. Shared by the
// primary's crash recovery (engine/recovery.h) and the replayer of a
// secondary (engine/replayer.h), which differ only in where a logfile ends
// and what they do at its end.
#ifndef MARS_CORE_ENGINE_LOG_APPLY_H_
#define MARS_CORE_ENGINE_LOG_APPLY_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/status.h"
#include "core/log/log_format.h"
#include "core/log/log_reader.h"
#include "core/platform_io.h"

namespace mars {
namespace engine {

class LogApplier {
 public:
  // Window of file bytes the reader sees: at least one record of any size.
  static constexpr size_t kWindowBytes = 2 * log::kMaxRecordBytes;
  // Payloads reach the data device through stages of kStageBuffers
  // direct-mapped buffers of kStageBytes (AllocateIoBuffer()): the data of
  // consecutive records that write one contiguous range is staged and
  // written with one vectored request of up to kRequestBytes. Two stages
  // alternate: while one request is in flight the next one is filled, so
  // the device writes while the next records are read and verified; a
  // request is submitted only after the one before it completed, so the
  // device sees the writes in record order. Memory: kWindowBytes +
  // 2 * kRequestBytes.
  static constexpr size_t kStageBytes = 256 * 1024;
  static constexpr size_t kStageBuffers = 4;
  static constexpr size_t kRequestBytes = kStageBuffers * kStageBytes;
  static_assert(kRequestBytes >= log::kMaxPayloadBytes,
                "a record's payload fits one request");

  LogApplier() = default;
  ~LogApplier();
  LogApplier(const LogApplier&) = delete;
  LogApplier& operator=(const LogApplier&) = delete;

  // Allocates the window and the stages (kNoMemory; Gfp::kKernel).
  // `data` (open, outliving this object) receives the records' data;
  // `device_size` bounds where they may write. Call once.
  // Context: may sleep.
  Status Init(platform::BlockDevice* data, uint64_t device_size);

  // Forgets the window: the next Next() reads the file again. Call when
  // reading another file, or when the file was cut. Context: any.
  void ResetWindow() {
    window_offset_ = 0;
    window_size_ = 0;
  }

  // The next outcome of `reader` over the bytes [0, *end) of `file`,
  // loading windows as needed. `final` says that *end is the end of the
  // file for good; without it the reader waits for more bytes (kNeedMore
  // once it needs bytes at or beyond *end). A short read (the file ends
  // before *end) lowers *end. Errors: the file's read status (the reader is
  // unchanged). Context: may sleep.
  Status Next(platform::File* file, uint64_t* end, bool final,
              log::LogReader* reader, log::ReadResult* read);

  // Writes the payload of a kKindWrite record at its device_offset; other
  // kinds are skipped (Ok, nothing written). The data may stay staged or in
  // flight until a later Apply() or WriteStaged(): call WriteStaged()
  // before flushing the device. Writes reach the device in record order.
  // kCorruption "record writes outside the data device" for a record that
  // does not fit the device (or is not 512-aligned; nothing staged is lost);
  // the device's write error, for this record or an earlier one: then
  // nothing is staged or in flight any more and
  // failed_offset()/failed_record_number() name the first record whose data
  // may be missing. Context: may sleep.
  Status Apply(const log::RecordView& record);
  // Writes what is staged and waits until nothing is in flight. Errors as
  // Apply(). Context: may sleep.
  Status WriteStaged();
  // After a write error: the first record whose data may not be written.
  uint64_t failed_offset() const { return failed_offset_; }
  uint64_t failed_record_number() const { return failed_record_number_; }

 private:
  // One request's data: `size` bytes, buffers[0] first, for device offset
  // device_offset; they hold the data of the records from first_offset (file
  // offset) and first_record_number on.
  struct Stage {
    void* buffers[kStageBuffers] = {};  // kStageBytes each
    platform::IoVec vecs[kStageBuffers] = {};
    platform::BlockDevice::Request request;
    LogApplier* owner = nullptr;
    size_t size = 0;
    uint64_t device_offset = 0;
    uint64_t first_offset = 0;
    uint64_t first_record_number = 0;
    Status status;  // the request's outcome, set by RequestDone
    int state = 0;  // __atomic access only: kPending, kDone, kReleased
  };

  // The request's `done`. Context: any.
  static void RequestDone(platform::BlockDevice::Request* request,
                          Status status);
  // Submits the stage being filled (if it holds data) once the request in
  // flight completed; the other stage is filled next. Errors: the request
  // in flight failed (the stage being filled is dropped).
  Status SubmitFilling();
  // Waits until the request in flight (if any) completed; its status.
  Status WaitInFlight();

  platform::BlockDevice* data_ = nullptr;
  uint64_t device_size_ = 0;
  uint8_t* window_ = nullptr;  // kWindowBytes, Allocate()
  uint64_t window_offset_ = 0;
  size_t window_size_ = 0;
  Stage stages_[2];
  size_t filling_ = 0;              // stages_[filling_] is being filled
  bool in_flight_ = false;          // stages_[1 - filling_] was submitted
  platform::WaitQueue done_queue_;  // woken by RequestDone
  uint64_t failed_offset_ = 0;
  uint64_t failed_record_number_ = 0;
};

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_LOG_APPLY_H_
