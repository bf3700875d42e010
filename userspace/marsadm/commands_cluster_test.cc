// create-cluster, join-cluster, leave-cluster, wait-cluster and the
// lowlevel host commands.
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "command_test_env.h"

namespace mars::cli {
namespace {

class ClusterCommandsTest : public CommandTest {
 protected:
  void ExpectRefused(const RunResult& r, const std::string& part) {
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    EXPECT_TRUE(Has(r.err, part)) << r.err;
  }
  void CopySecret(const std::string& text = std::string(64, 'a') + "\n",
                  mode_t mode = 0600) {
    const std::string path = root_ + "/secret";
    std::ofstream(path) << text;
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  }
};

TEST_F(ClusterCommandsTest, CreateClusterWritesUuidIpAndSecret) {
  const RunResult r = Run("hostA", {"create-cluster", "--ip", "10.0.0.1"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto uuid = Link("uuid");
  ASSERT_TRUE(uuid);
  EXPECT_EQ(uuid->size(), 32u);
  EXPECT_EQ(uuid->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(Link("ips/ip-hostA"), "10.0.0.1");
  struct stat st;
  ASSERT_EQ(stat((root_ + "/secret").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 65);
  std::string secret;
  std::ifstream(root_ + "/secret") >> secret;
  EXPECT_EQ(secret.find_first_not_of("0123456789abcdef"), std::string::npos);
  // Two clusters never share uuid or secret.
  CommandTest::TearDown();
  CommandTest::SetUp();
  ASSERT_EQ(Run("hostA", {"create-cluster", "--ip", "::1"}).code, 0);
  EXPECT_NE(Link("uuid"), uuid);
  EXPECT_EQ(Link("ips/ip-hostA"), "::1");
}

TEST_F(ClusterCommandsTest, CreateClusterAcceptsLostAndFound) {
  ASSERT_EQ(mkdir((root_ + "/lost+found").c_str(), 0700), 0);
  EXPECT_EQ(Run("hostA", {"create-cluster", "--ip", "10.0.0.1"}).code, 0);
}

TEST_F(ClusterCommandsTest, CreateClusterRefusesAnExistingClusterOrNonEmptyTree) {
  ASSERT_EQ(Run("hostA", {"create-cluster", "--ip", "10.0.0.1"}).code, 0);
  ExpectRefused(Run("hostA", {"create-cluster", "--ip", "10.0.0.1"}), "already belongs");
  CommandTest::TearDown();
  CommandTest::SetUp();
  SetLinks({{"userspace/x", "1"}});
  ExpectRefused(Run("hostA", {"create-cluster", "--ip", "10.0.0.1"}), "not empty");
}

TEST_F(ClusterCommandsTest, CreateClusterDoesNotNeedTheModule) {
  UnloadModule();
  EXPECT_EQ(Run("hostA", {"create-cluster", "--ip", "10.0.0.1"}).code, 0);
}

TEST_F(ClusterCommandsTest, JoinClusterRequestsAndWaitsForTheUuid) {
  CopySecret();
  // The module has already pulled the tree: the wait ends at once.
  RunResult r = Run("hostB", {"join-cluster", "hostA", "10.0.0.1", "--ip", "10.0.0.2",
                              "--timeout", "0"});
  EXPECT_EQ(r.code, 3) << r.err;  // no uuid yet: timeout
  EXPECT_TRUE(Has(r.err, "uuid appears")) << r.err;
  EXPECT_EQ(Link("todo-global/join-cluster-hostB"), "hostA");
  EXPECT_EQ(Link("ips/ip-hostA"), "10.0.0.1");
  EXPECT_EQ(Link("ips/ip-hostB"), "10.0.0.2");
  // The module pulls the tree after the command gave up: running it again
  // through the same peer completes the join; another peer, or a third
  // run once the join is complete, is refused.
  SetLinks({{"uuid", "0123456789abcdef0123456789abcdef"}});
  ExpectRefused(Run("hostB", {"join-cluster", "hostC", "10.0.0.3", "--ip", "10.0.0.2"}),
                "joining twice");
  r = Run("hostB", {"join-cluster", "hostA", "10.0.0.1", "--ip", "10.0.0.2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Entry("todo-global/join-cluster-hostB")->tombstone);
  ExpectRefused(Run("hostB", {"join-cluster", "hostA", "10.0.0.1", "--ip", "10.0.0.2"}),
                "joining twice");
}

TEST_F(ClusterCommandsTest, JoinClusterCompletesWhenTheUuidArrives) {
  CopySecret();
  // Plays the module: once the request appears, "pulls" the tree (uuid).
  std::thread kernel([this] {
    TreeDir tree(root_);
    for (int i = 0; i < 20000 && !tree.ReadLink("todo-global/join-cluster-hostB"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ChangeSet changes;
    changes.SetLink("uuid", "0123456789abcdef0123456789abcdef");
    Stamper stamper(tree, "/nonexistent");
    EXPECT_EQ(Commit(tree, changes, stamper), std::nullopt);
  });
  const RunResult r = Run("hostB", {"join-cluster", "hostA", "10.0.0.1", "--ip",
                                    "10.0.0.2", "--timeout", "20"});
  kernel.join();
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Entry("todo-global/join-cluster-hostB")->tombstone);  // request done
  EXPECT_EQ(TriggerValue(), "1");
}

TEST_F(ClusterCommandsTest, JoinClusterDryRun) {
  CopySecret();
  const RunResult dry = Run("hostB", {"--dry-run", "join-cluster", "hostA", "10.0.0.1",
                                      "--ip", "10.0.0.2"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_TRUE(Has(dry.out, "would: set todo-global/join-cluster-hostB -> hostA")) << dry.out;
  EXPECT_TRUE(Has(dry.out, "would wait: until the module has pulled")) << dry.out;
  EXPECT_EQ(Listing().find("join-cluster"), std::string::npos);
}

TEST_F(ClusterCommandsTest, JoinClusterPreconditions) {
  UnloadModule();
  ExpectRefused(Run("hostB", {"join-cluster", "hostA", "10.0.0.1", "--ip", "10.0.0.2"}),
                "module is not loaded");
  LoadModule();
  ExpectRefused(Run("hostB", {"join-cluster", "hostA", "10.0.0.1", "--ip", "10.0.0.2"}),
                "secret");
  CopySecret(std::string(64, 'a'), 0644);
  ExpectRefused(Run("hostB", {"join-cluster", "hostA", "10.0.0.1", "--ip", "10.0.0.2"}),
                "chmod 600");
  CopySecret("short");
  ExpectRefused(Run("hostB", {"join-cluster", "hostA", "10.0.0.1", "--ip", "10.0.0.2"}),
                "hex digits");
  CopySecret();
  ExpectRefused(Run("hostB", {"join-cluster", "hostB", "10.0.0.1", "--ip", "10.0.0.2"}),
                "itself");
}

TEST_F(ClusterCommandsTest, LeaveClusterDeletesTheIp) {
  MakeCluster();
  ExpectRefused(Run("hostC", {"leave-cluster"}), "not in the cluster");
  ASSERT_EQ(Run("hostA", {"create-resource", "r0", Disk("d0", 4 << 20)}).code, 0);
  ExpectRefused(Run("hostA", {"leave-cluster"}), "leave-resource r0");
  ASSERT_EQ(Run("hostB", {"leave-cluster"}).code, 0);
  EXPECT_TRUE(Entry("ips/ip-hostB")->tombstone);
  EXPECT_EQ(Run("hostA", {"--force", "leave-cluster"}).code, 0);
  EXPECT_FALSE(Exists("ips/ip-hostA"));
}

TEST_F(ClusterCommandsTest, WaitClusterWaitsForFreshHeartbeats) {
  UnloadModule();
  ExpectRefused(Run("hostA", {"wait-cluster"}), "module is not loaded");
  LoadModule();
  ExpectRefused(Run("hostA", {"wait-cluster"}), "no cluster");
  MakeCluster();
  SetLinks({{"actual-hostB/time", "1"}});  // older than the command's start
  RunResult r = Run("hostA", {"wait-cluster", "--timeout", "0"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Has(r.err, "peers hostB report a heartbeat")) << r.err;
  // No peers at all: nothing to wait for.
  DeleteLink("ips/ip-hostB");
  r = Run("hostA", {"wait-cluster", "--timeout", "0"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(ClusterCommandsTest, WaitClusterSucceedsOnAFutureHeartbeat) {
  MakeCluster();
  // A stamp far in the future is newer than any start time.
  TreeDir tree(root_);
  ChangeSet changes;
  changes.SetLink("actual-hostB/time", "1");
  std::ofstream(proc_ + "/lamport_clock") << "4000000000000000000\n";
  Stamper stamper(tree, proc_ + "/lamport_clock");
  ASSERT_EQ(Commit(tree, changes, stamper), std::nullopt);
  const RunResult r = Run("hostA", {"wait-cluster", "--timeout", "0"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Run("hostA", {"wait-cluster", "r9", "--timeout", "0"}).code, 1);
}

TEST_F(ClusterCommandsTest, LowlevelHostCommands) {
  MakeCluster();
  RunResult r = Run("hostA", {"lowlevel-ls-host-ips"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "hostA 10.0.0.1\nhostB 10.0.0.2\n");
  ASSERT_EQ(Run("hostA", {"lowlevel-set-host-ip", "hostC", "fe80::1"}).code, 0);
  EXPECT_EQ(Link("ips/ip-hostC"), "fe80::1");
  ASSERT_EQ(Run("hostA", {"create-resource", "r0", Disk("d0", 4 << 20)}).code, 0);
  ExpectRefused(Run("hostB", {"lowlevel-delete-host", "hostA"}), "still a member");
  ExpectRefused(Run("hostA", {"lowlevel-delete-host", "hostD"}), "not in the cluster");
  ASSERT_EQ(Run("hostA", {"lowlevel-delete-host", "hostC"}).code, 0);
  r = Run("hostA", {"lowlevel-ls-host-ips"});
  EXPECT_EQ(r.out, "hostA 10.0.0.1\nhostB 10.0.0.2\n");
  EXPECT_EQ(Run("hostB", {"--force", "lowlevel-delete-host", "hostA"}).code, 0);
}

TEST_F(ClusterCommandsTest, HelpExistsForEveryClusterCommand) {
  for (const char* cmd : {"create-cluster", "join-cluster", "leave-cluster", "wait-cluster",
                          "lowlevel-ls-host-ips", "lowlevel-set-host-ip",
                          "lowlevel-delete-host"}) {
    const RunResult r = Run("hostA", {"help", cmd});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_TRUE(Has(r.out, cmd)) << r.out;
  }
  EXPECT_TRUE(Has(Run("hostA", {"help", "create-cluster"}).out, "--ip"));
}

}  // namespace
}  // namespace mars::cli
