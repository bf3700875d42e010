// LogReader: record verification and the end-of-log decision (clean end, torn
// tail, older incarnation, corruption) of docu/log-format.md, "Reading".
#include "core/log/log_reader.h"

#include "core/base/coding.h"

namespace mars {
namespace log {

const char* ReadOutcomeName(ReadOutcome outcome) {
  switch (outcome) {
    case ReadOutcome::kRecord: return "record";
    case ReadOutcome::kNeedMore: return "need-more";
    case ReadOutcome::kCleanEnd: return "clean-end";
    case ReadOutcome::kTornTail: return "torn-tail";
    case ReadOutcome::kOlderIncarnation: return "older-incarnation";
    case ReadOutcome::kCorruption: return "corruption";
    case ReadOutcome::kUnsupported: return "unsupported";
  }
  return "unknown-outcome";
}

Status LogReader::Init(const LogReaderOptions& options) {
  if (initialized_) {
    return Status(StatusCode::kInvalidArgument, "log reader initialised twice");
  }
  const Status start =
      CheckLogStart(options.start_offset, options.next_record_number);
  if (!start.ok()) return start;
  if (options.salt == kAdoptSalt && options.start_offset != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "log salt can only be adopted at offset 0");
  }
  salt_ = options.salt;
  logfile_number_ = options.logfile_number;
  offset_ = options.start_offset;
  next_record_number_ = options.next_record_number;
  initialized_ = true;
  return Status::Ok();
}

bool LogReader::IsOfThisLog(const RecordHeader& header) const {
  if (salt_ != kAdoptSalt && header.salt != salt_) return false;
  return logfile_number_ == kAnyLogfileNumber ||
         header.logfile_number == logfile_number_;
}

bool LogReader::IsLaterRecordOfThisLog(const RecordHeader& header) const {
  if (!IsOfThisLog(header)) return false;
  // Copies of earlier records (e.g. inside a payload) have lower numbers.
  // With the salt unknown, record 1 can only be at offset 0.
  const uint64_t lowest =
      salt_ != kAdoptSalt ? next_record_number_ : uint64_t{2};
  return header.record_number >= lowest;
}

bool LogReader::ShowsStopDurable(const RecordHeader& header) const {
  return !header.has_durable_end() || header.durable_end > offset_;
}

void LogReader::StartClassifying(Defect defect, bool foreign_seen) {
  classifying_ = true;
  stop_defect_ = defect;
  scan_ = offset_ + kAlignment;
  foreign_seen_ = foreign_seen;
}

void LogReader::Finish(ReadOutcome outcome, Defect defect, uint64_t resync,
                       ReadResult* result) {
  end_result_ = ReadResult();
  end_result_.outcome = outcome;
  end_result_.offset = offset_;
  end_result_.defect = defect;
  end_result_.resync_offset = resync;
  done_ = true;
  classifying_ = false;
  *result = end_result_;
}

// The log cannot go on at offset_. Searches every aligned offset behind it
// for a verified record: one of this log (at or after the expected number)
// that shows offset_ as durable proves corruption; otherwise the log simply
// ends there.
void LogReader::Classify(const uint8_t* window, uint64_t window_offset,
                         uint64_t end, bool final, ReadResult* result) {
  while (scan_ < end) {
    RecordHeader header;
    Defect defect = Defect::kNone;
    const uint8_t* candidate = window + (scan_ - window_offset);
    if (end - scan_ >= kHeaderBytes &&
        DecodeFixed32(candidate + kMagicOffset) == kMagic) {
      // Unverified fields, used only to skip a candidate that cannot change
      // the verdict (a copy of an earlier record, or one more record of
      // another log once one was verified): no CRC, no waiting for bytes.
      const size_t available = static_cast<size_t>(end - scan_);
      DecodeHeader(candidate, available, &header);
      const bool durable_end_known =
          !header.has_durable_end() || available >= kDurableEndHeaderBytes;
      const bool relevant =
          (IsLaterRecordOfThisLog(header) &&
           (!durable_end_known || ShowsStopDurable(header))) ||
          (!IsOfThisLog(header) && !foreign_seen_);
      if (!relevant) {
        scan_ += kAlignment;
        continue;
      }
    }
    const ParseState state = ParseRecord(
        candidate, static_cast<size_t>(end - scan_), &header, &defect);
    if (state == ParseState::kIncomplete && !final) {
      result->outcome = ReadOutcome::kNeedMore;
      result->offset = offset_;
      return;
    }
    if (state == ParseState::kComplete) {
      if (IsLaterRecordOfThisLog(header) && ShowsStopDurable(header)) {
        Finish(ReadOutcome::kCorruption, stop_defect_, scan_, result);
        return;
      }
      if (!IsOfThisLog(header)) foreign_seen_ = true;
    }
    scan_ += kAlignment;
  }
  if (!final) {
    result->outcome = ReadOutcome::kNeedMore;
    result->offset = offset_;
    return;
  }
  Finish(foreign_seen_ ? ReadOutcome::kOlderIncarnation
                       : ReadOutcome::kTornTail,
         stop_defect_, 0, result);
}

Status LogReader::Next(Slice window, uint64_t window_offset, bool final,
                       ReadResult* result) {
  if (!initialized_) {
    return Status(StatusCode::kInvalidArgument, "log reader not initialised");
  }
  if (done_) {
    *result = end_result_;
    return Status::Ok();
  }
  if (window_offset > NeededOffset() ||
      window.size() > UINT64_MAX - window_offset ||
      window_offset + window.size() < offset_) {
    return Status(StatusCode::kInvalidArgument,
                  "log window does not contain the read position");
  }
  const uint64_t end = window_offset + window.size();
  *result = ReadResult();

  for (;;) {
    if (classifying_) {
      Classify(window.data(), window_offset, end, final, result);
      return Status::Ok();
    }
    if (offset_ == end) {
      if (final) {
        Finish(ReadOutcome::kCleanEnd, Defect::kNone, 0, result);
      } else {
        result->outcome = ReadOutcome::kNeedMore;
        result->offset = offset_;
      }
      return Status::Ok();
    }
    const uint8_t* at = window.data() + (offset_ - window_offset);
    RecordHeader header;
    Defect defect = Defect::kNone;
    const ParseState state = ParseRecord(
        at, static_cast<size_t>(end - offset_), &header, &defect);
    if (state == ParseState::kIncomplete) {
      if (!final) {
        result->outcome = ReadOutcome::kNeedMore;
        result->offset = offset_;
        return Status::Ok();
      }
      StartClassifying(Defect::kTruncated, false);
      continue;
    }
    if (state == ParseState::kInvalid) {
      // A record of a newer format version may be valid: it is never taken
      // for the end of the log. (Version 0 is never written: mere damage.)
      if (defect == Defect::kBadVersion &&
          DecodeFixed16(at + kVersionOffset) > kVersion) {
        Finish(ReadOutcome::kCorruption, defect, offset_, result);
        return Status::Ok();
      }
      StartClassifying(defect, false);
      continue;
    }
    if (!IsOfThisLog(header)) {
      StartClassifying(Defect::kForeignRecord, true);
      continue;
    }
    if (header.record_number != next_record_number_) {
      Finish(ReadOutcome::kCorruption, Defect::kWrongRecordNumber, offset_,
             result);
      return Status::Ok();
    }
    if (salt_ == kAdoptSalt) {
      salt_ = header.salt;
      logfile_number_ = header.logfile_number;
    }
    if (IsPadding(header.flags)) {
      offset_ += header.total_len;
      ++next_record_number_;
      ++padding_records_;
      continue;
    }
    if (!IsUnderstood(header.flags)) {
      if (!header.ignorable()) {
        Finish(ReadOutcome::kUnsupported, Defect::kUnknownKind, offset_,
               result);
        return Status::Ok();
      }
      offset_ += header.total_len;
      ++next_record_number_;
      ++ignored_records_;
      continue;
    }

    RecordView& view = result->record;
    view.offset = offset_;
    view.size = header.total_len;
    view.record_number = header.record_number;
    view.stamp_ns = header.stamp_ns;
    view.device_offset = header.device_offset;
    view.flags = header.flags;
    view.salt = header.salt;
    view.logfile_number = header.logfile_number;
    view.header_len = header.header_len;
    view.durable_end = header.durable_end;
    view.payload = Slice(at + header.header_len, header.payload_len);
    result->outcome = ReadOutcome::kRecord;
    result->offset = offset_;
    offset_ += header.total_len;
    ++next_record_number_;
    ++records_;
    return Status::Ok();
  }
}

Status ScanLog(Slice file, const LogReaderOptions& options, bool final,
               RecordVisitor visit, void* context, ScanSummary* summary) {
  *summary = ScanSummary();
  LogReader reader;
  Status status = reader.Init(options);
  while (status.ok()) {
    ReadResult result;
    status = reader.Next(file, 0, final, &result);
    if (!status.ok()) break;
    if (result.outcome != ReadOutcome::kRecord) {
      summary->end = result;
      break;
    }
    ++summary->records;
    if (visit != nullptr) status = visit(context, result.record);
  }
  summary->next_record_number = reader.next_record_number();
  summary->salt = reader.salt();
  summary->logfile_number = reader.logfile_number();
  return status;
}

}  // namespace log
}  // namespace mars
