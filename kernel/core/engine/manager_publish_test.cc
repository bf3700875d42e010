// What the Manager (docu/module-state.md) publishes in the tree, against the
// fake engine of manager_test_util.h: state links written only on change
// (also across a reload), stale messages removed, warnings for a changed
// config, bad links and I/O errors, the heartbeat and tree_write_errno, and
// the stamps it reads observed by its clock.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/engine/manager.h"
#include "core/engine/manager_test_util.h"
#include "core/platform_io.h"
#include "gtest/gtest.h"

namespace mars {
namespace engine {
namespace test {
namespace {

TEST_F(ManagerTest, LinksAreWrittenOnlyOnChange) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  const char* links[] = {"is-attached", "is-primary", "open-count",
                         "device-size", "disk-error", "replay-code"};
  std::map<std::string, uint64_t> stamps;
  for (const char* link : links) {
    stamps[link] = Stamp(std::string("resource-r0/actual-hostA/") + link);
    ASSERT_NE(stamps[link], 0u) << link;
  }
  const uint64_t actsize = Stamp("resource-r0/actsize-hostA");
  for (int i = 0; i < 3; ++i) {
    g_now += kSecond;
    manager_.Scan();
  }
  for (const char* link : links) {
    EXPECT_EQ(Stamp(std::string("resource-r0/actual-hostA/") + link),
              stamps[link])
        << link;
  }
  EXPECT_EQ(Stamp("resource-r0/actsize-hostA"), actsize);

  // A new Manager (module reload) finds the same values: no rewrite.
  manager_.Stop();
  TakeCalls();
  Manager again(FakeMonotonic);
  ASSERT_TRUE(again.Init(root_.c_str(), &kFakeHooks, &clock_).ok());
  again.Scan();
  EXPECT_EQ(Stamp("resource-r0/actual-hostA/open-count"), stamps["open-count"]);
  // Stop() published the detached state (not attached, no device); the
  // new Manager's attach changes them back.
  EXPECT_GT(Stamp("resource-r0/actual-hostA/device-size"),
            stamps["device-size"]);
  EXPECT_GT(Stamp("resource-r0/actual-hostA/is-attached"),
            stamps["is-attached"]);
  again.Stop();
}

TEST_F(ManagerTest, StaleMessagesAreRemovedOnTheFirstScan) {
  MakeResource("r0", "hostA");
  Link("resource-r0/actual-hostA/msg-err-attach", "old failure");
  Link("resource-r0/actual-hostA/msg-wrn-device-open", "old warning");
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "msg-err-attach"), "<absent>");
  EXPECT_EQ(Actual("r0", "msg-wrn-device-open"), "<absent>");
}

TEST_F(ManagerTest, ConfigChangeWhileAttachedIsAWarning) {
  MakeResource("r0", "(none)");
  manager_.Scan();
  TakeCalls();
  Link("resource-r0/data-hostA", "/dev/new");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_EQ(Actual("r0", "msg-wrn-config"),
            "data-hostA changed to '/dev/new' while attached to "
            "'/dev/fake-r0'; detach and attach again to use it");
  Link("resource-r0/data-hostA", "/dev/fake-r0");
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "msg-wrn-config"), "<absent>");
}

TEST_F(ManagerTest, BadLinksAreReportedAndReadAsOff) {
  MakeResource("r0", "hostA", "yes");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_EQ(Actual("r0", "msg-wrn-bad-link"),
            "resource-r0/todo-hostA/attach: switch value is not '0' or '1'");
  Link("resource-r0/todo-hostA/attach", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls().size(), 3u);
  EXPECT_EQ(Actual("r0", "msg-wrn-bad-link"), "<absent>");
}

TEST_F(ManagerTest, IoErrorIsPublished) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  script_.io_error = true;
  script_.io_text = "logfile write failed: no space left on device";
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "disk-error"), "-5");
  EXPECT_EQ(Actual("r0", "msg-err-io"), script_.io_text);
  script_.io_error = false;
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "disk-error"), "0");
  EXPECT_EQ(Actual("r0", "msg-err-io"), "<absent>");
}

TEST_F(ManagerTest, HeartbeatEveryFiveSeconds) {
  manager_.Scan();
  const uint64_t stamp = Stamp("actual-hostA/time");
  ASSERT_NE(stamp, 0u);
  EXPECT_EQ(Value("actual-hostA/time"), std::to_string(stamp));
  g_now += 4 * kSecond;
  manager_.Scan();
  EXPECT_EQ(Stamp("actual-hostA/time"), stamp);
  g_now += kSecond;
  manager_.Scan();
  const uint64_t later = Stamp("actual-hostA/time");
  EXPECT_GT(later, stamp);
  EXPECT_EQ(Value("actual-hostA/time"), std::to_string(later));

  // With peers as well: the tree replication carries it to them.
  Link("ips/ip-hostA", "10.0.0.1");
  Link("ips/ip-hostB", "10.0.0.2");
  g_now += 5 * kSecond;
  manager_.Scan();
  EXPECT_GT(Stamp("actual-hostA/time"), later);
}

// tree_write_errno tells marsadm that the tree it reads is stale: the
// heartbeat's errno while it fails, 0 once it is written again.
TEST_F(ManagerTest, FailedHeartbeatSetsTreeWriteErrno) {
  manager_.Scan();
  EXPECT_EQ(platform::GetCounter(platform::Counter::kTreeWriteErrno), 0u);
  std::filesystem::remove_all(Abs("actual-hostA"));
  {
    std::ofstream blocker(Abs("actual-hostA"));  // not a directory
  }
  g_now += 5 * kSecond;
  manager_.Scan();
  const uint64_t error =
      platform::GetCounter(platform::Counter::kTreeWriteErrno);
  EXPECT_TRUE(error == EEXIST || error == ENOTDIR) << error;
  std::filesystem::remove(Abs("actual-hostA"));
  g_now += 5 * kSecond;
  manager_.Scan();
  EXPECT_EQ(platform::GetCounter(platform::Counter::kTreeWriteErrno), 0u);
  EXPECT_NE(Stamp("actual-hostA/time"), 0u);
}

TEST_F(ManagerTest, StampsReadFromTheTreeAreObserved) {
  MakeResource("r0", "(none)");
  const uint64_t ahead = clock_.Now() + 3600 * kSecond;
  std::filesystem::create_directories(Abs("resource-r0"));
  ASSERT_TRUE(
      platform::WriteLink(Abs("resource-r0/size").c_str(), "1048576", 7, ahead)
          .ok());
  manager_.Scan();
  EXPECT_GT(Stamp("resource-r0/actual-hostA/is-attached"), ahead);
}

}  // namespace
}  // namespace test
}  // namespace engine
}  // namespace mars
