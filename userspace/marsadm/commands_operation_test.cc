// attach, detach, up, down, secondary, fake-sync and the switch commands
// (primary: commands_primary_test.cc; invalidate: commands_invalidate_test.cc;
// wait-umount, wait-resource: wait_conditions_test.cc). The kernel is played
// by writing actual-* links before the command runs; waits use --timeout 0.
#include "operation_test_env.h"

namespace mars::cli {
namespace {

using OperationCommandsTest = OperationTest;

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

TEST_F(OperationCommandsTest, DownWaitsBrieflyForAJustClosedDevice) {
  // The module publishes open-count 0 shortly after the close (umount; down).
  Actual("hostB", "open-count", "1");
  std::future<RunResult> down = RunAsync("hostB", {"down", "r0"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Actual("hostB", "open-count", "0");
  const RunResult r = down.get();
  EXPECT_EQ(r.code, 0) << r.err;  // is-attached absent = off
  EXPECT_EQ(Todo("hostB", "attach"), "0");
}

TEST_F(OperationCommandsTest, DownFailsAtOnceWhenTheModuleRefuses) {
  // The device was opened after the check: the module refuses to switch off.
  Actual("hostB", "is-attached", "1");
  Actual("hostB", "msg-wrn-device-open", "/dev/mars/r0 is open");
  const RunResult r = Op("hostB", {"down", "r0"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(
      Has(r.err, "the module keeps the device up: /dev/mars/r0 is open"))
      << r.err;
  EXPECT_TRUE(Has(r.err, "wait-umount r0")) << r.err;
}

TEST_F(OperationCommandsTest, OperationsNeedTheModuleAndMembership) {
  UnloadModule();
  const std::string before = Listing();
  for (const char* cmd :
       {"attach", "detach", "up", "down", "primary", "secondary", "invalidate",
        "fake-sync", "wait-umount"}) {
    ExpectRefused(Op("hostB", {cmd, "r0"}), "module is not loaded");
  }
  EXPECT_EQ(Listing(), before);
  LoadModule();
  ExpectRefused(Op("hostC", {"attach", "r0"}), "not a member");
  ExpectRefused(Op("hostB", {"attach", "r9"}), "no such resource");
}

TEST_F(OperationCommandsTest, Secondary) {
  ExpectRefused(Op("hostB", {"secondary", "r0"}),
                "hostA is the designated primary");
  Actual("hostA", "open-count", "1");
  ExpectRefused(Op("hostA", {"secondary", "r0"}), "in use");
  Actual("hostA", "open-count", "0");
  EXPECT_EQ(Op("hostA", {"secondary", "r0"}).code, 0);
  EXPECT_EQ(Link("resource-r0/primary"), "(none)");
}

TEST_F(OperationCommandsTest, FakeSyncMarksTheReplicaSynced) {
  const RunResult r = Op("hostB", {"fake-sync", "r0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Link("resource-r0/syncstatus-hostB"), "4194304");
  EXPECT_EQ(Todo("hostB", "sync"), "1");
  Actual("hostB", "is-syncing", "1");
  EXPECT_EQ(Op("hostB", {"fake-sync", "r0"}).code, 3);
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
  ASSERT_EQ(Run("hostC", {"connect-global", "r0"}).code,
            0);  // non-member: global ok
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

TEST_F(OperationCommandsTest, DryRunWritesNothing) {
  ClearTrigger();
  const std::string before = Listing();
  const RunResult r = Run("hostB", {"--dry-run", "down", "r0"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "would: set resource-r0/todo-hostB/attach -> 0"))
      << r.out;
  EXPECT_EQ(Listing(), before);
  EXPECT_EQ(TriggerValue(), "");
}

TEST_F(OperationCommandsTest, HelpExistsForEveryOperationCommand) {
  for (const char* cmd :
       {"attach", "detach", "up", "down", "primary", "secondary", "invalidate",
        "fake-sync", "wait-umount", "wait-resource", "pause-sync",
        "resume-sync-local", "pause-fetch-global", "connect",
        "disconnect-global", "resume-replay"}) {
    const RunResult r = Run("hostA", {"help", cmd});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_TRUE(Has(r.out, cmd)) << r.out;
  }
}

}  // namespace
}  // namespace mars::cli
