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
  // Payloads reach the data device through stages: buffers of kRequestBytes
  // (AllocateWriteBuffer(), with room for a record header before and its
  // padding after). The data of consecutive records that write one
  // contiguous range is staged and written with one request of up to
  // kRequestBytes. kStages stages form a ring: one is filled while up to
  // kStages - 1 requests are in flight, so the device writes while the next
  // records are read and verified, and a completion that comes late does
  // not stall replay at once. A request is submitted only after every
  // earlier one whose range overlaps its own completed, so every byte of the
  // device sees its writes in record order (the block layer keeps no order
  // between requests in flight).
  //
  // A write record with a payload of at least kInPlaceMinPayload is read
  // from the file straight into the stage, its payload where the request
  // needs it, and verified there (the header lands on the bytes before it,
  // which are put back afterwards): its bytes are copied once, by the file
  // read, instead of twice (into the window, then into the stage). Its
  // header must be in the window already: after such a record the window
  // loads only kLookaheadBytes, room for a padding record and the next
  // record's header. When the file can be read directly
  // (platform::File::DirectReadAlignment()) and the payload is aligned for
  // that in the file (writers align large payloads with padding records,
  // docu/log-format.md "Padding"), and the page cache does not hold it
  // (platform::File::Cached(): a copy fetched a moment ago is read from
  // memory, not from the disk again), the payload is read with direct I/O:
  // the disk puts it into the stage, and only the CRC touches its bytes.
  //
  // A payload read directly brings the next kDirectLookahead bytes of the
  // file along (when the file has them): the next record's header, after
  // its padding record. When that record is large and aligned too, its
  // payload is read ahead with platform::DirectRead into the place Apply()
  // and MakeRoom() will give it, while the current record is verified; the
  // disk reads while the CPU checksums. No read outlives the call that
  // started it: TryReadInPlace() waits for it before it returns, and what
  // it read is used only while nothing else wrote to that stage memory
  // (ahead_).
  // Memory: kWindowBytes + kStages * kStageMemoryBytes.
  static constexpr size_t kRequestBytes = 1 << 20;
  static constexpr size_t kStages = 3;
  static constexpr size_t kStageHeadroom = 4096;  // >= log::kMaxHeaderBytes
  static constexpr size_t kStageMemoryBytes =
      kStageHeadroom + kRequestBytes + 4096;  // padding: < log::kAlignment
  static constexpr size_t kInPlaceMinPayload = 32 * 1024;
  // What the logger of this module writes (engine/resource_logger.cc): the
  // payloads of records of at least kInPlaceMinPayload bytes start at a
  // multiple of kPayloadAlignment in the file. 512 bytes, the logical block
  // size of most disks, at a cost of 512 bytes per such record; a logfile
  // on a disk of 4096-byte logical blocks is read through the page cache.
  static constexpr uint32_t kPayloadAlignment = 512;
  static constexpr size_t kLookaheadBytes = 4096;
  // Read with a direct payload: room for a padding record and the header of
  // the next record whose payload is aligned to kPayloadAlignment.
  static constexpr size_t kDirectLookahead = kPayloadAlignment;
  static_assert(kRequestBytes >= log::kMaxPayloadBytes,
                "a record's payload fits one request");
  static_assert(kStageHeadroom >= log::kMaxHeaderBytes,
                "a record's header fits before its payload");

  LogApplier() = default;
  ~LogApplier();
  LogApplier(const LogApplier&) = delete;
  LogApplier& operator=(const LogApplier&) = delete;

  // Allocates the window and the stages (kNoMemory; Gfp::kKernel).
  // `data` (open, outliving this object) receives the records' data;
  // `device_size` bounds where they may write; `resource` (outliving this
  // object, or null) names the resource in warnings. Call once.
  // Context: may sleep.
  Status Init(platform::BlockDevice* data, uint64_t device_size,
              const char* resource);

  // Forgets the window: the next Next() reads the file again. Call when
  // reading another file, or when the file was cut. Context: any.
  void ResetWindow() {
    window_offset_ = 0;
    window_size_ = 0;
    after_in_place_ = false;
    direct_failed_ = false;
    ahead_.valid = false;
  }

  // The next outcome of `reader` over the bytes [0, *end) of `file`,
  // loading windows as needed. `final` says that *end is the end of the
  // file for good; without it the reader waits for more bytes (kNeedMore
  // once it needs bytes at or beyond *end). A short read (the file ends
  // before *end) lowers *end. A record's payload (read->record.payload)
  // lies in the window or, read in place, in the stage being filled: valid
  // until the next call of Next(), Apply() or WriteStaged(). Reading in
  // place may submit the staged data first; a write error that meets is
  // returned by the next Apply() or WriteStaged(). Errors: the file's read
  // status (the reader is unchanged). Context: may sleep.
  Status Next(platform::File* file, uint64_t* end, bool final,
              log::LogReader* reader, log::ReadResult* read);

  // Writes the payload of a kKindWrite record at its device_offset; other
  // kinds are skipped (Ok, nothing written). The data may stay staged or in
  // flight until a later Apply() or WriteStaged(): call WriteStaged()
  // before flushing the device. Writes of one byte reach the device in
  // record order. kCorruption "record writes outside the data device" for
  // a record that does not fit the device (or is not 512-aligned; nothing
  // staged is lost); the device's write error, for this record or an
  // earlier one (or met by Next()): then nothing is staged or in flight any
  // more and failed_offset()/failed_record_number() name the first record
  // whose data may be missing (records after it may have been written: they
  // are applied again from there). Context: may sleep.
  Status Apply(const log::RecordView& record);
  // Writes what is staged and waits until nothing is in flight. Errors as
  // Apply(). Context: may sleep.
  Status WriteStaged();
  // After a write error: the first record whose data may not be written.
  uint64_t failed_offset() const { return failed_offset_; }
  uint64_t failed_record_number() const { return failed_record_number_; }
  // Records that Next() read into a stage in place, and those of them whose
  // payload it read with direct I/O (tests, diagnostics).
  uint64_t records_read_in_place() const { return records_read_in_place_; }
  uint64_t records_read_direct() const { return records_read_direct_; }
  // Of those, records whose payload was read ahead, while the record before
  // it was verified.
  uint64_t records_read_ahead() const { return records_read_ahead_; }

 private:
  // One request's data: `size` bytes at `data`, for device offset
  // device_offset; they hold the data of the records from first_offset (file
  // offset) and first_record_number on.
  struct Stage {
    uint8_t* memory = nullptr;  // kStageMemoryBytes, AllocateWriteBuffer()
    uint8_t* data = nullptr;    // memory + kStageHeadroom: the request's bytes
    platform::IoVec vec = {};
    platform::BlockDevice::Request request;
    LogApplier* owner = nullptr;
    size_t size = 0;
    uint64_t device_offset = 0;
    uint64_t first_offset = 0;
    uint64_t first_record_number = 0;
    Status status;  // the request's outcome, set by RequestDone
    int state = 0;  // __atomic access only: kIdle (0), kPending, kDone,
                    // kReleased
  };

  // A payload read ahead: the file bytes [payload_at, payload_at + size +
  // extra) lie at `place` in a stage (unverified) when `valid`.
  struct ReadAhead {
    bool valid = false;
    uint64_t payload_at = 0;
    uint8_t* place = nullptr;
    size_t size = 0;
    size_t extra = 0;  // bytes after the payload, all before the file's end
  };

  // Whether the record at `at` with `header` (unverified) is one that
  // TryReadInPlace() reads into a stage: a large write record that fits the
  // device and the bytes [at, end).
  bool InPlaceCandidate(const log::RecordHeader& header, uint64_t at,
                        uint64_t end) const;
  // Decodes the header at file offset `at` when the window holds its fixed
  // part and it starts with the magic number (nothing verified).
  bool PeekHeader(uint64_t at, log::RecordHeader* header) const;
  // Next() for a record that needs bytes beyond the window: when it is a
  // large write record whose header the window holds, reads it into the
  // stage in place and lets `reader` verify it there. *tried: it did (then
  // *read is the reader's outcome); false leaves everything as it was.
  Status TryReadInPlace(platform::File* file, uint64_t* end, bool final,
                        log::LogReader* reader, log::ReadResult* read,
                        bool* tried);
  // Whether a payload of `size` bytes at file offset `payload_at` can be
  // read directly to `place`.
  static bool DirectAligned(const platform::File::DirectAlignment& alignment,
                            uint64_t payload_at, uint64_t size,
                            const uint8_t* place);
  // The bytes to read directly after a payload ending at `payload_end`:
  // kDirectLookahead when the file has them before `end` and the alignment
  // allows, else 0.
  static size_t DirectExtra(const platform::File::DirectAlignment& alignment,
                            uint64_t payload_end, uint64_t end);
  // Whether the record at `at` (unverified `header`, window ending at
  // `window_end`) can have its payload read directly: no padding after
  // the payload, and its whole header in the window to copy before it.
  static bool DirectCandidate(const log::RecordHeader& header, uint64_t at,
                              uint64_t window_end);
  // A payload read directly to `place` (now or ahead): copies the record's
  // header from the window before it and counts it.
  void CompleteDirectRecord(uint64_t at, const log::RecordHeader& header,
                            uint8_t* place);
  // For TryReadInPlace(): reads the payload of the record at file offset
  // `at` with `header` (unverified) to `place` with direct I/O, and up to
  // DirectExtra() bytes after it (*extra: how many), and copies its header
  // from the window before it. False when that is not possible or not
  // worth it (unsupported, unaligned, header not in the window, payload in
  // the page cache, a short read or an error: then the caller reads the
  // record the buffered way, and after an error this file is never read
  // directly again).
  bool ReadPayloadDirect(platform::File* file, uint64_t at,
                         const log::RecordHeader& header, uint64_t window_end,
                         uint64_t end, uint8_t* place, size_t* extra);
  // For TryReadInPlace(): uses the payload read ahead when it is this
  // record's at `place` (as ReadPayloadDirect() would have read it), and
  // forgets it in any case.
  bool TakeReadAhead(uint64_t at, const log::RecordHeader& header,
                     uint64_t window_end, uint8_t* place, size_t* extra);
  // Starts reading ahead the payload of the record after the current one
  // (ending at `record_end`; its stage will hold `filled_after` bytes for
  // the range from device offset `range_start`) when the window holds its
  // header, it is a candidate for a direct read and its payload is not in
  // the page cache. True when a read runs:
  // then FinishReadAhead() must follow before anything else touches the
  // stages or the file.
  bool StartReadAhead(platform::File* file, uint64_t end, uint64_t record_end,
                      uint64_t range_start, size_t filled_after);
  // Waits for the read StartReadAhead() started; ahead_ is valid when it
  // read the whole payload.
  void FinishReadAhead();
  // Waits until no request in flight uses the memory of stage `index` (not
  // the one being filled); the request stays to be reaped.
  void WaitStageMemory(size_t index);
  // Makes the filling stage one that a record writing `size` bytes at
  // `device_offset` continues or starts (submitting it when it cannot).
  Status MakeRoom(uint64_t device_offset, uint64_t size);
  // The request's `done`. Context: any.
  static void RequestDone(platform::BlockDevice::Request* request,
                          Status status);
  // Submits the stage being filled (if it holds data) once every request in
  // flight that overlaps it completed, and makes the next stage of the ring
  // free to be filled. Errors: a request in flight failed (the stage being
  // filled is dropped, nothing is in flight any more).
  Status SubmitFilling();
  // The oldest request in flight. REQUIRES in_flight_ > 0.
  Stage& Oldest() {
    return stages_[(filling_ + kStages - in_flight_) % kStages];
  }
  // Whether a request in flight writes bytes that `stage` writes too.
  bool OverlapsInFlight(const Stage& stage);
  // Waits until `stage`'s request completed and RequestDone let go of it.
  void WaitReleased(Stage* stage);
  // Waits until the oldest request in flight completed; its status. After a
  // failure it waits for the others as well and names the failed request's
  // first record in failed_offset_/failed_record_number_.
  Status ReapOldest();
  // Waits until no request is in flight; the first failure, if any.
  Status WaitInFlight();

  platform::BlockDevice* data_ = nullptr;
  uint64_t device_size_ = 0;
  const char* resource_ = nullptr;
  uint8_t* window_ = nullptr;  // kWindowBytes, Allocate()
  uint64_t window_offset_ = 0;
  size_t window_size_ = 0;
  Stage stages_[kStages];
  size_t filling_ = 0;  // stages_[filling_] is being filled
  // The in_flight_ stages before filling_ in the ring were submitted, in
  // that order, and not yet waited for.
  size_t in_flight_ = 0;
  platform::WaitQueue done_queue_;  // woken by RequestDone
  uint64_t failed_offset_ = 0;
  uint64_t failed_record_number_ = 0;
  // A write error that Next() met while making room for a record read in
  // place; Apply() returns it.
  Status deferred_;
  // The last window was filled in place: the next load is kLookaheadBytes.
  bool after_in_place_ = false;
  uint8_t saved_[log::kMaxHeaderBytes] = {};  // bytes under a header in place
  uint64_t records_read_in_place_ = 0;
  uint64_t records_read_direct_ = 0;
  uint64_t records_read_ahead_ = 0;
  ReadAhead ahead_;
  platform::DirectRead direct_read_;  // running only inside TryReadInPlace()
  // A direct read of the current file failed: it is read buffered only.
  bool direct_failed_ = false;
};

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_LOG_APPLY_H_
