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
  // Payloads reach the data device through this direct-mapped buffer; the
  // data of consecutive records that write one contiguous range is staged
  // there and written with one request.
  static constexpr size_t kStageBytes = 256 * 1024;

  LogApplier() = default;
  ~LogApplier();
  LogApplier(const LogApplier&) = delete;
  LogApplier& operator=(const LogApplier&) = delete;

  // Allocates the window and the staging buffer (kNoMemory; Gfp::kKernel).
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
  // kinds are skipped (Ok, nothing written). The data may stay staged
  // until a later Apply() or WriteStaged(): call WriteStaged() before
  // flushing the device. Writes reach the device in record order.
  // kCorruption "record writes outside the data device" for a record that
  // does not fit the device (or is not 512-aligned; nothing staged is lost);
  // the device's write error, for this record or a staged one: then
  // nothing is staged any more and failed_offset()/failed_record_number()
  // name the first record whose data may be missing. Context: may sleep.
  Status Apply(const log::RecordView& record);
  // Writes what is staged. Errors as Apply(). Context: may sleep.
  Status WriteStaged();
  // After a write error: the first record whose data may not be written.
  uint64_t failed_offset() const { return failed_offset_; }
  uint64_t failed_record_number() const { return failed_record_number_; }

 private:
  platform::BlockDevice* data_ = nullptr;
  uint64_t device_size_ = 0;
  uint8_t* window_ = nullptr;  // kWindowBytes, Allocate()
  void* stage_ = nullptr;      // kStageBytes, AllocateIoBuffer()
  uint64_t window_offset_ = 0;
  size_t window_size_ = 0;
  // Staged: stage_[0, staged_) goes to device offset staged_device_; it
  // holds the data of the records from staged_offset_ (file offset) and
  // staged_record_number_ on.
  size_t staged_ = 0;
  uint64_t staged_device_ = 0;
  uint64_t staged_offset_ = 0;
  uint64_t staged_record_number_ = 0;
  uint64_t failed_offset_ = 0;
  uint64_t failed_record_number_ = 0;
};

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_LOG_APPLY_H_
