// Windowed logfile reading and record application (engine/log_apply.h).
#include "core/engine/log_apply.h"

namespace mars {
namespace engine {

LogApplier::~LogApplier() {
  platform::Free(window_);
  platform::FreeIoBuffer(stage_);
}

Status LogApplier::Init(platform::BlockDevice* data, uint64_t device_size) {
  if (!MARS_CHECK(window_ == nullptr && data != nullptr)) {
    return Status(StatusCode::kInternal, "log applier initialised twice");
  }
  data_ = data;
  device_size_ = device_size;
  window_ = static_cast<uint8_t*>(
      platform::Allocate(kWindowBytes, platform::Gfp::kKernel));
  stage_ = platform::AllocateIoBuffer(kStageBytes, platform::Gfp::kKernel);
  if (window_ == nullptr || stage_ == nullptr) {
    return Status(StatusCode::kNoMemory, "out of memory");
  }
  return Status::Ok();
}

Status LogApplier::Next(platform::File* file, uint64_t* end, bool final,
                        log::LogReader* reader, log::ReadResult* read) {
  for (;;) {
    // A window the reader cannot use (another position, or bytes beyond
    // *end after a cut) is replaced by an empty one where it reads next.
    const uint64_t needed = reader->NeededOffset();
    if (window_offset_ > needed ||
        window_offset_ + window_size_ < reader->offset() ||
        window_offset_ + window_size_ > *end) {
      window_offset_ = needed;
      window_size_ = 0;
    }
    const bool at_end = window_offset_ + window_size_ == *end;
    Status status = reader->Next(Slice(window_, window_size_), window_offset_,
                                 final && at_end, read);
    if (!MARS_CHECK(status.ok())) return status;
    if (read->outcome != log::ReadOutcome::kNeedMore) return Status::Ok();
    // Slide the window to where the reader needs bytes from.
    const uint64_t from = reader->NeededOffset();
    if (from >= *end || (at_end && from == window_offset_)) {
      return Status::Ok();  // everything up to *end is in the window
    }
    const uint64_t left = *end - from;
    const size_t want =
        left < kWindowBytes ? static_cast<size_t>(left) : kWindowBytes;
    size_t loaded = 0;
    status = file->Read(from, window_, want, &loaded);
    if (!status.ok()) {
      ResetWindow();
      return status;
    }
    if (loaded < want) *end = from + loaded;
    window_offset_ = from;
    window_size_ = loaded;
  }
}

Status LogApplier::Apply(const log::RecordView& record) {
  if (record.kind() != log::kKindWrite) return Status::Ok();
  const uint64_t size = record.payload.size();
  if (record.device_offset > device_size_ ||
      size > device_size_ - record.device_offset ||
      record.device_offset % 512 != 0 || size % 512 != 0) {
    return Status(StatusCode::kCorruption,
                  "record writes outside the data device");
  }
  if (size == 0) return Status::Ok();
  // Staged on when it continues the staged range and fits.
  if (staged_ > 0 && (staged_device_ + staged_ != record.device_offset ||
                      staged_ + size > kStageBytes)) {
    Status status = WriteStaged();
    if (!status.ok()) return status;
  }
  if (staged_ == 0) {
    staged_device_ = record.device_offset;
    staged_offset_ = record.offset;
    staged_record_number_ = record.record_number;
  }
  if (size <= kStageBytes) {
    __builtin_memcpy(static_cast<uint8_t*>(stage_) + staged_,
                     record.payload.data(), size);
    staged_ += size;
    return Status::Ok();
  }
  // Larger than the stage: written through it piece by piece.
  for (uint64_t done = 0; done < size;) {
    const size_t n = size - done < kStageBytes ? size - done : kStageBytes;
    __builtin_memcpy(stage_, record.payload.data() + done, n);
    Status status = data_->WriteSync(record.device_offset + done, stage_, n);
    if (!status.ok()) {
      failed_offset_ = record.offset;
      failed_record_number_ = record.record_number;
      return status;
    }
    done += n;
  }
  return Status::Ok();
}

Status LogApplier::WriteStaged() {
  if (staged_ == 0) return Status::Ok();
  const size_t size = staged_;
  staged_ = 0;
  Status status = data_->WriteSync(staged_device_, stage_, size);
  if (!status.ok()) {
    failed_offset_ = staged_offset_;
    failed_record_number_ = staged_record_number_;
  }
  return status;
}

}  // namespace engine
}  // namespace mars
