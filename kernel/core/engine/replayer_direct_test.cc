// Tests of the Replayer on logfiles with aligned payloads, as the module's
// logger writes them (docu/log-format.md, "Padding"): padding records are
// skipped, and where the file system of the local copy reads directly, the
// large payloads are read with direct I/O into the stages (LogApplier).
// The fixture: replayer_test_util.h.
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

// Records of 128 KiB and 1 MiB; one small record at the end. Every record
// that LogApplier reads in place is a large one, so with direct I/O each of
// them has its payload read directly.
TEST_F(ReplayerTest, AlignedLargePayloadsAreReadDirectly) {
  std::vector<RangeWrite> ranges = LargeRecords();
  ranges.push_back({0, 256, 5});
  ranges.push_back({7, 1, 6});
  const TestLog log1 = MakeRangeLog(1, "a", ranges, kPayloadAlignment);
  Fetch(log1);
  Finish(log1, "a");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kIdle) << Report().error.text;
  ExpectApplied(log1);
  const ReplayReport report = Report();
  EXPECT_EQ(report.records_applied, ranges.size());
  EXPECT_GE(report.records_read_in_place, 16u);
  if (ReadsDirectly(LocalPath(log1))) {
    EXPECT_EQ(report.records_read_direct, report.records_read_in_place);
  } else {
    EXPECT_EQ(report.records_read_direct, 0u);
  }
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
  EXPECT_EQ(Value(VersionName(1, "b")), Value(VersionName(1, "a")));
}

// A payload read directly is verified like any other: a damaged one
// reaches nothing of the device, the copy is cut at its record (after the
// padding record before it) and replay goes on once fetch brought it again.
TEST_F(ReplayerTest, DamagedPayloadReadDirectlyIsNotApplied) {
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

}  // namespace
}  // namespace test
}  // namespace engine
}  // namespace mars
