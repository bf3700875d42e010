// Tests of LogWriter: option checks, positions, the chunk ring (full chunks,
// partial takes, release, back-pressure), gather payloads, continuing a log,
// and agreement of writer positions with what LogReader reads back.
#include "core/log/log_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/log/log_reader.h"
#include "core/log/log_test_util.h"

namespace mars {
namespace log {
namespace {

constexpr uint64_t kSalt = 0x5A17'0000'0000'0001ull;

LogWriterOptions SmallRing(size_t chunk_bytes = 4096) {
  LogWriterOptions options;
  options.salt = kSalt;
  options.logfile_number = 3;
  options.chunk_bytes = chunk_bytes;
  options.chunk_count = 1 + (kMaxRecordBytes + chunk_bytes - 1) / chunk_bytes;
  return options;
}

struct ReadBack {
  std::vector<RecordView> records;
  std::vector<std::vector<uint8_t>> payloads;
  ReadResult end;
};

ReadBack ReadAll(const std::vector<uint8_t>& file,
                 LogReaderOptions options = LogReaderOptions()) {
  ReadBack out;
  LogReader reader;
  EXPECT_TRUE(reader.Init(options).ok());
  for (;;) {
    ReadResult result;
    EXPECT_TRUE(reader.Next(Slice(file.data(), file.size()), 0, true, &result)
                    .ok());
    if (result.outcome != ReadOutcome::kRecord) {
      out.end = result;
      return out;
    }
    out.records.push_back(result.record);
    out.payloads.emplace_back(result.record.payload.data(),
                              result.record.payload.data() +
                                  result.record.payload.size());
  }
}

TEST(LogWriterTest, RejectsBadOptions) {
  auto init = [](LogWriterOptions options) {
    LogWriter writer;
    return writer.Init(options).code();
  };
  EXPECT_EQ(init(SmallRing()), StatusCode::kOk);
  LogWriterOptions o = SmallRing();
  o.salt = 0;
  EXPECT_EQ(init(o), StatusCode::kInvalidArgument);
  o = SmallRing();
  o.start_offset = 12;
  o.next_record_number = 2;
  EXPECT_EQ(init(o), StatusCode::kInvalidArgument);
  o = SmallRing();
  o.next_record_number = 2;  // record 2 cannot be at offset 0
  EXPECT_EQ(init(o), StatusCode::kInvalidArgument);
  o = SmallRing();
  o.start_offset = 64;  // record 1 must be at offset 0
  EXPECT_EQ(init(o), StatusCode::kInvalidArgument);
  o = SmallRing();
  o.next_record_number = 0;
  EXPECT_EQ(init(o), StatusCode::kInvalidArgument);
  o = SmallRing();
  o.chunk_bytes = 6000;  // not a power of two
  EXPECT_EQ(init(o), StatusCode::kInvalidArgument);
  o = SmallRing();
  o.chunk_bytes = 2048;
  EXPECT_EQ(init(o), StatusCode::kInvalidArgument);
  o = SmallRing();
  o.chunk_count -= 1;  // a maximal record would not fit
  EXPECT_EQ(init(o), StatusCode::kInvalidArgument);
  o = LogWriterOptions();
  o.salt = 1;
  EXPECT_EQ(init(o), StatusCode::kOk);  // the defaults are a valid ring

  LogWriter twice;
  ASSERT_TRUE(twice.Init(SmallRing()).ok());
  EXPECT_EQ(twice.Init(SmallRing()).code(), StatusCode::kInvalidArgument);
}

TEST(LogWriterTest, PositionsAreContiguousAlignedAndNumbered) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(SmallRing()).ok());
  uint64_t expected_begin = 0;
  for (uint64_t i = 0; i < 40; ++i) {
    const std::vector<uint8_t> payload = test::RandomBytes(i * 13, 1);
    RecordPosition pos;
    ASSERT_TRUE(writer
                    .Append(RecordFields(), Slice(payload.data(), payload.size()),
                            &pos)
                    .ok());
    EXPECT_EQ(pos.record_number, i + 1);
    EXPECT_EQ(pos.begin, expected_begin);
    EXPECT_EQ(pos.end, pos.begin + RecordBytes(kWrittenHeaderBytes, i * 13));
    EXPECT_EQ(pos.end % kAlignment, 0u);
    expected_begin = pos.end;
    std::vector<uint8_t> ignored;
    test::DrainWrites(&writer, &ignored);
  }
  EXPECT_EQ(writer.AppendedEnd(), expected_begin);
  EXPECT_EQ(writer.next_record_number(), 41u);
}

TEST(LogWriterTest, RejectsBadRecordsWithoutAppending) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(SmallRing()).ok());
  std::vector<uint8_t> big(kMaxPayloadBytes + 1);
  RecordPosition pos;
  EXPECT_EQ(writer.Append(RecordFields(), Slice(big.data(), big.size()), &pos)
                .code(),
            StatusCode::kInvalidArgument);
  // Split into pieces, the sum still counts.
  const Slice halves[2] = {Slice(big.data(), kMaxPayloadBytes / 2 + 1),
                           Slice(big.data(), kMaxPayloadBytes / 2)};
  EXPECT_EQ(writer.Append(RecordFields(), halves, 2, &pos).code(),
            StatusCode::kInvalidArgument);
  RecordFields kind0;
  kind0.flags = kFlagIgnorable;
  EXPECT_EQ(writer.Append(kind0, Slice(), &pos).code(),
            StatusCode::kInvalidArgument);
  RecordFields wrap;
  wrap.device_offset = UINT64_MAX - 3;
  EXPECT_EQ(writer.Append(wrap, Slice("12345", 5), &pos).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.AppendedEnd(), 0u);
  EXPECT_EQ(writer.next_record_number(), 1u);
  // The maximum itself is fine.
  ASSERT_TRUE(
      writer.Append(RecordFields(), Slice(big.data(), kMaxPayloadBytes), &pos)
          .ok());
  EXPECT_EQ(pos.end, RecordBytes(kWrittenHeaderBytes, kMaxPayloadBytes));
}

TEST(LogWriterTest, GatherPayloadEqualsSingleSlice) {
  const std::vector<uint8_t> data = test::RandomBytes(10000, 7);
  std::vector<uint8_t> file_a, file_b;
  {
    LogWriter writer;
    ASSERT_TRUE(writer.Init(SmallRing()).ok());
    RecordPosition pos;
    ASSERT_TRUE(
        writer.Append(RecordFields(), Slice(data.data(), data.size()), &pos)
            .ok());
    test::DrainWrites(&writer, &file_a);
  }
  {
    LogWriter writer;
    ASSERT_TRUE(writer.Init(SmallRing()).ok());
    const Slice pieces[4] = {Slice(data.data(), 4096), Slice(),
                             Slice(data.data() + 4096, 1),
                             Slice(data.data() + 4097, data.size() - 4097)};
    RecordPosition pos;
    ASSERT_TRUE(writer.Append(RecordFields(), pieces, 4, &pos).ok());
    test::DrainWrites(&writer, &file_b);
  }
  EXPECT_EQ(file_a, file_b);
}

TEST(LogWriterTest, FullChunkPolicyWaitsForAWholeChunk) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(SmallRing(4096)).ok());
  const std::vector<uint8_t> payload = test::RandomBytes(1000, 3);
  RecordPosition pos;
  LogWrite write;
  // 1072 bytes per record: 3 records stay inside the first chunk.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(writer
                    .Append(RecordFields(),
                            Slice(payload.data(), payload.size()), &pos)
                    .ok());
  }
  EXPECT_FALSE(writer.TakeWrite(TakePolicy::kFullChunks, &write));
  EXPECT_EQ(writer.PendingBytes(), 3u * 1072);
  // The 4th record crosses into the second chunk.
  ASSERT_TRUE(
      writer.Append(RecordFields(), Slice(payload.data(), payload.size()), &pos)
          .ok());
  ASSERT_TRUE(writer.TakeWrite(TakePolicy::kFullChunks, &write));
  EXPECT_EQ(write.file_offset, 0u);
  EXPECT_EQ(write.size, 4096u);
  EXPECT_FALSE(writer.TakeWrite(TakePolicy::kFullChunks, &write));
  // The rest only with kAll; a partial take then continues where it ended.
  ASSERT_TRUE(writer.TakeWrite(TakePolicy::kAll, &write));
  EXPECT_EQ(write.file_offset, 4096u);
  EXPECT_EQ(write.end(), 4u * 1072);
  EXPECT_FALSE(writer.TakeWrite(TakePolicy::kAll, &write));
  ASSERT_TRUE(
      writer.Append(RecordFields(), Slice(payload.data(), payload.size()), &pos)
          .ok());
  ASSERT_TRUE(writer.TakeWrite(TakePolicy::kAll, &write));
  EXPECT_EQ(write.file_offset, 4u * 1072);
  EXPECT_EQ(write.end(), 5u * 1072);
  EXPECT_EQ(writer.PendingBytes(), 0u);
}

// The durable end written into records is always a record end the writer
// handed out, never a chunk end inside a record, and never decreases.
TEST(LogWriterTest, DurableEndIsARecordEndThatWasSynced) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(SmallRing(4096)).ok());
  const std::vector<uint8_t> payload = test::RandomBytes(1000, 5);
  std::vector<uint8_t> file;
  RecordPosition pos;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(
        writer
            .Append(RecordFields(), Slice(payload.data(), payload.size()), &pos)
            .ok());
  }
  // Only the first chunk is written: it ends inside record 4.
  test::DrainWrites(&writer, &file, TakePolicy::kFullChunks);
  ASSERT_EQ(writer.TakenEnd(), 4096u);
  writer.NoteDurable(4096);
  EXPECT_EQ(writer.DurableEnd(), 0u);
  test::DrainWrites(&writer, &file);
  writer.NoteDurable(writer.TakenEnd());
  EXPECT_EQ(writer.DurableEnd(), pos.end);
  const uint64_t durable = pos.end;
  writer.NoteDurable(0);  // an older sync result changes nothing
  EXPECT_EQ(writer.DurableEnd(), durable);

  ASSERT_TRUE(
      writer.Append(RecordFields(), Slice(payload.data(), payload.size()), &pos)
          .ok());
  test::DrainWrites(&writer, &file);
  RecordHeader header;
  Defect defect = Defect::kNone;
  ASSERT_EQ(ParseRecord(file.data() + pos.begin, file.size() - pos.begin,
                        &header, &defect),
            ParseState::kComplete);
  EXPECT_EQ(header.header_len, kWrittenHeaderBytes);
  EXPECT_EQ(header.durable_end, durable);
  // Record 1 was appended before any sync.
  ASSERT_EQ(ParseRecord(file.data(), file.size(), &header, &defect),
            ParseState::kComplete);
  EXPECT_EQ(header.durable_end, 0u);
}

TEST(LogWriterTest, RingFullGivesBackPressureUntilReleased) {
  LogWriterOptions options = SmallRing(4096);
  LogWriter writer;
  ASSERT_TRUE(writer.Init(options).ok());
  const uint64_t capacity = options.chunk_count * options.chunk_bytes;
  EXPECT_EQ(writer.FreeBytes(), capacity);
  const std::vector<uint8_t> payload = test::RandomBytes(4096 - kWrittenHeaderBytes, 4);
  RecordPosition pos;
  uint64_t appended = 0;
  Status s;
  while ((s = writer.Append(RecordFields(),
                            Slice(payload.data(), payload.size()), &pos))
             .ok()) {
    ++appended;
  }
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(appended, capacity / 4096);
  EXPECT_EQ(writer.FreeBytes(), 0u);
  // Taking alone frees nothing; releasing one chunk frees exactly it.
  LogWrite write;
  ASSERT_TRUE(writer.TakeWrite(TakePolicy::kFullChunks, &write));
  EXPECT_EQ(writer.FreeBytes(), 0u);
  ASSERT_TRUE(writer.Release(write.end()).ok());
  EXPECT_EQ(writer.FreeBytes(), 4096u);
  ASSERT_TRUE(
      writer.Append(RecordFields(), Slice(payload.data(), payload.size()), &pos)
          .ok());
  // Releasing inside a chunk frees nothing of it yet.
  ASSERT_TRUE(writer.TakeWrite(TakePolicy::kFullChunks, &write));
  ASSERT_TRUE(writer.Release(write.file_offset + 100).ok());
  EXPECT_EQ(writer.FreeBytes(), 0u);
}

TEST(LogWriterTest, ReleaseOutsideTheTakenRangeIsRefused) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(SmallRing()).ok());
  RecordPosition pos;
  ASSERT_TRUE(writer.Append(RecordFields(), Slice("abc", 3), &pos).ok());
  EXPECT_EQ(writer.Release(8).code(), StatusCode::kInvalidArgument);
  LogWrite write;
  ASSERT_TRUE(writer.TakeWrite(TakePolicy::kAll, &write));
  ASSERT_TRUE(writer.Release(write.end()).ok());
  EXPECT_EQ(writer.Release(0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.ReleasedEnd(), write.end());
}

TEST(LogWriterTest, RangesNeverCrossChunksAndCoverTheFileOnce) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(SmallRing(4096)).ok());
  std::mt19937 rng(11);
  uint64_t next = 0;
  for (int i = 0; i < 300; ++i) {
    const std::vector<uint8_t> payload = test::RandomBytes(rng() % 9000, i);
    RecordPosition pos;
    ASSERT_TRUE(writer
                    .Append(RecordFields(),
                            Slice(payload.data(), payload.size()), &pos)
                    .ok());
    LogWrite write;
    const TakePolicy policy =
        rng() % 3 == 0 ? TakePolicy::kAll : TakePolicy::kFullChunks;
    while (writer.TakeWrite(policy, &write)) {
      EXPECT_EQ(write.file_offset, next);
      EXPECT_GT(write.size, 0u);
      EXPECT_EQ(write.file_offset / 4096, (write.end() - 1) / 4096);
      next = write.end();
    }
    ASSERT_TRUE(writer.Release(writer.TakenEnd()).ok());
  }
}

TEST(LogWriterTest, WriterPositionsMatchReaderOffsets) {
  for (size_t chunk : {size_t{4096}, size_t{65536}, size_t{1} << 20}) {
    LogWriter writer;
    LogWriterOptions options = SmallRing(chunk);
    ASSERT_TRUE(writer.Init(options).ok());
    std::mt19937 rng(static_cast<uint32_t>(chunk));
    std::vector<uint8_t> file;
    std::vector<RecordPosition> positions;
    std::vector<std::vector<uint8_t>> payloads;
    for (int i = 0; i < 200; ++i) {
      const size_t size = rng() % 4 == 0 ? 0 : rng() % 20000;
      payloads.push_back(test::RandomBytes(size, rng()));
      RecordFields fields;
      fields.stamp_ns = 1000 + i;
      fields.device_offset = uint64_t{512} * i;
      RecordPosition pos;
      ASSERT_TRUE(writer
                      .Append(fields,
                              Slice(payloads.back().data(),
                                    payloads.back().size()),
                              &pos)
                      .ok());
      positions.push_back(pos);
      if (rng() % 5 == 0) test::DrainWrites(&writer, &file, TakePolicy::kFullChunks);
    }
    test::DrainWrites(&writer, &file);
    ASSERT_EQ(file.size(), writer.AppendedEnd());
    const ReadBack back = ReadAll(file);
    ASSERT_EQ(back.records.size(), positions.size());
    for (size_t i = 0; i < positions.size(); ++i) {
      EXPECT_EQ(back.records[i].offset, positions[i].begin);
      EXPECT_EQ(back.records[i].end(), positions[i].end);
      EXPECT_EQ(back.records[i].record_number, positions[i].record_number);
      EXPECT_EQ(back.records[i].stamp_ns, 1000u + i);
      EXPECT_EQ(back.records[i].device_offset, 512u * i);
      EXPECT_EQ(back.records[i].salt, kSalt);
      EXPECT_EQ(back.records[i].logfile_number, 3u);
      EXPECT_EQ(back.payloads[i], payloads[i]);
    }
    EXPECT_EQ(back.end.outcome, ReadOutcome::kCleanEnd);
    EXPECT_EQ(back.end.offset, writer.AppendedEnd());
  }
}

// A log continued after a crash: read to the end, start a writer there (over
// the torn bytes), and the whole file reads as one log again.
TEST(LogWriterTest, ContinuesAnExistingLogAfterATornTail) {
  std::vector<uint8_t> file;
  {
    LogWriter writer;
    ASSERT_TRUE(writer.Init(SmallRing()).ok());
    for (int i = 0; i < 10; ++i) {
      const std::vector<uint8_t> payload = test::RandomBytes(700 + i, i);
      RecordPosition pos;
      ASSERT_TRUE(writer
                      .Append(RecordFields(),
                              Slice(payload.data(), payload.size()), &pos)
                      .ok());
    }
    test::DrainWrites(&writer, &file);
  }
  file.resize(file.size() - 300);  // the crash tore record 10
  LogReaderOptions read_options;
  read_options.salt = kSalt;
  read_options.logfile_number = 3;
  const ReadBack first = ReadAll(file, read_options);
  ASSERT_EQ(first.records.size(), 9u);
  ASSERT_EQ(first.end.outcome, ReadOutcome::kTornTail);

  LogWriterOptions options = SmallRing();
  options.start_offset = first.end.offset;
  options.next_record_number = 10;
  LogWriter writer;
  ASSERT_TRUE(writer.Init(options).ok());
  for (int i = 0; i < 5; ++i) {
    RecordPosition pos;
    ASSERT_TRUE(writer.Append(RecordFields(), Slice("again", 5), &pos).ok());
    EXPECT_EQ(pos.record_number, 10u + i);
    if (i == 0) {
      EXPECT_EQ(pos.begin, first.end.offset);
    }
  }
  LogWrite write;
  ASSERT_TRUE(writer.TakeWrite(TakePolicy::kAll, &write));
  EXPECT_EQ(write.file_offset, first.end.offset);  // starts mid-chunk
  if (file.size() < write.end()) file.resize(write.end());
  std::memcpy(file.data() + write.file_offset, write.data, write.size);
  ASSERT_TRUE(writer.Release(write.end()).ok());
  test::DrainWrites(&writer, &file);

  const ReadBack all = ReadAll(file, read_options);
  ASSERT_EQ(all.records.size(), 14u);
  EXPECT_EQ(all.records[13].record_number, 14u);
  // The stale torn bytes behind the new end: still just a tail.
  EXPECT_EQ(all.end.offset, writer.AppendedEnd());
  EXPECT_TRUE(all.end.outcome == ReadOutcome::kTornTail ||
              all.end.outcome == ReadOutcome::kCleanEnd);
}

}  // namespace
}  // namespace log
}  // namespace mars
