// Tests of the Replayer's logfiles and links: finished and growing logfiles,
// the chain of logfiles and version links, split brains, holes in the
// numbering, the replay link a new Replayer continues from, publication.
// The fixture: replayer_test_util.h.
#include "core/engine/replayer.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/engine/replayer_test_util.h"
#include "gtest/gtest.h"

namespace mars {
namespace engine {
namespace test {
namespace {

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
}  // namespace test
}  // namespace engine
}  // namespace mars
