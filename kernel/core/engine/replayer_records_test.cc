// Tests of the Replayer's records: records of every size, large ones read
// in place, damaged, torn and too long local copies, records outside the
// device, errors of the data device, and how records become device
// requests. The fixture: replayer_test_util.h.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/engine/replayer.h"
#include "core/engine/replayer_test_util.h"
#include "gtest/gtest.h"

namespace mars {
namespace engine {
namespace test {
namespace {

TEST_F(ReplayerTest, DamagedLocalCopyIsCutAndReplayGoesOnAfterRefetch) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  std::vector<uint8_t> damaged = log1.bytes;
  damaged[log1.ends[3] + 200] ^= 0x40;  // in record 5's payload
  FetchBytes(log1, damaged, damaged.size());
  Finish(log1, "a");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kRefetching);
  ReplayReport report = Report();
  EXPECT_EQ(report.refetches, 1u);
  EXPECT_EQ(report.code, 0);
  EXPECT_NE(std::string(report.error.text)
                .find("damaged at byte offset " + std::to_string(log1.ends[3])),
            std::string::npos)
      << report.error.text;
  EXPECT_EQ(LocalSize(log1), log1.ends[3]);
  ExpectApplied(log1, 4);
  for (uint64_t b = 14; b < 20; ++b) ExpectZero(b);  // nothing past it
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.ends[3]));

  Fetch(log1);  // fetch brings the rest again, undamaged
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  ExpectApplied(log1);
  EXPECT_EQ(Value(VersionName(1, "b")), Value(VersionName(1, "a")));
  EXPECT_STREQ(Report().error.text, "");
}

TEST_F(ReplayerTest, RecordsOfEverySizeAreApplied) {
  const TestLog log1 = MakeRangeLog(1, "a", RecordsOfEverySize());
  Fetch(log1);
  Finish(log1, "a");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kIdle) << Report().error.text;
  ExpectApplied(log1);
  EXPECT_EQ(Report().records_applied, log1.ends.size());
  EXPECT_EQ(Value(VersionName(1, "b")), Value(VersionName(1, "a")));
}

// Large records are read from the local copy straight into the stages:
// every record of at least LogApplier::kInPlaceMinPayload that the window
// does not hold whole, and the large ones after it (the window then loads
// only their headers). Contiguous ones share a stage, each header landing
// on the tail of the payload before it (put back afterwards). A small
// record brings back whole windows.
TEST_F(ReplayerTest, LargeRecordsAreReadIntoTheStagesInPlace) {
  static_assert(LogApplier::kInPlaceMinPayload <= 32 * kBlock, "in place");
  static_assert(LogApplier::kWindowBytes == 2099200, "see below");
  std::vector<RangeWrite> ranges = LargeRecords();
  ranges.push_back({7, 1, 5});  // small: through a window
  ranges.push_back({0, 32, 6});
  const TestLog log1 = MakeRangeLog(1, "a", ranges);
  Fetch(log1);
  Finish(log1, "a");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kIdle) << Report().error.text;
  ExpectApplied(log1);
  const ReplayReport report = Report();
  EXPECT_EQ(report.records_applied, ranges.size());
  // The first window (2099200 bytes) holds the 1 MiB record (1048648 bytes
  // with its header) and eight of 128 KiB (131144 bytes each); the ninth
  // ends beyond it, and it and the 15 after it are read in place. The
  // window loaded at the small record holds the last one.
  EXPECT_EQ(report.records_read_in_place, 16u);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
}

// A large record whose payload is damaged fails its check where it was
// read in place: nothing of it reaches the device, the copy is cut before
// it and replay goes on once fetch brought it again.
TEST_F(ReplayerTest, DamagedLargeRecordReadInPlaceIsNotApplied) {
  const TestLog log1 = MakeRangeLog(
      1, "a",
      {{0, 256, 1}, {0, 128, 2}, {128, 128, 2}, {0, 256, 3}, {0, 256, 4}});
  Finish(log1, "a");
  std::vector<uint8_t> damaged = log1.bytes;
  damaged[log1.ends[3] + 72 + 5000] ^= 0x40;  // record 5's payload
  FetchBytes(log1, damaged, damaged.size());
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kRefetching);
  // Record 4 begins at 2097368, 1832 bytes before the first window ends:
  // read in place, and record 5 after it (its header in the lookahead).
  EXPECT_EQ(Report().records_read_in_place, 1u);
  EXPECT_EQ(LocalSize(log1), log1.ends[3]);
  ExpectApplied(log1, 256 + 128 + 128 + 256);  // records 1..4: version 3
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.ends[3]));
  Fetch(log1);
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  ExpectApplied(log1);
}

// A damaged length field of the largest record stops replay before it,
// whatever length it claims; nothing after it is applied.
TEST_F(ReplayerTest, DamagedLengthOfALargeRecordStopsReplayBeforeIt) {
  const TestLog log1 = MakeRangeLog(1, "a", RecordsOfEverySize());
  Finish(log1, "a");
  // Its total_len is 0x100048: a length of 72 bytes, one over the largest,
  // and one far beyond the window.
  for (const uint8_t flip : {0x10, 0x01, 0x80}) {
    std::vector<uint8_t> damaged = log1.bytes;
    damaged[log1.ends[3] + log::kTotalLenOffset + 2] ^= flip;
    FetchBytes(log1, damaged, damaged.size());  // after what was cut
    Start();
    EXPECT_EQ(Drain().state, ReplayState::kRefetching) << int{flip};
    EXPECT_EQ(LocalSize(log1), log1.ends[3]);
    ExpectApplied(log1, 1 + 64 + 65 + 126);  // the blocks of records 1..4
    EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.ends[3]));
  }
  Fetch(log1);
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  ExpectApplied(log1);
}

TEST_F(ReplayerTest, DamageInAGrowingCopyIsCutOnceLaterRecordsProveIt) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  std::vector<uint8_t> damaged = log1.bytes;
  damaged[log1.ends[1] + 8] ^= 0x01;  // record 3's header
  FetchBytes(log1, damaged, log1.ends[2]);
  Start();
  // Nothing behind the damage yet: it may be a record still arriving.
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  ExpectApplied(log1, 2);
  FetchBytes(log1, damaged, damaged.size());
  EXPECT_EQ(Drain().state, ReplayState::kRefetching);
  EXPECT_EQ(LocalSize(log1), log1.ends[1]);
  for (uint64_t b = 12; b < 20; ++b) ExpectZero(b);
  Fetch(log1);
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  ExpectApplied(log1);
}

TEST_F(ReplayerTest, TornTailOfACompleteCopyIsCut) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  std::vector<uint8_t> torn = log1.bytes;
  std::fill(torn.begin() + log1.ends[8], torn.end(), 0);  // the last record
  FetchBytes(log1, torn, torn.size());
  Finish(log1, "a");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kRefetching);
  EXPECT_EQ(LocalSize(log1), log1.ends[8]);
  ExpectZero(19);
  Fetch(log1);
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  ExpectApplied(log1);
}

TEST_F(ReplayerTest, LongerLocalCopyIsCutAtTheFinalLength) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  std::vector<uint8_t> longer = log1.bytes;
  longer.resize(longer.size() + 4096, 0xEE);
  FetchBytes(log1, longer, longer.size());
  Finish(log1, "a");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  ExpectApplied(log1);
  EXPECT_EQ(LocalSize(log1), log1.bytes.size());
  EXPECT_EQ(Report().refetches, 1u);
}

TEST_F(ReplayerTest, RepeatedDamageAtTheSameOffsetStopsReplay) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  std::vector<uint8_t> damaged = log1.bytes;
  damaged[log1.ends[2] + 300] ^= 0x10;  // record 4's payload, every time
  Finish(log1, "a");
  Start();
  for (uint32_t i = 1; i <= Replayer::kMaxRefetches; ++i) {
    FetchBytes(log1, damaged, damaged.size());
    EXPECT_EQ(Drain().state, ReplayState::kRefetching) << i;
    EXPECT_EQ(Report().refetches, i);
    EXPECT_EQ(LocalSize(log1), log1.ends[2]);
  }
  FetchBytes(log1, damaged, damaged.size());
  EXPECT_EQ(Drain().state, ReplayState::kCorrupt);
  const ReplayReport report = Report();
  EXPECT_EQ(report.code, -74);
  EXPECT_NE(std::string(report.error.text).find("again after"),
            std::string::npos)
      << report.error.text;
  ExpectApplied(log1, 3);
  for (uint64_t b = 13; b < 20; ++b) ExpectZero(b);
  g_now += 20 * kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kCorrupt);  // for good
  ExpectZero(13);
}

TEST_F(ReplayerTest, RecordOutsideTheDataDeviceStopsReplay) {
  const TestLog log1 = MakeLog(1, "a", {{0, 1}, {kDevice / kBlock, 1}, {2, 1}});
  Fetch(log1);
  Finish(log1, "a");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kCorrupt);
  EXPECT_EQ(Report().code, -74);
  EXPECT_EQ(Block(0), Pattern(0, 1));
  ExpectZero(2);
}

TEST_F(ReplayerTest, DataDeviceErrorIsRetriedFromTheSameRecord) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  Fetch(log1);
  Finish(log1, "a");
  Start();
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1);
  EXPECT_EQ(Drain().state, ReplayState::kIoError);
  EXPECT_EQ(Report().code, -5);
  ExpectZero(10);
  g_now += kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kIoError);  // not due yet
  g_now += Replayer::kRetryNs;
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  ExpectApplied(log1);
  EXPECT_EQ(Value(VersionName(1, "b")), Value(VersionName(1, "a")));
}

// Consecutive records of one contiguous range reach the device as one
// write; a record elsewhere, or an overwrite, starts the next one, so the
// writes keep log order.
TEST_F(ReplayerTest, ContiguousRecordsAreWrittenTogetherInLogOrder) {
  const TestLog log1 = MakeLog(
      1, "a", {{10, 1}, {11, 1}, {12, 1}, {40, 1}, {41, 1}, {11, 2}, {12, 2}});
  Fetch(log1);
  Finish(log1, "a");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  EXPECT_EQ(pt::GetBlockDeviceStatsForTest(data_path_.c_str()).writes, 3u);
  EXPECT_EQ(Block(10), Pattern(10, 1));
  EXPECT_EQ(Block(11), Pattern(11, 2));
  EXPECT_EQ(Block(12), Pattern(12, 2));
  EXPECT_EQ(Block(40), Pattern(40, 1));
  EXPECT_EQ(Block(41), Pattern(41, 1));
}

// Blocks [first, first + count) in order, all of `version`.
std::vector<std::pair<uint64_t, uint32_t>> Range(uint64_t first, uint64_t count,
                                                 uint32_t version) {
  std::vector<std::pair<uint64_t, uint32_t>> writes;
  for (uint64_t b = first; b < first + count; ++b) {
    writes.emplace_back(b, version);
  }
  return writes;
}

std::vector<std::pair<uint64_t, uint32_t>> Concat(
    std::vector<std::vector<std::pair<uint64_t, uint32_t>>> parts) {
  std::vector<std::pair<uint64_t, uint32_t>> all;
  for (const auto& part : parts) {
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

// A request carries up to LogApplier::kRequestBytes of one contiguous range
// (several I/O buffers); a full one is written at once and the next one
// starts. The device (here: the whole 1 MiB) sees them in log order, with
// its requests run by its I/O thread or each in a thread of its own.
TEST_F(ReplayerTest, LongRangesAreWrittenInRequestsOfUpToOneMiB) {
  static_assert(LogApplier::kRequestBytes == kDevice,
                "one request: 256 blocks");
  for (const bool async : {false, true}) {
    SCOPED_TRACE(async ? "thread per request" : "I/O thread");
    TearDown();
    SetUp();
    pt::SetBlockDeviceAsyncForTest(data_path_.c_str(), async);
    const TestLog log1 =
        MakeLog(1, "a",
                Concat({Range(0, 256, 1), Range(0, 100, 2), Range(100, 156, 3),
                        Range(0, 256, 4), Range(50, 10, 5)}));
    Fetch(log1);
    Finish(log1, "a");
    Start();
    EXPECT_EQ(Drain().state, ReplayState::kIdle);
    const pt::BlockDeviceStats stats =
        pt::GetBlockDeviceStatsForTest(data_path_.c_str());
    // [0,256) v1 | [0,256) v2+v3 | [0,256) v4 | [50,60) v5
    EXPECT_EQ(stats.writes, 4u);
    EXPECT_EQ(stats.bytes_written, (3 * 256 + 10) * kBlock);
    EXPECT_EQ(stats.failed, 0u);
    ExpectApplied(log1);
    EXPECT_EQ(Block(0), Pattern(0, 4));
    EXPECT_EQ(Block(55), Pattern(55, 5));
    EXPECT_EQ(Block(255), Pattern(255, 4));
    EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
  }
}

// With an asynchronous device the failure of a request is seen only when
// the next one is due (or everything is written before a flush): the
// records staged meanwhile are dropped, nothing later reaches the device,
// the replay link claims nothing, and the retry starts at the first record
// of the failed request.
TEST_F(ReplayerTest, FailedAsyncRequestIsRetriedFromItsFirstRecord) {
  pt::SetBlockDeviceAsyncForTest(data_path_.c_str(), true);
  const TestLog log1 = MakeLog(
      1, "a", Concat({Range(0, 256, 1), Range(0, 256, 2), Range(0, 20, 3)}));
  Fetch(log1);
  Finish(log1, "a");
  Start();
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1);
  EXPECT_EQ(Drain().state, ReplayState::kIoError);
  EXPECT_EQ(Report().code, -5);
  pt::BlockDeviceStats stats =
      pt::GetBlockDeviceStatsForTest(data_path_.c_str());
  EXPECT_EQ(stats.writes, 1u);  // the failed one; nothing after it
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.flushes, 0u);
  for (uint64_t b : {0, 100, 255}) ExpectZero(b);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", 0));
  g_now += Replayer::kRetryNs;
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  ExpectApplied(log1);
  EXPECT_EQ(Block(0), Pattern(0, 3));
  EXPECT_EQ(Block(255), Pattern(255, 2));
  stats = pt::GetBlockDeviceStatsForTest(data_path_.c_str());
  EXPECT_EQ(stats.writes, 4u);
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
}

// The second request fails while the third is being staged: the first
// one's records stay applied and claimed, the third's are dropped, and the
// retry starts at the second one's first record.
TEST_F(ReplayerTest, FailedSecondAsyncRequestKeepsTheFirst) {
  pt::SetBlockDeviceAsyncForTest(data_path_.c_str(), true);
  const TestLog log1 = MakeLog(
      1, "a", Concat({Range(0, 256, 1), Range(0, 256, 2), Range(0, 256, 3)}));
  // The first request's records arrive first: replay writes them, waits for
  // more bytes and claims them.
  Fetch(log1, log1.ends[255]);
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  EXPECT_EQ(pt::GetBlockDeviceStatsForTest(data_path_.c_str()).writes, 1u);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.ends[255]));
  Fetch(log1);
  Finish(log1, "a");
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1);
  EXPECT_EQ(Drain().state, ReplayState::kIoError);
  pt::BlockDeviceStats stats =
      pt::GetBlockDeviceStatsForTest(data_path_.c_str());
  EXPECT_EQ(stats.writes, 2u);  // the failed one; nothing after it
  EXPECT_EQ(stats.failed, 1u);
  ExpectApplied(log1, 256);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.ends[255]));
  g_now += Replayer::kRetryNs;
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  ExpectApplied(log1);
  EXPECT_EQ(Block(0), Pattern(0, 3));
  stats = pt::GetBlockDeviceStatsForTest(data_path_.c_str());
  EXPECT_EQ(stats.writes, 4u);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
}

}  // namespace
}  // namespace test
}  // namespace engine
}  // namespace mars
