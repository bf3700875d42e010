// Fuzz target for the logfile reader (kernel/core/log, docu/log-format.md).
// The input is a logfile. Invariants checked, with the salt adopted and with
// the salt taken from the input's first header:
//   - reading never crashes, never reads out of bounds, always ends;
//   - returned records are in file and number order, verify again with
//     ParseRecord, and re-encode to exactly their input bytes;
//   - feeding a growing prefix in random steps gives the same records and the
//     same end as the whole file, and without `final` only decisions that
//     later bytes cannot change;
//   - a new reader resumed at any returned record boundary agrees;
//   - a LogWriter given the same fields writes the same bytes.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "core/base/coding.h"
#include "core/log/log_format.h"
#include "core/log/log_reader.h"
#include "core/log/log_writer.h"

namespace {

using mars::Slice;
using mars::Status;
namespace mlog = mars::log;

void Require(bool condition, const char* what) {
  if (condition) return;
  fprintf(stderr, "log_reader_fuzz: invariant violated: %s\n", what);
  abort();
}

struct Read {
  std::vector<mlog::RecordView> records;
  mlog::ReadResult end;
};

bool SameEnd(const mlog::ReadResult& a, const mlog::ReadResult& b) {
  return a.outcome == b.outcome && a.offset == b.offset &&
         a.defect == b.defect && a.resync_offset == b.resync_offset;
}

Read ReadWhole(const uint8_t* data, size_t size,
               const mlog::LogReaderOptions& options) {
  Read out;
  mlog::LogReader reader;
  Require(reader.Init(options).ok(), "init");
  for (;;) {
    mlog::ReadResult result;
    Require(reader.Next(Slice(data, size), 0, true, &result).ok(), "next");
    if (result.outcome != mlog::ReadOutcome::kRecord) {
      out.end = result;
      break;
    }
    out.records.push_back(result.record);
  }
  Require(out.end.outcome != mlog::ReadOutcome::kNeedMore, "final need-more");
  Require(out.end.offset <= size, "end beyond the file");
  return out;
}

// Re-encodes `record` (fixed header + payload + zero padding) and compares
// it with the input bytes it came from.
void CheckRecord(const uint8_t* data, size_t size,
                 const mlog::RecordView& record) {
  Require(record.end() <= size, "record beyond the file");
  Require(record.offset % mlog::kAlignment == 0, "unaligned record");
  mlog::RecordHeader header;
  mlog::Defect defect = mlog::Defect::kNone;
  Require(mlog::ParseRecord(data + record.offset, size - record.offset,
                           &header, &defect) == mlog::ParseState::kComplete,
          "returned record does not verify");
  Require(header.total_len == record.size, "size differs");
  Require(mlog::IsUnderstood(record.flags), "returned a record not understood");
  Require(record.payload.data() ==
              data + record.offset + header.header_len,
          "payload not inside the record");

  std::vector<uint8_t> encoded(record.size, 0);
  mlog::RecordHeader again = header;
  again.crc = 0;
  mlog::EncodeHeader(again, encoded.data());
  memcpy(encoded.data() + header.header_len, record.payload.data(),
         record.payload.size());
  // Header extension bytes (header_len > 64) are carried over unchanged.
  memcpy(encoded.data() + mlog::kHeaderBytes, data + record.offset +
         mlog::kHeaderBytes, header.header_len - mlog::kHeaderBytes);
  mars::EncodeFixed32(encoded.data() + mlog::kCrcOffset,
                      mlog::RecordCrc(encoded.data(), record.size));
  Require(memcmp(encoded.data(), data + record.offset, record.size) == 0,
          "decode/encode round trip differs");
}

void CheckWriterAgrees(const uint8_t* data, const Read& read) {
  if (read.records.empty() || read.records.size() > 64) return;
  const mlog::RecordView& first = read.records.front();
  mlog::LogWriterOptions options;
  options.salt = first.salt;
  options.logfile_number = first.logfile_number;
  options.start_offset = first.offset;
  options.next_record_number = first.record_number;
  options.chunk_bytes = 4096;
  options.chunk_count = 1 + (mlog::kMaxRecordBytes + 4095) / 4096;
  mlog::LogWriter writer;
  if (!writer.Init(options).ok()) return;
  for (const mlog::RecordView& record : read.records) {
    // Only a run of headers as this writer produces them: 72 bytes, with
    // the durable end it knows (none: it is never told of a sync here).
    if (record.header_len != mlog::kWrittenHeaderBytes ||
        record.durable_end != writer.DurableEnd() ||
        writer.AppendedEnd() != record.offset) {
      return;
    }
    mlog::RecordFields fields;
    fields.flags = record.flags;
    fields.stamp_ns = record.stamp_ns;
    fields.device_offset = record.device_offset;
    mlog::RecordPosition position;
    Require(writer.Append(fields, record.payload, &position).ok(),
            "writer refused a record the reader accepted");
    Require(position.begin == record.offset && position.end == record.end(),
            "writer position differs");
    mlog::LogWrite write;
    while (writer.TakeWrite(mlog::TakePolicy::kAll, &write)) {
      Require(memcmp(write.data, data + write.file_offset, write.size) == 0,
              "writer bytes differ from the input");
    }
    Require(writer.Release(writer.TakenEnd()).ok(), "release");
  }
}

void CheckGrowing(const uint8_t* data, size_t size,
                  const mlog::LogReaderOptions& options, const Read& whole) {
  mlog::LogReader reader;
  Require(reader.Init(options).ok(), "init");
  std::vector<uint8_t> prefix;
  size_t returned = 0;
  uint32_t step_state = static_cast<uint32_t>(size) * 2654435761u + 1;
  size_t length = 0;
  for (;;) {
    const bool final = length == size;
    prefix.assign(data, data + length);  // exact size: ASan sees overreads
    mlog::ReadResult result;
    for (;;) {
      Require(reader.Next(Slice(prefix.data(), prefix.size()), 0, final,
                          &result)
                  .ok(),
              "growing next");
      if (result.outcome != mlog::ReadOutcome::kRecord) break;
      Require(returned < whole.records.size(), "growing read more records");
      const mlog::RecordView& expected = whole.records[returned++];
      Require(result.record.offset == expected.offset &&
                  result.record.record_number == expected.record_number &&
                  result.record.size == expected.size,
              "growing read another record");
    }
    if (!final) {
      Require(result.outcome == mlog::ReadOutcome::kNeedMore ||
                  result.outcome == mlog::ReadOutcome::kCorruption ||
                  result.outcome == mlog::ReadOutcome::kUnsupported,
              "non-final read ended the log");
    }
    if (result.outcome != mlog::ReadOutcome::kNeedMore) {
      Require(returned == whole.records.size(), "growing read fewer records");
      Require(SameEnd(result, whole.end), "growing read ended differently");
      return;
    }
    Require(!final, "need-more at the final end");
    step_state = step_state * 1103515245u + 12345u;
    const size_t step = 1 + (step_state >> 16) % 97;
    length = step > size - length ? size : length + step;
  }
}

void CheckResume(const uint8_t* data, size_t size, const Read& whole) {
  if (whole.records.empty()) return;
  const size_t from = whole.records.size() / 2;
  const mlog::RecordView& at = whole.records[from];
  mlog::LogReaderOptions options;
  options.salt = at.salt;
  options.logfile_number = at.logfile_number;
  options.start_offset = at.offset;
  options.next_record_number = at.record_number;
  // A window that starts at the resume point.
  const Read resumed =
      ReadWhole(data, size, options);  // same file, reader skips to offset
  Require(resumed.records.size() == whole.records.size() - from,
          "resumed reader read a different number of records");
  Require(SameEnd(resumed.end, whole.end), "resumed reader ended differently");
}

void CheckAll(const uint8_t* data, size_t size,
              const mlog::LogReaderOptions& options) {
  const Read whole = ReadWhole(data, size, options);
  uint64_t offset = 0;
  uint64_t number = 1;
  for (const mlog::RecordView& record : whole.records) {
    // Ignored records (safe to skip) leave gaps in offsets and numbers.
    Require(record.offset >= offset && record.record_number >= number,
            "records out of order");
    CheckRecord(data, size, record);
    offset = record.end();
    number = record.record_number + 1;
  }
  if (whole.end.outcome == mlog::ReadOutcome::kCleanEnd) {
    Require(whole.end.offset == size, "clean end before the file end");
  }
  if (whole.end.outcome == mlog::ReadOutcome::kCorruption) {
    Require(whole.end.resync_offset >= whole.end.offset &&
                whole.end.resync_offset < size,
            "corruption evidence outside the file");
  }
  CheckGrowing(data, size, options, whole);
  CheckResume(data, size, whole);
  CheckWriterAgrees(data, whole);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckAll(data, size, mlog::LogReaderOptions());
  if (size >= mlog::kRecordNumberOffset) {
    mlog::LogReaderOptions options;
    options.salt = mars::DecodeFixed64(data + mlog::kSaltOffset);
    options.logfile_number =
        mars::DecodeFixed64(data + mlog::kLogfileNumberOffset);
    if (options.salt != mlog::kAdoptSalt) CheckAll(data, size, options);
  }
  return 0;
}
