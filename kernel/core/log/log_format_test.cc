// Tests of the record codec, checksum and structural check (log_format.h),
// including the golden record printed in docu/log-format.md.
#include "core/log/log_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/base/crc32c.h"
#include "core/log/log_writer.h"

namespace mars {
namespace log {
namespace {

// The documented example record: logfile 7, first record, 5-byte payload.
constexpr uint64_t kGoldenSalt = 0x0123456789ABCDEFull;
constexpr uint64_t kGoldenLogfile = 7;
constexpr uint64_t kGoldenStamp = 1700000000123456789ull;
constexpr uint64_t kGoldenDeviceOffset = 4096;

// The exact bytes, 16 per line, as in docu/log-format.md ("Worked example").
constexpr const char* kGoldenHex =
    "4d 4c 4f 47 01 00 48 00 50 00 00 00 05 00 00 00\n"
    "ef cd ab 89 67 45 23 01 07 00 00 00 00 00 00 00\n"
    "01 00 00 00 00 00 00 00 15 cd 85 3d fe 9c 97 17\n"
    "00 10 00 00 00 00 00 00 01 00 00 00 2c ba 1a ce\n"
    "00 00 00 00 00 00 00 00 68 65 6c 6c 6f 00 00 00\n";

// The same record as a writer before revision 1.1 wrote it (64-byte header,
// no durable_end). Readers must keep accepting it.
constexpr const char* kGoldenRevision10Hex =
    "4d 4c 4f 47 01 00 40 00 48 00 00 00 05 00 00 00\n"
    "ef cd ab 89 67 45 23 01 07 00 00 00 00 00 00 00\n"
    "01 00 00 00 00 00 00 00 15 cd 85 3d fe 9c 97 17\n"
    "00 10 00 00 00 00 00 00 01 00 00 00 78 f4 d1 0c\n"
    "68 65 6c 6c 6f 00 00 00\n";

std::vector<uint8_t> FromHex(const char* hex) {
  std::vector<uint8_t> out;
  unsigned value = 0;
  int consumed = 0;
  while (sscanf(hex, " %2x%n", &value, &consumed) == 1) {
    out.push_back(static_cast<uint8_t>(value));
    hex += consumed;
  }
  return out;
}

std::string HexLines(const uint8_t* data, size_t size) {
  std::string out;
  char byte[4];
  for (size_t i = 0; i < size; ++i) {
    snprintf(byte, sizeof(byte), "%02x", data[i]);
    out += byte;
    out += (i % 16 == 15 || i + 1 == size) ? "\n" : " ";
  }
  return out;
}

std::vector<uint8_t> GoldenRecordFromWriter() {
  LogWriterOptions options;
  options.salt = kGoldenSalt;
  options.logfile_number = kGoldenLogfile;
  LogWriter writer;
  EXPECT_TRUE(writer.Init(options).ok());
  RecordFields fields;
  fields.stamp_ns = kGoldenStamp;
  fields.device_offset = kGoldenDeviceOffset;
  RecordPosition position;
  EXPECT_TRUE(writer.Append(fields, Slice("hello", 5), &position).ok());
  LogWrite write;
  EXPECT_TRUE(writer.TakeWrite(TakePolicy::kAll, &write));
  return std::vector<uint8_t>(write.data, write.data + write.size);
}

TEST(LogFormatTest, GoldenRecordBytes) {
  const std::vector<uint8_t> record = GoldenRecordFromWriter();
  ASSERT_EQ(record.size(), 80u);
  EXPECT_EQ(HexLines(record.data(), record.size()), kGoldenHex)
      << "the format changed: update docu/log-format.md and bump kVersion";
}

TEST(LogFormatTest, GoldenRecordParses) {
  const std::vector<uint8_t> record = GoldenRecordFromWriter();
  RecordHeader header;
  Defect defect = Defect::kNone;
  ASSERT_EQ(ParseRecord(record.data(), record.size(), &header, &defect),
            ParseState::kComplete);
  EXPECT_EQ(header.version, 1);
  EXPECT_EQ(header.header_len, 72);
  EXPECT_EQ(header.total_len, 80u);
  EXPECT_EQ(header.payload_len, 5u);
  EXPECT_EQ(header.salt, kGoldenSalt);
  EXPECT_EQ(header.logfile_number, kGoldenLogfile);
  EXPECT_EQ(header.record_number, 1u);
  EXPECT_EQ(header.stamp_ns, kGoldenStamp);
  EXPECT_EQ(header.device_offset, kGoldenDeviceOffset);
  EXPECT_EQ(header.flags, uint32_t{kKindWrite});
  EXPECT_TRUE(header.has_durable_end());
  EXPECT_EQ(header.durable_end, 0u);
  EXPECT_EQ(header.crc, 0xCE1ABA2Cu);
  // The CRC is CRC-32C of bytes [0,60) ++ [64,80), the CRC field excluded.
  std::vector<uint8_t> covered(record.begin(), record.begin() + 60);
  covered.insert(covered.end(), record.begin() + 64, record.end());
  EXPECT_EQ(crc32c::Value(covered.data(), covered.size()), header.crc);
}

TEST(LogFormatTest, RevisionOneZeroRecordStillParses) {
  const std::vector<uint8_t> record = FromHex(kGoldenRevision10Hex);
  ASSERT_EQ(record.size(), 72u);
  RecordHeader header;
  Defect defect = Defect::kNone;
  ASSERT_EQ(ParseRecord(record.data(), record.size(), &header, &defect),
            ParseState::kComplete);
  EXPECT_EQ(header.header_len, 64);
  EXPECT_FALSE(header.has_durable_end());
  EXPECT_EQ(header.durable_end, 0u);
  EXPECT_EQ(header.record_number, 1u);
  EXPECT_EQ(header.crc, 0x0CD1F478u);
}

TEST(LogFormatTest, EncodeDecodeRoundTripAndFieldOffsets) {
  RecordHeader in;
  in.version = 0x0102;
  in.header_len = 0x0304;
  in.total_len = 0x05060708;
  in.payload_len = 0x090A0B0C;
  in.salt = 0x1112131415161718ull;
  in.logfile_number = 0x2122232425262728ull;
  in.record_number = 0x3132333435363738ull;
  in.stamp_ns = 0x4142434445464748ull;
  in.device_offset = 0x5152535455565758ull;
  in.flags = 0x61626364;
  in.crc = 0x71727374;
  in.durable_end = 0x8182838485868788ull;
  uint8_t bytes[kDurableEndHeaderBytes];
  EncodeHeader(in, bytes);
  EXPECT_EQ(DecodeFixed32(bytes + kMagicOffset), kMagic);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(bytes), 4), "MLOG");
  EXPECT_EQ(DecodeFixed16(bytes + kVersionOffset), in.version);
  EXPECT_EQ(DecodeFixed16(bytes + kHeaderLenOffset), in.header_len);
  EXPECT_EQ(DecodeFixed32(bytes + kTotalLenOffset), in.total_len);
  EXPECT_EQ(DecodeFixed32(bytes + kPayloadLenOffset), in.payload_len);
  EXPECT_EQ(DecodeFixed64(bytes + kSaltOffset), in.salt);
  EXPECT_EQ(DecodeFixed64(bytes + kLogfileNumberOffset), in.logfile_number);
  EXPECT_EQ(DecodeFixed64(bytes + kRecordNumberOffset), in.record_number);
  EXPECT_EQ(DecodeFixed64(bytes + kStampOffset), in.stamp_ns);
  EXPECT_EQ(DecodeFixed64(bytes + kDeviceOffsetOffset), in.device_offset);
  EXPECT_EQ(DecodeFixed32(bytes + kFlagsOffset), in.flags);
  EXPECT_EQ(DecodeFixed32(bytes + kCrcOffset), in.crc);
  EXPECT_EQ(DecodeFixed64(bytes + kDurableEndOffset), in.durable_end);
  // Little-endian: the lowest byte first.
  EXPECT_EQ(bytes[kSaltOffset], 0x18);
  EXPECT_EQ(bytes[kSaltOffset + 7], 0x11);

  RecordHeader out;
  DecodeHeader(bytes, sizeof(bytes), &out);
  EXPECT_EQ(out.version, in.version);
  EXPECT_EQ(out.header_len, in.header_len);
  EXPECT_EQ(out.total_len, in.total_len);
  EXPECT_EQ(out.payload_len, in.payload_len);
  EXPECT_EQ(out.salt, in.salt);
  EXPECT_EQ(out.logfile_number, in.logfile_number);
  EXPECT_EQ(out.record_number, in.record_number);
  EXPECT_EQ(out.stamp_ns, in.stamp_ns);
  EXPECT_EQ(out.device_offset, in.device_offset);
  EXPECT_EQ(out.flags, in.flags);
  EXPECT_EQ(out.crc, in.crc);
  EXPECT_EQ(out.durable_end, in.durable_end);
  EXPECT_EQ(out.kind(), 0x64);
  EXPECT_FALSE(out.ignorable());

  // The extension is read only when header_len announces it and the bytes
  // are there.
  RecordHeader partial;
  DecodeHeader(bytes, kHeaderBytes, &partial);
  EXPECT_EQ(partial.durable_end, 0u);
  EncodeFixed16(bytes + kHeaderLenOffset, kHeaderBytes);
  DecodeHeader(bytes, sizeof(bytes), &partial);
  EXPECT_FALSE(partial.has_durable_end());
  EXPECT_EQ(partial.durable_end, 0u);
}

TEST(LogFormatTest, RecordBytesPadsToEight) {
  EXPECT_EQ(RecordBytes(64, 0), 64u);
  EXPECT_EQ(RecordBytes(64, 1), 72u);
  EXPECT_EQ(RecordBytes(64, 8), 72u);
  EXPECT_EQ(RecordBytes(64, 9), 80u);
  EXPECT_EQ(RecordBytes(64, 4096), 4160u);
  EXPECT_EQ(RecordBytes(kMaxHeaderBytes, kMaxPayloadBytes), kMaxRecordBytes);
  static_assert(kMaxRecordBytes % kAlignment == 0, "aligned maximum");
}

TEST(LogFormatTest, UnderstoodFlags) {
  EXPECT_TRUE(IsUnderstood(kKindWrite));
  EXPECT_TRUE(IsUnderstood(kKindWrite | kFlagIgnorable));
  EXPECT_FALSE(IsUnderstood(0));
  EXPECT_FALSE(IsUnderstood(2));
  EXPECT_FALSE(IsUnderstood(kKindWrite | 0x100));
  EXPECT_FALSE(IsUnderstood(kKindWrite | 0x40000000));
}

TEST(LogFormatTest, DefectNamesAreDistinct) {
  std::set<std::string> names;
  for (int d = 0; d <= static_cast<int>(Defect::kUnknownKind); ++d) {
    names.insert(DefectName(static_cast<Defect>(d)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(Defect::kUnknownKind) + 1);
  EXPECT_STREQ(DefectName(Defect::kBadChecksum), "bad-checksum");
}

// ParseRecord over an exact-size heap copy, so ASan catches any read beyond
// `available`.
ParseState ParseExact(const std::vector<uint8_t>& bytes, size_t available,
                      Defect* defect) {
  std::vector<uint8_t> copy(bytes.begin(), bytes.begin() + available);
  RecordHeader header;
  *defect = Defect::kNone;
  return ParseRecord(copy.data(), copy.size(), &header, defect);
}

TEST(LogFormatTest, ParsePrefixesAreIncompleteNeverInvalid) {
  const std::vector<uint8_t> record = GoldenRecordFromWriter();
  for (size_t n = 0; n < record.size(); ++n) {
    Defect defect;
    EXPECT_EQ(ParseExact(record, n, &defect), ParseState::kIncomplete) << n;
  }
  Defect defect;
  EXPECT_EQ(ParseExact(record, record.size(), &defect), ParseState::kComplete);
}

TEST(LogFormatTest, DefectIsNamedOnlyWhenDecided) {
  // 1-3 zero bytes could still become kZeroes or kBadMagic: undecided.
  const std::vector<uint8_t> zeros(4, 0);
  const std::vector<uint8_t> mixed = {0, 0, 0, 4};
  Defect defect;
  for (size_t n = 1; n < 4; ++n) {
    EXPECT_EQ(ParseExact(zeros, n, &defect), ParseState::kIncomplete) << n;
    EXPECT_EQ(ParseExact(mixed, n, &defect), ParseState::kIncomplete) << n;
  }
  EXPECT_EQ(ParseExact(zeros, 4, &defect), ParseState::kInvalid);
  EXPECT_EQ(defect, Defect::kZeroes);
  EXPECT_EQ(ParseExact(mixed, 4, &defect), ParseState::kInvalid);
  EXPECT_EQ(defect, Defect::kBadMagic);
  // A non-zero wrong byte decides at once.
  const std::vector<uint8_t> other = {'X'};
  EXPECT_EQ(ParseExact(other, 1, &defect), ParseState::kInvalid);
  EXPECT_EQ(defect, Defect::kBadMagic);
}

TEST(LogFormatTest, ParseReportsEachDefect) {
  const std::vector<uint8_t> good = GoldenRecordFromWriter();
  struct Case {
    const char* name;
    size_t offset;
    std::vector<uint8_t> bytes;
    Defect expected;
  };
  const std::vector<Case> cases = {
      {"zero magic", 0, {0, 0, 0, 0}, Defect::kZeroes},
      {"other magic", 0, {'M', 'L', 'O', 'X'}, Defect::kBadMagic},
      {"version 0", 4, {0, 0}, Defect::kBadVersion},
      {"version 2", 4, {2, 0}, Defect::kBadVersion},
      {"header_len 0", 6, {0, 0}, Defect::kBadHeaderLength},
      {"header_len 63", 6, {63, 0}, Defect::kBadHeaderLength},
      {"header_len 68", 6, {68, 0}, Defect::kBadHeaderLength},
      {"header_len 2048", 6, {0, 8}, Defect::kBadHeaderLength},
      {"total_len too small", 8, {0x40, 0, 0, 0}, Defect::kBadLength},
      {"total_len unaligned", 8, {0x45, 0, 0, 0}, Defect::kBadLength},
      {"total_len huge", 8, {0xff, 0xff, 0xff, 0xff}, Defect::kBadLength},
      {"payload_len huge", 12, {0xff, 0xff, 0xff, 0x7f}, Defect::kBadLength},
      {"payload_len over max", 12, {0x01, 0x00, 0x10, 0x00},
       Defect::kBadLength},
      {"payload changed", 64, {'j'}, Defect::kBadChecksum},
      {"padding changed", 70, {1}, Defect::kBadChecksum},
      {"crc changed", 60, {0xa4}, Defect::kBadChecksum},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> bad = good;
    std::copy(c.bytes.begin(), c.bytes.end(), bad.begin() + c.offset);
    Defect defect;
    EXPECT_EQ(ParseExact(bad, bad.size(), &defect), ParseState::kInvalid)
        << c.name;
    EXPECT_EQ(defect, c.expected) << c.name;
    // A defect in the first 16 bytes shows as soon as its group is there:
    // the magic byte by byte, version and header_len with 8 bytes, the
    // lengths with 16.
    if (c.offset < kSaltOffset) {
      const size_t group_end = c.offset < kVersionOffset
                                   ? c.offset + c.bytes.size()
                                   : (c.offset < kTotalLenOffset ? 8 : 16);
      EXPECT_EQ(ParseExact(bad, group_end, &defect), ParseState::kInvalid)
          << c.name;
      EXPECT_EQ(defect, c.expected) << c.name;
    }
  }
}

TEST(LogFormatTest, LengthPointingPastTheEndIsIncomplete) {
  std::vector<uint8_t> bad = GoldenRecordFromWriter();
  // A consistent but larger length: undecidable until the bytes exist.
  EncodeFixed32(bad.data() + kPayloadLenOffset, kMaxPayloadBytes);
  EncodeFixed32(bad.data() + kTotalLenOffset,
                RecordBytes(kWrittenHeaderBytes, kMaxPayloadBytes));
  Defect defect;
  EXPECT_EQ(ParseExact(bad, bad.size(), &defect), ParseState::kIncomplete);
}

TEST(LogFormatTest, HeaderExtensionIsCoveredAndSkipped) {
  // A (future) header of 80 bytes: durable_end and 8 unknown extension
  // bytes before the payload.
  RecordHeader header;
  header.header_len = 80;
  header.payload_len = 3;
  header.total_len = RecordBytes(80, 3);
  header.salt = 5;
  header.record_number = 1;
  header.flags = kKindWrite;
  std::vector<uint8_t> bytes(header.total_len, 0);
  EncodeHeader(header, bytes.data());
  for (int i = 0; i < 8; ++i) bytes[72 + i] = static_cast<uint8_t>(0xE0 + i);
  bytes[80] = 'a';
  bytes[81] = 'b';
  bytes[82] = 'c';
  EncodeFixed32(bytes.data() + kCrcOffset,
                RecordCrc(bytes.data(), header.total_len));
  Defect defect;
  ASSERT_EQ(ParseExact(bytes, bytes.size(), &defect), ParseState::kComplete);
  bytes[74] ^= 1;  // the extension is covered by the CRC
  EXPECT_EQ(ParseExact(bytes, bytes.size(), &defect), ParseState::kInvalid);
  EXPECT_EQ(defect, Defect::kBadChecksum);
}

}  // namespace
}  // namespace log
}  // namespace mars
