// Bad input never changes the tree (issue 4, item 7): for every bad command
// line, marsadm exits non-zero, prints exactly one "marsadm: ..." line on
// stderr and nothing on stdout, and the full listing of the tree (paths,
// types, values, stamps, sizes) is identical before and after.
#include <string>
#include <vector>

#include "command_test_env.h"

namespace mars::cli {
namespace {

struct BadInput {
  std::string host;
  std::vector<std::string> args;
};

class BadInputTest : public CommandTest {
 protected:
  void SetUp() override {
    CommandTest::SetUp();
    MakeCluster();
    MakeResource();  // r0: hostA primary, hostB secondary (inconsistent)
    disk_ = Disk("spare", 8 << 20);
    small_ = Disk("small", 32 << 10);
  }

  void ExpectUnchanged(const std::vector<BadInput>& inputs) {
    for (const BadInput& input : inputs) {
      std::string line = input.host + ":";
      for (const std::string& arg : input.args) line += " '" + arg + "'";
      SCOPED_TRACE(line);
      const std::string before = Listing();
      const RunResult r = Run(input.host, input.args);
      EXPECT_NE(r.code, 0);
      EXPECT_EQ(r.out, "");
      EXPECT_EQ(LineCount(r.err), 1) << r.err;
      EXPECT_EQ(r.err.rfind("marsadm: ", 0), 0u) << r.err;
      EXPECT_EQ(Listing(), before);
    }
  }

  std::string disk_;
  std::string small_;
};

TEST_F(BadInputTest, UnknownCommandsAndOptions) {
  ExpectUnchanged({
      {"hostA", {"bogus"}},
      {"hostA", {"create-resourc", "r1", "/dev/x"}},
      {"hostA", {"attach", "r0", "--bogus"}},
      {"hostA", {"--timeout", "-1", "attach", "r0"}},
      {"hostA", {"--timeout", "soon", "attach", "r0"}},
      {"hostA", {"attach", "r0", "--ip", "10.0.0.9"}},  // not an attach option
      {"hostA", {}},
  });
}

TEST_F(BadInputTest, MissingAndExtraArguments) {
  ExpectUnchanged({
      {"hostA", {"create-resource"}},
      {"hostA", {"create-resource", "r1"}},
      {"hostA", {"create-resource", "r1", "/dev/x", "d", "1M", "extra"}},
      {"hostB", {"join-resource", "r0"}},
      {"hostA", {"attach"}},
      {"hostA", {"attach", "r0", "r1"}},
      {"hostA", {"create-cluster", "extra"}},
      {"hostA", {"join-cluster"}},
      {"hostA", {"join-cluster", "hostB", "10.0.0.2", "extra"}},
      {"hostA", {"lowlevel-set-host-ip", "hostC"}},
      {"hostA", {"lowlevel-delete-host"}},
      {"hostA", {"wait-resource", "r0"}},
      {"hostA", {"cron", "r0"}},
      {"hostA", {"log-rotate"}},
      {"hostA", {"resize", "r0", "8M", "extra"}},
  });
}

TEST_F(BadInputTest, InvalidAndReservedNames) {
  const std::string long_name(64, 'a');
  ExpectUnchanged({
      {"hostA", {"create-resource", "../x", disk_}},
      {"hostA", {"create-resource", "a b", disk_}},
      {"hostA", {"create-resource", long_name, disk_}},
      {"hostA", {"create-resource", "all", disk_}},
      {"hostA", {"create-resource", "none", disk_}},
      {"hostA", {"create-resource", "-r", disk_}},
      {"hostA", {"create-resource", "r1,r2", disk_}},
      {"hostA", {"create-resource", "", disk_}},
      {"hostA", {"create-resource", "r1", disk_, "../dev"}},
      {"hostA", {"create-resource", "r1", disk_, "a b"}},
      {"hostB", {"join-resource", "all", disk_}},
      {"hostB", {"join-resource", "../x", disk_}},
      {"hostA", {"attach", "../x"}},
      {"hostA", {"attach", "a b"}},
      {"hostA", {"attach", long_name}},
      {"hostA", {"attach", "r0,,r0"}},
      {"hostA", {"attach", "r0,all"}},
      {"hostA", {"pause-sync-global", "x/y"}},
      {"hostA", {"lowlevel-set-host-ip", "../h", "10.0.0.3"}},
      {"hostA", {"lowlevel-set-host-ip", "all", "10.0.0.3"}},
      {"hostA", {"lowlevel-delete-host", "a b"}},
      {"hostA", {"join-cluster", "../peer", "10.0.0.3"}},
      {"a b", {"create-resource", "r1", disk_}},
      {"localhost", {"attach", "r0"}},
      {"hostA", {"wait-cluster", "../x"}},
  });
}

TEST_F(BadInputTest, BadDevicesAndSizes) {
  ExpectUnchanged({
      {"hostA", {"create-resource", "r1", base_ + "/missing"}},
      {"hostA", {"create-resource", "r1", "relative/disk"}},
      {"hostA", {"create-resource", "r1", small_}},
      {"hostA", {"create-resource", "r1", base_}},
      {"hostA", {"create-resource", "r1", disk_, "r1", "16M"}},
      {"hostA", {"create-resource", "r1", disk_, "r1", "12Q"}},
      {"hostA", {"create-resource", "r1", disk_, "r1", "1000"}},
      {"hostA", {"create-resource", "r1", disk_, "r1", "64k"}},
      {"hostA", {"create-resource", "r1", disk_, "r1", "-1M"}},
      {"hostA", {"create-resource", "r1", disk_, "r1", "99999999999999999999"}},
      {"hostC", {"join-resource", "r0", small_}},
      {"hostC", {"join-resource", "r0", base_ + "/missing"}},
      {"hostA", {"resize", "r0", "2M"}},
      {"hostA", {"resize", "r0", "1G"}},
      {"hostA", {"resize", "r0", "abc"}},
  });
}

TEST_F(BadInputTest, BadAddresses) {
  ExpectUnchanged({
      {"hostA", {"lowlevel-set-host-ip", "hostC", "not-an-ip"}},
      {"hostA", {"lowlevel-set-host-ip", "hostC", "999.1.1.1"}},
      {"hostA", {"lowlevel-set-host-ip", "hostC", ""}},
      {"hostC", {"join-cluster", "hostA", "1.2.3"}},
      {"hostC", {"join-cluster", "hostA", "10.0.0.1", "--ip", "x"}},
      {"hostA", {"create-cluster", "--ip", "10.0.0"}},
  });
}

TEST_F(BadInputTest, RepeatedCreationAndJoining) {
  ExpectUnchanged({
      {"hostA", {"create-resource", "r0", disk_}},
      {"hostB", {"create-resource", "r0", disk_}},
      {"hostA", {"create-cluster", "--ip", "10.0.0.1"}},
      {"hostC", {"join-cluster", "hostA", "10.0.0.1", "--ip", "10.0.0.3"}},
      {"hostB", {"join-resource", "r0", disk_}},
      {"hostA", {"create-resource", "r1", Link("resource-r0/data-hostA").value()}},
  });
}

TEST_F(BadInputTest, RefusedOperations) {
  ExpectUnchanged({
      {"hostA", {"leave-resource", "r0"}},
      {"hostA", {"delete-resource", "r0"}},
      {"hostB", {"primary", "r0"}},
      {"hostB", {"secondary", "r0"}},
      {"hostA", {"invalidate", "r0"}},
      {"hostC", {"attach", "r0"}},
      {"hostA", {"attach", "r9"}},
      {"hostC", {"attach", "all"}},
      {"hostB", {"log-rotate", "r0"}},
      {"hostA", {"leave-cluster"}},
      {"hostA", {"lowlevel-delete-host", "hostZ"}},
      {"hostA", {"wait-resource", "r0", "is-happy"}},
      {"hostB", {"resize", "r0"}},
  });
}

TEST_F(BadInputTest, CommandsNeedingTheModuleWithoutIt) {
  UnloadModule();
  ExpectUnchanged({
      {"hostB", {"attach", "r0"}},
      {"hostB", {"primary", "r0", "--force"}},
      {"hostC", {"join-cluster", "hostA", "10.0.0.1", "--ip", "10.0.0.3"}},
      {"hostA", {"wait-cluster"}},
      {"hostB", {"wait-resource", "r0", "is-attached"}},
  });
}

TEST_F(BadInputTest, MissingRootDirectory) {
  const std::string root = root_;
  root_ = base_ + "/nonexistent";
  const RunResult r = Run("hostA", {"create-cluster", "--ip", "10.0.0.1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  root_ = root;
}

}  // namespace
}  // namespace mars::cli
