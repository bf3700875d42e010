// log-rotate, log-delete, log-delete-all, log-purge-all, cron.
#include "command_test_env.h"
#include "core/tree/version_link.h"
#include "log_retention.h"
#include "tree_read.h"

namespace mars::cli {
namespace {

class LogCommandsTest : public CommandTest {
 protected:
  void SetUp() override {
    CommandTest::SetUp();
    MakeCluster();
    MakeResource();
  }
  void ExpectRefused(const RunResult& r, const std::string& part) {
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    EXPECT_TRUE(Has(r.err, part)) << r.err;
  }
  std::string Res(const std::string& name) { return "resource-r0/" + name; }
  bool Gone(const std::string& name) {
    const auto e = Entry(Res(name));
    return e && e->tombstone;
  }
  // Logfiles 1..n of hostA (each 100 bytes) with a consistent version chain.
  void History(uint32_t n) {
    tree::VersionLink previous;
    for (uint32_t i = 1; i <= n; ++i) {
      WriteLogfile(Res(FormatLogfileName(i, "hostA")), 100);
      tree::LogfileName log;
      log.number = i;
      ASSERT_TRUE(log.host.Assign(CoreSlice(std::string("hostA"))).ok());
      tree::VersionLink link;
      ASSERT_TRUE(tree::MakeVersionLink(i == 1 ? nullptr : &previous, log, 100, &link).ok());
      SetLinks({{Res(FormatVersionLinkName(i, "hostA")), FormatVersionLink(link)},
                {Res(FormatVersionLinkName(i, "hostB")), FormatVersionLink(link)}});
      previous = link;
    }
  }
  void Replays(uint32_t a, uint32_t b) {
    SetLinks({{Res("replay-hostA"), FormatLogfileName(a, "hostA") + ",0,0"},
              {Res("replay-hostB"), FormatLogfileName(b, "hostA") + ",0,0"}});
  }
};

TEST_F(LogCommandsTest, LogRotateCreatesTheNextLogfileOnlyWhenNeeded) {
  ASSERT_EQ(Run("hostA", {"log-rotate", "r0"}).code, 0);  // log 1 is empty
  EXPECT_FALSE(Entry(Res("log-000000002-hostA")));
  WriteLogfile(Res("log-000000001-hostA"), 4096);
  const RunResult r = Run("hostA", {"log-rotate", "r0"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto log = Entry(Res("log-000000002-hostA"));
  ASSERT_TRUE(log);
  EXPECT_EQ(log->type, EntryType::kFile);
  EXPECT_EQ(log->size, 0u);
  ExpectRefused(Run("hostB", {"log-rotate", "r0"}), "designated primary (hostA)");
  // The newest logfile is another host's: nothing to do here.
  WriteLogfile(Res("log-000000003-hostB"), 10);
  ASSERT_EQ(Run("hostA", {"log-rotate", "r0"}).code, 0);
  EXPECT_FALSE(Entry(Res("log-000000004-hostA")));
}

TEST_F(LogCommandsTest, LogDeleteDeletesTheOldestReplayedLogfile) {
  History(4);
  Replays(4, 3);  // logfiles 1 and 2 are replayed everywhere
  ASSERT_EQ(Run("hostA", {"log-delete", "r0"}).code, 0);
  EXPECT_TRUE(Gone("log-000000001-hostA"));
  EXPECT_EQ(Entry(Res("log-000000002-hostA"))->type, EntryType::kFile);
  EXPECT_TRUE(Exists(Res("version-000000001-hostA")));  // one more link than logs
  ASSERT_EQ(Run("hostA", {"log-delete", "r0"}).code, 0);
  EXPECT_TRUE(Gone("log-000000002-hostA"));
  EXPECT_TRUE(Gone("version-000000001-hostA"));
  EXPECT_TRUE(Gone("version-000000001-hostB"));
  EXPECT_TRUE(Exists(Res("version-000000002-hostA")));
  ASSERT_EQ(Run("hostA", {"log-delete", "r0"}).code, 0);  // nothing left to do
  EXPECT_EQ(Entry(Res("log-000000003-hostA"))->type, EntryType::kFile);
}

TEST_F(LogCommandsTest, LogDeleteAllDeletesEveryReplayedLogfile) {
  History(4);
  Replays(4, 4);
  const RunResult r = Run("hostB", {"log-delete-all", "r0"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* gone : {"log-000000001-hostA", "log-000000002-hostA",
                           "log-000000003-hostA", "version-000000002-hostA",
                           "version-000000001-hostB"}) {
    EXPECT_TRUE(Gone(gone)) << gone;
  }
  EXPECT_TRUE(Exists(Res("version-000000003-hostA")));
  EXPECT_TRUE(Exists(Res("log-000000004-hostA")));
  EXPECT_EQ(TriggerValue(), "2");
}

TEST_F(LogCommandsTest, AMemberWithoutReplayLinkBlocksDeletion) {
  History(3);
  Replays(3, 3);
  SetLinks({{Res("data-hostC"), "/dev/c"}});
  ASSERT_EQ(Run("hostA", {"log-delete-all", "r0"}).code, 0);
  EXPECT_FALSE(Gone("log-000000001-hostA"));
  EXPECT_TRUE(ReplayedLogfiles(ResourceTree(TreeDir(root_), "r0"), true).logfiles.empty());
}

TEST_F(LogCommandsTest, LogCommandsNeedMembership) {
  for (const char* cmd : {"log-delete", "log-delete-all", "log-purge-all", "log-rotate"}) {
    ExpectRefused(Run("hostC", {cmd, "r0"}), "not a member");
  }
}

TEST_F(LogCommandsTest, LogPurgeAllDeletesWhatIsOutsideThePrimarysHistory) {
  History(2);
  Replays(2, 2);
  // hostB forked: its own logfile 3 and version link 3 differ from hostA's.
  WriteLogfile(Res("log-000000003-hostA"), 50);
  WriteLogfile(Res("log-000000003-hostB"), 70);
  const ResourceTree res(TreeDir(root_), "r0");
  const auto chain = res.VersionChain("hostA");
  tree::LogfileName a3, b3;
  a3.number = b3.number = 3;
  ASSERT_TRUE(a3.host.Assign(CoreSlice(std::string("hostA"))).ok());
  ASSERT_TRUE(b3.host.Assign(CoreSlice(std::string("hostB"))).ok());
  tree::VersionLink la, lb;
  ASSERT_TRUE(tree::MakeVersionLink(&chain.back().link, a3, 50, &la).ok());
  ASSERT_TRUE(tree::MakeVersionLink(&chain.back().link, b3, 70, &lb).ok());
  SetLinks({{Res("version-000000003-hostA"), FormatVersionLink(la)},
            {Res("version-000000003-hostB"), FormatVersionLink(lb)},
            {Res("replay-hostA"), "log-000000003-hostA,50,0"}});
  ExpectRefused(Run("hostC", {"log-purge-all", "r0"}), "not a member");
  const RunResult r = Run("hostB", {"log-purge-all", "r0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Gone("log-000000003-hostB"));
  EXPECT_TRUE(Gone("version-000000003-hostB"));
  EXPECT_TRUE(Gone("log-000000001-hostA"));  // replayed everywhere
  EXPECT_EQ(Entry(Res("log-000000003-hostA"))->type, EntryType::kFile);
  EXPECT_TRUE(Exists(Res("version-000000003-hostA")));
  SetLinks({{Res("primary"), "(none)"}});
  ExpectRefused(Run("hostB", {"log-purge-all", "r0"}), "no designated primary");
}

TEST_F(LogCommandsTest, CronRotatesDeletesAndPurgesSeenTombstones) {
  History(2);
  Replays(2, 2);
  DeleteLink(Res("todo-hostB/sync"));      // older than hostB's heartbeat
  SetLinks({{"actual-hostB/time", "1"}});  // hostB's heartbeat
  SetLinks({{"userspace/x", "1"}});
  DeleteLink("userspace/x");  // newer than hostB's heartbeat: kept
  const RunResult r = Run("hostA", {"cron"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Entry(Res("log-000000003-hostA"))->size, 0u);  // rotated
  EXPECT_TRUE(Gone("log-000000001-hostA"));                 // replayed: deleted
  EXPECT_FALSE(Entry(Res("todo-hostB/sync")));              // purged
  EXPECT_TRUE(Entry("userspace/x")->tombstone);             // not seen yet
  // Once every peer has seen them, the directory goes too.
  SetLinks({{"actual-hostB/time", "2"}});
  ASSERT_EQ(Run("hostA", {"cron"}).code, 0);
  EXPECT_FALSE(Entry("userspace/x"));
  EXPECT_FALSE(Entry("userspace"));
}

TEST_F(LogCommandsTest, CronKeepsTombstonesAPeerHasNotSeen) {
  DeleteLink(Res("todo-hostB/sync"));
  ASSERT_EQ(Run("hostA", {"cron"}).code, 0);  // hostB has no heartbeat at all
  EXPECT_TRUE(Gone("todo-hostB/sync"));
  SetLinks({{"actual-hostB/time", "1"}});
  DeleteLink(Res("todo-hostB/connect"));  // after the heartbeat
  ASSERT_EQ(Run("hostA", {"cron"}).code, 0);
  EXPECT_FALSE(Entry(Res("todo-hostB/sync")));
  EXPECT_TRUE(Gone("todo-hostB/connect"));
}

TEST_F(LogCommandsTest, CronDryRunWritesNothing) {
  DeleteLink(Res("todo-hostB/sync"));
  SetLinks({{"actual-hostB/time", "1"}});
  const std::string before = Listing();
  const RunResult r = Run("hostA", {"--dry-run", "cron"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "would: purge resource-r0/todo-hostB/sync")) << r.out;
  EXPECT_EQ(Listing(), before);
}

TEST_F(LogCommandsTest, HelpExistsForEveryLogCommand) {
  for (const char* cmd : {"log-rotate", "log-delete", "log-delete-all", "log-purge-all", "cron"}) {
    const RunResult r = Run("hostA", {"help", cmd});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_TRUE(Has(r.out, cmd)) << r.out;
  }
}

}  // namespace
}  // namespace mars::cli
