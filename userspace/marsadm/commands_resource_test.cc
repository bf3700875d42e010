// create-resource, join-resource, leave-resource, delete-resource, resize.
#include <chrono>
#include <future>
#include <thread>

#include "command_test_env.h"
#include "core/tree/version_link.h"
#include "tree_read.h"

namespace mars::cli {
namespace {

// The value of a first version link: logfile 1 of `origin`, `length` bytes.
std::string FirstVersionLink(const char* origin, uint64_t length) {
  tree::LogfileName log;
  log.number = 1;
  EXPECT_TRUE(log.host.Assign(CoreSlice(origin)).ok());
  tree::VersionLink link;
  EXPECT_TRUE(tree::MakeVersionLink(nullptr, log, length, &link).ok());
  return FormatVersionLink(link);
}

class ResourceCommandsTest : public CommandTest {
 protected:
  void SetUp() override {
    CommandTest::SetUp();
    MakeCluster();
  }
  // Expects exit 1 with one diagnostic containing `part`.
  void ExpectRefused(const RunResult& r, const std::string& part) {
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    EXPECT_TRUE(Has(r.err, part)) << r.err;
  }
};

TEST_F(ResourceCommandsTest, CreateResourceWritesTheSkeleton) {
  const std::string disk = Disk("d0", 8 << 20);
  const RunResult r = Run("hostA", {"create-resource", "r0", disk});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Link("resource-r0/size"), "8388608");
  EXPECT_EQ(Link("resource-r0/primary"), "hostA");
  EXPECT_EQ(Link("resource-r0/data-hostA"), disk);
  EXPECT_EQ(Link("resource-r0/device-hostA"), "r0");
  for (const char* sw : {"attach", "connect", "sync", "allow-replay"}) {
    EXPECT_EQ(Link(std::string("resource-r0/todo-hostA/") + sw), "1") << sw;
  }
  EXPECT_EQ(Link("resource-r0/syncstatus-hostA"), "8388608");
  EXPECT_EQ(Link("resource-r0/replay-hostA"), "log-000000001-hostA,0,0");
  const auto log = Entry("resource-r0/log-000000001-hostA");
  ASSERT_TRUE(log);
  EXPECT_EQ(log->type, EntryType::kFile);
  EXPECT_EQ(log->size, 0u);
  // Version links declare final lengths: none before logfile 1 is done.
  EXPECT_FALSE(Link("resource-r0/version-000000001-hostA"));
}

TEST_F(ResourceCommandsTest, CreateResourceWithDevnameAndSizeSuffix) {
  const RunResult r =
      Run("hostA", {"create-resource", "r0", Disk("d0", 8 << 20), "data0", "2M"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Link("resource-r0/size"), "2097152");
  EXPECT_EQ(Link("resource-r0/device-hostA"), "data0");
}

TEST_F(ResourceCommandsTest, CreateResourceRoundsTheDeviceSizeDownTo512) {
  ASSERT_EQ(Run("hostA", {"create-resource", "r0", Disk("d0", (1 << 20) + 100)}).code, 0);
  EXPECT_EQ(Link("resource-r0/size"), "1048576");
}

TEST_F(ResourceCommandsTest, CreateResourcePreconditions) {
  const std::string disk = Disk("d0", 4 << 20);
  ExpectRefused(Run("hostA", {"create-resource", "r0", base_ + "/nodisk"}),
                "does not exist");
  ExpectRefused(Run("hostA", {"create-resource", "r0", "relative/disk"}), "not absolute");
  ExpectRefused(Run("hostA", {"create-resource", "r0", Disk("small", 64 << 10)}),
                "too small");
  ExpectRefused(Run("hostA", {"create-resource", "r0", disk, "r0", "8M"}),
                "larger than device");
  ExpectRefused(Run("hostA", {"create-resource", "r0", base_}),
                "neither a block device nor a regular file");
  ASSERT_EQ(Run("hostA", {"create-resource", "r0", disk}).code, 0);
  ExpectRefused(Run("hostA", {"create-resource", "r0", Disk("d1", 4 << 20)}),
                "already exists");
  ExpectRefused(Run("hostA", {"create-resource", "r1", disk}), "already used by resource r0");
  ExpectRefused(Run("hostA", {"create-resource", "r1", Disk("d2", 4 << 20), "r0"}),
                "device name r0 is already used");
}

TEST_F(ResourceCommandsTest, CreateResourceNeedsACluster) {
  DeleteLink("uuid");
  ExpectRefused(Run("hostA", {"create-resource", "r0", Disk("d0", 4 << 20)}),
                "create-cluster");
}

TEST_F(ResourceCommandsTest, CreateResourceRefusesADeletedNameUntilPurged) {
  MakeResource("r0", false);
  ASSERT_EQ(Run("hostA", {"delete-resource", "r0"}).code, 0);
  ExpectRefused(Run("hostA", {"create-resource", "r0", Disk("d9", 4 << 20)}),
                "tombstones are not purged");
  SetLinks({{"actual-hostB/time", "1"}});  // hostB has seen the deletion
  ASSERT_EQ(Run("hostA", {"cron"}).code, 0);
  const RunResult r = Run("hostA", {"create-resource", "r0", Disk("d9", 4 << 20)});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(ResourceCommandsTest, JoinResourceStartsAtThePrimarysLogfile) {
  MakeResource("r0", false);
  SetLinks({{"resource-r0/replay-hostA", "log-000000003-hostA,4096,0"}});
  tree::LogfileName log;
  log.number = 1;
  ASSERT_TRUE(log.host.Assign(CoreSlice("hostA")).ok());
  tree::VersionLink v1;
  tree::VersionLink v2;
  ASSERT_TRUE(tree::MakeVersionLink(nullptr, log, 4096, &v1).ok());
  log.number = 2;
  ASSERT_TRUE(tree::MakeVersionLink(&v1, log, 8192, &v2).ok());
  SetLinks({{"resource-r0/version-000000001-hostA", FormatVersionLink(v1)},
            {"resource-r0/version-000000002-hostA", FormatVersionLink(v2)}});
  const std::string v2_text = FormatVersionLink(v2);
  const std::string disk = Disk("b0", 8 << 20);
  const RunResult r = Run("hostB", {"join-resource", "r0", disk, "rb"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Link("resource-r0/data-hostB"), disk);
  EXPECT_EQ(Link("resource-r0/device-hostB"), "rb");
  EXPECT_EQ(Link("resource-r0/replay-hostB"), "log-000000003-hostA,0,0");
  EXPECT_EQ(Link("resource-r0/syncstatus-hostB"), "0");
  EXPECT_EQ(Link("resource-r0/todo-hostB/sync"), "1");
  EXPECT_EQ(Link("resource-r0/version-000000002-hostB"), v2_text);
  EXPECT_EQ(Link("resource-r0/primary"), "hostA");
}

TEST_F(ResourceCommandsTest, JoinResourcePreconditions) {
  ExpectRefused(Run("hostB", {"join-resource", "r0", Disk("b0", 4 << 20)}),
                "no such resource");
  MakeResource("r0", false);
  ExpectRefused(Run("hostB", {"join-resource", "r0", Disk("b1", 1 << 20)}),
                "smaller than the resource");
  ExpectRefused(Run("hostA", {"join-resource", "r0", Disk("b2", 4 << 20)}),
                "already a member");
  SetLinks({{"resource-r0/primary", "(none)"}});
  ExpectRefused(Run("hostB", {"join-resource", "r0", Disk("b3", 4 << 20)}),
                "no designated primary");
}

TEST_F(ResourceCommandsTest, LeaveResourceDeletesThisHostsLinks) {
  MakeResource();
  SetLinks({{"resource-r0/actual-hostB/is-attached", "0"},
            {"resource-r0/version-000000001-hostB", FirstVersionLink("hostA", 4096)}});
  const RunResult r = Run("hostB", {"leave-resource", "r0"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* gone : {"data-hostB", "device-hostB", "replay-hostB", "syncstatus-hostB",
                           "todo-hostB/sync", "actual-hostB/is-attached",
                           "version-000000001-hostB"}) {
    EXPECT_FALSE(Exists(std::string("resource-r0/") + gone)) << gone;
    EXPECT_TRUE(Entry(std::string("resource-r0/") + gone)->tombstone) << gone;
  }
  EXPECT_EQ(Link("resource-r0/data-hostA").has_value(), true);
}

TEST_F(ResourceCommandsTest, LeaveResourcePreconditions) {
  MakeResource();
  ExpectRefused(Run("hostA", {"leave-resource", "r0"}), "designated primary");
  SetLinks({{"resource-r0/actual-hostB/is-attached", "1"}});
  ExpectRefused(Run("hostB", {"leave-resource", "r0"}), "marsadm down r0");
  ExpectRefused(Run("hostC", {"leave-resource", "r0"}), "not a member");
  EXPECT_EQ(Run("hostB", {"--force", "leave-resource", "r0"}).code, 0);
  const RunResult r = Run("hostA", {"leave-resource", "r0", "--force"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Link("resource-r0/primary"), "(none)");
}

TEST_F(ResourceCommandsTest, DeleteResourceTombstonesEverything) {
  MakeResource();
  ExpectRefused(Run("hostA", {"delete-resource", "r0"}), "other members remain (hostB)");
  ASSERT_EQ(Run("hostB", {"leave-resource", "r0"}).code, 0);
  const RunResult r = Run("hostA", {"delete-resource", "r0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(ResourceTree(TreeDir(root_), "r0").HasLiveEntry());
  EXPECT_TRUE(Entry("resource-r0/log-000000001-hostA")->tombstone);
  EXPECT_TRUE(Entry("resource-r0/size")->tombstone);
  ExpectRefused(Run("hostA", {"delete-resource", "r0"}), "no such resource");
}

TEST_F(ResourceCommandsTest, DeleteResourceForce) {
  MakeResource();
  SetLinks({{"resource-r0/actual-hostA/is-attached", "1"}});
  ASSERT_EQ(Run("hostB", {"leave-resource", "r0"}).code, 0);
  ExpectRefused(Run("hostA", {"delete-resource", "r0"}), "still attached");
  ASSERT_EQ(Run("hostB", {"join-resource", "r0", Disk("b9", 4 << 20)}).code, 0);
  EXPECT_EQ(Run("hostA", {"delete-resource", "r0", "--force"}).code, 0);
  EXPECT_FALSE(Exists("resource-r0/data-hostB"));
}

TEST_F(ResourceCommandsTest, ResizeGrowsUpToTheSmallestDevice) {
  const std::string disk = Disk("a0", 8 << 20);
  ASSERT_EQ(Run("hostA", {"create-resource", "r0", disk, "r0", "4M"}).code, 0);
  ASSERT_EQ(Run("hostB", {"join-resource", "r0", Disk("b0", 8 << 20)}).code, 0);
  ExpectRefused(Run("hostA", {"resize", "r0"}), "the device is not up here");
  SetLinks({{"resource-r0/actual-hostA/is-primary", "1"},
            {"resource-r0/actual-hostA/device-size", "6291456"}});
  ExpectRefused(Run("hostA", {"resize", "r0"}), "actsize-hostB");
  SetLinks({{"resource-r0/actsize-hostB", "6291456"}});
  RunResult r = Run("hostA", {"resize", "r0"});  // the kernel already reports it
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Link("resource-r0/size"), "6291456");
  EXPECT_EQ(Link("resource-r0/syncstatus-hostA"), "6291456");
  EXPECT_EQ(TriggerValue(), "2");
  ExpectRefused(Run("hostA", {"resize", "r0", "7M"}), "exceeds the device of hostB");
  ExpectRefused(Run("hostA", {"resize", "r0", "5M"}), "shrinking");
  ExpectRefused(Run("hostB", {"resize", "r0", "6M"}), "designated primary");
  const std::string before = Listing();
  r = Run("hostA", {"resize", "r0", "6M"});  // unchanged: nothing written
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Listing(), before);
  UnloadModule();
  ExpectRefused(Run("hostA", {"resize", "r0", "6M"}), "module is not loaded");
}

TEST_F(ResourceCommandsTest, ResizeWaitsUntilTheDeviceHasTheNewSize) {
  ASSERT_EQ(Run("hostA", {"create-resource", "r0", Disk("a0", 8 << 20), "r0", "4M"}).code,
            0);
  SetLinks({{"resource-r0/actual-hostA/is-primary", "1"},
            {"resource-r0/actual-hostA/device-size", "4194304"}});
  // Timeout: the size is written, the kernel does not report it.
  RunResult r = Run("hostA", {"resize", "r0", "6M", "--timeout", "0"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_TRUE(Has(r.err, "checked once (--timeout 0) waiting until "
                         "actual-hostA/device-size is 6291456 (now 4194304)"))
      << r.err;
  EXPECT_EQ(Link("resource-r0/size"), "6291456");
  // The kernel follows while marsadm waits.
  auto run = std::async(std::launch::async, [this]() {
    return Run("hostA", {"resize", "r0", "8M", "--timeout", "20"});
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Link("resource-r0/size") != "8388608" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(Link("resource-r0/size"), "8388608");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(run.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  SetLinks({{"resource-r0/actual-hostA/device-size", "8388608"}});
  r = run.get();
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(ResourceCommandsTest, DryRunOfCreateResourcePrintsAndWritesNothing) {
  const std::string before = Listing();
  const RunResult r = Run("hostA", {"--dry-run", "create-resource", "r0", Disk("d0", 4 << 20)});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "would: set resource-r0/primary -> hostA\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "would: create resource-r0/log-000000001-hostA\n")) << r.out;
  EXPECT_EQ(Listing(), before);
}

TEST_F(ResourceCommandsTest, HelpExistsForEveryResourceCommand) {
  for (const char* cmd : {"create-resource", "join-resource", "leave-resource",
                          "delete-resource", "resize"}) {
    const RunResult r = Run("hostA", {"help", cmd});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_TRUE(Has(r.out, cmd)) << r.out;
  }
}

}  // namespace
}  // namespace mars::cli
