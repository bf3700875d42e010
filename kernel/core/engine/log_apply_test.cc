// Tests of LogApplier::Apply/WriteStaged against a regular file as data
// device: which requests may be in flight together (those whose ranges do
// not overlap), what a failed one leaves, and that every byte ends with the
// data of its last record whatever order the device completes requests in.
// Reading through windows and in place is covered by replayer_test.cc and
// the recovery tests, except a write error met while reading in place.
#include "core/engine/log_apply.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/log/log_reader.h"
#include "core/log/log_test_util.h"
#include "core/platform_io.h"
#include "gtest/gtest.h"
#include "platform_user.h"

namespace mars {
namespace engine {
namespace {

namespace pt = platform::test;
constexpr uint64_t kBlock = 4096;
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kDevice = 8 * kMiB;

class LogApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/log_apply_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/data.img";
    std::ofstream(path_).close();
    ASSERT_EQ(truncate(path_.c_str(), kDevice), 0);
    pt::ResetBlockDeviceForTest(path_.c_str());
  }
  // Opens the device: its requests run by its I/O thread in submission
  // order, or with `any_order` each in a thread of its own.
  void Open(bool any_order) {
    pt::SetBlockDeviceAsyncForTest(path_.c_str(), any_order);
    ASSERT_TRUE(device_.Open(path_.c_str()).ok());
    ASSERT_TRUE(applier_.Init(&device_, kDevice, "r0").ok());
  }
  void TearDown() override {
    EXPECT_TRUE(applier_.WriteStaged().ok() || failed_);
    device_.Close();
    pt::ResetBlockDeviceForTest(path_.c_str());
    std::string command = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(system(command.c_str()), 0);
  }

  // Applies a write record of `blocks` blocks at block `block`, filled with
  // `fill` (its record number and file offset count up).
  Status Write(uint64_t block, uint64_t blocks, char fill) {
    const std::string payload(blocks * kBlock, fill);  // Apply() copies it
    log::RecordView record;
    record.record_number = ++records_;
    record.offset = file_offset_;
    record.size = static_cast<uint32_t>(payload.size() + 64);
    file_offset_ += record.size;
    record.flags = log::kKindWrite;
    record.device_offset = block * kBlock;
    record.payload = Slice(payload.data(), payload.size());
    for (uint64_t b = block; b < block + blocks; ++b) model_[b] = fill;
    return applier_.Apply(record);
  }
  pt::BlockDeviceStats Stats() {
    return pt::GetBlockDeviceStatsForTest(path_.c_str());
  }
  std::string Image() {
    std::ifstream in(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }
  // The device as the records applied so far leave it.
  std::string Model() {
    std::string image;
    for (char fill : model_) image.append(kBlock, fill);
    return image;
  }

  std::string dir_, path_;
  platform::BlockDevice device_;
  LogApplier applier_;
  std::vector<char> model_ = std::vector<char>(kDevice / kBlock, '\0');
  uint64_t records_ = 0;
  uint64_t file_offset_ = 0;
  bool failed_ = false;
};

constexpr uint64_t kRequestBlocks = LogApplier::kRequestBytes / kBlock;

// Requests of disjoint ranges go out without waiting for each other: when
// the first one fails, the two submitted behind it are written, and the
// failure is seen once the ring is full. Replay goes on from the failed
// request's first record.
TEST_F(LogApplyTest, DisjointRequestsAreInFlightTogether) {
  static_assert(LogApplier::kStages == 3, "two in flight, one filling");
  Open(false);
  pt::FailBlockDeviceOpsForTest(path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1);
  ASSERT_TRUE(Write(0, kRequestBlocks, 'a').ok());  // full: submitted
  ASSERT_TRUE(Write(kRequestBlocks, kRequestBlocks, 'b').ok());
  // The stage after the third one is the first one's: waited for.
  failed_ = true;
  EXPECT_EQ(Write(2 * kRequestBlocks, kRequestBlocks, 'c').code(),
            StatusCode::kIoError);
  EXPECT_EQ(applier_.failed_record_number(), 1u);
  EXPECT_EQ(applier_.failed_offset(), 0u);
  EXPECT_EQ(Stats().writes, 3u);
  EXPECT_EQ(Stats().failed, 1u);
  const std::string image = Image();
  EXPECT_EQ(image.substr(0, kMiB), std::string(kMiB, '\0'));
  EXPECT_EQ(image.substr(kMiB, kMiB), std::string(kMiB, 'b'));
  EXPECT_EQ(image.substr(2 * kMiB, kMiB), std::string(kMiB, 'c'));
  EXPECT_TRUE(applier_.WriteStaged().ok());  // nothing staged or in flight
}

// A request that overlaps one in flight waits for it: after a failure
// nothing that overlaps the failed request reaches the device.
TEST_F(LogApplyTest, OverlappingRequestWaitsForTheEarlierOne) {
  Open(false);
  pt::FailBlockDeviceOpsForTest(path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1);
  ASSERT_TRUE(Write(0, kRequestBlocks, 'a').ok());
  failed_ = true;
  EXPECT_EQ(Write(kRequestBlocks / 2, kRequestBlocks, 'b').code(),
            StatusCode::kIoError);
  EXPECT_EQ(applier_.failed_record_number(), 1u);
  EXPECT_EQ(Stats().writes, 1u);
  EXPECT_EQ(Image(), std::string(kDevice, '\0'));
}

// Random records over the device, mostly sequential runs (merged into
// requests) with jumps back onto data that may still be in flight, through
// a device that completes requests in any order: the image equals the
// model after every WriteStaged().
TEST_F(LogApplyTest, EveryByteEndsWithItsLastRecord) {
  Open(true);
  uint64_t x = 12345;
  auto next = [&x](uint64_t below) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return (x >> 33) % below;
  };
  uint64_t at = 0;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 400; ++i) {
      if (next(8) == 0) at = next(kDevice / kBlock);
      const uint64_t blocks = 1 + next(64);
      if (at + blocks > kDevice / kBlock) at = 0;
      ASSERT_TRUE(Write(at, blocks, static_cast<char>('A' + next(50))).ok());
      at += blocks;
    }
    ASSERT_TRUE(applier_.WriteStaged().ok());
    ASSERT_EQ(Image(), Model()) << "round " << round;
  }
}

// Writes a logfile with one record per (block, blocks) range, each filled
// with the byte 'a' + its index; returns its path.
std::string WriteLog(const std::string& dir,
                     const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  log::test::SyncedLog writer(0x5A17000000000001ull, 1);
  for (size_t i = 0; i < ranges.size(); ++i) {
    const std::string payload(ranges[i].second * kBlock,
                              static_cast<char>('a' + i));
    writer.Append(ranges[i].first * kBlock, payload.data(), payload.size(),
                  1000 + i);
  }
  const std::string path = dir + "/log-000000001-a";
  log::test::WriteFile(path, writer.bytes());
  return path;
}

// A record that would be read in place needs the stage being filled
// submitted first; when that reaps a failed request, the error is not lost:
// the record comes through a window and Apply() returns the error, naming
// the failed request's first record.
TEST_F(LogApplyTest, WriteErrorMetWhileReadingInPlaceIsReturnedByApply) {
  Open(false);
  // Record 1 fills a request (it fails); records 2 to 4 fill most of the
  // next one, submitted at record 5 (elsewhere, into the third stage).
  // Record 6 goes elsewhere again and ends beyond the first window (2099200
  // bytes): reading it in place submits the third stage, which fills the
  // ring and reaps record 1's request.
  const std::string path = WriteLog(
      dir_, {{0, 256}, {256, 64}, {320, 64}, {384, 64}, {1024, 8}, {1900, 64}});
  pt::FailBlockDeviceOpsForTest(path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1);
  platform::File file;
  ASSERT_TRUE(file.Open(path.c_str(), platform::File::kRead).ok());
  uint64_t end = 0;
  ASSERT_TRUE(file.Size(&end).ok());
  log::LogReader reader;
  ASSERT_TRUE(reader.Init(log::LogReaderOptions()).ok());
  for (uint64_t number = 1; number <= 6; ++number) {
    log::ReadResult read;
    ASSERT_TRUE(applier_.Next(&file, &end, true, &reader, &read).ok());
    ASSERT_EQ(read.outcome, log::ReadOutcome::kRecord);
    ASSERT_EQ(read.record.record_number, number);
    const Status status = applier_.Apply(read.record);
    if (number < 6) {
      ASSERT_TRUE(status.ok()) << number;
      continue;
    }
    failed_ = true;
    EXPECT_EQ(status.code(), StatusCode::kIoError);
    EXPECT_EQ(applier_.failed_record_number(), 1u);
    EXPECT_EQ(applier_.failed_offset(), 0u);
  }
  EXPECT_EQ(applier_.records_read_in_place(), 0u);
  EXPECT_TRUE(applier_.WriteStaged().ok());  // reported once
  EXPECT_EQ(Stats().failed, 1u);
  file.Close();
}

}  // namespace
}  // namespace engine
}  // namespace mars
