// The record header codec, checksum and structural check of the logfile
// format v1 (docu/log-format.md).
#include "core/log/log_format.h"

#include "core/base/coding.h"
#include "core/base/crc32c.h"

namespace mars {
namespace log {
namespace {

bool AllZero(const uint8_t* bytes, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

ParseState Invalid(Defect reason, Defect* defect) {
  *defect = reason;
  return ParseState::kInvalid;
}

}  // namespace

void EncodeHeader(const RecordHeader& header, uint8_t* out) {
  EncodeFixed32(out + kMagicOffset, kMagic);
  EncodeFixed16(out + kVersionOffset, header.version);
  EncodeFixed16(out + kHeaderLenOffset, header.header_len);
  EncodeFixed32(out + kTotalLenOffset, header.total_len);
  EncodeFixed32(out + kPayloadLenOffset, header.payload_len);
  EncodeFixed64(out + kSaltOffset, header.salt);
  EncodeFixed64(out + kLogfileNumberOffset, header.logfile_number);
  EncodeFixed64(out + kRecordNumberOffset, header.record_number);
  EncodeFixed64(out + kStampOffset, header.stamp_ns);
  EncodeFixed64(out + kDeviceOffsetOffset, header.device_offset);
  EncodeFixed32(out + kFlagsOffset, header.flags);
  EncodeFixed32(out + kCrcOffset, header.crc);
  if (header.has_durable_end()) {
    EncodeFixed64(out + kDurableEndOffset, header.durable_end);
  }
}

void DecodeHeader(const uint8_t* in, size_t available, RecordHeader* header) {
  header->version = DecodeFixed16(in + kVersionOffset);
  header->header_len = DecodeFixed16(in + kHeaderLenOffset);
  header->total_len = DecodeFixed32(in + kTotalLenOffset);
  header->payload_len = DecodeFixed32(in + kPayloadLenOffset);
  header->salt = DecodeFixed64(in + kSaltOffset);
  header->logfile_number = DecodeFixed64(in + kLogfileNumberOffset);
  header->record_number = DecodeFixed64(in + kRecordNumberOffset);
  header->stamp_ns = DecodeFixed64(in + kStampOffset);
  header->device_offset = DecodeFixed64(in + kDeviceOffsetOffset);
  header->flags = DecodeFixed32(in + kFlagsOffset);
  header->crc = DecodeFixed32(in + kCrcOffset);
  header->durable_end =
      header->has_durable_end() && available >= kDurableEndHeaderBytes
          ? DecodeFixed64(in + kDurableEndOffset)
          : 0;
}

uint32_t RecordCrc(const uint8_t* record, uint32_t total_len) {
  const uint32_t crc = crc32c::Extend(0, record, kCrcOffset);
  return crc32c::Extend(crc, record + kHeaderBytes, total_len - kHeaderBytes);
}

Status CheckLogStart(uint64_t start_offset, uint64_t next_record_number) {
  if (start_offset % kAlignment != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "log start offset is not a multiple of 8");
  }
  if (next_record_number == 0 ||
      (start_offset == 0) != (next_record_number == 1)) {
    return Status(StatusCode::kInvalidArgument,
                  "log record number 1 belongs exactly at offset 0");
  }
  return Status::Ok();
}

const char* DefectName(Defect defect) {
  switch (defect) {
    case Defect::kNone:
      return "none";
    case Defect::kTruncated:
      return "truncated";
    case Defect::kZeroes:
      return "zeroes";
    case Defect::kBadMagic:
      return "bad-magic";
    case Defect::kBadVersion:
      return "bad-version";
    case Defect::kBadHeaderLength:
      return "bad-header-length";
    case Defect::kBadLength:
      return "bad-length";
    case Defect::kBadChecksum:
      return "bad-checksum";
    case Defect::kWrongRecordNumber:
      return "wrong-record-number";
    case Defect::kForeignRecord:
      return "foreign-record";
    case Defect::kUnknownKind:
      return "unknown-kind";
  }
  return "unknown-defect";
}

ParseState ParseRecord(const uint8_t* bytes, size_t available,
                       RecordHeader* header, Defect* defect) {
  static constexpr uint8_t kMagicBytes[4] = {
      static_cast<uint8_t>(kMagic), static_cast<uint8_t>(kMagic >> 8),
      static_cast<uint8_t>(kMagic >> 16), static_cast<uint8_t>(kMagic >> 24)};
  // A defect is named only from bytes that decide it, so that more bytes
  // never change the verdict: fewer than 4 zero bytes may still become
  // kZeroes or kBadMagic.
  const size_t magic_seen = available < 4 ? available : 4;
  if (magic_seen > 0 && __builtin_memcmp(bytes, kMagicBytes, magic_seen) != 0) {
    if (!AllZero(bytes, magic_seen)) return Invalid(Defect::kBadMagic, defect);
    if (magic_seen == 4) return Invalid(Defect::kZeroes, defect);
  }
  if (available < kTotalLenOffset) return ParseState::kIncomplete;

  if (DecodeFixed16(bytes + kVersionOffset) != kVersion) {
    return Invalid(Defect::kBadVersion, defect);
  }
  const uint32_t header_len = DecodeFixed16(bytes + kHeaderLenOffset);
  if (header_len < kHeaderBytes || header_len > kMaxHeaderBytes ||
      header_len % kAlignment != 0) {
    return Invalid(Defect::kBadHeaderLength, defect);
  }
  if (available < kSaltOffset) return ParseState::kIncomplete;

  // Both lengths are bounded before any use, so the sums cannot overflow.
  const uint32_t total_len = DecodeFixed32(bytes + kTotalLenOffset);
  const uint32_t payload_len = DecodeFixed32(bytes + kPayloadLenOffset);
  if (payload_len > kMaxPayloadBytes ||
      total_len != RecordBytes(header_len, payload_len)) {
    return Invalid(Defect::kBadLength, defect);
  }
  if (available < total_len) return ParseState::kIncomplete;

  const uint32_t stored_crc = DecodeFixed32(bytes + kCrcOffset);
#if defined(MARS_MUTATION) && MARS_MUTATION == 3
  // Deliberate fault for testing/crash: a record whose checksum fails is
  // read (and replayed) as valid.
  (void)stored_crc;
#else
  if (RecordCrc(bytes, total_len) != stored_crc) {
    return Invalid(Defect::kBadChecksum, defect);
  }
#endif
  DecodeHeader(bytes, total_len, header);
  return ParseState::kComplete;
}

}  // namespace log
}  // namespace mars
