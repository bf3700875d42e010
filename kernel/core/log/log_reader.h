// LogReader: sans-I/O scanner of a logfile in format v1 (docu/log-format.md,
// "Reading"). Fed the bytes of the whole file or of a growing prefix, it
// returns the valid records in order and then exactly one end outcome: clean
// end, torn tail, older incarnation, corruption or unsupported record, each
// with the file offset where the valid log ends.
#ifndef MARS_CORE_LOG_LOG_READER_H_
#define MARS_CORE_LOG_LOG_READER_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/log/log_format.h"

namespace mars {
namespace log {

// "Not known yet": adopt the value of the record at offset 0.
constexpr uint64_t kAdoptSalt = 0;
constexpr uint64_t kAnyLogfileNumber = UINT64_MAX;

struct LogReaderOptions {
  // The incarnation to read. kAdoptSalt takes the salt of the record at
  // offset 0 (REQUIRES start_offset == 0); only safe for a file that can hold
  // no data of an earlier incarnation (see docu/log-format.md, "Salt").
  uint64_t salt = kAdoptSalt;
  // The N of log-N-HOST, or kAnyLogfileNumber to adopt it like the salt.
  uint64_t logfile_number = kAnyLogfileNumber;
  // Resume point: a record boundary an earlier reader reached (offset(),
  // next_record_number()), or (0, 1). REQUIRES a multiple of kAlignment.
  uint64_t start_offset = 0;
  uint64_t next_record_number = 1;
};

// A verified record. `payload` points into the window passed to Next() and is
// valid as long as that memory is.
struct RecordView {
  uint64_t offset = 0;  // file offset of the record's first byte
  uint32_t size = 0;    // total_len: bytes up to the next record
  uint64_t record_number = 0;
  uint64_t stamp_ns = 0;
  uint64_t device_offset = 0;
  uint32_t flags = 0;
  uint64_t salt = 0;
  uint64_t logfile_number = 0;
  uint16_t header_len = 0;  // the payload starts header_len bytes in
  // The writer's durable end (log_format.h), 0 when the record has none.
  uint64_t durable_end = 0;
  Slice payload;

  uint8_t kind() const { return static_cast<uint8_t>(flags & kKindMask); }
  uint64_t end() const { return offset + size; }
};

// Values are stable (reported by tools); append only.
enum class ReadOutcome : uint8_t {
  kRecord = 0,            // `record` is the next record
  kNeedMore = 1,          // not decidable from the bytes so far (final false)
  kCleanEnd = 2,          // the file ends exactly after the last record
  kTornTail = 3,          // an incomplete or damaged tail: normal after a crash
  kOlderIncarnation = 4,  // the log ends; stale records of another salt follow
  kCorruption = 5,        // a damaged record with valid records of this log
                          // behind it, or a record out of sequence
  kUnsupported = 6,       // a valid record this code must understand, does not
};

// A short stable name such as "torn-tail". Context: any.
const char* ReadOutcomeName(ReadOutcome outcome);

struct ReadResult {
  ReadOutcome outcome = ReadOutcome::kNeedMore;
  // kRecord: the record's offset. Otherwise the end of the valid log: the
  // offset of the first byte that is not part of it (kNeedMore: where
  // reading resumes).
  uint64_t offset = 0;
  // End outcomes other than kCleanEnd: what is wrong at `offset`.
  Defect defect = Defect::kNone;
  // kCorruption: offset of the first valid record of this log at or after
  // `offset` (the evidence that the damage is not a tail).
  uint64_t resync_offset = 0;
  RecordView record;  // kRecord only
};

// Not thread-safe. Holds no memory of the file between calls, only offsets.
class LogReader {
 public:
  LogReader() = default;
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Validates `options` (kInvalidArgument). Context: any.
  Status Init(const LogReaderOptions& options);

  // Reads on. `window` holds the file bytes [window_offset, window_offset +
  // window.size()); it must start at or before NeededOffset() and reach at
  // least offset() (else kInvalidArgument, no state change). `final`
  // says the window reaches the end of the file for good; without it the
  // reader returns only kRecord, kNeedMore, kCorruption or kUnsupported,
  // each of which holds whatever bytes are appended later. REQUIRES the file
  // bytes given once never change (a growing file is only appended to).
  // End outcomes are sticky: later calls return the same result.
  // Context: any, does not allocate.
  Status Next(Slice window, uint64_t window_offset, bool final,
              ReadResult* result);

  // The first file offset the next window must contain.
  uint64_t NeededOffset() const { return classifying_ ? scan_ : offset_; }
  // The end of the valid log read so far, and the number of the record that
  // would come next there: the resume point for a new reader or a LogWriter.
  uint64_t offset() const { return offset_; }
  uint64_t next_record_number() const { return next_record_number_; }
  // kAdoptSalt / kAnyLogfileNumber until adopted.
  uint64_t salt() const { return salt_; }
  uint64_t logfile_number() const { return logfile_number_; }
  // Records returned, records skipped as not understood but ignorable, and
  // padding records skipped.
  uint64_t records() const { return records_; }
  uint64_t ignored_records() const { return ignored_records_; }
  uint64_t padding_records() const { return padding_records_; }
  // An end outcome has been reached.
  bool done() const { return done_; }

 private:
  // Whether a verified record at a scanned offset is of this log and at or
  // after the expected number (proof that the stop point is not a tail).
  bool IsLaterRecordOfThisLog(const RecordHeader& header) const;
  // Whether such a record shows the stop point as durable: it carries no
  // durable_end (a writer before revision 1.1: every later record counts),
  // or its durable_end lies beyond the stop point. A record whose writer
  // knew the log durable only up to the stop point or less proves nothing:
  // the stop point may be a never-synced write that a crash tore.
  bool ShowsStopDurable(const RecordHeader& header) const;
  bool IsOfThisLog(const RecordHeader& header) const;
  void StartClassifying(Defect defect, bool foreign_seen);
  void Finish(ReadOutcome outcome, Defect defect, uint64_t resync,
              ReadResult* result);
  void Classify(const uint8_t* window, uint64_t window_offset, uint64_t end,
                bool final, ReadResult* result);

  bool initialized_ = false;
  bool done_ = false;
  ReadResult end_result_;
  uint64_t salt_ = kAdoptSalt;
  uint64_t logfile_number_ = kAnyLogfileNumber;
  uint64_t offset_ = 0;
  uint64_t next_record_number_ = 1;
  uint64_t records_ = 0;
  uint64_t ignored_records_ = 0;
  uint64_t padding_records_ = 0;
  // After a defect at offset_: searching the rest of the file for evidence.
  bool classifying_ = false;
  Defect stop_defect_ = Defect::kNone;
  uint64_t scan_ = 0;          // next candidate offset
  bool foreign_seen_ = false;  // a verified record of another log was seen
};

// Called for each record by ScanLog(); a non-ok Status stops the scan and is
// returned by ScanLog().
using RecordVisitor = Status (*)(void* context, const RecordView& record);

struct ScanSummary {
  ReadResult end;           // the end outcome (or kNeedMore if !final)
  uint64_t records = 0;     // records visited
  uint64_t next_record_number = 0;
  uint64_t salt = 0;
  uint64_t logfile_number = 0;
};

// Reads `file` (the bytes from offset 0) from options.start_offset to the end
// outcome, calling `visit` (may be nullptr) for each record. `final` as for
// LogReader::Next(). Returns the visitor's error or an option error.
// Context: any, does not allocate.
Status ScanLog(Slice file, const LogReaderOptions& options, bool final,
               RecordVisitor visit, void* context, ScanSummary* summary);

}  // namespace log
}  // namespace mars

#endif  // MARS_CORE_LOG_LOG_READER_H_
