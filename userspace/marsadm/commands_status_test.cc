// Tests of `view`, `view-MACRO` and `status` (text) through the marsadm
// entry point, on temporary trees with simulated actual-* links.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "status_test_util.h"
#include "view_macros.h"

namespace mars::cli {
namespace {

using testing::kSize;
using testing::StatusTree;

constexpr char kR[] = "resource-r0/";
std::string R(const std::string& name) { return kR + name; }

class ViewTest : public StatusTree {
 protected:
  // A second resource r1 on hostB only.
  void SecondResource() {
    Set("resource-r1/size", std::to_string(kSize));
    Set("resource-r1/primary", "hostB");
    Set("resource-r1/data-hostB", disk_);
    Set("resource-r1/replay-hostB", "log-000000001-hostB,0,0");
    Set("resource-r1/syncstatus-hostB", std::to_string(kSize));
    Set("resource-r1/actual-hostB/is-primary", "1");
    Set("resource-r1/actual-hostB/is-attached", "1");
    Set("resource-r1/todo-hostB/attach", "1");
  }
};

TEST_F(ViewTest, HealthyLine) {
  Healthy();
  const testing::RunResult r = Run({"view", "r0"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "r0 UpToDate Replaying dCASFR Secondary hostA Connected\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(ViewTest, AllIsTheDefaultAndListsMemberResources) {
  Healthy();
  SecondResource();
  const testing::RunResult all = Run({"view", "all"});
  EXPECT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(all.out,
            "r0 UpToDate Replaying dCASFR Secondary hostA Connected\n"
            "r1 UpToDate Replicating DCASFR Primary hostB Alone\n");
  EXPECT_EQ(Run({"view"}).out, all.out);
  EXPECT_EQ(Run({"view", "r1,r0"}).out,
            "r1 UpToDate Replicating DCASFR Primary hostB Alone\n"
            "r0 UpToDate Replaying dCASFR Secondary hostA Connected\n");
}

TEST_F(ViewTest, AllWithoutResourcesPrintsNothing) {
  Healthy();
  const testing::RunResult r = Run({"view", "all"}, "hostC");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(ViewTest, NonMemberSeesNotJoined) {
  Healthy();
  Set("actual-hostC/time", "1");
  const testing::RunResult r = Run({"view", "r0"}, "hostC");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "r0 NotJoined NotJoined ------ None hostA Connected\n");
}

TEST_F(ViewTest, BadResourceArguments) {
  Healthy();
  struct Case {
    std::vector<std::string> args;
    int code;
  };
  const Case cases[] = {
      {{"view", "r9"}, 1},
      {{"view", "a b"}, 2},
      {{"view", "../x"}, 2},
      {{"view", "r0,all"}, 2},
      {{"view", "r0,"}, 2},
      {{"view", "r0", "r1"}, 2},
      {{"status", "r9"}, 1},
      {{"view-role", "all"}, 2},
      {{"view-role", "r0,r0"}, 2},
      {{"view-role"}, 2},
      {{"view-role", "r9"}, 1},
      {{"view", "--window", "-1"}, 2},
      {{"view", "--window", "x"}, 2},
      {{"status", "--sample", "1.5"}, 2},
  };
  TreeDir tree(root_);
  const auto before = tree.ListAll();
  for (const Case& c : cases) {
    const testing::RunResult r = Run(c.args);
    EXPECT_EQ(r.code, c.code) << c.args[0] << " " << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    EXPECT_EQ(r.out, "");
  }
  const auto after = tree.ListAll();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].path, after[i].path);
    EXPECT_EQ(before[i].value, after[i].value);
    EXPECT_EQ(before[i].stamp_ns, after[i].stamp_ns);
  }
}

TEST_F(ViewTest, MissingRootIsAPreconditionFailure) {
  root_ = base_ + "/nothing";
  const testing::RunResult r = Run({"view"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Has(r.err, "does not exist")) << r.err;
}

TEST_F(ViewTest, ModuleNotLoaded) {
  Healthy();
  setenv("MARS_PROC_DIR", (base_ + "/no-proc").c_str(), 1);
  EXPECT_EQ(Run({"view-replstate", "r0"}).out, "ModuleNotLoaded\n");
}

TEST_F(ViewTest, SyncProgressLine) {
  Healthy();
  Set(R("syncstatus-hostB"), std::to_string(kSize / 4));
  Set(R("actual-hostB/is-syncing"), "1");
  const testing::RunResult r = Run({"view", "r0"});
  EXPECT_EQ(r.out,
            "r0 InConsistent Syncing dcAsFR Secondary hostA Connected\n"
            "    sync: 256.00 KiB / 1.00 MiB (25.00%)  rest: 768.00 KiB  "
            "rate: unknown  remaining: unknown\n");
  Set(R("actual-hostB/sync-rate"), "1024");
  EXPECT_TRUE(Has(Run({"view", "r0"}).out,
                       "rate: 1.00 KiB/s  remaining: 00:12:48\n"));
}

TEST_F(ViewTest, FetchAndReplayLines) {
  Healthy();
  Logfile(R("log-000000001-hostA"), 8192);
  Set(R("replay-hostA"), "log-000000001-hostA,12288,0");
  const testing::RunResult r = Run({"view", "r0"});
  EXPECT_EQ(LineCount(r.out), 3) << r.out;
  EXPECT_TRUE(Has(r.out, "r0 OutDated[FR] Replaying dCASfr Secondary"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "    fetch: rest: 4.00 KiB  lag: "));
  EXPECT_TRUE(Has(
      r.out, "    replay: log-000000001-hostA at 4096  rest: 4.00 KiB  lag: "));
}

TEST_F(ViewTest, SplitBrainAndMessages) {
  Healthy();
  std::vector<tree::VersionLink> a;
  std::vector<tree::VersionLink> b;
  Set(R("version-000000001-hostA"), VersionValue(&a, 1, "hostA", 4096));
  Set(R("version-000000001-hostB"), VersionValue(&b, 1, "hostB", 4096));
  Set(R("actual-hostB/msg-err-splitbrain-detected"), "histories differ");
  Set(R("actual-hostB/msg-inf-fetch"), "fetching\nsecond line");
  const testing::RunResult r = Run({"view", "r0"});
  EXPECT_TRUE(Has(
      r.out, "    split brain: the histories of hostA hostB diverge\n"))
      << r.out;
  EXPECT_TRUE(Has(
      r.out, "    error hostB: err-splitbrain-detected: histories differ\n"));
  EXPECT_FALSE(Has(r.out, "inf-fetch"));
  const testing::RunResult verbose = Run({"view", "r0", "--verbose"});
  EXPECT_TRUE(Has(verbose.out,
                       "    info hostB: inf-fetch: fetching\\nsecond line\n"))
      << verbose.out;
  EXPECT_EQ(Run({"view-is-split-brain", "r0"}).out, "1\n");
}

TEST_F(ViewTest, WindowOption) {
  Healthy();
  SetAged("actual-hostA/time", "1", 30);
  EXPECT_EQ(Run({"view-is-alive", "r0"}).out, "1\n");
  EXPECT_EQ(Run({"view-is-alive", "r0", "--window", "10"}).out, "0\n");
  EXPECT_EQ(Run({"view-commstate", "r0", "--window", "10"}).out,
            "Unreachable[hostA]\n");
}

TEST_F(ViewTest, EveryMacroPrintsOneLine) {
  Healthy();
  for (const ViewMacro& macro : ViewMacros()) {
    const std::string command = std::string("view-") + macro.name;
    const testing::RunResult r = Run({command, "r0"});
    EXPECT_EQ(r.code, 0) << command << ": " << r.err;
    EXPECT_EQ(LineCount(r.out), 1) << command << ": " << r.out;
    EXPECT_EQ(r.err, "");
    const testing::RunResult help = Run({"help", command});
    EXPECT_EQ(help.code, 0);
    EXPECT_TRUE(Has(help.out, command + " RESOURCE")) << help.out;
  }
}

TEST_F(ViewTest, MacroValuesOfAHealthySecondary) {
  Healthy();
  const std::map<std::string, std::string> expected = {
      {"role", "Secondary"},
      {"primarynode", "hostA"},
      {"is-primary", "0"},
      {"is-consistent", "1"},
      {"is-split-brain", "0"},
      {"is-alive", "1"},
      {"is-orphan", "0"},
      {"diskstate", "UpToDate"},
      {"replstate", "Replaying"},
      {"flags", "dCASFR"},
      {"commstate", "Connected"},
      {"sync-size", std::to_string(kSize)},
      {"sync-pos", std::to_string(kSize)},
      {"sync-rest", "0"},
      {"fetch-pos", "4096"},
      {"fetch-rest", "0"},
      {"fetch-lag", "0"},
      {"replay-pos", "4096"},
      {"replay-rest", "0"},
      {"replay-lag", "0"},
      {"is-attach", "1"},
      {"is-sync", "0"},
      {"is-fetch", "0"},
      {"is-replay", "1"},
      {"todo-attach", "1"},
      {"todo-sync", "1"},
      {"todo-fetch", "1"},
      {"todo-replay", "1"},
  };
  EXPECT_EQ(expected.size(), ViewMacros().size());
  for (const auto& [name, value] : expected) {
    EXPECT_EQ(Run({"view-" + name, "r0"}).out, value + "\n") << name;
  }
}

TEST_F(ViewTest, MacroValuesWhileBehind) {
  Healthy();
  Set(R("syncstatus-hostB"), "1000");
  Set(R("todo-hostB/sync"), "0");
  Logfile(R("log-000000001-hostA"), 8192);
  Set(R("replay-hostA"), "log-000000001-hostA,12288,0");
  Set(R("primary"), "(none)");
  Set(R("actual-hostA/is-primary"), "0");
  const std::map<std::string, std::string> expected = {
      {"primarynode", "(none)"},
      {"is-consistent", "0"},
      {"sync-rest", std::to_string(kSize - 1000)},
      {"sync-pos", "1000"},
      {"fetch-rest", "4096"},
      {"replay-rest", "4096"},
      {"replay-lag", "-1"},
      {"fetch-lag", "-1"},
      {"replstate", "PausedSync"},
      {"diskstate", "InConsistent"},
      {"flags", "dcA-fr"},
      {"todo-sync", "0"},
      {"is-alive", "1"},
  };
  for (const auto& [name, value] : expected) {
    EXPECT_EQ(Run({"view-" + name, "r0"}).out, value + "\n") << name;
  }
}

TEST_F(ViewTest, MacrosOfThePrimary) {
  Healthy();
  EXPECT_EQ(Run({"view-role", "r0"}, "hostA").out, "Primary\n");
  EXPECT_EQ(Run({"view-is-primary", "r0"}, "hostA").out, "1\n");
  EXPECT_EQ(Run({"view-flags", "r0"}, "hostA").out, "DCASFR\n");
  EXPECT_EQ(Run({"view-replstate", "r0"}, "hostA").out, "Replicating\n");
}

TEST_F(ViewTest, StatusTextAddsPeerLines) {
  Healthy();
  const testing::RunResult r = Run({"status", "r0"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "r0 UpToDate Replaying dCASFR Secondary hostA Connected\n"
            "    host hostA: UpToDate Replicating DCASFR Primary alive "
            "behind: 0 B\n");
}

// The primary's view and status show a secondary's fetch from its
// fetch-pos link: the fetch line while it is behind, fetch-rest in status.
TEST_F(ViewTest, PeerFetchLineFromItsFetchPosition) {
  Healthy();
  Logfile(R("log-000000001-hostA"), 8192);
  Set(R("replay-hostA"), "log-000000001-hostA,8192,0");
  Set(R("actual-hostB/fetch-pos"), "log-000000001-hostA,6144");
  testing::RunResult r = Run({"view", "r0"}, "hostA");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(LineCount(r.out), 2) << r.out;
  EXPECT_TRUE(Has(r.out, "    fetch hostB: rest: 2.00 KiB  lag: ")) << r.out;
  r = Run({"status", "r0"}, "hostA");
  EXPECT_TRUE(Has(r.out,
                  "    host hostB: OutDated[FR] Replaying dCASfr "
                  "Secondary alive behind: 4.00 KiB fetch-rest: "
                  "2.00 KiB\n"))
      << r.out;
  // Everything fetched: rest 0 while the peer is behind in its replay.
  Set(R("actual-hostB/fetch-pos"), "log-000000001-hostA,8192");
  r = Run({"view", "r0"}, "hostA");
  EXPECT_TRUE(Has(r.out, "    fetch hostB: rest: 0 B  lag: 00:00:00")) << r.out;
  r = Run({"status", "r0"}, "hostA");
  EXPECT_TRUE(Has(r.out,
                  "OutDated[R] Replaying dCASFr Secondary alive "
                  "behind: 4.00 KiB fetch-rest: 0 B\n"))
      << r.out;
  // Replayed too: nothing behind, no line.
  Set(R("replay-hostB"), "log-000000001-hostA,8192,0");
  r = Run({"view", "r0"}, "hostA");
  EXPECT_EQ(LineCount(r.out), 1) << r.out;
}

TEST_F(ViewTest, SampleTakesTwoObservations) {
  Healthy();
  Set(R("syncstatus-hostB"), "0");
  const testing::RunResult r = Run({"view", "r0", "--sample", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  // Nothing moved in that second: rate 0, so the remaining time is unknown.
  EXPECT_TRUE(Has(r.out, "rate: 0 B/s  remaining: unknown")) << r.out;
}

TEST_F(ViewTest, ViewNeverChangesTheTree) {
  Healthy();
  TreeDir tree(root_);
  const auto before = tree.ListAll();
  for (const std::vector<std::string>& args : {std::vector<std::string>{"view"},
                                               {"status", "--json"},
                                               {"status"},
                                               {"view-role", "r0"}}) {
    EXPECT_EQ(Run(args).code, 0);
  }
  const auto after = tree.ListAll();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].path, after[i].path);
    EXPECT_EQ(before[i].stamp_ns, after[i].stamp_ns);
  }
}

}  // namespace
}  // namespace mars::cli
