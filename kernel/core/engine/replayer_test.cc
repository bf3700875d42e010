// Tests of the Replayer: a temporary /mars tree with the links a secondary
// "b" sees from its primary "a", logfiles written by log::LogWriter and
// "fetched" by appending their bytes to the local copies, a regular file as
// data device, and a fake monotonic clock for the link-scan, publication and
// hole intervals.
#include "core/engine/replayer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/engine/tree_links.h"
#include "core/log/log_test_util.h"
#include "core/log/log_writer.h"
#include "core/platform_io.h"
#include "core/tree/version_link.h"
#include "gtest/gtest.h"
#include "platform_user.h"

namespace mars {
namespace engine {
namespace {

namespace pt = platform::test;
constexpr uint64_t kBlock = 4096;
constexpr uint64_t kDevice = 1 << 20;  // 256 blocks
constexpr uint64_t kSecond = 1'000'000'000ull;

uint64_t g_now = 0;
uint64_t FakeNow() { return g_now; }

// A block whose content says which block and version it is.
std::string Pattern(uint64_t block, uint32_t version) {
  std::string data(kBlock, '\0');
  uint64_t x = block * 1000003 + version * 7919 + 1;
  for (char& c : data) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(x >> 56);
  }
  return data;
}

std::string LogName(uint32_t number, const std::string& host) {
  char text[128];
  snprintf(text, sizeof(text), "log-%09u-%s", number, host.c_str());
  return text;
}

std::string VersionName(uint32_t number, const std::string& host) {
  char text[128];
  snprintf(text, sizeof(text), "version-%09u-%s", number, host.c_str());
  return text;
}

tree::LogfileName Name(uint32_t number, const std::string& host) {
  tree::LogfileName name;
  name.number = number;
  EXPECT_TRUE(name.host.Assign(Slice::FromCString(host.c_str())).ok());
  return name;
}

// A logfile as a primary writes it: records synced one by one, so every
// record carries the end of the one before it as its durable end (damage
// before it is corruption, not a torn tail).
struct TestLog {
  uint32_t number = 0;
  std::string origin;
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> ends;                         // record ends
  // (block, version) of every block written, in log order.
  std::vector<std::pair<uint64_t, uint32_t>> writes;
};

// A write of `blocks` blocks from `block` on, each block's content
// Pattern(block, version).
struct RangeWrite {
  uint64_t block;
  uint64_t blocks;
  uint32_t version;
};

// As a primary writes it, one record per range: records of any size up
// to the largest payload.
TestLog MakeRangeLog(uint32_t number, const std::string& origin,
                     const std::vector<RangeWrite>& ranges) {
  TestLog log;
  log.number = number;
  log.origin = origin;
  log::LogWriter writer;
  log::LogWriterOptions options;
  options.salt = 0x5A17000000000000ull + number;
  options.logfile_number = number;
  options.chunk_bytes = 65536;
  options.chunk_count = 18;  // room for a record of the largest payload
  EXPECT_TRUE(writer.Init(options).ok());
  for (const RangeWrite& range : ranges) {
    std::string payload;
    for (uint64_t b = range.block; b < range.block + range.blocks; ++b) {
      payload += Pattern(b, range.version);
      log.writes.emplace_back(b, range.version);
    }
    log::RecordFields fields;
    fields.stamp_ns = 1000 + log.ends.size();
    fields.device_offset = range.block * kBlock;
    log::RecordPosition position;
    EXPECT_TRUE(
        writer.Append(fields, Slice(payload.data(), payload.size()), &position)
            .ok());
    log.ends.push_back(position.end);
    log::test::TakeAllWritesSynced(&writer, &log.bytes);
    EXPECT_TRUE(writer.Release(writer.TakenEnd()).ok());
  }
  return log;
}

// One 4096-byte record per write.
TestLog MakeLog(uint32_t number, const std::string& origin,
                const std::vector<std::pair<uint64_t, uint32_t>>& writes) {
  std::vector<RangeWrite> ranges;
  for (const auto& [block, version] : writes) {
    ranges.push_back({block, 1, version});
  }
  return MakeRangeLog(number, origin, ranges);
}

// Records of 4 KiB up to the largest payload (1 MiB, the whole device), so
// that windows of the local copy (LogApplier::kWindowBytes) end inside
// records of every size.
std::vector<RangeWrite> RecordsOfEverySize() {
  static_assert(log::kMaxPayloadBytes == kDevice, "one record fills it");
  return {{0, 1, 1},    {1, 64, 1},  {65, 65, 1}, {130, 126, 1},
          {0, 256, 2},  {5, 3, 3},   {200, 50, 3}, {10, 100, 4},
          {120, 63, 4}, {0, 2, 5}};
}

class ReplayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pt::ResetTunablesForTest();
    pt::ResetCountersForTest();
    g_now = 1000 * kSecond;
    char pattern[] = "/tmp/replayer_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    dir_ = root_ + "/resource-r0";
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
    data_path_ = root_ + "/data-r0.img";
    std::ofstream(data_path_).close();
    ASSERT_EQ(truncate(data_path_.c_str(), kDevice), 0);
    pt::ResetBlockDeviceForTest(data_path_.c_str());
    ASSERT_TRUE(data_.Open(data_path_.c_str()).ok());
    Link("primary", "a");
    Link("replay-b", "log-000000001-a,0,0");
  }
  void TearDown() override {
    replayer_.reset();
    data_.Close();
    pt::ResetBlockDeviceForTest(data_path_.c_str());
    std::filesystem::remove_all(root_);
  }

  // A link in resource-r0/, written as the tree would bring it.
  void Link(const std::string& leaf, const std::string& value) {
    const std::string path = dir_ + "/" + leaf;
    ASSERT_TRUE(platform::WriteLink(path.c_str(), value.data(), value.size(),
                                    admin_clock_.Now())
                    .ok());
  }
  std::string Value(const std::string& leaf) {
    char value[platform::kMaxLinkValueBytes + 1];
    size_t size = 0;
    const std::string rel = "resource-r0/" + leaf;
    if (!ReadValue(root_.c_str(), rel.c_str(), value, sizeof(value), &size,
                   nullptr, nullptr)
             .ok()) {
      return "<absent>";
    }
    return std::string(value, size);
  }
  std::string ReplayLink(uint32_t number, const std::string& origin,
                         uint64_t position) {
    return LogName(number, origin) + "," + std::to_string(position) + ",0";
  }

  std::string LocalPath(const TestLog& log) {
    return dir_ + "/" + LogName(log.number, log.origin);
  }
  uint64_t LocalSize(const TestLog& log) {
    struct stat st;
    return stat(LocalPath(log).c_str(), &st) == 0
               ? static_cast<uint64_t>(st.st_size)
               : 0;
  }
  // Fetch: appends `bytes`[local size, upto) to the local copy.
  void FetchBytes(const TestLog& log, const std::vector<uint8_t>& bytes,
                  uint64_t upto) {
    const uint64_t have = LocalSize(log);
    ASSERT_LE(upto, bytes.size());
    std::ofstream out(LocalPath(log), std::ios::binary | std::ios::app);
    if (upto > have) {
      out.write(reinterpret_cast<const char*>(bytes.data() + have),
                static_cast<std::streamsize>(upto - have));
    }
  }
  void Fetch(const TestLog& log, uint64_t upto) {
    FetchBytes(log, log.bytes, upto);
  }
  void Fetch(const TestLog& log) { Fetch(log, log.bytes.size()); }

  // version-N-HOST for `log` at its full length, chained to `previous`.
  tree::VersionLink Finish(const TestLog& log, const std::string& host,
                           const tree::VersionLink* previous = nullptr,
                           uint64_t length = UINT64_MAX) {
    tree::VersionLink link;
    EXPECT_TRUE(tree::MakeVersionLink(
                    previous, Name(log.number, log.origin),
                    length == UINT64_MAX ? log.bytes.size() : length, &link)
                    .ok());
    Bytes value(platform::Gfp::kKernel);
    EXPECT_TRUE(tree::AppendVersionLink(link, &value).ok());
    Link(VersionName(log.number, host),
         std::string(value.data(), value.data() + value.size()));
    return link;
  }

  Replayer* Start() {
    replayer_ = std::make_unique<Replayer>();
    ReplayerOptions options;
    options.root = root_.c_str();
    options.name = "r0";
    options.host = "b";
    options.data = &data_;
    options.device_size = kDevice;
    options.clock = &clock_;
    options.monotonic_ns = FakeNow;
    EXPECT_TRUE(replayer_->Init(options).ok());
    return replayer_.get();
  }
  // Passes until there is nothing more to do at once.
  ReplayPass Drain() {
    ReplayPass pass;
    for (int i = 0; i < 10000; ++i) {
      pass = replayer_->Pass();
      if (!pass.more) return pass;
    }
    ADD_FAILURE() << "Pass() never ran out of work";
    return pass;
  }
  ReplayReport Report() {
    ReplayReport report;
    replayer_->Report(&report);
    return report;
  }

  std::string Block(uint64_t block) {
    std::string data(kBlock, '\0');
    std::ifstream in(data_path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(block * kBlock));
    in.read(&data[0], static_cast<std::streamsize>(kBlock));
    return data;
  }
  // Every write of `log` (in order, the last version of a block wins) is on
  // the data device.
  void ExpectApplied(const TestLog& log, size_t records = SIZE_MAX) {
    std::vector<std::pair<uint64_t, uint32_t>> writes(
        log.writes.begin(),
        log.writes.begin() + std::min(records, log.writes.size()));
    for (size_t i = 0; i < writes.size(); ++i) {
      bool later = false;
      for (size_t j = i + 1; j < writes.size(); ++j) {
        later = later || writes[j].first == writes[i].first;
      }
      if (!later) {
        EXPECT_EQ(Block(writes[i].first),
                  Pattern(writes[i].first, writes[i].second))
            << "block " << writes[i].first;
      }
    }
  }
  void ExpectZero(uint64_t block) {
    EXPECT_EQ(Block(block), std::string(kBlock, '\0')) << "block " << block;
  }

  std::string root_, dir_, data_path_;
  LamportClock clock_;
  LamportClock admin_clock_;
  platform::BlockDevice data_;
  std::unique_ptr<Replayer> replayer_;
};

// Ten one-block writes to blocks 10..19.
std::vector<std::pair<uint64_t, uint32_t>> TenWrites(uint32_t version) {
  std::vector<std::pair<uint64_t, uint32_t>> writes;
  for (uint64_t b = 10; b < 20; ++b) writes.emplace_back(b, version);
  return writes;
}

TEST_F(ReplayerTest, ReplaysAFinishedLogAndWritesTheSameVersionLink) {
  const TestLog log1 = MakeLog(1, "a", {{0, 1}, {1, 1}, {5, 1}, {1, 2}});
  Fetch(log1);
  Finish(log1, "a");
  Start();
  const ReplayPass pass = Drain();
  EXPECT_EQ(pass.state, ReplayState::kIdle);
  ExpectApplied(log1);
  ExpectZero(2);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
  EXPECT_EQ(Value(VersionName(1, "b")), Value(VersionName(1, "a")));
  const ReplayReport report = Report();
  EXPECT_EQ(report.state, ReplayState::kIdle);
  EXPECT_EQ(report.bytes_applied, 4 * kBlock);
  EXPECT_EQ(report.records_applied, 4u);
  EXPECT_EQ(report.logfiles_finished, 1u);
  EXPECT_EQ(report.code, 0);
  EXPECT_STREQ(report.error.text, "");
  EXPECT_GE(pt::GetBlockDeviceStatsForTest(data_path_.c_str()).flushes, 1u);
  EXPECT_EQ(platform::GetCounter(platform::Counter::kBytesReplayed),
            4 * kBlock);
}

TEST_F(ReplayerTest, GrowingLogIsAppliedAsItsBytesArrive) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  Fetch(log1, log1.ends[2] + 100);  // in the middle of record 4
  Start();
  ReplayPass pass = Drain();
  EXPECT_EQ(pass.state, ReplayState::kWaitingForBytes);
  EXPECT_EQ(pass.bytes_applied, 3 * kBlock);
  ExpectApplied(log1, 3);
  ExpectZero(13);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.ends[2]));

  Fetch(log1, log1.ends[6]);
  pass = Drain();
  EXPECT_EQ(pass.state, ReplayState::kWaitingForBytes);
  ExpectApplied(log1, 7);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.ends[6]));

  // Every byte is here, but no version link says the logfile is complete.
  Fetch(log1);
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  ExpectApplied(log1);
  g_now += kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  EXPECT_EQ(Value(VersionName(1, "b")), "<absent>");

  // The primary finished it: looked for once a second.
  Finish(log1, "a");
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  g_now += kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  EXPECT_EQ(Value(VersionName(1, "b")), Value(VersionName(1, "a")));
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
  EXPECT_EQ(Report().bytes_applied, 10 * kBlock);
}

TEST_F(ReplayerTest, MovesToTheNextLogfileAndChainsItsVersionLinks) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  const TestLog log2 = MakeLog(2, "a", {{10, 2}, {30, 2}, {11, 2}});
  Fetch(log1);
  const tree::VersionLink v1 = Finish(log1, "a");
  Link("replay-a", "log-000000002-a,0,0");  // the primary writes log 2
  Start();
  // Log 2 is named, but fetch has not created it yet.
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  ExpectApplied(log1);
  EXPECT_EQ(Value(VersionName(1, "b")), Value(VersionName(1, "a")));
  EXPECT_EQ(Value("replay-b"), ReplayLink(2, "a", 0));

  Fetch(log2, log2.ends[1]);
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  EXPECT_EQ(Block(10), Pattern(10, 2));
  EXPECT_EQ(Block(30), Pattern(30, 2));
  EXPECT_EQ(Block(11), Pattern(11, 1));
  EXPECT_EQ(Value("replay-b"), ReplayLink(2, "a", log2.ends[1]));

  Fetch(log2);
  Finish(log2, "a", &v1);
  g_now += kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  EXPECT_EQ(Block(11), Pattern(11, 2));
  EXPECT_EQ(Value(VersionName(2, "b")), Value(VersionName(2, "a")));
  EXPECT_EQ(Report().logfiles_finished, 2u);
}

TEST_F(ReplayerTest, NextLogfileOfAnotherOriginIsFollowed) {
  // After a failover, logfile 2 was created by host c; the designated
  // primary (now c) names it in its replay link.
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  const TestLog log2 = MakeLog(2, "c", {{40, 1}});
  Fetch(log1);
  Finish(log1, "a");
  Link("primary", "c");
  Link("replay-c", "log-000000002-c,0,0");
  Link("replay-a", "log-000000001-a,0,0");
  Fetch(log2);
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  EXPECT_EQ(Block(40), Pattern(40, 1));
  EXPECT_EQ(Value("replay-b"), ReplayLink(2, "c", log2.bytes.size()));
}

TEST_F(ReplayerTest, DifferentVersionLinkOfThePrimaryIsASplitBrain) {
  // This host's history of logfile 1 differs from the primary's.
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  const TestLog log2 = MakeLog(2, "a", {{50, 2}});
  const TestLog log3 = MakeLog(3, "a", {{60, 3}});
  const tree::VersionLink ours = Finish(log1, "b", nullptr, 4096);
  const tree::VersionLink theirs = Finish(log1, "a");
  ASSERT_NE(ours.hash, theirs.hash);
  Finish(log2, "a", &theirs);
  Link("replay-b", "log-000000002-a,0,0");
  Link("replay-a", "log-000000003-a,0,0");
  Fetch(log2);
  Fetch(log3);
  Start();
  ReplayPass pass = Drain();
  EXPECT_EQ(pass.state, ReplayState::kSplitBrain);
  ReplayReport report = Report();
  EXPECT_EQ(report.code, -71);
  EXPECT_NE(std::string(report.error.text).find("split brain"),
            std::string::npos)
      << report.error.text;
  EXPECT_EQ(Block(50), Pattern(50, 2));  // log 2 itself was complete
  ExpectZero(60);                        // nothing after it
  g_now += 10 * kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kSplitBrain);
  ExpectZero(60);
  EXPECT_EQ(Value("replay-b"), ReplayLink(2, "a", log2.bytes.size()));
}

TEST_F(ReplayerTest, TwoLengthsForOneLogfileAreASplitBrain) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  Fetch(log1);
  Finish(log1, "a");
  Finish(log1, "c", nullptr, log1.bytes.size() + 8);
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kSplitBrain);
  EXPECT_NE(std::string(Report().error.text).find("different lengths"),
            std::string::npos)
      << Report().error.text;
  EXPECT_EQ(Value(VersionName(1, "b")), "<absent>");
}

TEST_F(ReplayerTest, PrimaryNamingAnotherLogfileIsASplitBrain) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  const TestLog other = MakeLog(1, "c", {{0, 9}});
  Fetch(log1, log1.ends[4]);
  Link("primary", "c");
  Finish(other, "c");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kSplitBrain);
  ExpectApplied(log1, 5);
  Fetch(log1);
  EXPECT_EQ(Drain().state, ReplayState::kSplitBrain);
  ExpectZero(15);
}

TEST_F(ReplayerTest, HoleInTheNumberingStopsUntilTheNextLogfileIsNamed) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  const TestLog log2 = MakeLog(2, "a", {{70, 2}});
  Fetch(log1);
  const tree::VersionLink v1 = Finish(log1, "a");
  Link("replay-a", "log-000000003-a,0,0");  // nothing names logfile 2
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kIdle);  // maybe links in flight
  g_now += kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  g_now += kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kHole);
  ReplayReport report = Report();
  EXPECT_EQ(report.code, -61);
  EXPECT_NE(std::string(report.error.text).find("no link names logfile 2"),
            std::string::npos)
      << report.error.text;

  // Logfile 2 turns up: replay goes on.
  Finish(log2, "a", &v1);
  Fetch(log2);
  EXPECT_EQ(Drain().state, ReplayState::kHole);  // checked once a second
  g_now += kSecond;
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);  // log 3 missing
  EXPECT_EQ(Block(70), Pattern(70, 2));
  EXPECT_EQ(Value("replay-b"), ReplayLink(3, "a", 0));
  EXPECT_EQ(Report().code, 0);
}

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
  std::vector<RangeWrite> ranges = {{0, 256, 1}};
  for (uint32_t version = 2; version <= 4; ++version) {
    for (uint64_t block = 0; block < 256; block += 32) {
      ranges.push_back({block, 32, version});
    }
  }
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

TEST_F(ReplayerTest, NewReplayerContinuesFromTheReplayLink) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  Fetch(log1, log1.ends[5]);
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.ends[5]));
  // A crash: replay-b still says ends[1] (the later publication was lost),
  // and the data device lost the writes after it.
  replayer_.reset();
  Link("replay-b", ReplayLink(1, "a", log1.ends[1]));
  for (uint64_t b = 12; b < 16; ++b) {
    ASSERT_TRUE(
        data_.WriteSync(b * kBlock, std::string(kBlock, 0).data(), kBlock)
            .ok());
  }
  Fetch(log1);
  Finish(log1, "a");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  ExpectApplied(log1);
  // Records 1 and 2 end at or before the replay position: not applied again.
  EXPECT_EQ(Report().records_applied, 8u);
  EXPECT_EQ(Value(VersionName(1, "b")), Value(VersionName(1, "a")));

  // Once more from the end: nothing to apply, same links.
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kIdle);
  EXPECT_EQ(Report().records_applied, 0u);
  ExpectApplied(log1);
}

TEST_F(ReplayerTest, PublishesAboutOnceASecondWhileRecordsFlow) {
  const TestLog log1 = MakeLog(1, "a", TenWrites(1));
  Fetch(log1);
  Start();
  ReplayPass pass = replayer_->Pass(1);  // one record per pass
  EXPECT_TRUE(pass.more);
  EXPECT_EQ(pass.state, ReplayState::kReplaying);
  EXPECT_TRUE(replayer_->Pass(1).more);
  EXPECT_EQ(Value("replay-b"), "log-000000001-a,0,0");
  EXPECT_EQ(pt::GetBlockDeviceStatsForTest(data_path_.c_str()).flushes, 0u);
  g_now += kSecond;
  EXPECT_TRUE(replayer_->Pass(1).more);
  // Flushed before the link says so.
  EXPECT_EQ(pt::GetBlockDeviceStatsForTest(data_path_.c_str()).flushes, 1u);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.ends[2]));
  EXPECT_TRUE(replayer_->Pass(1).more);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.ends[2]));
  // Waiting: published at once.
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  EXPECT_EQ(Value("replay-b"), ReplayLink(1, "a", log1.bytes.size()));
  EXPECT_EQ(pt::GetBlockDeviceStatsForTest(data_path_.c_str()).flushes, 2u);
  // Nothing new: nothing written.
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
  EXPECT_EQ(pt::GetBlockDeviceStatsForTest(data_path_.c_str()).flushes, 2u);
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

TEST_F(ReplayerTest, MissingReplayLinkIsAnErrorThatIsRetried) {
  std::filesystem::remove(dir_ + "/replay-b");
  Start();
  EXPECT_EQ(Drain().state, ReplayState::kIoError);
  EXPECT_NE(std::string(Report().error.text).find("replay-b"),
            std::string::npos);
  Link("replay-b", "log-000000001-a,0,0");
  g_now += Replayer::kRetryNs;
  EXPECT_EQ(Drain().state, ReplayState::kWaitingForBytes);
}

}  // namespace
}  // namespace engine
}  // namespace mars
