// The transaction logfile record format, version 1 (docu/log-format.md): the
// constants, the header as a value, its explicit little-endian codec, the
// record checksum and the structural check of one record. Shared by LogWriter
// and LogReader. Never renumber or reuse any value defined here; the rules for
// extending the format are in docu/log-format.md ("Versioning").
#ifndef MARS_CORE_LOG_LOG_FORMAT_H_
#define MARS_CORE_LOG_LOG_FORMAT_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/status.h"

namespace mars {
namespace log {

// The first four bytes of every record: "MLOG" (0x474F4C4D as u32 LE).
constexpr uint32_t kMagic = 0x474F4C4Du;
// The format version of this code. Any other value is never accepted.
constexpr uint16_t kVersion = 1;
// The fixed header of version 1. A record's header_len may be larger (a
// compatible extension, see docu/log-format.md), never smaller.
constexpr uint32_t kHeaderBytes = 64;
// The header this code writes: the fixed header and the durable_end
// extension (revision 1.1).
constexpr uint32_t kDurableEndHeaderBytes = 72;
constexpr uint32_t kWrittenHeaderBytes = kDurableEndHeaderBytes;
constexpr uint32_t kMaxHeaderBytes = 1024;
// Every record starts and ends at a multiple of kAlignment in the file.
constexpr uint32_t kAlignment = 8;
// Payload limit (a 0-byte payload is allowed).
constexpr uint32_t kMaxPayloadBytes = 1u << 20;
// Largest total_len any valid record can have.
constexpr uint32_t kMaxRecordBytes = kMaxHeaderBytes + kMaxPayloadBytes;

// Byte offsets of the header fields (all little-endian).
constexpr size_t kMagicOffset = 0;          // u32
constexpr size_t kVersionOffset = 4;        // u16
constexpr size_t kHeaderLenOffset = 6;      // u16
constexpr size_t kTotalLenOffset = 8;       // u32
constexpr size_t kPayloadLenOffset = 12;    // u32
constexpr size_t kSaltOffset = 16;          // u64
constexpr size_t kLogfileNumberOffset = 24; // u64
constexpr size_t kRecordNumberOffset = 32;  // u64
constexpr size_t kStampOffset = 40;         // u64
constexpr size_t kDeviceOffsetOffset = 48;  // u64
constexpr size_t kFlagsOffset = 56;         // u32
constexpr size_t kCrcOffset = 60;           // u32
// Extension fields, present when header_len reaches past them.
constexpr size_t kDurableEndOffset = 64;    // u64, header_len >= 72

// The flags field: bits 0-7 the record kind, bits 8-30 modifiers (none is
// defined in version 1), bit 31 "safe to ignore" for a reader that does not
// understand the kind or a modifier.
constexpr uint32_t kKindMask = 0x000000FFu;
constexpr uint32_t kModifierMask = 0x7FFFFF00u;
constexpr uint32_t kFlagIgnorable = 0x80000000u;
// Modifier bits this code understands.
constexpr uint32_t kKnownModifiers = 0;

// Record kinds (the low byte of flags). 0 is never assigned.
constexpr uint8_t kKindWrite = 1;  // payload = new data at device_offset
// Reserved for planned kinds, not defined in version 1: 2 flush marker,
// 3 pre-image (old data at device_offset).
// Padding (revision 1.2): zero payload that makes the next record's payload
// start at an aligned file offset. Written with kFlagIgnorable; readers skip
// it (it consumes its record number).
constexpr uint8_t kKindPadding = 4;
// Payload alignments a writer may choose (LogWriterOptions).
constexpr uint32_t kMinPayloadAlignment = 512;
constexpr uint32_t kMaxPayloadAlignment = 65536;

// A header as values. Encoded only by EncodeHeader(), decoded only by
// DecodeHeader(); never copied to or from disk as a struct.
struct RecordHeader {
  uint16_t version = kVersion;
  uint16_t header_len = kHeaderBytes;
  uint32_t total_len = 0;      // bytes from record start to the next record
  uint32_t payload_len = 0;
  uint64_t salt = 0;           // identity of the logfile incarnation
  uint64_t logfile_number = 0; // N of log-N-HOST
  uint64_t record_number = 0;  // 1-based, +1 per record
  uint64_t stamp_ns = 0;       // Lamport stamp of the write
  uint64_t device_offset = 0;  // byte offset on the device
  uint32_t flags = 0;
  uint32_t crc = 0;
  // Extension (header_len >= 72): a record boundary up to which the writer
  // knew this logfile to be durable when it appended the record; 0 when
  // nothing was known. Always <= the record's own offset.
  uint64_t durable_end = 0;

  uint8_t kind() const { return static_cast<uint8_t>(flags & kKindMask); }
  bool ignorable() const { return (flags & kFlagIgnorable) != 0; }
  bool has_durable_end() const { return header_len >= kDurableEndHeaderBytes; }
};

// Bytes a record with these lengths occupies: header + payload, rounded up to
// kAlignment. REQUIRES header_len + payload_len <= kMaxRecordBytes.
constexpr uint32_t RecordBytes(uint32_t header_len, uint32_t payload_len) {
  return (header_len + payload_len + (kAlignment - 1)) & ~(kAlignment - 1);
}

// Writes the fixed header of `header` (magic included, crc as given) to
// `out` and, when header.has_durable_end(), the durable_end extension:
// min(header_len, kDurableEndHeaderBytes) bytes, at least kHeaderBytes.
// Bytes of a longer extension are the caller's. Context: any.
void EncodeHeader(const RecordHeader& header, uint8_t* out);

// Reads every field of the fixed header at `in` without validating
// anything, and the durable_end extension when header_len announces it and
// `available` covers it (else durable_end = 0). REQUIRES available >=
// kHeaderBytes. Context: any.
void DecodeHeader(const uint8_t* in, size_t available, RecordHeader* header);

// The record checksum: CRC-32C over the record's total_len bytes except the
// CRC field itself, i.e. bytes [0, 60) followed by [64, total_len) (header
// extension, payload and padding). REQUIRES total_len >= kHeaderBytes and
// `record[0, total_len)` readable. Context: any, does not allocate.
uint32_t RecordCrc(const uint8_t* record, uint32_t total_len);

// Why the bytes at a position are not the next record of the log. Values are
// stable (reported by tools); append only.
enum class Defect : uint8_t {
  kNone = 0,
  kTruncated = 1,          // the file ends inside the record
  kZeroes = 2,             // zero bytes where a magic was expected
  kBadMagic = 3,           // other bytes where a magic was expected
  kBadVersion = 4,         // magic fine, version is not kVersion
  kBadHeaderLength = 5,    // header_len < 64, > kMaxHeaderBytes or unaligned
  kBadLength = 6,          // payload_len > max or total_len inconsistent
  kBadChecksum = 7,        // lengths plausible, CRC-32C mismatch
  kWrongRecordNumber = 8,  // valid record of this log, unexpected number
  kForeignRecord = 9,      // valid record of another salt or logfile number
  kUnknownKind = 10,       // valid record that must be understood, is not
};

// A short stable name such as "bad-checksum". Context: any.
const char* DefectName(Defect defect);

// Result of checking the bytes at a record start.
enum class ParseState : uint8_t {
  kComplete,    // a whole record, structurally valid, CRC verified
  kIncomplete,  // consistent so far; more bytes are needed to decide
  kInvalid,     // not a valid record whatever follows; see the Defect
};

// Checks the record that would start at `bytes[0]` with `available` bytes
// readable, in this order: magic (as far as available), version,
// header_len, payload_len and total_len (each only once its bytes are
// available), completeness, CRC. Never reads past `available` and never
// trusts a length before bounds-checking it. On kComplete fills `header`;
// on kInvalid sets `defect`. Monotone: a prefix of bytes that gives kInvalid
// with some defect gives the same for every extension of it, and kComplete
// is only given for exactly the whole record's bytes or more.
// Context: any, does not allocate.
ParseState ParseRecord(const uint8_t* bytes, size_t available,
                       RecordHeader* header, Defect* defect);

// Checks where a reader or writer starts in a log: `start_offset` must be a
// multiple of kAlignment, and record number 1 (never 0) belongs exactly at
// offset 0. kInvalidArgument names the first rule broken. Context: any.
Status CheckLogStart(uint64_t start_offset, uint64_t next_record_number);

// True for a padding record (kKindPadding, no modifier bit): readers skip
// it. Context: any.
inline bool IsPadding(uint32_t flags) {
  return (flags & kKindMask) == kKindPadding && (flags & kModifierMask) == 0;
}

// True when this code understands a record with these flags (known kind and
// no unknown modifier bit). Context: any.
inline bool IsUnderstood(uint32_t flags) {
  return (flags & kKindMask) == kKindWrite &&
         (flags & kModifierMask & ~kKnownModifiers) == 0;
}

}  // namespace log
}  // namespace mars

#endif  // MARS_CORE_LOG_LOG_FORMAT_H_
