// Windowed logfile reading and record application (engine/log_apply.h).
#include "core/engine/log_apply.h"

#include "core/base/coding.h"
#include "core/io/pending_watch.h"

namespace mars {
namespace engine {

namespace {

enum : int {
  kIdle = 0,  // never submitted: nothing to wait for
  kPending = 1,
  kDone = 2,      // status is valid; RequestDone may still be in WakeAll()
  kReleased = 3,  // RequestDone no longer touches the stage or the queue
};

// As in core/io/block_device_sync.cc: waits are bounded and repeated (a
// stop request of the calling thread ends one early, but the request owns
// its stage until `done` ran); the window between WakeAll() and the release
// store is a few instructions, re-checked at a short interval.
constexpr uint64_t kWaitRoundNs = 1000ull * 1000 * 1000;
constexpr uint64_t kReleasePollNs = 100ull * 1000;

int StageState(const void* stage_state) {
  return __atomic_load_n(static_cast<const int*>(stage_state),
                         __ATOMIC_ACQUIRE);
}

bool IsDone(void* stage_state) { return StageState(stage_state) >= kDone; }

bool IsReleased(void* stage_state) {
  return StageState(stage_state) == kReleased;
}

}  // namespace

LogApplier::~LogApplier() {
  // A request in flight owns its stage until it completed.
  const Status ignored = WaitInFlight();
  (void)ignored;
  platform::Free(window_);
  for (Stage& stage : stages_) platform::FreeWriteBuffer(stage.memory);
}

Status LogApplier::Init(platform::BlockDevice* data, uint64_t device_size,
                        const char* resource) {
  if (!MARS_CHECK(window_ == nullptr && data != nullptr)) {
    return Status(StatusCode::kInternal, "log applier initialised twice");
  }
  data_ = data;
  device_size_ = device_size;
  resource_ = resource;
  // No lock class names this role; like the synchronous helpers' queues it
  // is only ever woken, never nested in another lock.
  Status status =
      done_queue_.Init(platform::LockClass::kSelfTest, platform::Gfp::kKernel);
  if (!status.ok()) return status;
  window_ = static_cast<uint8_t*>(
      platform::Allocate(kWindowBytes, platform::Gfp::kKernel));
  if (window_ == nullptr) return Status(StatusCode::kNoMemory, "out of memory");
  for (Stage& stage : stages_) {
    stage.owner = this;
    stage.memory =
        static_cast<uint8_t*>(platform::AllocateWriteBuffer(kStageMemoryBytes));
    if (stage.memory == nullptr) {
      return Status(StatusCode::kNoMemory, "out of memory");
    }
    stage.data = stage.memory + kStageHeadroom;
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
    bool tried = false;
    status = TryReadInPlace(file, end, final, reader, read, &tried);
    if (!status.ok()) return status;
    if (tried) {
      if (read->outcome != log::ReadOutcome::kNeedMore) return Status::Ok();
      continue;  // a damaged record: the reader looks further, in windows
    }
    const uint64_t left = *end - from;
    const size_t size = after_in_place_ ? kLookaheadBytes : kWindowBytes;
    after_in_place_ = false;
    const size_t want = left < size ? static_cast<size_t>(left) : size;
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

bool LogApplier::InPlaceCandidate(const log::RecordHeader& header, uint64_t at,
                                  uint64_t end) const {
  const uint64_t size = header.payload_len;
  return header.kind() == log::kKindWrite && size >= kInPlaceMinPayload &&
         size <= log::kMaxPayloadBytes &&
         header.header_len >= log::kHeaderBytes &&
         header.header_len <= log::kMaxHeaderBytes &&
         header.total_len ==
             log::RecordBytes(header.header_len, header.payload_len) &&
         header.device_offset % 512 == 0 && size % 512 == 0 &&
         header.device_offset <= device_size_ &&
         size <= device_size_ - header.device_offset && at <= end &&
         header.total_len <= end - at;
}

bool LogApplier::PeekHeader(uint64_t at, log::RecordHeader* header) const {
  const uint64_t window_end = window_offset_ + window_size_;
  if (at < window_offset_ || at > window_end ||
      window_end - at < log::kHeaderBytes) {
    return false;
  }
  const uint8_t* head = window_ + (at - window_offset_);
  if (DecodeFixed32(head + log::kMagicOffset) != log::kMagic) return false;
  log::DecodeHeader(head, static_cast<size_t>(window_end - at), header);
  return true;
}

Status LogApplier::TryReadInPlace(platform::File* file, uint64_t* end,
                                  bool final, log::LogReader* reader,
                                  log::ReadResult* read, bool* tried) {
  *tried = false;
  const uint64_t at = reader->offset();
  const uint64_t window_end = window_offset_ + window_size_;
  // Unverified fields, only to decide; the reader verifies the record.
  log::RecordHeader header;
  if (reader->NeededOffset() != at || !PeekHeader(at, &header) ||
      !InPlaceCandidate(header, at, *end)) {
    return Status::Ok();  // classifying, the header is not here, or small
  }
  const uint64_t size = header.payload_len;
  const Status room = MakeRoom(header.device_offset, size);
  if (!room.ok()) {
    ahead_.valid = false;
    deferred_ = room;  // Apply() reports it; this record takes a window
    return Status::Ok();
  }
  Stage& stage = stages_[filling_];
  const size_t filled = stage.size;
  const uint64_t range_start =
      filled > 0 ? stage.device_offset : header.device_offset;
  uint8_t* place = stage.data + filled;  // where the payload goes
  uint8_t* start = place - header.header_len;
  __builtin_memcpy(saved_, start, header.header_len);
  size_t loaded = 0;
  size_t extra = 0;  // file bytes after the payload, read with it
  Status status = Status::Ok();
  if (TakeReadAhead(at, header, window_end, place, &extra) ||
      ReadPayloadDirect(file, at, header, window_end, *end, place, &extra)) {
    loaded = header.total_len;
  } else {
    status = file->Read(at, start, header.total_len, &loaded);
  }
  if (!status.ok() || loaded < header.total_len) {
    __builtin_memcpy(start, saved_, header.header_len);
    if (!status.ok()) {
      ResetWindow();
      return status;
    }
    *end = at + loaded;  // the file is shorter: windows go on from here
    return Status::Ok();
  }
  *tried = true;
  const uint64_t record_end = at + header.total_len;
  // The window ends where the record does, or holds the bytes read after
  // its payload: the next record's header, and with it perhaps the next
  // payload to read while this one is verified.
  window_offset_ = record_end;
  window_size_ = extra;
  if (extra > 0) __builtin_memcpy(window_, place + size, extra);
  const bool reading_ahead =
      extra > 0 && StartReadAhead(file, *end, record_end, range_start,
                                  filled + static_cast<size_t>(size));
  const Status verified = reader->Next(Slice(start, header.total_len), at,
                                       final && record_end == *end, read);
  __builtin_memcpy(start, saved_, header.header_len);
  if (reading_ahead) FinishReadAhead();
  after_in_place_ = true;  // the next load is a lookahead
  if (!MARS_CHECK(verified.ok())) return verified;
  if (read->outcome == log::ReadOutcome::kRecord) {
    MARS_CHECK(read->record.payload.data() == place);
    records_read_in_place_++;
  }
  return Status::Ok();
}

bool LogApplier::DirectAligned(const platform::File::DirectAlignment& alignment,
                               uint64_t payload_at, uint64_t size,
                               const uint8_t* place) {
  return alignment.supported() && payload_at % alignment.offset == 0 &&
         size % alignment.offset == 0 &&
         reinterpret_cast<uintptr_t>(place) % alignment.memory == 0;
}

size_t LogApplier::DirectExtra(const platform::File::DirectAlignment& alignment,
                               uint64_t payload_end, uint64_t end) {
  return kDirectLookahead % alignment.offset == 0 && payload_end <= end &&
                 end - payload_end >= kDirectLookahead
             ? kDirectLookahead
             : 0;
}

bool LogApplier::ReadPayloadDirect(platform::File* file, uint64_t at,
                                   const log::RecordHeader& header,
                                   uint64_t window_end, uint64_t end,
                                   uint8_t* place, size_t* extra) {
  *extra = 0;
  if (direct_failed_ || !DirectCandidate(header, at, window_end)) {
    return false;
  }
  const platform::File::DirectAlignment alignment = file->DirectReadAlignment();
  const uint64_t payload_at = at + header.header_len;
  if (!DirectAligned(alignment, payload_at, header.payload_len, place) ||
      file->Cached(payload_at, header.payload_len)) {
    return false;
  }
  const size_t want =
      header.payload_len +
      DirectExtra(alignment, payload_at + header.payload_len, end);
  size_t loaded = 0;
  const Status status = file->ReadDirect(payload_at, place, want, &loaded);
  if (!status.ok() || loaded < header.payload_len) {
    // Buffered reads decide, and report a real error; after a refusal this
    // file is read buffered only.
    if (!status.ok()) direct_failed_ = true;
    return false;
  }
  *extra = loaded - header.payload_len;
  CompleteDirectRecord(at, header, place);
  return true;
}

bool LogApplier::DirectCandidate(const log::RecordHeader& header, uint64_t at,
                                 uint64_t window_end) {
  return header.total_len == header.header_len + header.payload_len &&
         window_end - at >= header.header_len;
}

void LogApplier::CompleteDirectRecord(uint64_t at,
                                      const log::RecordHeader& header,
                                      uint8_t* place) {
  __builtin_memcpy(place - header.header_len, window_ + (at - window_offset_),
                   header.header_len);
  records_read_direct_++;
  platform::AddCounter(platform::Counter::kBytesReadDirect, header.payload_len);
}

bool LogApplier::TakeReadAhead(uint64_t at, const log::RecordHeader& header,
                               uint64_t window_end, uint8_t* place,
                               size_t* extra) {
  *extra = 0;
  const ReadAhead ahead = ahead_;
  ahead_.valid = false;  // used now, or overwritten by what is read instead
  if (!ahead.valid || ahead.payload_at != at + header.header_len ||
      ahead.place != place || ahead.size != header.payload_len ||
      !DirectCandidate(header, at, window_end)) {
    return false;
  }
  *extra = ahead.extra;
  CompleteDirectRecord(at, header, place);
  records_read_ahead_++;
  platform::AddCounter(platform::Counter::kBytesReadAhead, header.payload_len);
  return true;
}

void LogApplier::WaitStageMemory(size_t index) {
  for (size_t i = 1; i <= in_flight_; ++i) {
    if ((filling_ + kStages - i) % kStages == index) {
      // Its write must complete before the stage is filled again anyway
      // (SubmitFilling() reaps it then); its status stays for that.
      WaitReleased(&stages_[index]);
      return;
    }
  }
}

bool LogApplier::StartReadAhead(platform::File* file, uint64_t end,
                                uint64_t record_end, uint64_t range_start,
                                size_t filled_after) {
  ahead_.valid = false;
  if (direct_failed_) return false;
  // The next record's header, after a padding record if there is one.
  uint64_t next = record_end;
  log::RecordHeader header;
  if (!PeekHeader(next, &header)) return false;
  if (log::IsPadding(header.flags)) {
    if (header.total_len < log::kHeaderBytes) return false;
    next += header.total_len;
    if (!PeekHeader(next, &header)) return false;
  }
  if (!InPlaceCandidate(header, next, end) ||
      !DirectCandidate(header, next, window_offset_ + window_size_) ||
      file->Cached(next + header.header_len, header.payload_len)) {
    return false;
  }
  // Where Apply() of the current record and MakeRoom() of the next one will
  // put its payload: on in the current stage when it continues the range
  // and fits, else at the start of the next stage, once no write from it is
  // in flight.
  size_t index = filling_;
  size_t offset_in_stage = filled_after;
  if (filled_after >= kRequestBytes ||
      range_start + filled_after != header.device_offset ||
      filled_after + header.payload_len > kRequestBytes) {
    index = (filling_ + 1) % kStages;
    offset_in_stage = 0;
    WaitStageMemory(index);
  }
  uint8_t* place = stages_[index].data + offset_in_stage;
  const platform::File::DirectAlignment alignment = file->DirectReadAlignment();
  const uint64_t payload_at = next + header.header_len;
  if (!DirectAligned(alignment, payload_at, header.payload_len, place)) {
    return false;
  }
  const size_t extra =
      DirectExtra(alignment, payload_at + header.payload_len, end);
  if (!direct_read_.Start(file, payload_at, place, header.payload_len + extra)
           .ok()) {
    return false;
  }
  ahead_.payload_at = payload_at;
  ahead_.place = place;
  ahead_.size = header.payload_len;
  ahead_.extra = extra;
  return true;
}

void LogApplier::FinishReadAhead() {
  size_t loaded = 0;
  const Status status = direct_read_.Wait(&loaded);
  if (!status.ok()) direct_failed_ = true;  // as for ReadPayloadDirect()
  if (!status.ok() || loaded < ahead_.size) return;  // not valid
  if (loaded - ahead_.size < ahead_.extra) ahead_.extra = loaded - ahead_.size;
  ahead_.valid = true;
}

Status LogApplier::MakeRoom(uint64_t device_offset, uint64_t size) {
  const Stage& stage = stages_[filling_];
  if (stage.size > 0 && (stage.device_offset + stage.size != device_offset ||
                         stage.size + size > kRequestBytes)) {
    return SubmitFilling();
  }
  return Status::Ok();
}

Status LogApplier::Apply(const log::RecordView& record) {
  if (!deferred_.ok()) {
    const Status status = deferred_;
    deferred_ = Status::Ok();
    return status;
  }
  if (record.kind() != log::kKindWrite) return Status::Ok();
  const uint64_t size = record.payload.size();
  if (record.device_offset > device_size_ ||
      size > device_size_ - record.device_offset ||
      record.device_offset % 512 != 0 || size % 512 != 0) {
    return Status(StatusCode::kCorruption,
                  "record writes outside the data device");
  }
  if (size == 0) return Status::Ok();
  if (!MARS_CHECK(size <= kRequestBytes)) {
    return Status(StatusCode::kInternal, "record larger than a request");
  }
  // Staged on when it continues the staged range and fits.
  Status status = MakeRoom(record.device_offset, size);
  if (!status.ok()) return status;
  Stage* stage = &stages_[filling_];
  if (stage->size == 0) {
    stage->device_offset = record.device_offset;
    stage->first_offset = record.offset;
    stage->first_record_number = record.record_number;
  }
  // A record read in place is there already.
  uint8_t* place = stage->data + stage->size;
  if (record.payload.data() != place) {
    ahead_.valid = false;  // stage memory changes under a payload read ahead
    __builtin_memcpy(place, record.payload.data(), static_cast<size_t>(size));
  }
  stage->size += static_cast<size_t>(size);
  // A full stage goes to the device at once.
  if (stage->size == kRequestBytes) return SubmitFilling();
  return Status::Ok();
}

Status LogApplier::WriteStaged() {
  ahead_.valid = false;
  if (!deferred_.ok()) {
    const Status deferred = deferred_;
    deferred_ = Status::Ok();
    return deferred;  // nothing is in flight after a write error
  }
  const Status status = SubmitFilling();
  const Status waited = WaitInFlight();
  return status.ok() ? waited : status;
}

void LogApplier::RequestDone(platform::BlockDevice::Request* request,
                             Status status) {
  Stage* stage = static_cast<Stage*>(request->context);
  LogApplier* owner = stage->owner;
  stage->status = status;
  __atomic_store_n(&stage->state, kDone, __ATOMIC_RELEASE);
  owner->done_queue_.WakeAll();
  __atomic_store_n(&stage->state, kReleased, __ATOMIC_RELEASE);
}

Status LogApplier::SubmitFilling() {
  Stage& stage = stages_[filling_];
  if (stage.size == 0) return Status::Ok();
  Status status = Status::Ok();
  while (status.ok() && OverlapsInFlight(stage)) status = ReapOldest();
  if (!status.ok()) {
    stage.size = 0;  // its records come again after the failed ones
    return status;
  }
  stage.vec.data = stage.data;
  stage.vec.size = stage.size;
  stage.request = platform::BlockDevice::Request();
  stage.request.op = platform::BlockDevice::Op::kWrite;
  stage.request.offset = stage.device_offset;
  stage.request.size = stage.size;
  stage.request.vecs = &stage.vec;
  stage.request.vec_count = 1;
  stage.request.done = RequestDone;
  stage.request.context = &stage;
  __atomic_store_n(&stage.state, kPending, __ATOMIC_RELEASE);
  ++in_flight_;
  filling_ = (filling_ + 1) % kStages;
  data_->Submit(&stage.request);
  // The stage filled next is the oldest in flight when the ring is full.
  if (in_flight_ == kStages) status = ReapOldest();
  stages_[filling_].size = 0;
  return status;
}

bool LogApplier::OverlapsInFlight(const Stage& stage) {
  for (size_t i = 1; i <= in_flight_; ++i) {
    const Stage& other = stages_[(filling_ + kStages - i) % kStages];
    if (other.device_offset < stage.device_offset + stage.size &&
        stage.device_offset < other.device_offset + other.size) {
      return true;
    }
  }
  return false;
}

void LogApplier::WaitReleased(Stage* stage) {
  // A wait for a stage that was never submitted would never end.
  if (!MARS_CHECK(StageState(&stage->state) != kIdle)) return;
  if (!IsDone(&stage->state)) {
    platform::PendingWatch watch(resource_, "log replay: data device write",
                                 stage->device_offset, stage->size);
    while (!IsDone(&stage->state)) {
      done_queue_.WaitUntil(IsDone, &stage->state, kWaitRoundNs);
      watch.Check();
    }
  }
  while (!IsReleased(&stage->state)) {
    done_queue_.WaitUntil(IsReleased, &stage->state, kReleasePollNs);
  }
}

Status LogApplier::ReapOldest() {
  Stage& stage = Oldest();
  WaitReleased(&stage);
  --in_flight_;
  if (stage.status.ok()) return Status::Ok();
  failed_offset_ = stage.first_offset;
  failed_record_number_ = stage.first_record_number;
  // The later requests own their stages until they completed; whatever
  // they wrote is written again from the failed record on.
  while (in_flight_ > 0) {
    WaitReleased(&Oldest());
    --in_flight_;
  }
  return stage.status;
}

Status LogApplier::WaitInFlight() {
  while (in_flight_ > 0) {
    const Status status = ReapOldest();
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace engine
}  // namespace mars
