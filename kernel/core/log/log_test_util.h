// Test-only helpers shared by the log tests (log_reader_test.cc,
// log_damage_test.cc) and the engine tests that replay logfiles: writing a
// test log with LogWriter and reading it back whole or as a prefix growing
// byte by byte. Included only by *_test.cc; not part of mars.ko
// (scripts/check-core-includes, kernel/Makefile).
#ifndef MARS_CORE_LOG_LOG_TEST_UTIL_H_
#define MARS_CORE_LOG_LOG_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/log/log_format.h"
#include "core/log/log_reader.h"
#include "core/log/log_writer.h"

namespace mars {
namespace log {
namespace test {

using File = std::vector<uint8_t>;

constexpr uint64_t kSalt = 0xC0FFEE0000000001ull;
constexpr uint64_t kLogfile = 42;

// Writer options for logfile kLogfile: a fresh log when `first_number` is 1,
// else continuing at the end of `file` with record `first_number`.
inline LogWriterOptions WriterOptions(uint64_t salt, const File& file,
                                      uint64_t first_number) {
  LogWriterOptions options;
  options.salt = salt;
  options.logfile_number = kLogfile;
  options.chunk_bytes = 65536;
  options.chunk_count = 18;
  options.start_offset = first_number == 1 ? 0 : file.size();
  options.next_record_number = first_number;
  return options;
}

// Copies every write the writer has ready under `policy` into `file` (grown
// as needed).
inline void TakeAllWrites(LogWriter* writer, File* file,
                          TakePolicy policy = TakePolicy::kAll) {
  LogWrite write;
  while (writer->TakeWrite(policy, &write)) {
    if (file->size() < write.end()) file->resize(write.end());
    std::memcpy(file->data() + write.file_offset, write.data, write.size);
  }
}

// TakeAllWrites(), then releases what was taken, as the logger does once
// the writes are in the file: the ring has room again.
inline void DrainWrites(LogWriter* writer, File* file,
                        TakePolicy policy = TakePolicy::kAll) {
  TakeAllWrites(writer, file, policy);
  ASSERT_TRUE(writer->Release(writer->TakenEnd()).ok());
}

// `size` pseudo-random bytes from `seed`.
inline File RandomBytes(size_t size, uint32_t seed) {
  File out(size);
  std::mt19937 rng(seed);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

// TakeAllWrites(), then tells the writer the file is durable up to there,
// as the logger does after each sync: later records carry that durable end,
// so damage before it reads as corruption, not as a torn tail.
inline void TakeAllWritesSynced(LogWriter* writer, File* file) {
  TakeAllWrites(writer, file);
  writer->NoteDurable(writer->TakenEnd());
}

// A logfile as a primary's logger writes it: each record taken and synced
// before the next is appended, so every record carries the end of the one
// before it as its durable end (damage before it reads as corruption, not
// as a torn tail). Any payload size up to kMaxPayloadBytes. With a
// `payload_alignment`, payloads of at least `aligned_payload_min` bytes are
// aligned with padding records, as the module's logger aligns them.
class SyncedLog {
 public:
  SyncedLog(uint64_t salt, uint64_t logfile_number,
            uint32_t payload_alignment = 0,
            uint32_t aligned_payload_min = 32 * 1024) {
    LogWriterOptions options;
    options.salt = salt;
    options.logfile_number = logfile_number;
    options.chunk_bytes = 65536;
    options.chunk_count = 18;  // room for the largest record and padding
    options.payload_alignment = payload_alignment;
    options.aligned_payload_min = aligned_payload_min;
    EXPECT_TRUE(writer_.Init(options).ok());
  }

  // Appends one record of `payload` for `device_offset`; returns its end.
  uint64_t Append(uint64_t device_offset, const void* payload, size_t size,
                  uint64_t stamp_ns = 0) {
    RecordFields fields;
    fields.stamp_ns = stamp_ns;
    fields.device_offset = device_offset;
    RecordPosition position;
    EXPECT_TRUE(writer_.Append(fields, Slice(payload, size), &position).ok());
    TakeAllWritesSynced(&writer_, &bytes_);
    EXPECT_TRUE(writer_.Release(writer_.TakenEnd()).ok());
    return position.end;
  }

  const File& bytes() const { return bytes_; }

 private:
  LogWriter writer_;
  File bytes_;
};

// Writes `bytes` as the file at `path` (replaced if it exists).
inline void WriteFile(const std::string& path, const File& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

struct ReadBack {
  std::vector<RecordView> records;
  std::vector<File> payloads;  // each returned record's payload
  std::vector<File> raw;       // each returned record's bytes
  ReadResult end;
};

inline LogReaderOptions Expect(uint64_t salt = kSalt) {
  LogReaderOptions options;
  options.salt = salt;
  options.logfile_number = kLogfile;
  return options;
}

// Keeps a copy of the record's payload and bytes (the view dies with the
// buffer it was read from).
inline void Take(const ReadResult& result, ReadBack* out) {
  out->records.push_back(result.record);
  const Slice p = result.record.payload;
  out->payloads.emplace_back(p.data(), p.data() + p.size());
  const uint8_t* start = p.data() - result.record.header_len;
  out->raw.emplace_back(start, start + result.record.size);
}

inline ReadBack ReadAll(const File& file,
                        const LogReaderOptions& options = Expect(),
                        bool final = true) {
  ReadBack out;
  LogReader reader;
  EXPECT_TRUE(reader.Init(options).ok());
  for (;;) {
    ReadResult result;
    EXPECT_TRUE(
        reader.Next(Slice(file.data(), file.size()), 0, final, &result).ok());
    if (result.outcome != ReadOutcome::kRecord) {
      out.end = result;
      return out;
    }
    Take(result, &out);
  }
}

// Feeds the file as a prefix growing by one byte per step (every prefix
// ends once), then the whole file as final; returns what it read.
inline ReadBack ReadGrowing(const File& file,
                            const LogReaderOptions& options = Expect()) {
  ReadBack out;
  LogReader reader;
  EXPECT_TRUE(reader.Init(options).ok());
  for (size_t length = 0; length <= file.size(); ++length) {
    const bool final = length == file.size();
    // An exact-size copy, so ASan sees any read past the prefix.
    const File prefix(file.begin(), file.begin() + length);
    for (;;) {
      ReadResult result;
      EXPECT_TRUE(
          reader.Next(Slice(prefix.data(), prefix.size()), 0, final, &result)
              .ok());
      if (result.outcome == ReadOutcome::kRecord) {
        Take(result, &out);
        continue;
      }
      if (!final) {
        // Without `final` only decisions that later bytes cannot change.
        EXPECT_TRUE(result.outcome == ReadOutcome::kNeedMore ||
                    result.outcome == ReadOutcome::kCorruption ||
                    result.outcome == ReadOutcome::kUnsupported)
            << ReadOutcomeName(result.outcome) << " at prefix " << length;
      }
      if (final || result.outcome != ReadOutcome::kNeedMore) out.end = result;
      break;
    }
  }
  return out;
}

inline void ExpectSameRead(const ReadBack& a, const ReadBack& b) {
  ASSERT_EQ(a.records.size(), b.records.size());
  for (size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records[i].offset, b.records[i].offset);
    EXPECT_EQ(a.records[i].record_number, b.records[i].record_number);
    EXPECT_EQ(a.payloads[i], b.payloads[i]);
    EXPECT_EQ(a.raw[i], b.raw[i]);
  }
  EXPECT_EQ(a.end.outcome, b.end.outcome);
  EXPECT_EQ(a.end.offset, b.end.offset);
  EXPECT_EQ(a.end.defect, b.end.defect);
  EXPECT_EQ(a.end.resync_offset, b.end.resync_offset);
}

}  // namespace test
}  // namespace log
}  // namespace mars

#endif  // MARS_CORE_LOG_LOG_TEST_UTIL_H_
