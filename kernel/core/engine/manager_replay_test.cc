// Replay switched by the Manager (docu/module-state.md) against the fake
// engine of manager_test_util.h: a secondary replays while allow-replay is
// set and the block sync is complete, publishes its rate and stops with
// their code and text; becoming primary stops it; a bad allow-replay link is
// reported and read as off.
#include <filesystem>
#include <string>

#include "core/engine/manager.h"
#include "core/engine/manager_test_util.h"
#include "gtest/gtest.h"

namespace mars {
namespace engine {
namespace test {
namespace {

TEST_F(ManagerTest, SecondaryReplaysWhileAllowed) {
  MakeResource("r0", "hostB");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(),
            (Calls{"create r0 /dev/fake-r0 1048576 hostA", "attach r0"}));
  EXPECT_EQ(Actual("r0", "is-replaying"), "0");
  Link("resource-r0/todo-hostA/allow-replay", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"replay r0"});
  EXPECT_EQ(Actual("r0", "is-replaying"), "1");
  EXPECT_EQ(Actual("r0", "replay-code"), "0");
  EXPECT_EQ(Actual("r0", "replay-rate"), "0");
  script_.replay_rate = 1048576;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_EQ(Actual("r0", "replay-rate"), "1048576");

  // A stop is published with its code and text, and goes away with it.
  script_.replay_code = -71;
  script_.replay_why = "split brain: histories diverge";
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "is-replaying"), "0");
  EXPECT_EQ(Actual("r0", "replay-code"), "-71");
  EXPECT_EQ(Actual("r0", "msg-err-replay"), script_.replay_why);
  script_.replay_code = 0;
  script_.replay_why = "";
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "replay-code"), "0");
  EXPECT_EQ(Actual("r0", "msg-err-replay"), "<absent>");
  EXPECT_EQ(Actual("r0", "is-replaying"), "1");

  Link("resource-r0/todo-hostA/allow-replay", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"no_replay r0"});
  EXPECT_EQ(Actual("r0", "is-replaying"), "0");

  // Detach stops it (the engine does); attach again restarts it.
  Link("resource-r0/todo-hostA/allow-replay", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"replay r0"});
  Link("resource-r0/todo-hostA/attach", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"detach r0", "destroy r0"}));
  EXPECT_EQ(Actual("r0", "is-replaying"), "0");
  Link("resource-r0/todo-hostA/attach", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "replay r0"}));
}

TEST_F(ManagerTest, ReplayWaitsForTheBlockSync) {
  MakeResource("r0", "hostB");
  Link("resource-r0/syncstatus-hostA", "0");
  Link("resource-r0/todo-hostA/allow-replay", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0"}));
  Link("resource-r0/syncstatus-hostA", "1044480");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  Link("resource-r0/syncstatus-hostA", "1048576");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"replay r0"});
  // A new sync (invalidate) stops it again.
  Link("resource-r0/syncstatus-hostA", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"no_replay r0"});
  // No syncstatus link at all: not synced.
  std::filesystem::remove(Abs("resource-r0/syncstatus-hostA"));
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
}

TEST_F(ManagerTest, BecomingPrimaryStopsReplay) {
  MakeResource("r0", "hostB");
  Link("resource-r0/todo-hostA/allow-replay", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "replay r0"}));
  Link("resource-r0/primary", "hostA");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"start_primary r0 r0", "no_replay r0"}));
  EXPECT_EQ(Actual("r0", "is-primary"), "1");
  EXPECT_EQ(Actual("r0", "is-replaying"), "0");
  // A refused start (e.g. this host replays another primary's logfile)
  // leaves replay running.
  Link("resource-r0/primary", "hostB");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"stop_primary r0", "replay r0"}));
  script_.start_result = Status(StatusCode::kUnavailable, "foreign");
  script_.start_why =
      "this host replays logfile log-000000003-hostB of another primary; "
      "handover is not supported yet";
  Link("resource-r0/primary", "hostA");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"start_primary r0 r0"});
  EXPECT_EQ(Actual("r0", "msg-err-primary"), script_.start_why);
  EXPECT_EQ(Actual("r0", "is-replaying"), "1");
}

TEST_F(ManagerTest, BadAllowReplayLinkIsReportedAndReadAsOff) {
  MakeResource("r0", "hostB");
  Link("resource-r0/todo-hostA/allow-replay", "on");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(),
            (Calls{"create r0 /dev/fake-r0 1048576 hostA", "attach r0"}));
  EXPECT_EQ(
      Actual("r0", "msg-wrn-bad-link"),
      "resource-r0/todo-hostA/allow-replay: switch value is not '0' or '1'");
}

}  // namespace
}  // namespace test
}  // namespace engine
}  // namespace mars
