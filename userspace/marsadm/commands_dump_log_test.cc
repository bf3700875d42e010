// Tests of `marsadm dump-log` on logfiles written by the core's LogWriter:
// good, empty, torn, zero-padded, corrupt, unreadable, and larger than the
// reading window.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "command_test_env.h"
#include "core/base/slice.h"
#include "core/log/log_writer.h"

namespace mars::cli {
namespace {

std::string LastLine(const std::string& text) {
  const auto end = text.rfind('\n', text.size() - 2);
  return text.substr(end == std::string::npos ? 0 : end + 1);
}

class DumpLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mars-dumplog-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/log-000000007-hostA";
  }
  void TearDown() override {
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }

  // Writes `payload_sizes.size()` records with the core's LogWriter, each
  // synced before the next (so later records show earlier ones durable);
  // returns their positions.
  std::vector<log::RecordPosition> WriteLog(
      const std::vector<size_t>& payload_sizes) {
    log::LogWriterOptions options;
    options.salt = 0x5A17;
    options.logfile_number = 7;
    options.chunk_bytes = size_t{1} << 20;
    options.chunk_count = 4;
    log::LogWriter writer;
    EXPECT_TRUE(writer.Init(options).ok());
    std::vector<uint8_t> file;
    std::vector<log::RecordPosition> positions;
    for (size_t i = 0; i < payload_sizes.size(); ++i) {
      std::vector<uint8_t> payload(payload_sizes[i], static_cast<uint8_t>(i));
      log::RecordFields fields;
      fields.stamp_ns = 1700000000000000000ull + i;
      fields.device_offset = 4096 * i;
      log::RecordPosition position;
      EXPECT_TRUE(
          writer
              .Append(fields, Slice(payload.data(), payload.size()), &position)
              .ok());
      positions.push_back(position);
      log::LogWrite write;
      while (writer.TakeWrite(log::TakePolicy::kAll, &write)) {
        if (file.size() < write.end()) file.resize(write.end());
        std::memcpy(file.data() + write.file_offset, write.data, write.size);
      }
      EXPECT_TRUE(writer.Release(writer.TakenEnd()).ok());
      writer.NoteDurable(writer.TakenEnd());  // synced record by record
    }
    std::ofstream(path_, std::ios::binary)
        .write(reinterpret_cast<const char*>(file.data()),
               static_cast<std::streamsize>(file.size()));
    return positions;
  }

  void Resize(uint64_t size) {
    ASSERT_EQ(truncate(path_.c_str(), static_cast<off_t>(size)), 0);
  }
  void FlipByte(uint64_t offset) {
    std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    file.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    file.seekp(static_cast<std::streamoff>(offset));
    file.write(&c, 1);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(DumpLogTest, GoodLogPrintsEveryRecord) {
  const auto positions = WriteLog({100, 0, 4096});
  const RunResult r = RunMarsadm({"dump-log", path_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(LineCount(r.out), 5) << r.out;
  EXPECT_TRUE(Has(r.out, "file=" + path_ + " size=" +
                                  std::to_string(positions[2].end) + "\n"));
  EXPECT_TRUE(Has(
      r.out, "record=1 offset=0 length=" + std::to_string(positions[0].end) +
                 " stamp_ns=1700000000000000000 device_offset=0 "
                 "durable_end=0 payload_bytes=100 flags=0x00000001 "
                 "kind=write crc=ok\n"))
      << r.out;
  EXPECT_TRUE(Has(
      r.out, "record=3 offset=" + std::to_string(positions[2].begin) + " "));
  EXPECT_EQ(LastLine(r.out),
            "end=clean-end offset=" + std::to_string(positions[2].end) +
                " records=3 ignored_records=0 padding_records=0 "
                "salt=0x0000000000005a17 "
                "logfile_number=7\n");
}

TEST_F(DumpLogTest, EmptyFileIsACleanEnd) {
  WriteLog({});
  const RunResult r = RunMarsadm({"dump-log", path_});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(LastLine(r.out),
            "end=clean-end offset=0 records=0 ignored_records=0 "
            "padding_records=0\n");
}

TEST_F(DumpLogTest, TornTailIsReportedAndExitsZero) {
  const auto positions = WriteLog({100, 200, 300});
  Resize(positions[2].begin + 40);  // the last record is cut
  const RunResult r = RunMarsadm({"dump-log", path_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(LineCount(r.out), 4);
  EXPECT_TRUE(
      Has(LastLine(r.out),
               "end=torn-tail offset=" + std::to_string(positions[2].begin) +
                   " defect=truncated tail_bytes=40 records=2 "))
      << r.out;
}

TEST_F(DumpLogTest, ZeroPaddingAfterTheLogIsATornTail) {
  const auto positions = WriteLog({100});
  Resize(positions[0].end + 65536);
  const RunResult r = RunMarsadm({"dump-log", path_});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(Has(LastLine(r.out), "end=torn-tail offset=" +
                                            std::to_string(positions[0].end) +
                                            " defect=zeroes"))
      << r.out;
}

TEST_F(DumpLogTest, DamagedLastRecordIsATornTail) {
  const auto positions = WriteLog({100, 200});
  FlipByte(positions[1].begin + 70);
  const RunResult r = RunMarsadm({"dump-log", path_});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(Has(LastLine(r.out), "end=torn-tail offset=" +
                                            std::to_string(positions[1].begin) +
                                            " defect=bad-checksum"))
      << r.out;
}

TEST_F(DumpLogTest, CorruptRecordExitsOneNamingItsOffset) {
  const auto positions = WriteLog({100, 200, 300, 400});
  FlipByte(positions[1].begin + 80);  // in the payload of record 2
  const RunResult r = RunMarsadm({"dump-log", path_});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(LineCount(r.err), 1);
  EXPECT_TRUE(Has(r.err, "corrupt record at byte offset " +
                                  std::to_string(positions[1].begin) +
                                  " (bad-checksum)"))
      << r.err;
  EXPECT_EQ(LineCount(r.out), 3);  // file line, record 1, end line
  EXPECT_TRUE(Has(LastLine(r.out), "end=corruption offset=" +
                                            std::to_string(positions[1].begin) +
                                            " defect=bad-checksum"));
  EXPECT_TRUE(Has(LastLine(r.out),
                       "resync_offset=" + std::to_string(positions[2].begin)));
}

TEST_F(DumpLogTest, LargerThanTheWindow) {
  // 12 records of 512 KiB: 6 MiB, more than the 4 MiB reading window.
  const auto positions = WriteLog(std::vector<size_t>(12, 512 * 1024));
  RunResult r = RunMarsadm({"dump-log", path_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(LineCount(r.out), 14);
  EXPECT_TRUE(Has(LastLine(r.out), "end=clean-end offset=" +
                                            std::to_string(positions[11].end) +
                                            " records=12 "));
  // Damage behind the first window is found at the right offset.
  FlipByte(positions[9].begin + 1000);
  r = RunMarsadm({"dump-log", path_});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Has(
      r.err, "byte offset " + std::to_string(positions[9].begin) + " "))
      << r.err;
  EXPECT_EQ(LineCount(r.out), 11);
}

TEST_F(DumpLogTest, UnreadableInputExitsOne) {
  RunResult r = RunMarsadm({"dump-log", dir_ + "/missing"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(LineCount(r.err), 1);
  EXPECT_TRUE(Has(r.err, "cannot open")) << r.err;
  r = RunMarsadm({"dump-log", dir_});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Has(r.err, "is not a regular file")) << r.err;
  EXPECT_EQ(RunMarsadm({"dump-log"}).code, 2);
  EXPECT_EQ(RunMarsadm({"dump-log", "a", "b"}).code, 2);
}

}  // namespace
}  // namespace mars::cli
