// LogWriter: record encoding into a ring of chunks (docu/log-format.md,
// "Writing").
#include "core/log/log_writer.h"

#include "core/base/coding.h"
#include "core/base/crc32c.h"

namespace mars {
namespace log {
namespace {

constexpr uint64_t kMinChunkBytes = 4096;
constexpr uint64_t kMaxChunkBytes = uint64_t{64} << 20;
constexpr size_t kMaxChunkCount = 65536;
// Zero bytes to checksum: record padding and padding records' payloads.
constexpr uint8_t kZeroes[512] = {};

bool IsPowerOfTwo(uint64_t value) {
  return value != 0 && (value & (value - 1)) == 0;
}

// The largest padding record Append() may put before a record.
uint64_t MaxPadding(uint32_t payload_alignment) {
  return payload_alignment == 0 ? 0 : payload_alignment + kWrittenHeaderBytes;
}

}  // namespace

LogWriter::~LogWriter() {
  if (chunks_ == nullptr) return;
  for (size_t i = 0; i < chunk_count_; ++i) platform::Free(chunks_[i]);
  platform::Free(chunks_);
}

Status LogWriter::Init(const LogWriterOptions& options) {
  if (chunks_ != nullptr) {
    return Status(StatusCode::kInvalidArgument, "log writer initialised twice");
  }
  if (options.salt == 0) {
    return Status(StatusCode::kInvalidArgument, "log salt must not be zero");
  }
  const Status start =
      CheckLogStart(options.start_offset, options.next_record_number);
  if (!start.ok()) return start;
  const uint64_t chunk_bytes = options.chunk_bytes;
  if (!IsPowerOfTwo(chunk_bytes) || chunk_bytes < kMinChunkBytes ||
      chunk_bytes > kMaxChunkBytes || options.chunk_count < 2 ||
      options.chunk_count > kMaxChunkCount ||
      (options.chunk_count - 1) * chunk_bytes <
          kMaxRecordBytes + MaxPadding(options.payload_alignment)) {
    return Status(StatusCode::kInvalidArgument,
                  "log chunk ring too small or not a power of two");
  }
  if (options.payload_alignment != 0 &&
      (!IsPowerOfTwo(options.payload_alignment) ||
       options.payload_alignment < kMinPayloadAlignment ||
       options.payload_alignment > kMaxPayloadAlignment)) {
    return Status(StatusCode::kInvalidArgument,
                  "log payload alignment not a power of two in [512, 64 KiB]");
  }

  uint8_t** chunks = static_cast<uint8_t**>(
      platform::Allocate(options.chunk_count * sizeof(uint8_t*), options.gfp));
  if (chunks == nullptr) {
    return Status(StatusCode::kNoMemory, "no memory for log chunk table");
  }
  for (size_t i = 0; i < options.chunk_count; ++i) {
    chunks[i] = static_cast<uint8_t*>(
        platform::Allocate(static_cast<size_t>(chunk_bytes), options.gfp));
    if (chunks[i] == nullptr) {
      for (size_t j = 0; j < i; ++j) platform::Free(chunks[j]);
      platform::Free(chunks);
      return Status(StatusCode::kNoMemory, "no memory for log chunks");
    }
  }

  chunks_ = chunks;
  chunk_count_ = options.chunk_count;
  chunk_bytes_ = chunk_bytes;
  chunk_mask_ = chunk_bytes - 1;
  chunk_shift_ = static_cast<unsigned>(__builtin_ctzll(chunk_bytes));
  salt_ = options.salt;
  logfile_number_ = options.logfile_number;
  next_record_number_ = options.next_record_number;
  appended_ = taken_ = released_ = options.start_offset;
  taken_record_end_ = options.start_offset;
  durable_end_ = 0;
  payload_alignment_ = options.payload_alignment;
  aligned_payload_min_ = options.aligned_payload_min;
  return Status::Ok();
}

uint64_t LogWriter::FreeBytes() const {
  // The chunk holding ReleasedEnd() is reused only after the ring wraps.
  const uint64_t ring_start = released_ & ~chunk_mask_;
  const uint64_t capacity = chunk_count_ * chunk_bytes_;
  if (ring_start > UINT64_MAX - capacity) return UINT64_MAX - appended_;
  return ring_start + capacity - appended_;
}

uint8_t* LogWriter::ChunkAt(uint64_t offset) const {
  return chunks_[(offset >> chunk_shift_) % chunk_count_] +
         (offset & chunk_mask_);
}

void LogWriter::CopyIn(uint64_t offset, const uint8_t* src, size_t size) {
  while (size > 0) {
    const uint64_t room = chunk_bytes_ - (offset & chunk_mask_);
    const size_t n = room < size ? static_cast<size_t>(room) : size;
    __builtin_memcpy(ChunkAt(offset), src, n);
    offset += n;
    src += n;
    size -= n;
  }
}

uint32_t LogWriter::CopyInWithCrc(uint64_t offset, const uint8_t* src,
                                  size_t size, uint32_t crc) {
  while (size > 0) {
    const uint64_t room = chunk_bytes_ - (offset & chunk_mask_);
    const size_t n = room < size ? static_cast<size_t>(room) : size;
    crc = platform::Crc32cCopy(crc, ChunkAt(offset), src, n);
    offset += n;
    src += n;
    size -= n;
  }
  return crc;
}

void LogWriter::ZeroIn(uint64_t offset, size_t size) {
  while (size > 0) {
    const uint64_t room = chunk_bytes_ - (offset & chunk_mask_);
    const size_t n = room < size ? static_cast<size_t>(room) : size;
    __builtin_memset(ChunkAt(offset), 0, n);
    offset += n;
    size -= n;
  }
}

uint32_t LogWriter::ZeroInWithCrc(uint64_t offset, size_t size, uint32_t crc) {
  ZeroIn(offset, size);
  while (size > 0) {
    const size_t n = size < sizeof(kZeroes) ? size : sizeof(kZeroes);
    crc = crc32c::Extend(crc, kZeroes, n);
    size -= n;
  }
  return crc;
}

uint64_t LogWriter::PaddingBefore(uint64_t offset, uint64_t payload_len) const {
  if (payload_alignment_ == 0 || payload_len < aligned_payload_min_) return 0;
  const uint64_t mask = payload_alignment_ - 1;
  uint64_t padding = (0 - (offset + kWrittenHeaderBytes)) & mask;
  // A padding record is at least a header.
  if (padding != 0 && padding < kWrittenHeaderBytes) {
    padding += payload_alignment_;
  }
  return padding;
}

Status LogWriter::Append(const RecordFields& fields, const Slice* pieces,
                         size_t piece_count, RecordPosition* position) {
  if (!MARS_CHECK(chunks_ != nullptr)) {
    return Status(StatusCode::kInternal, "log writer not initialised");
  }
  uint64_t payload_len = 0;
  for (size_t i = 0; i < piece_count; ++i) {
    payload_len += pieces[i].size();
    if (payload_len > kMaxPayloadBytes) {
      return Status(StatusCode::kInvalidArgument, "log payload too large");
    }
  }
  if ((fields.flags & kKindMask) == 0) {
    return Status(StatusCode::kInvalidArgument, "log record kind 0");
  }
  if (fields.device_offset > UINT64_MAX - payload_len) {
    return Status(StatusCode::kInvalidArgument,
                  "log record ends beyond 2^64 bytes");
  }
  const uint64_t padding = PaddingBefore(appended_, payload_len);
  const uint64_t bytes =
      padding +
      RecordBytes(kWrittenHeaderBytes, static_cast<uint32_t>(payload_len));
  const uint64_t numbers = padding != 0 ? 2 : 1;
  if (next_record_number_ > UINT64_MAX - numbers ||
      appended_ > UINT64_MAX - bytes) {
    return Status(StatusCode::kOutOfRange, "logfile numbering exhausted");
  }
  if (bytes > FreeBytes()) {
    return Status(StatusCode::kUnavailable, "log chunk ring full");
  }
  position->padding = padding;
  const uint64_t padding_begin = appended_;
  if (padding != 0) {
    RecordFields pad;
    pad.flags = kKindPadding | kFlagIgnorable;
    pad.stamp_ns = fields.stamp_ns;
    PutRecord(pad, nullptr, 0, padding - kWrittenHeaderBytes);
  }
  position->begin = appended_;
  position->record_number = next_record_number_;
  const uint32_t payload_crc =
      PutRecord(fields, pieces, piece_count, payload_len);
  position->end = appended_;
  last_.open = fields.flags == kKindWrite;
  last_.fields = fields;
  last_.padding_begin = padding_begin;
  last_.begin = position->begin;
  last_.record_number = position->record_number;
  last_.payload_len = payload_len;
  last_.payload_crc = payload_crc;
  return Status::Ok();
}

bool LogWriter::ExtendLast(const RecordFields& fields, const Slice* pieces,
                           size_t piece_count, RecordPosition* position) {
  LastRecord& last = last_;
  if (!last.open || fields.flags != last.fields.flags ||
      taken_ > last.padding_begin ||
      fields.device_offset != last.fields.device_offset + last.payload_len) {
    return false;
  }
  uint64_t added = 0;
  for (size_t i = 0; i < piece_count; ++i) added += pieces[i].size();
  if (added == 0 || added > kMaxPayloadBytes - last.payload_len) return false;
  const uint64_t payload_len = last.payload_len + added;
  const uint64_t old_padding = last.begin - last.padding_begin;
  const uint64_t padding = PaddingBefore(last.padding_begin, payload_len);
  const uint64_t bytes =
      padding +
      RecordBytes(kWrittenHeaderBytes, static_cast<uint32_t>(payload_len));
  if (last.padding_begin > UINT64_MAX - bytes) return false;
  const uint64_t begin = last.padding_begin + padding;
  const uint64_t end = last.padding_begin + bytes;
  if (end - appended_ > FreeBytes()) return false;
  if (padding != old_padding) {
    // The payload reaches the aligned size: a padding record goes first
    // (padding only grows: an aligned record stays aligned as it grows).
    if (next_record_number_ == UINT64_MAX) return false;
    MoveForward(last.begin + kWrittenHeaderBytes, begin + kWrittenHeaderBytes,
                last.payload_len);
    RecordFields pad;
    pad.flags = kKindPadding | kFlagIgnorable;
    pad.stamp_ns = last.fields.stamp_ns;
    appended_ = last.padding_begin;
    next_record_number_ = last.record_number;
    PutRecord(pad, nullptr, 0, padding - kWrittenHeaderBytes);
    last.record_number = next_record_number_;
  }
  uint64_t at = begin + kWrittenHeaderBytes + last.payload_len;
  for (size_t i = 0; i < piece_count; ++i) {
    last.payload_crc =
        CopyInWithCrc(at, pieces[i].data(), pieces[i].size(), last.payload_crc);
    at += pieces[i].size();
  }
  if (fields.stamp_ns > last.fields.stamp_ns) {
    last.fields.stamp_ns = fields.stamp_ns;
  }
  last.begin = begin;
  last.payload_len = payload_len;
  PutHeader(begin, last.fields, last.record_number, payload_len,
            last.payload_crc);
  appended_ = end;
  next_record_number_ = last.record_number + 1;
  position->record_number = last.record_number;
  position->begin = begin;
  position->end = end;
  position->padding = padding;
  return true;
}

void LogWriter::MoveForward(uint64_t from, uint64_t to, uint64_t size) {
  // From the end backwards, in pieces that stay inside one chunk on both
  // sides; memmove handles an overlap inside a chunk.
  while (size > 0) {
    const uint64_t from_room = ((from + size - 1) & chunk_mask_) + 1;
    const uint64_t to_room = ((to + size - 1) & chunk_mask_) + 1;
    uint64_t n = from_room < to_room ? from_room : to_room;
    if (n > size) n = size;
    size -= n;
    __builtin_memmove(ChunkAt(to + size), ChunkAt(from + size),
                      static_cast<size_t>(n));
  }
}

uint32_t LogWriter::PutRecord(const RecordFields& fields, const Slice* pieces,
                              size_t piece_count, uint64_t payload_len) {
  const uint64_t begin = appended_;
  // One pass over the payload: copy it into the ring and checksum it; the
  // header goes in last, once its CRC is known.
  uint64_t at = begin + kWrittenHeaderBytes;
  uint32_t payload_crc = 0;
  if (pieces == nullptr) {
    payload_crc = ZeroInWithCrc(at, static_cast<size_t>(payload_len), 0);
  }
  for (size_t i = 0; i < piece_count; ++i) {
    payload_crc =
        CopyInWithCrc(at, pieces[i].data(), pieces[i].size(), payload_crc);
    at += pieces[i].size();
  }
  const uint64_t record_number = next_record_number_;
  PutHeader(begin, fields, record_number, payload_len, payload_crc);
  appended_ = begin + RecordBytes(kWrittenHeaderBytes,
                                  static_cast<uint32_t>(payload_len));
  next_record_number_ = record_number + 1;
  return payload_crc;
}

void LogWriter::PutHeader(uint64_t begin, const RecordFields& fields,
                          uint64_t record_number, uint64_t payload_len,
                          uint32_t payload_crc) {
  RecordHeader header;
  header.payload_len = static_cast<uint32_t>(payload_len);
  header.header_len = kWrittenHeaderBytes;
  header.total_len = RecordBytes(kWrittenHeaderBytes, header.payload_len);
  header.salt = salt_;
  header.logfile_number = logfile_number_;
  header.record_number = record_number;
  header.stamp_ns = fields.stamp_ns;
  header.device_offset = fields.device_offset;
  header.flags = fields.flags;
  header.durable_end = durable_end_;

  uint8_t encoded[kWrittenHeaderBytes];
  EncodeHeader(header, encoded);
  const size_t tail =
      header.total_len - kWrittenHeaderBytes - header.payload_len;
  // The CRC covers the header without its CRC field, the payload and the
  // tail padding (docu/log-format.md); the payload's part is combined from
  // its own CRC, so the payload is not read again.
  uint32_t crc = crc32c::Extend(0, encoded, kCrcOffset);
  crc = crc32c::Extend(crc, encoded + kHeaderBytes,
                       kWrittenHeaderBytes - kHeaderBytes);
  crc = crc32c::Combine(crc, payload_crc, payload_len);
  crc = ZeroInWithCrc(begin + kWrittenHeaderBytes + payload_len, tail, crc);
  EncodeFixed32(encoded + kCrcOffset, crc);
  CopyIn(begin, encoded, kWrittenHeaderBytes);
}

bool LogWriter::TakeWrite(TakePolicy policy, LogWrite* write) {
  if (taken_ == appended_) return false;
  const uint64_t chunk_end = (taken_ | chunk_mask_) + 1;
  const bool fills_chunk = appended_ >= chunk_end;
  if (policy == TakePolicy::kFullChunks && !fills_chunk) return false;
  const uint64_t end = fills_chunk ? chunk_end : appended_;
  write->file_offset = taken_;
  write->data = ChunkAt(taken_);
  write->size = static_cast<size_t>(end - taken_);
  taken_ = end;
  if (end == appended_) taken_record_end_ = end;
  return true;
}

void LogWriter::NoteDurable(uint64_t end) {
  // Handed-out ranges may end inside a record (at a chunk end); only a
  // record end is ever written as durable_end.
  if (end >= taken_record_end_ && taken_record_end_ > durable_end_) {
    durable_end_ = taken_record_end_;
  }
}

Status LogWriter::Release(uint64_t end) {
  if (end < released_ || end > taken_) {
    return Status(StatusCode::kInvalidArgument,
                  "log release outside the written range");
  }
  released_ = end;
  return Status::Ok();
}

}  // namespace log
}  // namespace mars
