// Tests of aligned payloads: LogWriter's padding records (options,
// placement, back-pressure) and how LogReader skips them
// (docu/log-format.md, "Padding").
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/log/log_reader.h"
#include "core/log/log_test_util.h"
#include "core/log/log_writer.h"

namespace mars {
namespace log {
namespace {

constexpr uint64_t kSalt = 0x5A17'0000'0000'0002ull;
constexpr uint32_t kAlign = 4096;
constexpr uint32_t kMinAligned = 8192;

LogWriterOptions AlignedRing(uint32_t alignment = kAlign) {
  LogWriterOptions options;
  options.salt = kSalt;
  options.logfile_number = 5;
  options.chunk_bytes = 64 * 1024;
  options.chunk_count =
      2 + (kMaxRecordBytes + alignment + kWrittenHeaderBytes) / (64 * 1024);
  options.payload_alignment = alignment;
  options.aligned_payload_min = kMinAligned;
  return options;
}

TEST(LogWriterPaddingTest, RejectsBadAlignmentsAndRingsWithoutRoom) {
  auto init = [](LogWriterOptions options) {
    LogWriter writer;
    return writer.Init(options).code();
  };
  EXPECT_EQ(init(AlignedRing()), StatusCode::kOk);
  EXPECT_EQ(init(AlignedRing(kMinPayloadAlignment)), StatusCode::kOk);
  EXPECT_EQ(init(AlignedRing(kMaxPayloadAlignment)), StatusCode::kOk);
  EXPECT_EQ(init(AlignedRing(3000)), StatusCode::kInvalidArgument);
  EXPECT_EQ(init(AlignedRing(256)), StatusCode::kInvalidArgument);
  EXPECT_EQ(init(AlignedRing(2 * kMaxPayloadAlignment)),
            StatusCode::kInvalidArgument);
  // A ring that holds the largest record but not its padding too.
  LogWriterOptions tight = AlignedRing();
  tight.chunk_bytes = 4096;
  tight.chunk_count = 1 + kMaxRecordBytes / 4096 + 1;  // 1024 bytes spare
  tight.payload_alignment = 0;
  EXPECT_EQ(init(tight), StatusCode::kOk);
  tight.payload_alignment = kAlign;
  EXPECT_EQ(init(tight), StatusCode::kInvalidArgument);
}

// Random record sizes: every payload of at least aligned_payload_min bytes
// starts at a multiple of the alignment, smaller ones are never padded, a
// padding record fills each gap exactly, and a reader returns exactly the
// appended records (numbers, payloads) and counts the padding records.
TEST(LogWriterPaddingTest, LargePayloadsStartAlignedAndReadBackUnchanged) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(AlignedRing()).ok());
  std::mt19937 rng(7);
  const size_t sizes[] = {0,    8,          512,       4096,
                          8192, 8192 + 512, 64 * 1024, kMaxPayloadBytes};
  std::vector<uint8_t> file;
  std::vector<RecordPosition> positions;
  std::vector<std::vector<uint8_t>> payloads;
  uint64_t paddings = 0;
  uint64_t end = 0;
  for (uint32_t i = 0; i < 60; ++i) {
    const size_t size = sizes[rng() % (sizeof(sizes) / sizeof(sizes[0]))];
    payloads.push_back(test::RandomBytes(size, i));
    RecordFields fields;
    fields.stamp_ns = 1000 + i;
    fields.device_offset = uint64_t{i} << 20;
    RecordPosition position;
    ASSERT_TRUE(
        writer.Append(fields, Slice(payloads.back().data(), size), &position)
            .ok());
    EXPECT_EQ(position.begin, end + position.padding) << "record " << i;
    if (size >= kMinAligned) {
      EXPECT_EQ((position.begin + kWrittenHeaderBytes) % kAlign, 0u)
          << "record " << i;
      EXPECT_TRUE(position.padding == 0 ||
                  position.padding >= kWrittenHeaderBytes);
      EXPECT_LE(position.padding, kAlign + kWrittenHeaderBytes);
    } else {
      EXPECT_EQ(position.padding, 0u) << "record " << i;
    }
    if (position.padding != 0) ++paddings;
    end = position.end;
    positions.push_back(position);
    test::DrainWrites(&writer, &file);
  }
  ASSERT_GT(paddings, 5u);
  ASSERT_EQ(file.size(), end);

  LogReader reader;
  ASSERT_TRUE(reader.Init(LogReaderOptions()).ok());
  for (size_t i = 0; i < positions.size(); ++i) {
    ReadResult read;
    ASSERT_TRUE(
        reader.Next(Slice(file.data(), file.size()), 0, true, &read).ok());
    ASSERT_EQ(read.outcome, ReadOutcome::kRecord) << "record " << i;
    EXPECT_EQ(read.record.offset, positions[i].begin);
    EXPECT_EQ(read.record.record_number, positions[i].record_number);
    EXPECT_EQ(read.record.kind(), kKindWrite);
    EXPECT_EQ(std::vector<uint8_t>(
                  read.record.payload.data(),
                  read.record.payload.data() + read.record.payload.size()),
              payloads[i]);
  }
  ReadResult last;
  ASSERT_TRUE(
      reader.Next(Slice(file.data(), file.size()), 0, true, &last).ok());
  EXPECT_EQ(last.outcome, ReadOutcome::kCleanEnd);
  EXPECT_EQ(last.offset, end);
  EXPECT_EQ(reader.records(), positions.size());
  EXPECT_EQ(reader.padding_records(), paddings);
  EXPECT_EQ(reader.ignored_records(), 0u);
  EXPECT_EQ(reader.next_record_number(), positions.size() + paddings + 1);
}

// The padding record itself: kind 4 with the safe-to-ignore bit (readers of
// revisions 1.0 and 1.1 skip it), zero payload, the next record's stamp, the
// next record number, and a valid CRC.
TEST(LogWriterPaddingTest, PaddingRecordIsAnIgnorableZeroRecord) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(AlignedRing()).ok());
  const std::vector<uint8_t> small = test::RandomBytes(100, 1);
  const std::vector<uint8_t> large = test::RandomBytes(kMinAligned, 2);
  RecordFields fields;
  fields.stamp_ns = 77;
  RecordPosition first;
  RecordPosition second;
  ASSERT_TRUE(
      writer.Append(fields, Slice(small.data(), small.size()), &first).ok());
  fields.stamp_ns = 78;
  fields.device_offset = 1 << 20;
  ASSERT_TRUE(
      writer.Append(fields, Slice(large.data(), large.size()), &second).ok());
  std::vector<uint8_t> file;
  test::DrainWrites(&writer, &file);
  ASSERT_EQ(first.end, 176u);  // 72 + 100, rounded up to 8
  // The gap up to 4096 - 72 is 3848 bytes: one padding record.
  ASSERT_EQ(second.padding, 4096u - 72 - 176);
  ASSERT_EQ(second.begin, 4096u - 72);
  EXPECT_EQ(second.record_number, 3u);

  RecordHeader pad;
  Defect defect = Defect::kNone;
  ASSERT_EQ(ParseRecord(file.data() + first.end, second.padding, &pad, &defect),
            ParseState::kComplete);
  EXPECT_EQ(pad.flags, kFlagIgnorable | kKindPadding);
  EXPECT_FALSE(IsUnderstood(pad.flags));
  EXPECT_TRUE(IsPadding(pad.flags));
  EXPECT_EQ(pad.record_number, 2u);
  EXPECT_EQ(pad.stamp_ns, 78u);
  EXPECT_EQ(pad.device_offset, 0u);
  EXPECT_EQ(pad.total_len, second.padding);
  EXPECT_EQ(pad.header_len, kWrittenHeaderBytes);
  for (size_t i = first.end + kWrittenHeaderBytes; i < second.begin; ++i) {
    ASSERT_EQ(file[i], 0) << "at " << i;
  }
}

// Append with padding is all or nothing: when the ring has room for the
// record but not for its padding too, nothing is appended.
TEST(LogWriterPaddingTest, RingWithoutRoomForThePaddingAppendsNothing) {
  LogWriterOptions options = AlignedRing();
  LogWriter writer;
  ASSERT_TRUE(writer.Init(options).ok());
  const std::vector<uint8_t> small = test::RandomBytes(8, 3);
  RecordPosition position;
  ASSERT_TRUE(
      writer
          .Append(RecordFields(), Slice(small.data(), small.size()), &position)
          .ok());
  // Fill the ring with unaligned small records (not released) until the
  // room left lies between the record's size and the record plus padding.
  const size_t large_size = kMinAligned;
  const uint64_t large_bytes = RecordBytes(kWrittenHeaderBytes, large_size);
  const std::vector<uint8_t> filler = test::RandomBytes(kMinAligned - 512, 4);
  while (writer.FreeBytes() >= large_bytes + kAlign + kWrittenHeaderBytes) {
    ASSERT_TRUE(writer
                    .Append(RecordFields(), Slice(filler.data(), filler.size()),
                            &position)
                    .ok());
  }
  // Small records move the log end by 80 bytes each until the padding the
  // large record needs there no longer fits.
  auto padding_needed = [&writer] {
    uint64_t pad = (0 - (writer.AppendedEnd() + kWrittenHeaderBytes)) % kAlign;
    return pad != 0 && pad < kWrittenHeaderBytes ? pad + kAlign : pad;
  };
  while (writer.FreeBytes() >= large_bytes + padding_needed()) {
    ASSERT_TRUE(writer
                    .Append(RecordFields(), Slice(small.data(), small.size()),
                            &position)
                    .ok());
  }
  const uint64_t appended = writer.AppendedEnd();
  const uint64_t number = writer.next_record_number();
  ASSERT_NE((appended + kWrittenHeaderBytes) % kAlign, 0u);
  const std::vector<uint8_t> large = test::RandomBytes(large_size, 5);
  EXPECT_EQ(
      writer
          .Append(RecordFields(), Slice(large.data(), large.size()), &position)
          .code(),
      StatusCode::kUnavailable);
  EXPECT_EQ(writer.AppendedEnd(), appended);
  EXPECT_EQ(writer.next_record_number(), number);
}

// A reader skips a padding record whatever its bit 31 and counts it apart
// from ignored records of unknown kinds.
TEST(LogWriterPaddingTest, ReaderSkipsPaddingWithOrWithoutTheIgnorableBit) {
  LogWriterOptions options = AlignedRing();
  options.payload_alignment = 0;
  LogWriter writer;
  ASSERT_TRUE(writer.Init(options).ok());
  const std::vector<uint8_t> zeros(40, 0);
  const std::vector<uint8_t> data = test::RandomBytes(512, 6);
  RecordPosition position;
  RecordFields pad;
  pad.flags = kKindPadding;
  RecordFields unknown;
  unknown.flags = kFlagIgnorable | 9;
  ASSERT_TRUE(
      writer.Append(pad, Slice(zeros.data(), zeros.size()), &position).ok());
  ASSERT_TRUE(
      writer.Append(unknown, Slice(zeros.data(), zeros.size()), &position)
          .ok());
  ASSERT_TRUE(
      writer.Append(RecordFields(), Slice(data.data(), data.size()), &position)
          .ok());
  std::vector<uint8_t> file;
  test::DrainWrites(&writer, &file);
  LogReader reader;
  ASSERT_TRUE(reader.Init(LogReaderOptions()).ok());
  ReadResult read;
  ASSERT_TRUE(
      reader.Next(Slice(file.data(), file.size()), 0, true, &read).ok());
  ASSERT_EQ(read.outcome, ReadOutcome::kRecord);
  EXPECT_EQ(read.record.record_number, 3u);
  EXPECT_EQ(reader.padding_records(), 1u);
  EXPECT_EQ(reader.ignored_records(), 1u);
}

}  // namespace
}  // namespace log
}  // namespace mars
