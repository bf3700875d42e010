// primary: the planned handover's phases (the tree between them, played by a
// fake kernel in the test thread while marsadm runs in another), a timeout
// in each wait, every refusal, and the --force failover.
#include <fcntl.h>
#include <sys/stat.h>

#include "operation_test_env.h"

namespace mars::cli {
namespace {

class PrimaryTest : public OperationTest {
 protected:
  // hostB is ready to take over from hostA: synced, hostA alive with its
  // device up.
  void ReadyForHandover() {
    SetLinks({{"resource-r0/syncstatus-hostB", "4194304"}});
    Heartbeat("hostA");
    Actual("hostA", "is-primary", "1");
    Actual("hostA", "open-count", "0");
  }
  // The listing without the lines of `path`.
  std::string ListingWithout(const std::string& path) {
    std::string kept;
    std::istringstream in(Listing());
    for (std::string line; std::getline(in, line);) {
      if (line.compare(0, path.size() + 1, path + " ") != 0) kept += line + "\n";
    }
    return kept;
  }
  // Makes the stamp of the link at `path` `seconds` old.
  void Age(const std::string& path, int seconds) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    now.tv_sec -= seconds;
    struct timespec times[2] = {now, now};
    ASSERT_EQ(utimensat(AT_FDCWD, (root_ + "/" + path).c_str(), times,
                        AT_SYMLINK_NOFOLLOW),
              0);
  }
  void ExpectUnchangedAfter(const RunResult& r, const std::string& before,
                            const std::string& part) {
    ExpectRefused(r, part);
    EXPECT_EQ(Listing(), before);
  }
};

TEST_F(PrimaryTest, HandoverWritesNoneThenWaitsThenDesignatesThenWaits) {
  ReadyForHandover();
  const std::string before = ListingWithout("resource-r0/primary");
  auto run = RunAsync("hostB", {"primary", "r0"});
  // Phase 2 committed: primary is (none), nothing else changed.
  ASSERT_TRUE(AwaitLink("resource-r0/primary", "(none)"));
  const uint64_t none_stamp = Entry("resource-r0/primary")->stamp_ns;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // 3 polls
  EXPECT_EQ(Link("resource-r0/primary"), "(none)");             // still waiting
  EXPECT_EQ(ListingWithout("resource-r0/primary"), before);
  // marsadm rewrites the trigger between polls (truncate, write): retry.
  bool woken = false;
  for (int i = 0; i < 100 && !woken; ++i) {
    woken = TriggerValue() == "2";
    if (!woken) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(woken);  // local and peers
  // The old primary's kernel gives up its device.
  Actual("hostA", "is-primary", "0");
  ASSERT_TRUE(AwaitLink("resource-r0/primary", "hostB"));
  EXPECT_GT(Entry("resource-r0/primary")->stamp_ns, none_stamp);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(run.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  // This host's kernel brings the device up.
  Actual("hostB", "is-primary", "1");
  const RunResult r = run.get();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(PhaseLines(r.out, "check preconditions"), "");
  EXPECT_EQ(PhaseLines(r.out, "leave the primary state: designate no primary"),
            "set resource-r0/primary -> (none)\n");
  EXPECT_EQ(PhaseLines(r.out, "wait until the old primary gave up its device"), "");
  EXPECT_EQ(PhaseLines(r.out, "designate this host as primary"),
            "set resource-r0/primary -> hostB\n");
  // Again: already designated, the device is up, nothing to write.
  const std::string done = Listing();
  EXPECT_EQ(Op("hostB", {"primary", "r0"}).code, 0);
  EXPECT_EQ(Listing(), done);
}

TEST_F(PrimaryTest, TimeoutInEachWaitAndResumption) {
  ReadyForHandover();
  const std::string before = ListingWithout("resource-r0/primary");
  // Wait 1: the old primary keeps its device.
  RunResult r = Op("hostB", {"primary", "r0"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_TRUE(Has(r.err, "checked once (--timeout 0) waiting until "
                         "actual-hostA/is-primary is 0")) << r.err;
  EXPECT_EQ(Link("resource-r0/primary"), "(none)");
  EXPECT_EQ(ListingWithout("resource-r0/primary"), before);
  // Retried after the old primary let go: wait 2, the device here.
  Actual("hostA", "is-primary", "0");
  r = Op("hostB", {"primary", "r0"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Has(r.err, "waiting until actual-hostB/is-primary is 1")) << r.err;
  EXPECT_EQ(Link("resource-r0/primary"), "hostB");
  Actual("hostB", "is-primary", "1");
  EXPECT_EQ(Op("hostB", {"primary", "r0"}).code, 0);
}

TEST_F(PrimaryTest, WaitsForADeviceThatRemainsWithoutADesignatedPrimary) {
  ReadyForHandover();
  SetLinks({{"resource-r0/primary", "(none)"}});  // hostA: RemainsPrimary
  const std::string before = Listing();
  const RunResult r = Op("hostB", {"--verbose", "primary", "r0"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Has(r.err, "actual-hostA/is-primary is 0")) << r.err;
  EXPECT_EQ(Listing(), before);  // nothing to write in phase 2
}

TEST_F(PrimaryTest, RefusesAnInconsistentReplicaOrASplitBrain) {
  ReadyForHandover();
  SetLinks({{"resource-r0/syncstatus-hostB", "4096"}});
  std::string before = Listing();
  ExpectUnchangedAfter(Op("hostB", {"primary", "r0"}), before,
                       "the local replica is inconsistent (synced 4096 of 4194304 bytes)");
  SetLinks({{"resource-r0/syncstatus-hostB", "4194304"}});
  tree::VersionLink a1, a2, b2;
  const std::string v1 = VersionLink(1, "hostA", 100, nullptr, &a1);
  SetLinks({{"resource-r0/version-000000001-hostA", v1},
            {"resource-r0/version-000000001-hostB", v1},
            {"resource-r0/version-000000002-hostA", VersionLink(2, "hostA", 10, &a1, &a2)},
            {"resource-r0/version-000000002-hostB", VersionLink(2, "hostB", 20, &a1, &b2)}});
  before = Listing();
  ExpectUnchangedAfter(Op("hostB", {"primary", "r0"}), before,
                       "split brain between hostB and hostA");
}

TEST_F(PrimaryTest, RefusesWhileSwitchesAreOff) {
  ReadyForHandover();
  for (const char* sw : {"attach", "connect", "allow-replay"}) {
    SetLinks({{std::string("resource-r0/todo-hostB/") + sw, "0"}});
    const std::string before = Listing();
    ExpectUnchangedAfter(Op("hostB", {"primary", "r0"}), before,
                         std::string("todo-hostB/") + sw + " is not 1");
    EXPECT_TRUE(Has(Op("hostB", {"primary", "r0"}).err, "marsadm up r0"));
    SetLinks({{std::string("resource-r0/todo-hostB/") + sw, "1"}});
  }
}

TEST_F(PrimaryTest, RefusesWhileTheOldPrimaryHasItsDeviceOpen) {
  ReadyForHandover();
  Actual("hostA", "open-count", "2");
  const std::string before = Listing();
  ExpectUnchangedAfter(Op("hostB", {"primary", "r0"}), before,
                       "the device is still in use on the old primary hostA "
                       "(actual-hostA/open-count 2); unmount /dev/mars/r0 on hostA");
}

TEST_F(PrimaryTest, RefusesWhenTheOldPrimaryIsSilentOrDead) {
  SetLinks({{"resource-r0/syncstatus-hostB", "4194304"}});
  Heartbeat("hostA");
  std::string before = Listing();  // hostA has no resource-r0/actual-hostA/
  ExpectUnchangedAfter(Op("hostB", {"primary", "r0"}), before,
                       "the old primary hostA does not report its state");
  Actual("hostA", "is-primary", "1");
  Age("actual-hostA/time", 120);
  before = Listing();
  ExpectUnchangedAfter(Op("hostB", {"primary", "r0"}), before,
                       "the old primary hostA is not alive (no heartbeat "
                       "actual-hostA/time within 60 s); if it is gone, run "
                       "'marsadm primary --force r0' (failover)");
}

TEST_F(PrimaryTest, RefusesWhenTheOldPrimaryDiesDuringTheWait) {
  ReadyForHandover();
  auto run = RunAsync("hostB", {"primary", "r0"});
  ASSERT_TRUE(AwaitLink("resource-r0/primary", "(none)"));
  Age("actual-hostA/time", 120);
  const RunResult r = run.get();
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(Has(r.err, "hostA is not alive")) << r.err;
  EXPECT_TRUE(Has(r.err, "primary is (none) now")) << r.err;
  EXPECT_EQ(Link("resource-r0/primary"), "(none)");
}

TEST_F(PrimaryTest, ForceIsAFailoverWithoutHandover) {
  // Everything a handover needs is missing: inconsistent, hostA dead with
  // its device open, fetch off.
  Actual("hostA", "is-primary", "1");
  Actual("hostA", "open-count", "1");
  SetLinks({{"resource-r0/todo-hostB/connect", "0"}});
  const std::string before = ListingWithout("resource-r0/primary");
  RunResult r = Op("hostB", {"--verbose", "primary", "r0", "--force"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Has(r.err, "actual-hostB/is-primary is 1")) << r.err;
  EXPECT_EQ(PhaseLines(r.out, "leave the primary state: designate no primary"), "");
  EXPECT_EQ(PhaseLines(r.out, "designate this host as primary"),
            "set resource-r0/primary -> hostB\n");
  EXPECT_EQ(ListingWithout("resource-r0/primary"), before);
  Actual("hostB", "is-primary", "1");
  EXPECT_EQ(Op("hostB", {"primary", "r0", "--force"}).code, 0);
  // --force does not override membership or the attach switch.
  ExpectRefused(Op("hostC", {"primary", "r0", "--force"}), "not a member");
  SetLinks({{"resource-r0/primary", "hostA"}, {"resource-r0/todo-hostB/attach", "0"}});
  ExpectRefused(Op("hostB", {"primary", "r0", "--force"}), "todo-hostB/attach is not 1");
}

TEST_F(PrimaryTest, DryRunPrintsEveryPhaseAndWritesNothing) {
  ReadyForHandover();
  ClearTrigger();
  const std::string before = Listing();
  const RunResult r = Run("hostB", {"--dry-run", "primary", "r0"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "would: set resource-r0/primary -> (none)\n"
            "would wait: resource r0: until actual-hostA/is-primary is 0\n"
            "would: set resource-r0/primary -> hostB\n"
            "would wait: resource r0: until actual-hostB/is-primary is 1\n");
  EXPECT_EQ(Listing(), before);
  EXPECT_EQ(TriggerValue(), "");
}

TEST_F(PrimaryTest, AllWithOneFailingResourceRollsForwardTheOthers) {
  MakeResource("r1");
  MakeResource("r2");
  Heartbeat("hostA");
  // r1 cannot become primary on hostB (inconsistent); r0 and r2 can.
  for (const char* res : {"r0", "r2"}) {
    SetLinks({{std::string("resource-") + res + "/syncstatus-hostB", "4194304"}});
    Actual("hostA", "is-primary", "0", res);
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

}  // namespace
}  // namespace mars::cli
