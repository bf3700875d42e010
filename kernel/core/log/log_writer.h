// LogWriter: appends records of the logfile format v1 (docu/log-format.md) to
// a ring of in-memory chunks and hands out the filled byte ranges for the
// caller to write to the logfile at the given offsets. Sans-I/O: the kernel
// logger drives it (kernel_write of each range, fsync, then Release()).
#ifndef MARS_CORE_LOG_LOG_WRITER_H_
#define MARS_CORE_LOG_LOG_WRITER_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/log/log_format.h"
#include "core/platform.h"

namespace mars {
namespace log {

struct LogWriterOptions {
  // Identity of this logfile incarnation, stored in every record. REQUIRES
  // != 0, and different from every earlier incarnation of the same file
  // (random, or derived from something that never repeats).
  uint64_t salt = 0;
  // The N of log-N-HOST (docu/mars-tree.md).
  uint64_t logfile_number = 0;
  // Where the next record goes, and its number. A new logfile starts at
  // (0, 1); a continued one at the end a LogReader reported (a multiple of
  // kAlignment) with next_record_number >= 2.
  uint64_t start_offset = 0;
  uint64_t next_record_number = 1;
  // The ring: chunk_count chunks of chunk_bytes each, allocated by Init().
  // chunk_bytes is a power of two in [4 KiB, 64 MiB]; chunks cover file
  // offsets aligned to chunk_bytes. REQUIRES (chunk_count - 1) * chunk_bytes
  // >= kMaxRecordBytes, so that a record of any size always fits.
  size_t chunk_bytes = size_t{1} << 20;
  size_t chunk_count = 4;
  platform::Gfp gfp = platform::Gfp::kKernel;
  // Aligned payloads (docu/log-format.md, "Padding"): with a
  // payload_alignment (a power of two in [kMinPayloadAlignment,
  // kMaxPayloadAlignment]; 0 = none), the payload of every record of at
  // least aligned_payload_min bytes starts at a multiple of it in the file:
  // Append() puts a padding record before it when needed. Readers can then
  // read such payloads with direct I/O. The ring must also hold the largest
  // padding record: (chunk_count - 1) * chunk_bytes >= kMaxRecordBytes +
  // payload_alignment + kWrittenHeaderBytes.
  uint32_t payload_alignment = 0;
  uint32_t aligned_payload_min = 0;
};

// The fields of one record besides its payload.
struct RecordFields {
  uint32_t flags = kKindWrite;  // kind and modifier bits, see log_format.h
  uint64_t stamp_ns = 0;        // Lamport stamp
  uint64_t device_offset = 0;   // byte offset on the device
};

// Where an appended record lies in the logfile.
struct RecordPosition {
  uint64_t record_number = 0;
  uint64_t begin = 0;  // file offset of the record's first byte
  uint64_t end = 0;    // file offset just past it (padding included)
  // Bytes of the padding record appended just before it (it ends at
  // `begin`), or 0. The logfile grew by end - begin + padding.
  uint64_t padding = 0;
};

// A contiguous byte range to write to the logfile. `data` points into a
// chunk and stays valid until Release() covers `file_offset + size`.
struct LogWrite {
  uint64_t file_offset = 0;
  const uint8_t* data = nullptr;
  size_t size = 0;
  uint64_t end() const { return file_offset + size; }
};

enum class TakePolicy : uint8_t {
  kFullChunks,  // only ranges that complete a chunk (large aligned writes)
  kAll,         // everything appended so far (before a flush or fsync)
};

// Not thread-safe: the caller serialises every call. A range handed out by
// TakeWrite() may be read by another thread (the I/O) while this thread keeps
// appending: Append() never touches bytes that were handed out and not yet
// released.
class LogWriter {
 public:
  LogWriter() = default;
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Validates `options` (kInvalidArgument) and allocates the chunks
  // (kNoMemory). Call once. Context: as options.gfp.
  Status Init(const LogWriterOptions& options);

  // Appends one record whose payload is the concatenation of
  // `pieces[0, piece_count)` (a gather list, e.g. the pages of a bio),
  // after a padding record when its payload is to be aligned, and sets
  // `*position`. Fails without appending anything: kInvalidArgument for
  // a payload above kMaxPayloadBytes, kind 0 or device_offset + payload
  // beyond 2^64; kUnavailable when the ring has no room (write out and
  // Release() first; FreeBytes() says how much fits); kOutOfRange when
  // record numbers or file offsets are exhausted.
  // Context: any, does not allocate or sleep. REQUIRES Init() succeeded.
  Status Append(const RecordFields& fields, const Slice* pieces,
                size_t piece_count, RecordPosition* position);
  Status Append(const RecordFields& fields, Slice payload,
                RecordPosition* position) {
    return Append(fields, &payload, 1, position);
  }

  // Appends `pieces` to the payload of the last record instead of starting
  // a new one (docu/write-path.md, "Contiguous writes share a record"), when
  //  - that record was appended by Append() with the same flags, kind write
  //    and no modifier, and CloseLast() was not called since;
  //  - TakeWrite() handed out none of its bytes (nor of its padding record);
  //  - `fields.device_offset` is where its payload ends on the device;
  //  - the joint payload is at most kMaxPayloadBytes and the ring has room.
  // Then the record is re-encoded in the ring (length, the newer of both
  // stamps, durable end, CRC), `*position` describes the whole record, and
  // true is returned. When the joint payload reaches the aligned size
  // (options.payload_alignment), the payload is moved behind a new padding
  // record so that it starts aligned, and the record's number grows by one.
  // Otherwise returns false and changes nothing: Append() it.
  // Costs: the new bytes once (copy and CRC), the header, and a move of at
  // most aligned_payload_min bytes when the payload becomes aligned. Context:
  // any, does not allocate or sleep.
  bool ExtendLast(const RecordFields& fields, const Slice* pieces,
                  size_t piece_count, RecordPosition* position);
  // The last record takes no more payload. Call before relying on its end
  // as a durability point that a later extension must not move.
  void CloseLast() { last_.open = false; }

  // Hands out the next byte range to write, in file order and never twice;
  // returns false when there is none under `policy`. A range never crosses
  // a chunk boundary. Context: any.
  bool TakeWrite(TakePolicy policy, LogWrite* write);

  // Declares that every range up to file offset `end` has been written and
  // its memory may be reused. REQUIRES ReleasedEnd() <= end <= TakenEnd()
  // (else kInvalidArgument, nothing changes). Durability is the caller's
  // business: it knows which offsets it has fsynced. Context: any.
  Status Release(uint64_t end);

  // Declares the logfile durable up to file offset `end` (the caller synced
  // every range handed out below it). Records appended from now on carry, as
  // their durable_end, the largest record end <= `end` that TakeWrite()
  // handed out (docu/log-format.md, "Durable end"); it never decreases.
  // REQUIRES end <= TakenEnd(). Context: any.
  void NoteDurable(uint64_t end);
  uint64_t DurableEnd() const { return durable_end_; }

  // Offsets: ReleasedEnd() <= TakenEnd() <= AppendedEnd().
  uint64_t AppendedEnd() const { return appended_; }
  uint64_t TakenEnd() const { return taken_; }
  uint64_t ReleasedEnd() const { return released_; }
  // Bytes appended but not yet handed out by TakeWrite().
  uint64_t PendingBytes() const { return appended_ - taken_; }
  // Bytes that Append() may still add before the ring is full.
  uint64_t FreeBytes() const;
  uint64_t next_record_number() const { return next_record_number_; }
  uint64_t salt() const { return salt_; }
  uint64_t logfile_number() const { return logfile_number_; }

 private:
  uint8_t* ChunkAt(uint64_t offset) const;
  // Copies `size` bytes to the ring at file offset `offset`, across chunks.
  void CopyIn(uint64_t offset, const uint8_t* src, size_t size);
  // CopyIn() that also returns the CRC-32C of `src` continued from `crc`.
  uint32_t CopyInWithCrc(uint64_t offset, const uint8_t* src, size_t size,
                         uint32_t crc);
  void ZeroIn(uint64_t offset, size_t size);
  // ZeroIn() that also returns the CRC-32C of the zeros continued from `crc`.
  uint32_t ZeroInWithCrc(uint64_t offset, size_t size, uint32_t crc);
  // Bytes of the padding record to put at `offset` before a record with
  // `payload_len` bytes of payload: 0 or at least kWrittenHeaderBytes.
  uint64_t PaddingBefore(uint64_t offset, uint64_t payload_len) const;
  // Encodes one record at AppendedEnd() with the next record number; its
  // payload is `pieces`, or `payload_len` zero bytes when pieces is null.
  // Returns the CRC-32C of the payload alone.
  // REQUIRES the checks of Append() passed for it.
  uint32_t PutRecord(const RecordFields& fields, const Slice* pieces,
                     size_t piece_count, uint64_t payload_len);
  // Writes the header of a record at `begin` whose payload (CRC-32C
  // `payload_crc`) is already in the ring, and zeroes its tail padding.
  void PutHeader(uint64_t begin, const RecordFields& fields,
                 uint64_t record_number, uint64_t payload_len,
                 uint32_t payload_crc);
  // Moves ring bytes [from, from + size) to [to, to + size), to >= from.
  void MoveForward(uint64_t from, uint64_t to, uint64_t size);

  // The last record appended, for ExtendLast().
  struct LastRecord {
    bool open = false;
    RecordFields fields;
    uint64_t padding_begin = 0;  // its padding record's begin, else `begin`
    uint64_t begin = 0;
    uint64_t record_number = 0;
    uint64_t payload_len = 0;
    uint32_t payload_crc = 0;  // of the payload alone
  };

  uint64_t salt_ = 0;
  uint64_t logfile_number_ = 0;
  uint64_t next_record_number_ = 0;
  uint64_t appended_ = 0;          // end of the last appended record
  uint64_t taken_ = 0;             // end of the last range handed out
  uint64_t released_ = 0;          // end of the released prefix
  uint64_t taken_record_end_ = 0;  // last record end handed out
  uint64_t durable_end_ = 0;       // written into every new record
  uint8_t** chunks_ = nullptr;
  size_t chunk_count_ = 0;
  uint64_t chunk_bytes_ = 0;
  uint64_t chunk_mask_ = 0;  // chunk_bytes_ - 1
  unsigned chunk_shift_ = 0;
  uint32_t payload_alignment_ = 0;
  uint32_t aligned_payload_min_ = 0;
  LastRecord last_;
};

}  // namespace log
}  // namespace mars

#endif  // MARS_CORE_LOG_LOG_WRITER_H_
