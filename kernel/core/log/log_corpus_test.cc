// The seed logfiles of the log_reader fuzz target
// (testing/fuzz/corpus/log_reader/): one per reader outcome and defect class.
// This test checks that each seed still reads as intended; run with
// MARS_LOG_READER_CORPUS_DIR=testing/fuzz/corpus/log_reader to rewrite them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/log/log_format.h"
#include "core/log/log_reader.h"
#include "core/log/log_writer.h"

namespace mars {
namespace log {
namespace {

using File = std::vector<uint8_t>;

constexpr uint64_t kSalt = 0x0123456789ABCDEFull;
constexpr uint64_t kOtherSalt = 0x1111222233334444ull;

File Append(File file, uint64_t salt, uint64_t first_number,
            const std::vector<std::string>& payloads,
            uint32_t flags = kKindWrite, bool synced = true) {
  LogWriterOptions options;
  options.salt = salt;
  options.logfile_number = 7;
  options.start_offset = first_number == 1 ? 0 : file.size();
  options.next_record_number = first_number;
  LogWriter writer;
  EXPECT_TRUE(writer.Init(options).ok());
  uint64_t stamp = 1700000000000000000ull;
  for (const std::string& p : payloads) {
    RecordFields fields;
    fields.flags = flags;
    fields.stamp_ns = stamp++;
    fields.device_offset = 4096 * (stamp % 8);
    RecordPosition pos;
    EXPECT_TRUE(writer.Append(fields, Slice(p.data(), p.size()), &pos).ok());
    // Synced record by record: later records show earlier ones durable.
    LogWrite write;
    while (writer.TakeWrite(TakePolicy::kAll, &write)) {
      file.resize(write.end());
      std::memcpy(file.data() + write.file_offset, write.data, write.size);
    }
    if (synced) writer.NoteDurable(writer.TakenEnd());
  }
  return file;
}

struct Seed {
  std::string name;
  File bytes;
  ReadOutcome outcome;  // with the salt adopted
};

std::vector<Seed> Seeds() {
  const std::vector<std::string> three = {"hello", "", "a somewhat longer "
                                          "payload of forty bytes."};
  const File clean = Append({}, kSalt, 1, three);
  std::vector<Seed> seeds;
  seeds.push_back({"empty", {}, ReadOutcome::kCleanEnd});
  seeds.push_back({"golden-record", Append({}, kSalt, 1, {"hello"}),
                   ReadOutcome::kCleanEnd});
  seeds.push_back({"clean-three", clean, ReadOutcome::kCleanEnd});

  File torn = clean;
  torn.resize(torn.size() - 20);
  seeds.push_back({"torn-tail", torn, ReadOutcome::kTornTail});

  File zeros = clean;
  zeros.resize(clean.size() + 512, 0);
  seeds.push_back({"zero-tail", zeros, ReadOutcome::kTornTail});

  File bad_crc = clean;
  bad_crc[80 + 64 - 1] ^= 0x10;  // record 2's header, covered by the CRC
  seeds.push_back({"bad-crc-middle", bad_crc, ReadOutcome::kCorruption});

  File stale = Append({}, kOtherSalt, 1, {"old one", "old two", "old three",
                                          "old four", "old five"});
  const File fresh = Append({}, kSalt, 1, {"new"});
  std::copy(fresh.begin(), fresh.end(), stale.begin());
  seeds.push_back({"older-incarnation", stale,
                   ReadOutcome::kOlderIncarnation});

  seeds.push_back({"record-number-gap",
                   Append(Append({}, kSalt, 1, {"one"}), kSalt, 3, {"three"}),
                   ReadOutcome::kCorruption});

  File kinds = Append({}, kSalt, 1, {"plain"});
  kinds = Append(kinds, kSalt, 2, {"skip me"}, 5 | kFlagIgnorable);
  kinds = Append(kinds, kSalt, 3, {"stop here"}, 6);
  seeds.push_back({"unknown-kinds", kinds, ReadOutcome::kUnsupported});

  File newer = clean;
  EncodeFixed16(newer.data() + 80 + kVersionOffset, kVersion + 1);
  seeds.push_back({"newer-version", newer, ReadOutcome::kCorruption});

  File lying = clean;
  EncodeFixed32(lying.data() + 80 + kPayloadLenOffset, kMaxPayloadBytes);
  EncodeFixed32(lying.data() + 80 + kTotalLenOffset,
                RecordBytes(kWrittenHeaderBytes, kMaxPayloadBytes));
  seeds.push_back({"length-past-end", lying, ReadOutcome::kCorruption});

  // A record with an 8-byte header extension after durable_end
  // (header_len 80).
  RecordHeader header;
  header.header_len = 80;
  header.payload_len = 3;
  header.total_len = RecordBytes(80, 3);
  header.salt = kSalt;
  header.logfile_number = 7;
  header.record_number = 1;
  header.flags = kKindWrite;
  File extended(header.total_len, 0);
  EncodeHeader(header, extended.data());
  std::memcpy(extended.data() + 72, "EXTENSIOabc", 11);
  EncodeFixed32(extended.data() + kCrcOffset,
                RecordCrc(extended.data(), header.total_len));
  extended = Append(extended, kSalt, 2, {"after the extension"});
  seeds.push_back({"header-extension", extended, ReadOutcome::kCleanEnd});

  // Never synced: damage to record 2 with record 3 whole is a torn tail.
  File unsynced = Append({}, kSalt, 1, three, kKindWrite, false);
  unsynced[80 + 64 + 1] ^= 0x10;
  seeds.push_back({"unsynced-damage", unsynced, ReadOutcome::kTornTail});
  return seeds;
}

TEST(LogCorpusTest, SeedsReadAsIntendedAndAreSmall) {
  const std::vector<Seed> seeds = Seeds();
  const char* dir = std::getenv("MARS_LOG_READER_CORPUS_DIR");
  for (const Seed& seed : seeds) {
    EXPECT_LT(seed.bytes.size(), 4096u) << seed.name;
    ScanSummary summary;
    ASSERT_TRUE(ScanLog(Slice(seed.bytes.data(), seed.bytes.size()),
                        LogReaderOptions(), true, nullptr, nullptr, &summary)
                    .ok());
    EXPECT_EQ(summary.end.outcome, seed.outcome)
        << seed.name << ": " << ReadOutcomeName(summary.end.outcome);
    if (dir != nullptr) {
      std::ofstream out(std::string(dir) + "/" + seed.name,
                        std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(seed.bytes.data()),
                static_cast<std::streamsize>(seed.bytes.size()));
      EXPECT_TRUE(out.good()) << seed.name;
    }
  }
}

}  // namespace
}  // namespace log
}  // namespace mars
