// Tests of the Manager (docu/module-state.md) against the fake engine of
// manager_test_util.h: when it acts at all (uuid, root, membership), attach
// as secondary or primary, the primary moved away, detach (switched off,
// device open, resource deleted, membership tombstoned), retries of failed
// attach and start, logfile rotation, Stop(), and the thread. What it
// publishes is in manager_publish_test.cc, replay in manager_replay_test.cc.
#include "core/engine/manager.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/engine/manager_test_util.h"
#include "core/engine/tree_links.h"
#include "core/tree/names.h"
#include "gtest/gtest.h"
#include "platform_user.h"

namespace mars {
namespace engine {
namespace test {
namespace {

TEST_F(ManagerTest, NothingHappensWithoutUuid) {
  MakeResource("r0", "hostA");
  std::filesystem::remove(Abs("uuid"));
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_FALSE(Exists("resource-r0/actual-hostA"));
  EXPECT_FALSE(Exists("actual-hostA"));
  Link("uuid", tree::kTombstoneValue);
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  // /mars appears later: the next scan acts.
  Link("uuid", "cluster-1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "start_primary r0 r0"}));
}

TEST_F(ManagerTest, NothingHappensWithoutRoot) {
  Manager other(FakeMonotonic);
  const std::string missing = root_ + "/not-mounted";
  ASSERT_TRUE(other.Init(missing.c_str(), &kFakeHooks, &clock_).ok());
  other.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_FALSE(Exists("not-mounted"));
  other.Stop();
}

TEST_F(ManagerTest, NonMemberIsLeftAlone) {
  Link("resource-r0/size", "1048576");
  Link("resource-r0/primary", "hostB");
  Link("resource-r0/data-hostB", "/dev/b");
  Link("resource-r0/todo-hostA/attach", "1");
  Link("resource-bad name/data-hostA", "/dev/x");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_FALSE(Exists("resource-r0/actual-hostA"));
  EXPECT_EQ(manager_.resource_count(), 0u);
}

TEST_F(ManagerTest, AttachAsSecondaryPublishesState) {
  MakeResource("r0", "(none)");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(),
            (Calls{"create r0 /dev/fake-r0 1048576 hostA", "attach r0"}));
  EXPECT_EQ(Actual("r0", "is-attached"), "1");
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  EXPECT_EQ(Actual("r0", "open-count"), "0");
  EXPECT_EQ(Actual("r0", "device-size"), "0");
  EXPECT_EQ(Actual("r0", "disk-error"), "0");
  EXPECT_EQ(Value("resource-r0/actsize-hostA"), "8388608");
  EXPECT_GE(clock_.Latest(), Stamp("resource-r0/actual-hostA/is-attached"));
}

TEST_F(ManagerTest, SwitchOffMemberPublishesDetached) {
  MakeResource("r0", "hostA", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_EQ(Actual("r0", "is-attached"), "0");
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  EXPECT_EQ(Value("resource-r0/actsize-hostA"), "<absent>");
}

TEST_F(ManagerTest, DesignatedPrimaryStartsWithDeviceName) {
  MakeResource("r0", "hostA");
  Link("resource-r0/device-hostA", "data0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "start_primary r0 data0"}));
  EXPECT_EQ(Actual("r0", "is-primary"), "1");
  EXPECT_EQ(Actual("r0", "device-size"), "1048576");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
}

TEST_F(ManagerTest, PrimaryMovedAwayWhileOpenIsRetriedUntilClosed) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  TakeCalls();
  script_.open_count = 2;
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "open-count"), "2");

  Link("resource-r0/primary", "hostB");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"stop_primary r0"});
  EXPECT_EQ(Actual("r0", "msg-wrn-device-open"), "/dev/mars/r0 is open");
  EXPECT_EQ(Actual("r0", "is-primary"), "1");
  g_now += kSecond;
  manager_.Scan();  // retried at every scan
  EXPECT_EQ(TakeCalls(), Calls{"stop_primary r0"});

  script_.open_count = 0;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"stop_primary r0"});
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  EXPECT_EQ(Actual("r0", "is-attached"), "1");
  EXPECT_EQ(Actual("r0", "open-count"), "0");
  EXPECT_EQ(Actual("r0", "device-size"), "0");
  EXPECT_EQ(Actual("r0", "msg-wrn-device-open"), "<absent>");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
}

TEST_F(ManagerTest, DetachWhenSwitchOff) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  TakeCalls();
  Link("resource-r0/todo-hostA/attach", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"detach r0", "destroy r0"}));
  EXPECT_EQ(Actual("r0", "is-attached"), "0");
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  EXPECT_EQ(Actual("r0", "open-count"), "0");
  EXPECT_EQ(manager_.resource_count(), 1u);  // still a member
  Link("resource-r0/todo-hostA/attach", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "start_primary r0 r0"}));
}

TEST_F(ManagerTest, DetachWaitsWhileTheDeviceIsOpen) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  TakeCalls();
  script_.open_count = 1;
  Link("resource-r0/todo-hostA/attach", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"detach r0"});
  EXPECT_EQ(Actual("r0", "msg-wrn-device-open"), "/dev/mars/r0 is open");
  EXPECT_EQ(Actual("r0", "is-attached"), "1");
  script_.open_count = 0;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"detach r0", "destroy r0"}));
  EXPECT_EQ(Actual("r0", "msg-wrn-device-open"), "<absent>");
  EXPECT_EQ(Actual("r0", "is-attached"), "0");
}

TEST_F(ManagerTest, DeletedResourceDirectoryDetaches) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  TakeCalls();
  std::filesystem::remove_all(Abs("resource-r0"));
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"detach r0", "destroy r0"}));
  EXPECT_EQ(manager_.resource_count(), 0u);
  EXPECT_FALSE(Exists("resource-r0"));  // nothing written into it
}

TEST_F(ManagerTest, TombstonedMembershipDetachesAndWritesNothing) {
  MakeResource("r0", "(none)");
  manager_.Scan();
  TakeCalls();
  const uint64_t stamp = Stamp("resource-r0/actual-hostA/is-attached");
  Delete("resource-r0/data-hostA");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"detach r0", "destroy r0"}));
  EXPECT_EQ(manager_.resource_count(), 0u);
  EXPECT_EQ(Stamp("resource-r0/actual-hostA/is-attached"), stamp);
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
}

TEST_F(ManagerTest, FailedAttachIsRetriedEveryTenSeconds) {
  MakeResource("r0", "hostA");
  script_.attach_result = Status(StatusCode::kIoError, "busy");
  script_.attach_why = "cannot open data device /dev/fake-r0: busy";
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "destroy r0"}));
  EXPECT_EQ(Actual("r0", "msg-err-attach"), script_.attach_why);
  EXPECT_EQ(Actual("r0", "is-attached"), "0");
  const uint64_t stamp = Stamp("resource-r0/actual-hostA/msg-err-attach");

  g_now += 9 * kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  g_now += kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "destroy r0"}));
  // Same failure, same text: the message link is not rewritten.
  EXPECT_EQ(Stamp("resource-r0/actual-hostA/msg-err-attach"), stamp);

  // A changed data path is tried at once.
  Link("resource-r0/data-hostA", "/dev/other");
  g_now += kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/other 1048576 hostA",
                                "attach r0", "destroy r0"}));

  script_.attach_result = Status::Ok();
  g_now += 10 * kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/other 1048576 hostA",
                                "attach r0", "start_primary r0 r0"}));
  EXPECT_EQ(Actual("r0", "msg-err-attach"), "<absent>");
  EXPECT_EQ(Actual("r0", "is-attached"), "1");
}

TEST_F(ManagerTest, FailedAttachWithoutTextNamesTheStatus) {
  MakeResource("r0", "(none)");
  script_.attach_result = Status(StatusCode::kCorruption, "log is corrupt");
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "msg-err-attach"), "attach failed: log is corrupt");
  // A corrupt log is a defective log for marsadm view (DefectiveLog).
  EXPECT_EQ(Actual("r0", "replay-code"), "-74");
  // Repaired: the next attach succeeds and replay-code returns to 0.
  script_.attach_result = Status::Ok();
  g_now += 11 * kSecond;
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "is-attached"), "1");
  EXPECT_EQ(Actual("r0", "replay-code"), "0");
}

TEST_F(ManagerTest, FailedStartPrimaryIsRetriedEveryTenSeconds) {
  MakeResource("r0", "hostA");
  script_.start_result = Status(StatusCode::kIoError, "no logfile");
  script_.start_why = "cannot create logfile";
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "start_primary r0 r0"}));
  EXPECT_EQ(Actual("r0", "msg-err-primary"), "cannot create logfile");
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  g_now += 5 * kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  script_.start_result = Status::Ok();
  g_now += 5 * kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"start_primary r0 r0"});
  EXPECT_EQ(Actual("r0", "msg-err-primary"), "<absent>");
  EXPECT_EQ(Actual("r0", "is-primary"), "1");
}

TEST_F(ManagerTest, RotationRequestsTheHighestOwnLogfile) {
  MakeResource("r0", "hostA");
  for (const char* log : {"log-000000001-hostA", "log-000000003-hostA",
                          "log-000000009-hostB", "log-00000007-hostA"}) {
    std::ofstream(Abs(std::string("resource-r0/") + log)) << "";
  }
  Link("resource-r0/log-000000004-hostA", tree::kTombstoneValue);
  manager_.Scan();
  EXPECT_EQ(TakeCalls(),
            (Calls{"create r0 /dev/fake-r0 1048576 hostA", "attach r0",
                   "start_primary r0 r0", "request_logfile r0 3"}));
  std::ofstream(Abs("resource-r0/log-000000005-hostA")) << "";
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"request_logfile r0 5"});
  Link("resource-r0/primary", "(none)");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"stop_primary r0"});
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});  // only while primary
}

TEST_F(ManagerTest, StopDetachesEverything) {
  MakeResource("r0", "hostA");
  MakeResource("r1", "(none)");
  manager_.Scan();
  EXPECT_EQ(script_.engines.size(), 2u);
  TakeCalls();
  manager_.Stop();
  Calls calls = TakeCalls();
  std::sort(calls.begin(), calls.end());
  EXPECT_EQ(calls,
            (Calls{"destroy r0", "destroy r1", "detach r0", "detach r1"}));
  EXPECT_TRUE(script_.engines.empty());
  EXPECT_EQ(manager_.resource_count(), 0u);
  EXPECT_EQ(Actual("r0", "is-attached"), "0");
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  EXPECT_EQ(Actual("r1", "is-attached"), "0");
  manager_.Stop();  // idempotent
  EXPECT_EQ(TakeCalls(), Calls{});
}

// The thread: scans at once, wakes on the trigger, detaches at Stop().
TEST(ManagerThreadTest, StartScansAndStopDetaches) {
  char pattern[] = "/tmp/manager_thread_test.XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string root = pattern;
  FakeScript script;
  g_script = &script;
  platform::test::SetHostNameForTest("hostA");
  LamportClock clock;
  auto link = [&](const std::string& rel, const std::string& value) {
    std::filesystem::create_directories(
        std::filesystem::path(root + "/" + rel).parent_path());
    ASSERT_TRUE(platform::WriteLink((root + "/" + rel).c_str(), value.data(),
                                    value.size(), clock.Now())
                    .ok());
  };
  link("uuid", "u");
  link("resource-r0/size", "1048576");
  link("resource-r0/primary", "(none)");
  link("resource-r0/data-hostA", "/dev/x");
  link("resource-r0/todo-hostA/attach", "0");
  {
    Manager manager;
    ASSERT_TRUE(manager.Start(root.c_str(), &kFakeHooks, &clock).ok());
    link("resource-r0/todo-hostA/attach", "1");
    platform::test::TriggerForTest(1);
    // The fake's map is only touched by the Manager's thread until Stop().
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool attached = false;
    while (!attached && std::chrono::steady_clock::now() < deadline) {
      char value[4];
      size_t size = 0;
      attached = ReadValue(root.c_str(), "resource-r0/actual-hostA/is-attached",
                           value, sizeof(value), &size, nullptr, nullptr)
                     .ok() &&
                 value[0] == '1';
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(attached);
    manager.Stop();
    EXPECT_TRUE(script.engines.empty());
    EXPECT_EQ(script.calls.back(), "destroy r0");
  }
  g_script = nullptr;
  platform::test::SetHostNameForTest(nullptr);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace test
}  // namespace engine
}  // namespace mars
