// Tests of the Replayer on logfiles with aligned payloads, as the module's
// logger writes them (docu/log-format.md, "Padding"): padding records are
// skipped, and where the file system of the local copy reads directly, the
// large payloads are read with direct I/O into the stages (LogApplier),
// each the next one's ahead while the one before it is verified.
// The fixture: replayer_test_util.h.
#include <set>
#include <string>
#include <vector>

#include "core/engine/replayer.h"
#include "core/engine/replayer_test_util.h"
#include "core/platform_io.h"
#include "gtest/gtest.h"

namespace mars {
namespace engine {
namespace test {
namespace {

// As the module's logger aligns them (engine/resource_logger.cc).
constexpr uint32_t kPayloadAlignment = 512;

// Whether the file at `path` can be read with direct I/O at offsets of
// kPayloadAlignment (not on tmpfs before Linux 6.6, nor on a disk of
// 4096-byte logical blocks).
bool ReadsDirectly(const std::string& path) {
  platform::File file;
  if (!file.Open(path.c_str(), platform::File::kRead).ok()) return false;
  const platform::File::DirectAlignment alignment = file.DirectReadAlignment();
  return alignment.supported() && kPayloadAlignment % alignment.offset == 0 &&
         kPayloadAlignment % alignment.memory == 0;
}

class ReplayerDirectTest : public ReplayerTest {
 protected:
  // The local copies are on the disk only, as after a long pause (a copy
  // in the page cache is read through it: platform::File::Cached()).
  void SetUp() override {
    ReplayerTest::SetUp();
    pt::SetCachedForTest(pt::CachedForTest::kNotCached);
  }
  void TearDown() override {
    pt::SetCachedForTest(pt::CachedForTest::kCachedAsProbed);
    ReplayerTest::TearDown();
  }

  // Logfile 1 of origin "a" with `ranges`, aligned as the module's logger
  // writes it, fetched whole and complete (its version link written).
  TestLog CompleteAlignedLog(const std::vector<RangeWrite>& ranges) {
    TestLog log = MakeRangeLog(1, "a", ranges, kPayloadAlignment);
    Fetch(log);
    Finish(log, "a");
    return log;
  }
};

// Records of 128 KiB and 1 MiB; one small record at the end. Every record
// that LogApplier reads in place is a large one, so with direct I/O each of
// them has its payload read directly.
TEST_F(ReplayerDirectTest, AlignedLargePayloadsAreReadDirectly) {
  std::vector<RangeWrite> ranges = LargeRecords();
  ranges.push_back({0, 256, 5});
  ranges.push_back({7, 1, 6});
  const TestLog log1 = CompleteAlignedLog(ranges);
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kIdle) << Report().error.text;
  ExpectApplied(log1);
  const ReplayReport report = Report();
  EXPECT_EQ(report.records_applied, ranges.size());
  EXPECT_GE(report.records_read_in_place, 16u);
  if (ReadsDirectly(LocalPath(log1))) {
    EXPECT_EQ(report.records_read_direct, report.records_read_in_place);
    // The first of them is read when the window ends; each later one was
    // read ahead while the one before it was verified.
    EXPECT_EQ(report.records_read_ahead, report.records_read_in_place - 1);
  } else {
    EXPECT_EQ(report.records_read_direct, 0u);
    EXPECT_EQ(report.records_read_ahead, 0u);
  }
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
  EXPECT_EQ(Value(VersionName(1, "b")), Value(VersionName(1, "a")));
}

// A copy that the page cache still holds (fetched a moment ago, as when
// replay follows fetch) is read through the page cache, even where it
// could be read directly: reading the disk again would cost more than the
// copy out of memory. Once it is on the disk only, the same log's records
// are read directly.
TEST_F(ReplayerDirectTest, CopyInThePageCacheIsNotReadDirectly) {
  std::vector<RangeWrite> ranges = LargeRecords();
  const TestLog log1 = MakeRangeLog(1, "a", ranges, kPayloadAlignment);
  const uint64_t half = log1.ends[ranges.size() / 2];
  pt::SetCachedForTest(pt::CachedForTest::kCachedAsProbed);
  Fetch(log1, half);  // just written: in the page cache
  if (!ReadsDirectly(LocalPath(log1))) GTEST_SKIP() << "no direct I/O here";
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  ReplayReport report = Report();
  EXPECT_GT(report.records_read_in_place, 4u);
  EXPECT_EQ(report.records_read_direct, 0u);
  EXPECT_EQ(report.records_read_ahead, 0u);
  const uint64_t in_place_before = report.records_read_in_place;
  Fetch(log1);
  pt::SetCachedForTest(pt::CachedForTest::kNotCached);  // on the disk only
  Finish(log1, "a");
  g_now += kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kIdle) << Report().error.text;
  ExpectApplied(log1);
  report = Report();
  EXPECT_EQ(report.records_read_direct,
            report.records_read_in_place - in_place_before);
  EXPECT_GT(report.records_read_direct, 4u);
}

// A payload read directly is verified like any other: a damaged one
// reaches nothing of the device, the copy is cut at its record (after the
// padding record before it) and replay goes on once fetch brought it again.
TEST_F(ReplayerDirectTest, DamagedPayloadReadDirectlyIsNotApplied) {
  const TestLog log1 = MakeRangeLog(
      1, "a",
      {{0, 256, 1}, {0, 128, 2}, {128, 128, 2}, {0, 256, 3}, {0, 256, 4}},
      kPayloadAlignment);
  Finish(log1, "a");
  std::vector<uint8_t> damaged = log1.bytes;
  damaged[log1.ends[4] - 5000] ^= 0x40;  // record 5's payload
  FetchBytes(log1, damaged, damaged.size());
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kRefetching);
  const uint64_t record5 =
      log1.ends[4] - log::RecordBytes(log::kWrittenHeaderBytes, 256 * kBlock);
  EXPECT_GT(record5, log1.ends[3]);  // a padding record lies between
  EXPECT_EQ((record5 + log::kWrittenHeaderBytes) % kPayloadAlignment, 0u);
  EXPECT_EQ(LocalSize(log1), record5);
  const bool direct = ReadsDirectly(LocalPath(log1));
  EXPECT_EQ(Report().records_read_direct > 0, direct);
  ExpectApplied(log1, 256 + 128 + 128 + 256);  // records 1..4: version 3
  Fetch(log1);
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  ExpectApplied(log1);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
}

// A copy that grows while replay reads it directly and ahead, cut at every
// kind of point: at a write record's end, inside the padding record after
// it, inside the next header, just before the next aligned payload, inside
// a payload, and at every fetch chunk end (256 KiB). Replay waits at each
// cut with every complete record applied and nothing after it, and goes on
// as the bytes arrive.
TEST_F(ReplayerDirectTest, GrowingCopyIsFollowedAcrossEveryCut) {
  std::vector<RangeWrite> ranges;
  for (uint32_t i = 0; i < 24; ++i) {
    // 36 KiB to 196 KiB: aligned payloads, record ends anywhere.
    ranges.push_back({(i * 37) % 200, 9 + (i * 7) % 41, i + 1});
    if (ranges.back().block + ranges.back().blocks > 256) {
      ranges.back().block = 256 - ranges.back().blocks;
    }
  }
  const TestLog log1 = MakeRangeLog(1, "a", ranges, kPayloadAlignment);
  const uint64_t size = log1.bytes.size();
  std::set<uint64_t> cuts;
  for (uint64_t end : log1.ends) {
    for (uint64_t after : {0, 8, 72, 256, 440, 512, 4096}) {
      if (end + after < size) cuts.insert(end + after);
    }
  }
  for (uint64_t chunk = 256 * 1024; chunk < size; chunk += 256 * 1024) {
    cuts.insert(chunk);
  }
  Start();
  for (uint64_t cut : cuts) {
    Fetch(log1, cut);
    const ReplayPass pass = Drain();
    ASSERT_EQ(pass.state, ReplayState::kWaitingForBytes)
        << "cut " << cut << ": " << Report().error.text;
    uint64_t complete = 0;
    for (size_t i = 0; i < ranges.size() && log1.ends[i] <= cut; ++i) {
      complete += ranges[i].blocks * kBlock;
    }
    ASSERT_EQ(Report().bytes_applied, complete) << "cut " << cut;
  }
  Fetch(log1);
  Finish(log1, "a");
  g_now += kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kIdle) << Report().error.text;
  ExpectApplied(log1);
  EXPECT_EQ(Report().records_applied, ranges.size());
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", size));
  if (ReadsDirectly(LocalPath(log1))) {
    EXPECT_GT(Report().records_read_direct, 0u);
  }
}

// Direct reads that take a while (here 3 ms each, in a thread): a payload
// read ahead is used only once its read ended, and replay writes what the
// log says.
TEST_F(ReplayerDirectTest, PayloadsReadAheadAreUsedOnceTheirReadEnded) {
  std::vector<RangeWrite> ranges = LargeRecords();
  ranges.push_back({0, 256, 5});
  ranges.push_back({128, 128, 6});
  const TestLog log1 = CompleteAlignedLog(ranges);
  if (!ReadsDirectly(LocalPath(log1))) GTEST_SKIP() << "no direct I/O here";
  pt::SetDirectReadDelayForTest(3ull * 1000 * 1000);
  Start();
  const ReplayState state = Drain().state;
  pt::SetDirectReadDelayForTest(0);
  EXPECT_EQ(state, ReplayState::kIdle) << Report().error.text;
  ExpectApplied(log1);
  EXPECT_EQ(Block(0), Pattern(0, 5));
  EXPECT_EQ(Block(200), Pattern(200, 6));
  const ReplayReport report = Report();
  EXPECT_EQ(report.records_read_ahead, report.records_read_in_place - 1);
  EXPECT_GT(report.records_read_ahead, 10u);
}

// A write that fails while payloads are read ahead: the retry starts at the
// failed request's first record, and what was read ahead before the
// failure is not taken for what the retry reads.
TEST_F(ReplayerDirectTest, FailedWriteAmidReadAheadIsRetriedFromItsRecord) {
  pt::SetBlockDeviceAsyncForTest(data_path_.c_str(), true);
  std::vector<RangeWrite> ranges;
  for (uint32_t version = 1; version <= 6; ++version) {
    ranges.push_back({0, 256, version});
    ranges.push_back({(version * 37) % 200, 32, version + 10});
  }
  const TestLog log1 = MakeRangeLog(1, "a", ranges, kPayloadAlignment);
  Finish(log1, "a");
  // Four records (two windows' worth) first, all written and claimed.
  Fetch(log1, log1.ends[3]);
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  const uint64_t ahead_before = Report().records_read_ahead;
  // Then the rest, with the first write from here on failing.
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1);
  Fetch(log1);
  EXPECT_EQ(Drain().state, ReplayState::kIoError);
  EXPECT_EQ(pt::GetBlockDeviceStatsForTest(data_path_.c_str()).failed, 1u);
  g_now += Replayer::kRetryNs;
  EXPECT_EQ(Drain().state, ReplayState::kIdle) << Report().error.text;
  ExpectApplied(log1);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
  if (ReadsDirectly(LocalPath(log1))) {
    EXPECT_GT(Report().records_read_ahead, ahead_before);
  }
}

// A slow disk: the writes of the stages stay in flight while replay reads
// on. A payload is read ahead into a stage only once no write from that
// stage is in flight, so the device gets exactly what the log says.
TEST_F(ReplayerDirectTest, ReadAheadWaitsForTheWriteOfItsStage) {
  pt::SetBlockDeviceAsyncForTest(data_path_.c_str(), true);
  pt::SetBlockDeviceAsyncDelayForTest(data_path_.c_str(), 20ull * 1000 * 1000);
  // Quarters of the device, from the last to the first, so that each record
  // takes a stage of its own (none continues the range before it). A
  // payload read ahead goes to the stage of the record three before it,
  // whose write is still in flight; the last three quarters' last writes
  // (versions 9, 10, 11) are such writes. A small record comes first, so
  // that windows end inside records.
  std::vector<RangeWrite> ranges = {{7, 1, 100}};
  for (uint32_t version = 1; version <= 12; ++version) {
    ranges.push_back({(3 - (version - 1) % 4) * 64, 64, version});
  }
  const TestLog log1 = CompleteAlignedLog(ranges);
  Start();
  const ReplayState state = Drain().state;
  pt::SetBlockDeviceAsyncDelayForTest(data_path_.c_str(), 0);
  EXPECT_EQ(state, ReplayState::kIdle) << Report().error.text;
  ExpectApplied(log1);
  EXPECT_EQ(Block(0), Pattern(0, 12));
  EXPECT_EQ(Block(255), Pattern(255, 9));
  if (ReadsDirectly(LocalPath(log1))) {
    EXPECT_GE(Report().records_read_ahead, 3u);
  }
}

}  // namespace
}  // namespace test
}  // namespace engine
}  // namespace mars
