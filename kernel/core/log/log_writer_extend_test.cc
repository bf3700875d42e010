// Tests of LogWriter::ExtendLast(): contiguous writes grow the last record
// while none of it was handed out (docu/write-path.md, "Contiguous writes
// share a record"); every refusal changes nothing; a growing record becomes
// aligned behind a padding record; and whatever mix of merged and separate
// records a writer produces, a reader returns the same device writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "core/log/log_reader.h"
#include "core/log/log_test_util.h"
#include "core/log/log_writer.h"

namespace mars {
namespace log {
namespace {

constexpr uint64_t kSalt = 0x5A17'0000'0000'0003ull;
constexpr uint32_t kAlign = 512;
constexpr uint32_t kMinAligned = 32 * 1024;
constexpr size_t kPage = 4096;

LogWriterOptions Ring(uint32_t alignment = 0) {
  LogWriterOptions options;
  options.salt = kSalt;
  options.logfile_number = 9;
  options.chunk_bytes = 64 * 1024;
  options.chunk_count =
      2 + (kMaxRecordBytes + kAlign + kWrittenHeaderBytes) / (64 * 1024);
  options.payload_alignment = alignment;
  options.aligned_payload_min = alignment != 0 ? kMinAligned : 0;
  return options;
}

RecordFields Write(uint64_t device_offset, uint64_t stamp_ns = 1) {
  RecordFields fields;
  fields.device_offset = device_offset;
  fields.stamp_ns = stamp_ns;
  return fields;
}

// Every record of `file` from offset 0, padding skipped; the read must end
// cleanly at the end of the file.
std::vector<RecordView> ReadRecords(const test::File& file,
                                    uint64_t* paddings = nullptr) {
  std::vector<RecordView> records;
  LogReader reader;
  EXPECT_TRUE(reader.Init(LogReaderOptions()).ok());
  for (;;) {
    ReadResult result;
    EXPECT_TRUE(
        reader.Next(Slice(file.data(), file.size()), 0, true, &result).ok());
    if (result.outcome != ReadOutcome::kRecord) {
      EXPECT_EQ(result.outcome, ReadOutcome::kCleanEnd);
      EXPECT_EQ(result.offset, file.size());
      break;
    }
    records.push_back(result.record);
  }
  if (paddings != nullptr) *paddings = reader.padding_records();
  return records;
}

std::vector<uint8_t> PayloadOf(const RecordView& record) {
  return std::vector<uint8_t>(record.payload.data(),
                              record.payload.data() + record.payload.size());
}

TEST(LogWriterExtendTest, ContiguousWritesShareOneRecord) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(Ring()).ok());
  const test::File data = test::RandomBytes(3 * kPage, 1);
  RecordPosition first;
  ASSERT_TRUE(
      writer.Append(Write(8192, 5), Slice(data.data(), kPage), &first).ok());
  RecordPosition grown;
  Slice second(data.data() + kPage, kPage);
  ASSERT_TRUE(writer.ExtendLast(Write(8192 + kPage, 7), &second, 1, &grown));
  EXPECT_EQ(grown.record_number, first.record_number);
  EXPECT_EQ(grown.begin, first.begin);
  Slice third(data.data() + 2 * kPage, kPage);
  ASSERT_TRUE(writer.ExtendLast(Write(8192 + 2 * kPage, 6), &third, 1, &grown));
  EXPECT_EQ(grown.end,
            grown.begin + RecordBytes(kWrittenHeaderBytes, 3 * kPage));
  EXPECT_EQ(writer.AppendedEnd(), grown.end);
  EXPECT_EQ(writer.next_record_number(), 2u);

  test::File file;
  test::TakeAllWrites(&writer, &file);
  const std::vector<RecordView> records = ReadRecords(file);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].record_number, 1u);
  EXPECT_EQ(records[0].device_offset, 8192u);
  EXPECT_EQ(records[0].stamp_ns, 7u);  // the newest of the three
  EXPECT_EQ(PayloadOf(records[0]), data);
}

TEST(LogWriterExtendTest, RefusalsChangeNothing) {
  const test::File data = test::RandomBytes(2 * kPage, 2);
  const Slice page(data.data() + kPage, kPage);
  struct Case {
    const char* name;
    void (*prepare)(LogWriter*, test::File*);
    RecordFields fields;
    Slice piece;
  };
  const Case cases[] = {
      {"a gap on the device", [](LogWriter*, test::File*) {},
       Write(2 * kPage + 4096), page},
      {"an overlap on the device", [](LogWriter*, test::File*) {}, Write(kPage),
       page},
      {"before it on the device", [](LogWriter*, test::File*) {}, Write(0),
       page},
      {"other flags", [](LogWriter*, test::File*) {},
       RecordFields{kKindWrite | kFlagIgnorable, 1, 2 * kPage}, page},
      {"no payload", [](LogWriter*, test::File*) {}, Write(2 * kPage),
       Slice(data.data(), 0)},
      {"closed", [](LogWriter* w, test::File*) { w->CloseLast(); },
       Write(2 * kPage), page},
      {"partly handed out",
       [](LogWriter* w, test::File* f) { test::TakeAllWrites(w, f); },
       Write(2 * kPage), page},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    LogWriter writer;
    ASSERT_TRUE(writer.Init(Ring()).ok());
    RecordPosition first;
    ASSERT_TRUE(
        writer.Append(Write(kPage), Slice(data.data(), kPage), &first).ok());
    test::File file;
    c.prepare(&writer, &file);
    const uint64_t appended = writer.AppendedEnd();
    const uint64_t taken = writer.TakenEnd();
    RecordPosition position;
    EXPECT_FALSE(writer.ExtendLast(c.fields, &c.piece, 1, &position));
    EXPECT_EQ(writer.AppendedEnd(), appended);
    EXPECT_EQ(writer.TakenEnd(), taken);
    EXPECT_EQ(writer.next_record_number(), 2u);
    test::TakeAllWrites(&writer, &file);
    const std::vector<RecordView> records = ReadRecords(file);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(PayloadOf(records[0]),
              std::vector<uint8_t>(data.begin(), data.begin() + kPage));
  }
}

TEST(LogWriterExtendTest, OnlyWritesGrowAndNeverBeyondTheLargestPayload) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(Ring()).ok());
  const test::File big = test::RandomBytes(kMaxPayloadBytes, 3);
  RecordPosition position;
  // A record of another kind is never extended.
  RecordFields marker{kKindPadding | kFlagIgnorable, 1, 0};
  ASSERT_TRUE(writer.Append(marker, Slice(big.data(), 0), &position).ok());
  Slice page(big.data(), kPage);
  EXPECT_FALSE(writer.ExtendLast(marker, &page, 1, &position));
  // A write record grows up to kMaxPayloadBytes and not a byte further.
  ASSERT_TRUE(writer
                  .Append(Write(0), Slice(big.data(), kMaxPayloadBytes - kPage),
                          &position)
                  .ok());
  Slice last(big.data() + kMaxPayloadBytes - kPage, kPage);
  ASSERT_TRUE(
      writer.ExtendLast(Write(kMaxPayloadBytes - kPage), &last, 1, &position));
  Slice more(big.data(), 8);
  EXPECT_FALSE(writer.ExtendLast(Write(kMaxPayloadBytes), &more, 1, &position));
  test::File file;
  test::TakeAllWrites(&writer, &file);
  uint64_t skipped = 0;
  const std::vector<RecordView> records = ReadRecords(file, &skipped);
  EXPECT_EQ(skipped, 1u);  // the marker
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(PayloadOf(records[0]), big);
}

TEST(LogWriterExtendTest, RingFullRefusesUntilReleased) {
  LogWriterOptions options = Ring();
  options.chunk_bytes = 4096;
  options.chunk_count = 1 + (kMaxRecordBytes + 4095) / 4096;
  LogWriter writer;
  ASSERT_TRUE(writer.Init(options).ok());
  const test::File data = test::RandomBytes(kMaxPayloadBytes, 4);
  // Fill the ring with one record handed out and not released, and a second
  // that may grow until the ring has no room.
  RecordPosition position;
  ASSERT_TRUE(
      writer.Append(Write(1u << 30), Slice(data.data(), 512 * 1024), &position)
          .ok());
  LogWrite write;
  while (writer.TakeWrite(TakePolicy::kAll, &write)) {
  }
  ASSERT_TRUE(
      writer.Append(Write(0), Slice(data.data(), kPage), &position).ok());
  uint64_t grown = kPage;
  for (;;) {
    Slice page(data.data() + grown, kPage);
    const uint64_t free_before = writer.FreeBytes();
    if (!writer.ExtendLast(Write(grown), &page, 1, &position)) {
      EXPECT_LT(free_before, kPage);
      break;
    }
    grown += kPage;
  }
  EXPECT_GT(grown, kPage);
  EXPECT_LT(grown, kMaxPayloadBytes);
}

TEST(LogWriterExtendTest, AGrowingRecordBecomesAlignedBehindPadding) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(Ring(kAlign)).ok());
  const test::File small = test::RandomBytes(100, 5);
  RecordPosition position;
  ASSERT_TRUE(writer
                  .Append(Write(1u << 30), Slice(small.data(), small.size()),
                          &position)
                  .ok());  // record 1: the next one starts unaligned
  const uint64_t second_begin = position.end;
  const test::File data = test::RandomBytes(64 * kPage, 6);
  ASSERT_TRUE(
      writer.Append(Write(0), Slice(data.data(), kPage), &position).ok());
  EXPECT_EQ(position.padding, 0u);
  EXPECT_EQ(position.record_number, 2u);
  bool aligned = false;
  for (size_t i = 1; i < 64; ++i) {
    Slice page(data.data() + i * kPage, kPage);
    ASSERT_TRUE(writer.ExtendLast(Write(i * kPage), &page, 1, &position));
    const bool large = (i + 1) * kPage >= kMinAligned;
    EXPECT_EQ(position.padding != 0, large) << "page " << i;
    if (large) {
      EXPECT_EQ((position.begin + kWrittenHeaderBytes) % kAlign, 0u);
      EXPECT_EQ(position.begin, second_begin + position.padding);
      EXPECT_EQ(position.record_number, 3u);  // behind the padding record
      aligned = true;
    }
    EXPECT_EQ(writer.AppendedEnd(), position.end);
    EXPECT_EQ(writer.next_record_number(), position.record_number + 1);
  }
  ASSERT_TRUE(aligned);
  test::File file;
  test::TakeAllWrites(&writer, &file);
  uint64_t paddings = 0;
  const std::vector<RecordView> records = ReadRecords(file, &paddings);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(paddings, 1u);
  EXPECT_EQ(records[1].offset, position.begin);
  EXPECT_EQ(records[1].record_number, 3u);
  EXPECT_EQ(PayloadOf(records[1]), data);
}

// A random mix of contiguous and scattered writes, partial and whole takes,
// closes and releases, with and without alignment, in a ring of small
// chunks (records and moves cross chunk boundaries): the reader returns
// exactly the device writes, in order, whatever was merged. Merging happens.
TEST(LogWriterExtendTest, RandomMixReadsBackAsTheSameDeviceImage) {
  for (uint32_t alignment : {0u, kAlign}) {
    SCOPED_TRACE(alignment);
    LogWriterOptions options = Ring(alignment);
    options.chunk_bytes = 16 * 1024;
    options.chunk_count =
        2 + (kMaxRecordBytes + kAlign + kWrittenHeaderBytes) / (16 * 1024);
    LogWriter writer;
    ASSERT_TRUE(writer.Init(options).ok());
    std::mt19937 rng(11 + alignment);
    std::vector<uint8_t> expected;  // the device image, written bytes
    auto write_image = [](std::vector<uint8_t>* image, uint64_t offset,
                          const uint8_t* bytes, size_t size) {
      if (image->size() < offset + size) image->resize(offset + size);
      std::memcpy(image->data() + offset, bytes, size);
    };
    test::File file;
    uint64_t next_offset = 0;
    uint64_t merged = 0;
    uint64_t appended = 0;
    for (uint32_t i = 0; i < 3000; ++i) {
      const size_t size = (1 + rng() % 4) * 1024;
      const uint64_t offset =
          rng() % 4 == 0 ? (rng() % 512) * 1024 : next_offset;
      const test::File payload = test::RandomBytes(size, i);
      write_image(&expected, offset, payload.data(), size);
      next_offset = offset + size;
      Slice piece(payload.data(), size);
      RecordPosition position;
      if (writer.ExtendLast(Write(offset, i), &piece, 1, &position)) {
        ++merged;
      } else {
        for (;;) {
          const Status s = writer.Append(Write(offset, i), piece, &position);
          if (s.ok()) break;
          ASSERT_EQ(s.code(), StatusCode::kUnavailable);
          test::DrainWrites(&writer, &file);
        }
        ++appended;
      }
      if (alignment != 0 &&
          position.end - position.begin - kWrittenHeaderBytes >= kMinAligned) {
        ASSERT_EQ((position.begin + kWrittenHeaderBytes) % kAlign, 0u);
      }
      switch (rng() % 8) {
        case 0:
          test::DrainWrites(&writer, &file, TakePolicy::kFullChunks);
          break;
        case 1:
          writer.CloseLast();
          break;
        case 2:
          test::TakeAllWrites(&writer, &file, TakePolicy::kFullChunks);
          break;
        default:
          break;
      }
    }
    test::DrainWrites(&writer, &file);
    EXPECT_GT(merged, 1000u);
    EXPECT_GT(appended, 500u);

    std::vector<uint8_t> replayed;
    uint64_t records = 0;
    for (const RecordView& record : ReadRecords(file)) {
      ++records;
      write_image(&replayed, record.device_offset, record.payload.data(),
                  record.payload.size());
    }
    EXPECT_EQ(records, appended);
    EXPECT_TRUE(replayed == expected);
  }
}

// A grown record carries the durable end known when it last grew, like a
// record appended then.
TEST(LogWriterExtendTest, GrownRecordCarriesTheNewestDurableEnd) {
  LogWriter writer;
  ASSERT_TRUE(writer.Init(Ring()).ok());
  const test::File data = test::RandomBytes(2 * kPage, 7);
  test::File file;
  RecordPosition first;
  ASSERT_TRUE(
      writer.Append(Write(1u << 30), Slice(data.data(), 8), &first).ok());
  test::TakeAllWrites(&writer, &file);
  RecordPosition position;
  ASSERT_TRUE(
      writer.Append(Write(0), Slice(data.data(), kPage), &position).ok());
  writer.NoteDurable(first.end);  // synced meanwhile
  Slice page(data.data() + kPage, kPage);
  ASSERT_TRUE(writer.ExtendLast(Write(kPage), &page, 1, &position));
  test::TakeAllWrites(&writer, &file);
  const std::vector<RecordView> records = ReadRecords(file);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].durable_end, 0u);
  EXPECT_EQ(records[1].durable_end, first.end);
}

}  // namespace
}  // namespace log
}  // namespace mars
