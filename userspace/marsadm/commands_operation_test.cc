// attach, detach, up, down, primary, secondary, invalidate, fake-sync,
// wait-umount, wait-resource and the switch commands. The kernel is played
// by writing actual-* links before the command runs; waits use --timeout 0.
#include <fstream>

#include "command_test_env.h"
#include "core/tree/version_link.h"
#include "tree_read.h"

namespace mars::cli {
namespace {

class OperationCommandsTest : public CommandTest {
 protected:
  void SetUp() override {
    CommandTest::SetUp();
    MakeCluster();
    MakeResource();
  }
  RunResult Op(const std::string& host, std::vector<std::string> args) {
    args.push_back("--timeout");
    args.push_back("0");
    return Run(host, args);
  }
  void ExpectRefused(const RunResult& r, const std::string& part, int code = 1) {
    EXPECT_EQ(r.code, code) << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    EXPECT_TRUE(Has(r.err, part)) << r.err;
  }
  void Actual(const std::string& host, const std::string& name, const std::string& value,
              const std::string& res = "r0") {
    SetLinks({{"resource-" + res + "/actual-" + host + "/" + name, value}});
  }
  std::string Todo(const std::string& host, const std::string& name,
                   const std::string& res = "r0") {
    return Link("resource-" + res + "/todo-" + host + "/" + name).value_or("?");
  }
  std::string VersionLink(uint32_t number, const std::string& origin, uint64_t length,
                          const tree::VersionLink* previous, tree::VersionLink* out) {
    tree::LogfileName log;
    log.number = number;
    EXPECT_TRUE(log.host.Assign(CoreSlice(origin)).ok());
    EXPECT_TRUE(tree::MakeVersionLink(previous, log, length, out).ok());
    return FormatVersionLink(*out);
  }
};

TEST_F(OperationCommandsTest, AttachWritesTheSwitchAndWaits) {
  ASSERT_EQ(Run("hostB", {"pause-sync", "r0"}).code, 0);
  SetLinks({{"resource-r0/todo-hostB/attach", "0"}});
  RunResult r = Op("hostB", {"attach", "r0"});
  EXPECT_EQ(r.code, 3);  // the module has not attached yet
  EXPECT_TRUE(Has(r.err, "actual-hostB/is-attached is 1")) << r.err;
  EXPECT_EQ(Todo("hostB", "attach"), "1");
  EXPECT_EQ(TriggerValue(), "1");
  Actual("hostB", "is-attached", "1");
  r = Op("hostB", {"attach", "r0"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(OperationCommandsTest, DetachRefusesWhileOpen) {
  Actual("hostB", "open-count", "2");
  ExpectRefused(Op("hostB", {"detach", "r0"}), "in use");
  EXPECT_EQ(Todo("hostB", "attach"), "1");
  const RunResult r = Op("hostB", {"detach", "r0", "--force"});
  EXPECT_EQ(r.code, 0) << r.err;  // is-attached absent = off
  EXPECT_EQ(Todo("hostB", "attach"), "0");
}

TEST_F(OperationCommandsTest, UpAndDown) {
  Actual("hostB", "is-attached", "1");
  ASSERT_EQ(Op("hostB", {"down", "r0"}).code, 3);
  for (const char* sw : {"attach", "connect", "sync", "allow-replay"}) {
    EXPECT_EQ(Todo("hostB", sw), "0") << sw;
  }
  Actual("hostB", "is-attached", "0");
  EXPECT_EQ(Op("hostB", {"down", "r0"}).code, 0);
  RunResult r = Op("hostB", {"up", "r0"});
  EXPECT_EQ(r.code, 3);
  for (const char* sw : {"attach", "connect", "sync", "allow-replay"}) {
    EXPECT_EQ(Todo("hostB", sw), "1") << sw;
  }
  Actual("hostB", "is-attached", "1");
  EXPECT_EQ(Op("hostB", {"up", "r0"}).code, 0);
  Actual("hostB", "open-count", "1");
  ExpectRefused(Op("hostB", {"down", "r0"}), "umount");
}

TEST_F(OperationCommandsTest, OperationsNeedTheModuleAndMembership) {
  UnloadModule();
  const std::string before = Listing();
  for (const char* cmd : {"attach", "detach", "up", "down", "primary", "secondary",
                          "invalidate", "fake-sync", "wait-umount"}) {
    ExpectRefused(Op("hostB", {cmd, "r0"}), "module is not loaded");
  }
  EXPECT_EQ(Listing(), before);
  LoadModule();
  ExpectRefused(Op("hostC", {"attach", "r0"}), "not a member");
  ExpectRefused(Op("hostB", {"attach", "r9"}), "no such resource");
}

TEST_F(OperationCommandsTest, PrimaryHandover) {
  SetLinks({{"resource-r0/syncstatus-hostB", "4194304"}});
  Actual("hostB", "is-primary", "1");
  const RunResult r = Op("hostB", {"primary", "r0"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Link("resource-r0/primary"), "hostB");
  EXPECT_EQ(TriggerValue(), "2");  // local and peers
  // Again: nothing to write, the wait holds.
  EXPECT_EQ(Op("hostB", {"primary", "r0"}).code, 0);
}

TEST_F(OperationCommandsTest, PrimaryWaitsForTheKernel) {
  SetLinks({{"resource-r0/syncstatus-hostB", "4194304"}});
  const RunResult r = Op("hostB", {"primary", "r0"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Has(r.err, "timed out") || Has(r.err, "checked once")) << r.err;
  EXPECT_TRUE(Has(r.err, "actual-hostB/is-primary is 1")) << r.err;
}

TEST_F(OperationCommandsTest, PrimaryRefusesInconsistentReplica) {
  ExpectRefused(Op("hostB", {"primary", "r0"}), "inconsistent");
  EXPECT_EQ(Link("resource-r0/primary"), "hostA");
  Actual("hostB", "is-primary", "1");
  EXPECT_EQ(Op("hostB", {"primary", "r0", "--force"}).code, 0);
  EXPECT_EQ(Link("resource-r0/primary"), "hostB");
}

TEST_F(OperationCommandsTest, PrimaryRefusesSplitBrain) {
  SetLinks({{"resource-r0/syncstatus-hostB", "4194304"}});
  tree::VersionLink a1, a2, b2;
  const std::string v1 = VersionLink(1, "hostA", 100, nullptr, &a1);
  SetLinks({{"resource-r0/version-000000001-hostA", v1},
            {"resource-r0/version-000000001-hostB", v1},
            {"resource-r0/version-000000002-hostA", VersionLink(2, "hostA", 10, &a1, &a2)},
            {"resource-r0/version-000000002-hostB", VersionLink(2, "hostB", 20, &a1, &b2)}});
  ExpectRefused(Op("hostB", {"primary", "r0"}), "split brain between hostB and hostA");
  EXPECT_EQ(Link("resource-r0/primary"), "hostA");
}

TEST_F(OperationCommandsTest, PrimaryRefusesWhileUsedOnTheOldPrimaryOrDown) {
  SetLinks({{"resource-r0/syncstatus-hostB", "4194304"}});
  Actual("hostA", "open-count", "1");
  ExpectRefused(Op("hostB", {"primary", "r0"}), "in use on the current primary hostA");
  SetLinks({{"resource-r0/todo-hostB/attach", "0"}});
  ExpectRefused(Op("hostB", {"primary", "r0"}), "marsadm up r0");
}

TEST_F(OperationCommandsTest, Secondary) {
  ExpectRefused(Op("hostB", {"secondary", "r0"}), "hostA is the designated primary");
  Actual("hostA", "open-count", "1");
  ExpectRefused(Op("hostA", {"secondary", "r0"}), "in use");
  Actual("hostA", "open-count", "0");
  EXPECT_EQ(Op("hostA", {"secondary", "r0"}).code, 0);
  EXPECT_EQ(Link("resource-r0/primary"), "(none)");
}

TEST_F(OperationCommandsTest, InvalidateRestartsFromThePrimary) {
  SetLinks({{"resource-r0/replay-hostA", "log-000000002-hostA,500,0"},
            {"resource-r0/syncstatus-hostB", "4194304"},
            {"resource-r0/version-000000003-hostB", *Link("resource-r0/version-000000001-hostA")}});
  const RunResult r = Op("hostB", {"invalidate", "r0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Link("resource-r0/syncstatus-hostB"), "0");
  EXPECT_EQ(Link("resource-r0/replay-hostB"), "log-000000002-hostA,0,0");
  EXPECT_EQ(Link("resource-r0/version-000000001-hostB"),
            Link("resource-r0/version-000000001-hostA"));
  EXPECT_FALSE(Exists("resource-r0/version-000000003-hostB"));
  for (const char* sw : {"attach", "connect", "sync", "allow-replay"}) {
    EXPECT_EQ(Todo("hostB", sw), "1") << sw;
  }
  ExpectRefused(Op("hostA", {"invalidate", "r0"}), "designated primary");
}

TEST_F(OperationCommandsTest, InvalidateStopsAfterTheWaitWhenTheKernelIsBusy) {
  Actual("hostB", "is-syncing", "1");
  SetLinks({{"resource-r0/syncstatus-hostB", "4096"}});
  const RunResult r = Op("hostB", {"invalidate", "r0"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(Todo("hostB", "sync"), "0");                         // phase 2 done
  EXPECT_EQ(Link("resource-r0/syncstatus-hostB"), "4096");       // phase 4 not
}

TEST_F(OperationCommandsTest, FakeSyncMarksTheReplicaSynced) {
  const RunResult r = Op("hostB", {"fake-sync", "r0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Link("resource-r0/syncstatus-hostB"), "4194304");
  EXPECT_EQ(Todo("hostB", "sync"), "1");
  Actual("hostB", "is-syncing", "1");
  EXPECT_EQ(Op("hostB", {"fake-sync", "r0"}).code, 3);
}

TEST_F(OperationCommandsTest, WaitUmountAndWaitResource) {
  Actual("hostB", "open-count", "1");
  RunResult r = Op("hostB", {"wait-umount", "r0"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Has(r.err, "open-count is 0 (now 1)")) << r.err;
  Actual("hostB", "open-count", "0");
  EXPECT_EQ(Op("hostB", {"wait-umount", "r0"}).code, 0);

  EXPECT_EQ(Op("hostB", {"wait-resource", "r0", "is-attached"}).code, 3);
  EXPECT_EQ(Op("hostB", {"wait-resource", "r0", "is-attached-off"}).code, 0);
  Actual("hostB", "is-attached", "1");
  EXPECT_EQ(Op("hostB", {"wait-resource", "r0", "is-attach"}).code, 0);
  EXPECT_EQ(Op("hostA", {"wait-resource", "r0", "primary"}).code, 0);
  EXPECT_EQ(Op("hostB", {"wait-resource", "r0", "primary-off"}).code, 0);
  EXPECT_EQ(Op("hostB", {"wait-resource", "r0", "attach"}).code, 0);
  EXPECT_EQ(Op("hostB", {"wait-resource", "r0", "is-device"}).code, 3);
  std::ofstream(dev_ + "/r0").close();
  EXPECT_EQ(Op("hostB", {"wait-resource", "r0", "is-device"}).code, 0);
  r = Op("hostB", {"wait-resource", "r0", "is-happy"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(Has(r.err, "unknown condition 'is-happy'")) << r.err;
}

TEST_F(OperationCommandsTest, SwitchCommandsLocalAndGlobal) {
  ASSERT_EQ(Run("hostB", {"pause-sync", "r0"}).code, 0);
  EXPECT_EQ(Todo("hostB", "sync"), "0");
  EXPECT_EQ(Todo("hostA", "sync"), "1");
  ASSERT_EQ(Run("hostB", {"disconnect-local", "r0"}).code, 0);
  EXPECT_EQ(Todo("hostB", "connect"), "0");
  ASSERT_EQ(Run("hostB", {"resume-fetch", "r0"}).code, 0);
  EXPECT_EQ(Todo("hostB", "connect"), "1");
  ASSERT_EQ(Run("hostB", {"pause-replay-global", "r0"}).code, 0);
  EXPECT_EQ(Todo("hostA", "allow-replay"), "0");
  EXPECT_EQ(Todo("hostB", "allow-replay"), "0");
  EXPECT_EQ(TriggerValue(), "2");
  ASSERT_EQ(Run("hostC", {"connect-global", "r0"}).code, 0);  // non-member: global ok
  EXPECT_EQ(Todo("hostB", "connect"), "1");
  ASSERT_EQ(Run("hostA", {"resume-replay-global", "r0"}).code, 0);
  EXPECT_EQ(Todo("hostB", "allow-replay"), "1");
  ExpectRefused(Run("hostC", {"pause-fetch", "r0"}), "not a member");
  SetLinks({{"resource-r0/primary", "(none)"}});
  ExpectRefused(Run("hostB", {"resume-sync", "r0"}), "no designated primary");
  EXPECT_EQ(Run("hostB", {"pause-sync-global", "r0"}).code, 0);
  UnloadModule();  // switches do not need the module
  EXPECT_EQ(Run("hostB", {"connect", "r0"}).code, 0);
}

TEST_F(OperationCommandsTest, AllWithOneFailingResourceRollsForwardTheOthers) {
  MakeResource("r1");
  MakeResource("r2");
  // r1 cannot become primary on hostB (inconsistent); r0 and r2 can.
  for (const char* res : {"r0", "r2"}) {
    SetLinks({{std::string("resource-") + res + "/syncstatus-hostB", "4194304"}});
    Actual("hostB", "is-primary", "1", res);
  }
  const auto primary_r1 = Entry("resource-r1/primary");
  const RunResult r = Op("hostB", {"primary", "all"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_TRUE(Has(r.err, "resource r1: the local replica is inconsistent")) << r.err;
  EXPECT_EQ(Link("resource-r0/primary"), "hostB");
  EXPECT_EQ(Link("resource-r2/primary"), "hostB");
  EXPECT_EQ(Link("resource-r1/primary"), "hostA");
  EXPECT_EQ(Entry("resource-r1/primary")->stamp_ns, primary_r1->stamp_ns);
}

TEST_F(OperationCommandsTest, AllWhereOneResourceTimesOutSkipsItsLaterPhases) {
  MakeResource("r1");
  Actual("hostB", "is-replaying", "1", "r1");  // r1's kernel does not stop
  SetLinks({{"resource-r0/syncstatus-hostB", "4096"}, {"resource-r1/syncstatus-hostB", "4096"}});
  const RunResult r = Op("hostB", {"invalidate", "r0,r1"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_TRUE(Has(r.err, "resource r1: checked once")) << r.err;
  EXPECT_EQ(Todo("hostB", "sync", "r1"), "0");  // phase 2 happened for both
  EXPECT_EQ(Todo("hostB", "sync", "r0"), "1");  // r0 completed: back on
  EXPECT_EQ(Link("resource-r0/syncstatus-hostB"), "0");
  EXPECT_EQ(Link("resource-r1/syncstatus-hostB"), "4096");  // r1: nothing after the wait
}

TEST_F(OperationCommandsTest, DryRunWritesNothing) {
  ClearTrigger();
  const std::string before = Listing();
  const RunResult r = Run("hostB", {"--dry-run", "down", "r0"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "would: set resource-r0/todo-hostB/attach -> 0")) << r.out;
  EXPECT_EQ(Listing(), before);
  EXPECT_EQ(TriggerValue(), "");
}

TEST_F(OperationCommandsTest, HelpExistsForEveryOperationCommand) {
  for (const char* cmd :
       {"attach", "detach", "up", "down", "primary", "secondary", "invalidate",
        "fake-sync", "wait-umount", "wait-resource", "pause-sync", "resume-sync-local",
        "pause-fetch-global", "connect", "disconnect-global", "resume-replay"}) {
    const RunResult r = Run("hostA", {"help", cmd});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_TRUE(Has(r.out, cmd)) << r.out;
  }
}

}  // namespace
}  // namespace mars::cli
