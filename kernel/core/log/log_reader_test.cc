// Tests of LogReader on intact and sequence-damaged logs: round trips, salt
// and logfile adoption, resuming, windows, record-number gaps, unknown kinds,
// growing prefixes fed byte by byte, and ScanLog.
#include "core/log/log_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/log/log_test_util.h"
#include "core/log/log_writer.h"

namespace mars {
namespace log {
namespace {

using namespace ::mars::log::test;  // NOLINT(build/namespaces)

struct TestRecord {
  uint32_t flags = kKindWrite;
  uint64_t stamp_ns = 0;
  uint64_t device_offset = 0;
  std::vector<uint8_t> payload;
};

std::vector<uint8_t> RandomBytes(size_t size, std::mt19937* rng) {
  std::vector<uint8_t> out(size);
  for (auto& b : out) b = static_cast<uint8_t>((*rng)());
  return out;
}

std::vector<TestRecord> RandomRecords(size_t count, size_t max_payload,
                                      uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<TestRecord> records(count);
  for (size_t i = 0; i < count; ++i) {
    records[i].stamp_ns = 1'000'000 + i * 17;
    records[i].device_offset = (rng() % 100000) * 512;
    records[i].payload = RandomBytes(rng() % (max_payload + 1), &rng);
  }
  return records;
}

// Appends `records` with a LogWriter (continuing at `file.size()` when
// `first_number` > 1) and returns the file; positions optional.
std::vector<uint8_t> WriteLog(const std::vector<TestRecord>& records,
                              uint64_t salt = kSalt,
                              std::vector<RecordPosition>* positions = nullptr,
                              std::vector<uint8_t> file = {},
                              uint64_t first_number = 1) {
  LogWriter writer;
  EXPECT_TRUE(writer.Init(WriterOptions(salt, file, first_number)).ok());
  for (const TestRecord& r : records) {
    RecordFields fields;
    fields.flags = r.flags;
    fields.stamp_ns = r.stamp_ns;
    fields.device_offset = r.device_offset;
    RecordPosition pos;
    EXPECT_TRUE(
        writer.Append(fields, Slice(r.payload.data(), r.payload.size()), &pos)
            .ok());
    if (positions != nullptr) positions->push_back(pos);
    TakeAllWritesSynced(&writer, &file);
    EXPECT_TRUE(writer.Release(writer.TakenEnd()).ok());
  }
  return file;
}

TEST(LogReaderTest, RoundTripOfManyRandomRecords) {
  const std::vector<TestRecord> records = RandomRecords(500, 9000, 1);
  std::vector<RecordPosition> positions;
  const std::vector<uint8_t> file = WriteLog(records, kSalt, &positions);
  const ReadBack back = ReadAll(file);
  ASSERT_EQ(back.records.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordView& r = back.records[i];
    EXPECT_EQ(r.record_number, i + 1);
    EXPECT_EQ(r.offset, positions[i].begin);
    EXPECT_EQ(r.end(), positions[i].end);
    EXPECT_EQ(r.stamp_ns, records[i].stamp_ns);
    EXPECT_EQ(r.device_offset, records[i].device_offset);
    EXPECT_EQ(r.kind(), kKindWrite);
    EXPECT_EQ(back.payloads[i], records[i].payload);
  }
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCleanEnd);
  EXPECT_EQ(back.end.offset, file.size());
  EXPECT_EQ(back.end.defect, Defect::kNone);
}

TEST(LogReaderTest, ZeroBytePayloadsAndMaximalPayloads) {
  std::vector<TestRecord> records(3);
  records[1].payload.assign(kMaxPayloadBytes, 0xAB);
  const std::vector<uint8_t> file = WriteLog(records);
  const ReadBack back = ReadAll(file);
  ASSERT_EQ(back.records.size(), 3u);
  EXPECT_EQ(back.records[0].size, kWrittenHeaderBytes);
  EXPECT_TRUE(back.records[0].payload.empty());
  EXPECT_EQ(back.payloads[1], records[1].payload);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCleanEnd);
}

TEST(LogReaderTest, EmptyFile) {
  const std::vector<uint8_t> empty;
  ReadBack back = ReadAll(empty);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCleanEnd);
  EXPECT_EQ(back.end.offset, 0u);
  back = ReadAll(empty, Expect(), /*final=*/false);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kNeedMore);
}

TEST(LogReaderTest, AdoptsSaltAndLogfileNumberFromTheFirstRecord) {
  const std::vector<uint8_t> file = WriteLog(RandomRecords(5, 100, 2));
  LogReader reader;
  ASSERT_TRUE(reader.Init(LogReaderOptions()).ok());
  EXPECT_EQ(reader.salt(), kAdoptSalt);
  ReadResult result;
  ASSERT_TRUE(reader.Next(Slice(file.data(), file.size()), 0, true, &result)
                  .ok());
  ASSERT_EQ(result.outcome, ReadOutcome::kRecord);
  EXPECT_EQ(reader.salt(), kSalt);
  EXPECT_EQ(reader.logfile_number(), kLogfile);
  const ReadBack back = ReadAll(file, LogReaderOptions());
  EXPECT_EQ(back.records.size(), 5u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCleanEnd);
}

TEST(LogReaderTest, RecordsOfAnotherSaltOrLogfileAreNotThisLog) {
  const std::vector<uint8_t> file = WriteLog(RandomRecords(5, 100, 3));
  ReadBack back = ReadAll(file, Expect(kSalt + 1));
  EXPECT_EQ(back.records.size(), 0u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kOlderIncarnation);
  EXPECT_EQ(back.end.offset, 0u);
  EXPECT_EQ(back.end.defect, Defect::kForeignRecord);
  // A record copied into the wrong logfile is foreign, too.
  LogReaderOptions wrong_file;
  wrong_file.logfile_number = kLogfile + 1;
  back = ReadAll(file, wrong_file);
  EXPECT_EQ(back.records.size(), 0u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kOlderIncarnation);
  EXPECT_EQ(back.end.defect, Defect::kForeignRecord);
}

TEST(LogReaderTest, RejectsBadOptionsAndWindows) {
  LogReader reader;
  ReadResult result;
  EXPECT_EQ(reader.Next(Slice(), 0, true, &result).code(),
            StatusCode::kInvalidArgument);  // not initialised
  LogReaderOptions o;
  o.start_offset = 64;
  o.next_record_number = 2;
  EXPECT_EQ(LogReader().Init(o).code(), StatusCode::kInvalidArgument);  // adopt
  o.salt = kSalt;
  EXPECT_EQ(LogReader().Init(o).code(), StatusCode::kOk);
  o.start_offset = 60;
  EXPECT_EQ(LogReader().Init(o).code(), StatusCode::kInvalidArgument);
  o.start_offset = 0;
  EXPECT_EQ(LogReader().Init(o).code(), StatusCode::kInvalidArgument);
  o.next_record_number = 0;
  EXPECT_EQ(LogReader().Init(o).code(), StatusCode::kInvalidArgument);

  const std::vector<uint8_t> file = WriteLog(RandomRecords(3, 50, 4));
  ASSERT_TRUE(reader.Init(Expect()).ok());
  EXPECT_EQ(reader.Init(Expect()).code(), StatusCode::kInvalidArgument);
  // The window must contain the read position (0).
  EXPECT_EQ(reader.Next(Slice(file.data(), 8), 8, true, &result).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(reader.Next(Slice(file.data(), file.size()), 0, true, &result)
                  .ok());
  ASSERT_EQ(result.outcome, ReadOutcome::kRecord);
  const uint64_t at = reader.offset();
  EXPECT_EQ(reader.Next(Slice(file.data(), at - 8), 0, true, &result).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(reader.Next(Slice(file.data(), 4), UINT64_MAX - 2, true, &result)
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(reader.offset(), at);
}

TEST(LogReaderTest, ResumesFromAPositionWithAWindow) {
  const std::vector<TestRecord> records = RandomRecords(60, 3000, 5);
  std::vector<RecordPosition> positions;
  const std::vector<uint8_t> file = WriteLog(records, kSalt, &positions);
  // A first reader stops after 20 records; a new one resumes there, fed a
  // window that starts exactly at the resume point.
  LogReader first;
  ASSERT_TRUE(first.Init(Expect()).ok());
  ReadResult result;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(first.Next(Slice(file.data(), file.size()), 0, false, &result)
                    .ok());
  }
  LogReaderOptions resume = Expect();
  resume.start_offset = first.offset();
  resume.next_record_number = first.next_record_number();
  EXPECT_EQ(resume.start_offset, positions[19].end);
  LogReader second;
  ASSERT_TRUE(second.Init(resume).ok());
  size_t index = 20;
  for (;;) {
    const uint64_t from = second.NeededOffset();
    ASSERT_TRUE(second
                    .Next(Slice(file.data() + from, file.size() - from), from,
                          true, &result)
                    .ok());
    if (result.outcome != ReadOutcome::kRecord) break;
    ASSERT_LT(index, records.size());
    EXPECT_EQ(result.record.record_number, index + 1);
    EXPECT_EQ(result.record.payload,
              Slice(records[index].payload.data(),
                    records[index].payload.size()));
    ++index;
  }
  EXPECT_EQ(index, records.size());
  EXPECT_EQ(result.outcome, ReadOutcome::kCleanEnd);
  EXPECT_EQ(second.records(), records.size() - 20);
}

TEST(LogReaderTest, RecordNumberGapIsCorruption) {
  std::vector<uint8_t> file = WriteLog(RandomRecords(4, 200, 6));
  const uint64_t gap_at = file.size();
  // Continue with record 6: record 5 is missing.
  file = WriteLog(RandomRecords(3, 200, 7), kSalt, nullptr, file, 6);
  const ReadBack back = ReadAll(file);
  EXPECT_EQ(back.records.size(), 4u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption);
  EXPECT_EQ(back.end.offset, gap_at);
  EXPECT_EQ(back.end.defect, Defect::kWrongRecordNumber);
  EXPECT_EQ(back.end.resync_offset, gap_at);
  ExpectSameRead(back, ReadGrowing(file));
}

TEST(LogReaderTest, RepeatedRecordNumberIsCorruption) {
  std::vector<uint8_t> file = WriteLog(RandomRecords(4, 200, 8));
  const uint64_t at = file.size();
  file = WriteLog(RandomRecords(2, 200, 9), kSalt, nullptr, file, 4);
  const ReadBack back = ReadAll(file);
  EXPECT_EQ(back.records.size(), 4u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption);
  EXPECT_EQ(back.end.offset, at);
  EXPECT_EQ(back.end.defect, Defect::kWrongRecordNumber);
}

TEST(LogReaderTest, UnknownKindStopsUnlessIgnorable) {
  std::vector<TestRecord> records = RandomRecords(6, 100, 10);
  records[2].flags = 7 | kFlagIgnorable;              // unknown, ignorable
  records[3].flags = kKindWrite | 0x100 | kFlagIgnorable;  // unknown modifier
  records[4].flags = 9;                               // unknown, must understand
  std::vector<RecordPosition> positions;
  const std::vector<uint8_t> file = WriteLog(records, kSalt, &positions);
  LogReader reader;
  ASSERT_TRUE(reader.Init(Expect()).ok());
  std::vector<uint64_t> numbers;
  ReadResult result;
  for (;;) {
    ASSERT_TRUE(reader.Next(Slice(file.data(), file.size()), 0, true, &result)
                    .ok());
    if (result.outcome != ReadOutcome::kRecord) break;
    numbers.push_back(result.record.record_number);
  }
  EXPECT_EQ(numbers, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(reader.ignored_records(), 2u);
  EXPECT_EQ(result.outcome, ReadOutcome::kUnsupported);
  EXPECT_EQ(result.defect, Defect::kUnknownKind);
  EXPECT_EQ(result.offset, positions[4].begin);
  EXPECT_EQ(reader.next_record_number(), 5u);
  ExpectSameRead(ReadAll(file), ReadGrowing(file));
}

TEST(LogReaderTest, EndOutcomeIsSticky) {
  const std::vector<uint8_t> file = WriteLog(RandomRecords(2, 10, 11));
  LogReader reader;
  ASSERT_TRUE(reader.Init(Expect()).ok());
  ReadResult result;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(reader.Next(Slice(file.data(), file.size()), 0, true, &result)
                    .ok());
  }
  EXPECT_EQ(result.outcome, ReadOutcome::kCleanEnd);
  EXPECT_TRUE(reader.done());
  const std::vector<uint8_t> longer = WriteLog(RandomRecords(3, 10, 11));
  ASSERT_TRUE(
      reader.Next(Slice(longer.data(), longer.size()), 0, true, &result).ok());
  EXPECT_EQ(result.outcome, ReadOutcome::kCleanEnd);
  EXPECT_EQ(result.offset, file.size());
}

TEST(LogReaderTest, GrowingPrefixByteByByteMatchesWholeFile) {
  const std::vector<TestRecord> records = RandomRecords(12, 300, 12);
  const std::vector<uint8_t> file = WriteLog(records);
  const ReadBack whole = ReadAll(file);
  const ReadBack growing = ReadGrowing(file);
  ExpectSameRead(whole, growing);
  EXPECT_EQ(growing.records.size(), 12u);
  EXPECT_EQ(growing.end.outcome, ReadOutcome::kCleanEnd);
}

TEST(LogReaderTest, NonFinalPrefixNeverEndsTheLog) {
  const std::vector<uint8_t> file = WriteLog(RandomRecords(3, 100, 13));
  std::vector<uint8_t> torn(file.begin(), file.end() - 5);
  ReadBack back = ReadAll(torn, Expect(), /*final=*/false);
  EXPECT_EQ(back.records.size(), 2u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kNeedMore);
  EXPECT_EQ(back.end.offset, back.records[1].end());
  std::vector<uint8_t> padded = file;
  padded.resize(file.size() + 4096, 0);  // zeros behind: maybe not written yet
  back = ReadAll(padded, Expect(), /*final=*/false);
  EXPECT_EQ(back.records.size(), 3u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kNeedMore);
}

struct VisitLog {
  std::vector<uint64_t> numbers;
  size_t stop_after = SIZE_MAX;
};

Status Visit(void* context, const RecordView& record) {
  auto* log = static_cast<VisitLog*>(context);
  log->numbers.push_back(record.record_number);
  if (log->numbers.size() >= log->stop_after) {
    return Status(StatusCode::kIoError, "visitor failed");
  }
  return Status::Ok();
}

TEST(LogReaderTest, ScanLogVisitsEveryRecordAndReportsTheEnd) {
  std::vector<uint8_t> file = WriteLog(RandomRecords(7, 500, 14));
  const uint64_t end = file.size();
  file.resize(end + 30, 0);
  VisitLog log;
  ScanSummary summary;
  ASSERT_TRUE(
      ScanLog(Slice(file.data(), file.size()), Expect(), true, &Visit, &log,
              &summary)
          .ok());
  EXPECT_EQ(log.numbers, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(summary.records, 7u);
  EXPECT_EQ(summary.end.outcome, ReadOutcome::kTornTail);
  EXPECT_EQ(summary.end.defect, Defect::kZeroes);
  EXPECT_EQ(summary.end.offset, end);
  EXPECT_EQ(summary.next_record_number, 8u);
  EXPECT_EQ(summary.salt, kSalt);

  VisitLog stopping;
  stopping.stop_after = 3;
  EXPECT_EQ(ScanLog(Slice(file.data(), file.size()), Expect(), true, &Visit,
                    &stopping, &summary)
                .code(),
            StatusCode::kIoError);
  EXPECT_EQ(stopping.numbers.size(), 3u);
  EXPECT_EQ(summary.records, 3u);

  LogReaderOptions bad = Expect();
  bad.start_offset = 4;
  EXPECT_EQ(ScanLog(Slice(file.data(), file.size()), bad, true, nullptr,
                    nullptr, &summary)
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(LogReaderTest, OutcomeNamesAreStable) {
  EXPECT_STREQ(ReadOutcomeName(ReadOutcome::kRecord), "record");
  EXPECT_STREQ(ReadOutcomeName(ReadOutcome::kNeedMore), "need-more");
  EXPECT_STREQ(ReadOutcomeName(ReadOutcome::kCleanEnd), "clean-end");
  EXPECT_STREQ(ReadOutcomeName(ReadOutcome::kTornTail), "torn-tail");
  EXPECT_STREQ(ReadOutcomeName(ReadOutcome::kOlderIncarnation),
               "older-incarnation");
  EXPECT_STREQ(ReadOutcomeName(ReadOutcome::kCorruption), "corruption");
  EXPECT_STREQ(ReadOutcomeName(ReadOutcome::kUnsupported), "unsupported");
}

}  // namespace
}  // namespace log
}  // namespace mars
