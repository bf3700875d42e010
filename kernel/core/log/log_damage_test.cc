// LogReader against damaged logfiles: a torn tail at every byte, a flipped
// bit anywhere in a record, lying length fields, garbage and zero tails,
// stale records of an older incarnation, foreign records, and random damage.
// The reader must never return a damaged record and must classify the end as
// docu/log-format.md ("How the end is decided") says.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "core/base/coding.h"
#include "core/log/log_format.h"
#include "core/log/log_reader.h"
#include "core/log/log_test_util.h"
#include "core/log/log_writer.h"

namespace mars {
namespace log {
namespace {

using namespace ::mars::log::test;  // NOLINT(build/namespaces)

constexpr uint64_t kSaltA = kSalt;  // the salt Expect() expects by default
constexpr uint64_t kSaltB = 0xBBBB000000000002ull;

// Appends records with these payload sizes (payload bytes from `seed`) and
// returns the file; `begins` gets each record's offset plus the final end.
// The first `synced` records are each synced before the next is appended
// (as is a continued log's start): later records show them durable.
File WriteLog(const std::vector<size_t>& sizes, uint64_t salt, uint32_t seed,
              std::vector<uint64_t>* begins = nullptr, File file = {},
              uint64_t first_number = 1, size_t synced = SIZE_MAX) {
  LogWriter writer;
  EXPECT_TRUE(writer.Init(WriterOptions(salt, file, first_number)).ok());
  // A continued log starts behind a durable prefix.
  if (synced > 0) writer.NoteDurable(writer.AppendedEnd());
  std::mt19937 rng(seed);
  for (size_t i = 0; i < sizes.size(); ++i) {
    const size_t size = sizes[i];
    std::vector<uint8_t> payload(size);
    for (auto& b : payload) b = static_cast<uint8_t>(rng());
    RecordFields fields;
    fields.stamp_ns = rng();
    fields.device_offset = uint64_t{4096} * (rng() % 1000);
    RecordPosition pos;
    EXPECT_TRUE(
        writer.Append(fields, Slice(payload.data(), payload.size()), &pos)
            .ok());
    if (begins != nullptr) begins->push_back(pos.begin);
    if (i < synced) TakeAllWritesSynced(&writer, &file);
  }
  if (begins != nullptr) begins->push_back(writer.AppendedEnd());
  TakeAllWrites(&writer, &file);
  return file;
}

// Every returned record must be byte-identical to the intact file there.
void ExpectOnlyIntactRecords(const ReadBack& back, const File& intact) {
  for (size_t i = 0; i < back.records.size(); ++i) {
    const uint64_t at = back.records[i].offset;
    ASSERT_LE(at + back.raw[i].size(), intact.size());
    EXPECT_TRUE(std::equal(back.raw[i].begin(), back.raw[i].end(),
                           intact.begin() + at))
        << "a damaged record was returned at " << at;
  }
}

// The defects a flipped bit at `byte` of a record header can cause.
bool DefectFitsByte(size_t byte, Defect defect) {
  if (byte < kVersionOffset) return defect == Defect::kBadMagic;
  if (byte < kHeaderLenOffset) return defect == Defect::kBadVersion;
  if (byte < kTotalLenOffset) {
    return defect == Defect::kBadHeaderLength || defect == Defect::kBadLength;
  }
  if (byte < kPayloadLenOffset) return defect == Defect::kBadLength;
  // A payload_len off by less than the padding keeps total_len consistent.
  if (byte < kSaltOffset) {
    return defect == Defect::kBadLength || defect == Defect::kBadChecksum;
  }
  return defect == Defect::kBadChecksum;
}

// Whether the record at `at` claims a format version above kVersion.
bool NewerVersion(const File& file, uint64_t at) {
  return DecodeFixed16(file.data() + at + kVersionOffset) > kVersion;
}

TEST(LogDamageTest, TornTailAtEveryByteOfTheLastRecord) {
  for (size_t last : {size_t{0}, size_t{1}, size_t{5}, size_t{8}, size_t{100},
                      size_t{4096}, size_t{4099}}) {
    std::vector<uint64_t> begins;
    const File file = WriteLog({30, 0, 77, last}, kSaltA, 1, &begins);
    const uint64_t start = begins[3];
    for (uint64_t cut = start; cut <= file.size(); ++cut) {
      const File torn(file.begin(), file.begin() + cut);
      const ReadBack back = ReadAll(torn);
      if (cut == file.size()) {
        EXPECT_EQ(back.records.size(), 4u);
        EXPECT_EQ(back.end.outcome, ReadOutcome::kCleanEnd);
        continue;
      }
      ASSERT_EQ(back.records.size(), 3u) << "cut " << cut;
      EXPECT_EQ(back.end.offset, start);
      if (cut == start) {
        EXPECT_EQ(back.end.outcome, ReadOutcome::kCleanEnd);
      } else {
        EXPECT_EQ(back.end.outcome, ReadOutcome::kTornTail) << "cut " << cut;
        EXPECT_EQ(back.end.defect, Defect::kTruncated);
      }
      // The same with preallocated zeros behind the cut (unless the cut
      // only lost zero padding bytes, which the zeros restore).
      File zeros = torn;
      zeros.resize(file.size() + 8192, 0);
      const bool restored =
          std::all_of(file.begin() + cut, file.end(),
                      [](uint8_t b) { return b == 0; });
      const ReadBack padded = ReadAll(zeros);
      EXPECT_EQ(padded.records.size(), restored ? 4u : 3u);
      EXPECT_EQ(padded.end.outcome, ReadOutcome::kTornTail) << "cut " << cut;
      EXPECT_EQ(padded.end.offset, restored ? file.size() : start);
      if (last <= 100) ExpectSameRead(back, ReadGrowing(torn));
    }
  }
}

TEST(LogDamageTest, FlippedBitInAMiddleRecordIsCorruptionAtItsOffset) {
  std::vector<uint64_t> begins;
  const File file = WriteLog({20, 13, 40}, kSaltA, 2, &begins);
  const uint64_t target = begins[1];
  const uint64_t size = begins[2] - begins[1];
  ASSERT_EQ(size, 88u);  // 72 + 13 + 3 padding bytes
  for (uint64_t bit = 0; bit < size * 8; ++bit) {
    File bad = file;
    const size_t byte = static_cast<size_t>(bit / 8);
    bad[target + byte] ^= static_cast<uint8_t>(1u << (bit % 8));
    const ReadBack back = ReadAll(bad);
    ASSERT_EQ(back.records.size(), 1u) << "bit " << bit;
    EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption) << "bit " << bit;
    EXPECT_EQ(back.end.offset, target);
    EXPECT_TRUE(DefectFitsByte(byte, back.end.defect))
        << "bit " << bit << ": " << DefectName(back.end.defect);
    // The evidence is the next record (a newer version is corruption by
    // itself, evidence at its own offset).
    EXPECT_EQ(back.end.resync_offset,
              NewerVersion(bad, target) ? target : begins[2]);
    ExpectOnlyIntactRecords(back, file);
    if (bit % 5 == 0) ExpectSameRead(back, ReadGrowing(bad));
  }
}

TEST(LogDamageTest, FlippedBitInTheLastRecordIsATornTail) {
  std::vector<uint64_t> begins;
  const File file = WriteLog({20, 13}, kSaltA, 3, &begins);
  const uint64_t target = begins[1];
  for (uint64_t bit = 0; bit < (file.size() - target) * 8; ++bit) {
    File bad = file;
    const size_t byte = static_cast<size_t>(bit / 8);
    bad[target + byte] ^= static_cast<uint8_t>(1u << (bit % 8));
    const ReadBack back = ReadAll(bad);
    ASSERT_EQ(back.records.size(), 1u) << "bit " << bit;
    EXPECT_EQ(back.end.offset, target);
    EXPECT_TRUE(DefectFitsByte(byte, back.end.defect));
    // Documented: the last record damaged is a torn tail, except a newer
    // version, which is never taken for the end of the log.
    EXPECT_EQ(back.end.outcome, NewerVersion(bad, target)
                                    ? ReadOutcome::kCorruption
                                    : ReadOutcome::kTornTail)
        << "bit " << bit;
    if (bit % 7 == 0) ExpectSameRead(back, ReadGrowing(bad));
  }
}

TEST(LogDamageTest, FlippedBitInTheFirstRecordWithTheSaltAdopted) {
  std::vector<uint64_t> begins;
  const File file = WriteLog({13, 20, 30}, kSaltA, 4, &begins);
  for (uint64_t bit = 0; bit < begins[1] * 8; bit += 3) {
    File bad = file;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    const ReadBack back = ReadAll(bad, LogReaderOptions());
    EXPECT_EQ(back.records.size(), 0u);
    EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption) << "bit " << bit;
    EXPECT_EQ(back.end.offset, 0u);
  }
}

TEST(LogDamageTest, LyingLengthFields) {
  std::vector<uint64_t> begins;
  const File file = WriteLog({10, 13, 10}, kSaltA, 5, &begins);
  const uint64_t target = begins[1];
  struct Lie {
    const char* name;
    size_t field;
    size_t width;
    uint32_t value;
    Defect defect;
  };
  const std::vector<Lie> lies = {
      {"total_len huge", kTotalLenOffset, 4, 0xFFFFFFF8u, Defect::kBadLength},
      {"total_len too small", kTotalLenOffset, 4, 8, Defect::kBadLength},
      {"total_len zero", kTotalLenOffset, 4, 0, Defect::kBadLength},
      {"payload_len huge", kPayloadLenOffset, 4, 0xFFFFFFFFu,
       Defect::kBadLength},
      {"header_len 0", kHeaderLenOffset, 2, 0, Defect::kBadHeaderLength},
      {"header_len huge", kHeaderLenOffset, 2, 0xFFF8,
       Defect::kBadHeaderLength},
  };
  for (const Lie& lie : lies) {
    File bad = file;
    if (lie.width == 2) {
      EncodeFixed16(bad.data() + target + lie.field,
                    static_cast<uint16_t>(lie.value));
    } else {
      EncodeFixed32(bad.data() + target + lie.field, lie.value);
    }
    ReadBack back = ReadAll(bad);
    EXPECT_EQ(back.records.size(), 1u) << lie.name;
    EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption) << lie.name;
    EXPECT_EQ(back.end.offset, target) << lie.name;
    EXPECT_EQ(back.end.defect, lie.defect) << lie.name;
    EXPECT_EQ(back.end.resync_offset, begins[2]) << lie.name;
    // As the last record: a torn tail.
    const File tail(bad.begin(), bad.begin() + begins[2]);
    back = ReadAll(tail);
    EXPECT_EQ(back.end.outcome, ReadOutcome::kTornTail) << lie.name;
    EXPECT_EQ(back.end.defect, lie.defect) << lie.name;
  }
  // Consistent lengths pointing past the end of the file: undecidable while
  // the file may grow; at the end a tail, in the middle corruption.
  File bad = file;
  EncodeFixed32(bad.data() + target + kPayloadLenOffset, kMaxPayloadBytes);
  EncodeFixed32(bad.data() + target + kTotalLenOffset,
                RecordBytes(kWrittenHeaderBytes, kMaxPayloadBytes));
  ReadBack back = ReadAll(bad);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption);
  EXPECT_EQ(back.end.defect, Defect::kTruncated);
  EXPECT_EQ(back.end.resync_offset, begins[2]);
  ExpectSameRead(back, ReadGrowing(bad));
  back = ReadAll(File(bad.begin(), bad.begin() + begins[2]));
  EXPECT_EQ(back.end.outcome, ReadOutcome::kTornTail);
  EXPECT_EQ(back.end.defect, Defect::kTruncated);
  // Consistent lengths that stay inside the file: the CRC fails.
  bad = file;
  EncodeFixed32(bad.data() + target + kPayloadLenOffset, 16);
  EncodeFixed32(bad.data() + target + kTotalLenOffset,
                RecordBytes(kWrittenHeaderBytes, 16));
  back = ReadAll(bad);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption);
  EXPECT_EQ(back.end.defect, Defect::kBadChecksum);
}

TEST(LogDamageTest, NewerFormatVersionIsNeverTheEndOfTheLog) {
  std::vector<uint64_t> begins;
  const File file = WriteLog({10, 20}, kSaltA, 20, &begins);
  File newer = file;
  EncodeFixed16(newer.data() + begins[1] + kVersionOffset, kVersion + 1);
  ReadBack back = ReadAll(newer);
  EXPECT_EQ(back.records.size(), 1u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption);
  EXPECT_EQ(back.end.defect, Defect::kBadVersion);
  EXPECT_EQ(back.end.offset, begins[1]);
  ExpectSameRead(back, ReadGrowing(newer));
  // Version 0 is never written by anyone: ordinary damage, here a tail.
  File zero = file;
  EncodeFixed16(zero.data() + begins[1] + kVersionOffset, 0);
  back = ReadAll(zero);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kTornTail);
  EXPECT_EQ(back.end.defect, Defect::kBadVersion);
}

TEST(LogDamageTest, GarbageAndZeroTails) {
  std::vector<uint64_t> begins;
  const File file = WriteLog({100, 200, 300}, kSaltA, 6, &begins);
  std::mt19937 rng(6);
  File garbage = file;
  for (int i = 0; i < 5000; ++i) garbage.push_back(static_cast<uint8_t>(rng()));
  ReadBack back = ReadAll(garbage);
  EXPECT_EQ(back.records.size(), 3u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kTornTail);
  EXPECT_EQ(back.end.offset, file.size());
  ExpectSameRead(back, ReadGrowing(garbage));

  File zeros = file;
  zeros.resize(file.size() + (1 << 20), 0);
  back = ReadAll(zeros);
  EXPECT_EQ(back.records.size(), 3u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kTornTail);
  EXPECT_EQ(back.end.defect, Defect::kZeroes);
  EXPECT_EQ(back.end.offset, file.size());
}

TEST(LogDamageTest, GarbageRecordInTheMiddleIsCorruption) {
  std::vector<uint64_t> begins;
  const File file = WriteLog({50, 500, 60, 70}, kSaltA, 7, &begins);
  File bad = file;
  std::mt19937 rng(7);
  for (uint64_t i = begins[1]; i < begins[2]; ++i) {
    bad[i] = static_cast<uint8_t>(rng());
  }
  const ReadBack back = ReadAll(bad);
  EXPECT_EQ(back.records.size(), 1u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption);
  EXPECT_EQ(back.end.offset, begins[1]);
  EXPECT_EQ(back.end.resync_offset, begins[2]);
  ExpectSameRead(back, ReadGrowing(bad));
}

// A crash may persist a later part of an unsynced chunk write while an
// earlier sector is still old: valid records behind damage are reported as
// corruption (with the evidence offset), never skipped over.
TEST(LogDamageTest, UnwrittenSectorBeforeValidRecordsIsCorruption) {
  std::vector<uint64_t> begins;
  const File file =
      WriteLog({4000, 4000, 4000, 4000, 4000}, kSaltA, 8, &begins);
  File bad = file;
  std::fill(bad.begin() + 8192, bad.begin() + 8704, 0);  // one sector
  const ReadBack back = ReadAll(bad);
  EXPECT_EQ(back.records.size(), 2u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption);
  EXPECT_EQ(back.end.offset, begins[2]);
  EXPECT_EQ(back.end.defect, Defect::kBadChecksum);
  EXPECT_EQ(back.end.resync_offset, begins[3]);
}

TEST(LogDamageTest, StaleRecordsAfterASaltChangeAreAnOlderIncarnation) {
  std::vector<size_t> sizes_a(40), sizes_b(12);
  std::mt19937 rng(9);
  for (auto& s : sizes_a) s = rng() % 800;
  for (auto& s : sizes_b) s = rng() % 800;
  const File old_log = WriteLog(sizes_a, kSaltA, 9);
  std::vector<uint64_t> begins_b;
  const File new_log = WriteLog(sizes_b, kSaltB, 10, &begins_b);
  ASSERT_LT(new_log.size(), old_log.size());
  File reused = old_log;
  std::copy(new_log.begin(), new_log.end(), reused.begin());
  for (const LogReaderOptions& options : {Expect(kSaltB), LogReaderOptions()}) {
    const ReadBack back = ReadAll(reused, options);
    EXPECT_EQ(back.records.size(), sizes_b.size());
    EXPECT_EQ(back.end.outcome, ReadOutcome::kOlderIncarnation);
    EXPECT_EQ(back.end.offset, new_log.size());
    ExpectOnlyIntactRecords(back, new_log);
    ExpectSameRead(back, ReadGrowing(reused, options));
  }
  // The new incarnation torn in its last record: still the end of the log.
  File torn = reused;
  std::copy(old_log.begin() + begins_b[11] + 10,
            old_log.begin() + begins_b[12], torn.begin() + begins_b[11] + 10);
  const ReadBack back = ReadAll(torn, Expect(kSaltB));
  EXPECT_EQ(back.records.size(), sizes_b.size() - 1);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kOlderIncarnation);
  EXPECT_EQ(back.end.offset, begins_b[11]);
}

TEST(LogDamageTest, StaleRecordAtARecordBoundaryIsForeign) {
  // Same sizes: the new log ends exactly where an old record starts.
  const std::vector<size_t> sizes(20, 200);
  const File old_log = WriteLog(sizes, kSaltA, 11);
  const File new_log = WriteLog(std::vector<size_t>(8, 200), kSaltB, 12);
  File reused = old_log;
  std::copy(new_log.begin(), new_log.end(), reused.begin());
  const ReadBack back = ReadAll(reused, Expect(kSaltB));
  EXPECT_EQ(back.records.size(), 8u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kOlderIncarnation);
  EXPECT_EQ(back.end.offset, new_log.size());
  EXPECT_EQ(back.end.defect, Defect::kForeignRecord);
  // Read as the old incarnation, the file is a damaged log: its own later
  // records follow the foreign ones.
  const ReadBack as_old = ReadAll(reused, Expect(kSaltA));
  EXPECT_EQ(as_old.records.size(), 0u);
  EXPECT_EQ(as_old.end.outcome, ReadOutcome::kCorruption);
  EXPECT_EQ(as_old.end.resync_offset, new_log.size());
}

TEST(LogDamageTest, ForeignRecordInTheMiddleIsCorruption) {
  std::vector<uint64_t> begins;
  File file = WriteLog({10, 20, 30}, kSaltA, 13, &begins);
  const uint64_t foreign_at = file.size();
  file = WriteLog({40}, kSaltB, 14, nullptr, file, 4);
  const uint64_t resume_at = file.size();
  file = WriteLog({50, 60}, kSaltA, 15, nullptr, file, 4);
  const ReadBack back = ReadAll(file);
  EXPECT_EQ(back.records.size(), 3u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption);
  EXPECT_EQ(back.end.offset, foreign_at);
  EXPECT_EQ(back.end.defect, Defect::kForeignRecord);
  EXPECT_EQ(back.end.resync_offset, resume_at);
}

// A crash may persist a later unsynced record but not an earlier one. The
// records behind the damage carry the durable end their writer knew: as long
// as none shows the damaged record durable, the log ends there (torn tail);
// once one does, the damage is corruption.
TEST(LogDamageTest, DamageBehindTheDurableEndIsATornTail) {
  std::vector<uint64_t> begins;
  // Records 1 and 2 synced one by one; 3, 4 and 5 never synced.
  const File file =
      WriteLog({30, 40, 4000, 50, 60}, kSaltA, 21, &begins, {}, 1, 2);
  struct Case {
    size_t record;  // 0-based record that is damaged
    ReadOutcome outcome;
  };
  for (const Case& c :
       {Case{0, ReadOutcome::kCorruption}, Case{1, ReadOutcome::kCorruption},
        Case{2, ReadOutcome::kTornTail}, Case{3, ReadOutcome::kTornTail}}) {
    const uint64_t target = begins[c.record];
    // A lost sector inside the record, and a flipped header bit.
    for (uint64_t damage_at : {target + 8, target + kHeaderBytes + 1}) {
      File bad = file;
      const uint64_t sector = damage_at & ~uint64_t{511};
      const uint64_t sector_end =
          std::min<uint64_t>(sector + 512, begins[c.record + 1]);
      if (damage_at == target + 8) {
        bad[damage_at] ^= 0x40;
      } else {
        std::fill(bad.begin() + static_cast<long>(std::max(sector, target)),
                  bad.begin() + static_cast<long>(sector_end), 0);
      }
      const ReadBack back = ReadAll(bad);
      EXPECT_EQ(back.records.size(), c.record) << "record " << c.record;
      EXPECT_EQ(back.end.outcome, c.outcome) << "record " << c.record;
      EXPECT_EQ(back.end.offset, target);
      if (c.outcome == ReadOutcome::kCorruption) {
        // The evidence is the first record whose writer knew it durable.
        EXPECT_EQ(back.end.resync_offset, begins[c.record + 1]);
      }
      ExpectOnlyIntactRecords(back, file);
      ExpectSameRead(back, ReadGrowing(bad));
    }
  }
}

// Records of a writer before revision 1.1 carry no durable end: every valid
// record of the log behind damage proves corruption, as before.
TEST(LogDamageTest, RecordsWithoutDurableEndStillProveCorruption) {
  std::vector<uint64_t> begins;
  File file = WriteLog({30, 40, 50}, kSaltA, 22, &begins, {}, 1, 0);
  // Rewrite record 3 with a 64-byte header (no extension).
  RecordHeader header;
  Defect defect = Defect::kNone;
  ASSERT_EQ(ParseRecord(file.data() + begins[2], begins[3] - begins[2], &header,
                        &defect),
            ParseState::kComplete);
  const std::vector<uint8_t> payload(
      file.begin() + static_cast<long>(begins[2] + header.header_len),
      file.begin() + static_cast<long>(begins[2] + header.header_len +
                                       header.payload_len));
  header.header_len = kHeaderBytes;
  header.total_len = RecordBytes(kHeaderBytes, header.payload_len);
  file.resize(begins[2]);
  File old_record(header.total_len, 0);
  EncodeHeader(header, old_record.data());
  std::copy(payload.begin(), payload.end(), old_record.begin() + kHeaderBytes);
  EncodeFixed32(old_record.data() + kCrcOffset,
                RecordCrc(old_record.data(), header.total_len));
  file.insert(file.end(), old_record.begin(), old_record.end());
  ASSERT_EQ(ReadAll(file).end.outcome, ReadOutcome::kCleanEnd);

  File bad = file;
  bad[begins[1] + 20] ^= 1;
  const ReadBack back = ReadAll(bad);
  EXPECT_EQ(back.records.size(), 1u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kCorruption);
  EXPECT_EQ(back.end.offset, begins[1]);
  EXPECT_EQ(back.end.resync_offset, begins[2]);
  ExpectSameRead(back, ReadGrowing(bad));
}

// A torn record whose payload holds a copy of an earlier record of the same
// log (e.g. the device stores a backup of /mars): the copy has a lower
// number, so it is no evidence of corruption.
TEST(LogDamageTest, EarlierRecordCopiedIntoATornPayloadIsNoEvidence) {
  std::vector<uint64_t> begins;
  const File first = WriteLog({100, 200}, kSaltA, 16, &begins);
  const File copy(first.begin() + begins[1], first.begin() + begins[2]);
  // Record 3's payload starts with the bytes of record 2.
  LogWriterOptions options;
  options.salt = kSaltA;
  options.logfile_number = kLogfile;
  options.start_offset = first.size();
  options.next_record_number = 3;
  LogWriter writer;
  ASSERT_TRUE(writer.Init(options).ok());
  File payload = copy;
  payload.resize(copy.size() + 1000, 0x5A);
  RecordPosition pos;
  ASSERT_TRUE(writer
                  .Append(RecordFields(), Slice(payload.data(), payload.size()),
                          &pos)
                  .ok());
  File file = first;
  LogWrite write;
  while (writer.TakeWrite(TakePolicy::kAll, &write)) {
    file.insert(file.end(), write.data, write.data + write.size);
  }
  file.resize(pos.end - 100);  // torn after the embedded copy
  const ReadBack back = ReadAll(file);
  EXPECT_EQ(back.records.size(), 2u);
  EXPECT_EQ(back.end.outcome, ReadOutcome::kTornTail);
  EXPECT_EQ(back.end.offset, pos.begin);
}

TEST(LogDamageTest, RandomDamageNeverYieldsADamagedRecord) {
  std::mt19937 rng(17);
  for (int round = 0; round < 300; ++round) {
    std::vector<size_t> sizes(1 + rng() % 12);
    for (auto& s : sizes) s = rng() % 600;
    const File file = WriteLog(sizes, kSaltA, round);
    File bad = file;
    const int kind = round % 4;
    if (kind == 0) {  // a few random bytes
      for (int i = 0; i < 1 + static_cast<int>(rng() % 4); ++i) {
        bad[rng() % bad.size()] = static_cast<uint8_t>(rng());
      }
    } else if (kind == 1) {  // truncation
      bad.resize(rng() % (bad.size() + 1));
    } else if (kind == 2) {  // a zeroed range
      const size_t from = rng() % bad.size();
      const size_t to = std::min(bad.size(), from + rng() % 700);
      std::fill(bad.begin() + from, bad.begin() + to, 0);
    } else {  // random bytes appended after a truncation
      bad.resize(rng() % (bad.size() + 1));
      for (int i = 0; i < static_cast<int>(rng() % 300); ++i) {
        bad.push_back(static_cast<uint8_t>(rng()));
      }
    }
    const ReadBack back = ReadAll(bad);
    ExpectOnlyIntactRecords(back, file);
    EXPECT_NE(back.end.outcome, ReadOutcome::kNeedMore);
    EXPECT_NE(back.end.outcome, ReadOutcome::kUnsupported);
    if (round % 10 == 0) ExpectSameRead(back, ReadGrowing(bad));
  }
}

}  // namespace
}  // namespace log
}  // namespace mars
