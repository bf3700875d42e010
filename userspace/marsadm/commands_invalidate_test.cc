// invalidate: each phase's writes (from --verbose, which prints every
// committed change under its phase), the timeout of the wait, refusals, and
// a designated primary that changes during the command.
#include "operation_test_env.h"

namespace mars::cli {
namespace {

class InvalidateTest : public OperationTest {
 protected:
  std::string R(const std::string& name) { return "resource-r0/" + name; }
  // A split brain: hostA (the designated primary) wrote logfiles 1..3 and is
  // at log 3; hostB was forced primary after log 1 and wrote its own logs 2
  // and 3.
  void MakeSplitBrain() {
    tree::VersionLink a1, a2, b2, b3;
    const std::string v1 = VersionLink(1, "hostA", 100, nullptr, &a1);
    v2a_ = VersionLink(2, "hostA", 10, &a1, &a2);
    SetLinks({{R("version-000000001-hostA"), v1},
              {R("version-000000002-hostA"), v2a_},
              {R("replay-hostA"), "log-000000003-hostA,500,0"},
              {R("version-000000001-hostB"), v1},
              {R("version-000000002-hostB"), VersionLink(2, "hostB", 20, &a1, &b2)},
              {R("version-000000003-hostB"), VersionLink(3, "hostB", 30, &b2, &b3)},
              {R("replay-hostB"), "log-000000003-hostB,50,0"},
              {R("syncstatus-hostB"), "4194304"}});
    for (const char* log : {"log-000000002-hostA", "log-000000003-hostA",
                            "log-000000002-hostB", "log-000000003-hostB"}) {
      WriteLogfile(R(log), 1000);
    }
  }
  std::string v2a_;
};

TEST_F(InvalidateTest, EachPhaseWritesItsPart) {
  MakeSplitBrain();
  const RunResult r = Op("hostB", {"--verbose", "invalidate", "r0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(PhaseLines(r.out, "check preconditions"), "");
  EXPECT_EQ(PhaseLines(r.out, "switch sync, fetch, replay and attach off"),
            "set resource-r0/todo-hostB/sync -> 0\n"
            "set resource-r0/todo-hostB/connect -> 0\n"
            "set resource-r0/todo-hostB/allow-replay -> 0\n"
            "set resource-r0/todo-hostB/attach -> 0\n");
  EXPECT_EQ(PhaseLines(r.out, "wait until sync, fetch, replay and attach stopped"), "");
  EXPECT_EQ(PhaseLines(r.out, "forget the local replica"),
            "set resource-r0/syncstatus-hostB -> 0\n"
            "delete resource-r0/version-000000002-hostB\n"
            "delete resource-r0/version-000000003-hostB\n");
  EXPECT_EQ(PhaseLines(r.out, "purge obsolete logfiles"),
            "delete resource-r0/log-000000001-hostA\n"
            "delete resource-r0/log-000000002-hostA\n"
            "delete resource-r0/log-000000002-hostB\n"
            "delete resource-r0/log-000000003-hostB\n");
  EXPECT_EQ(PhaseLines(r.out, "restart from the primary's logfile"),
            "set resource-r0/replay-hostB -> log-000000003-hostA,0,0\n"
            "set resource-r0/version-000000002-hostB -> " + v2a_ + "\n");
  EXPECT_EQ(PhaseLines(r.out, "switch attach, fetch and replay on"),
            "set resource-r0/todo-hostB/attach -> 1\n"
            "set resource-r0/todo-hostB/connect -> 1\n"
            "set resource-r0/todo-hostB/allow-replay -> 1\n");
  EXPECT_EQ(PhaseLines(r.out, "switch sync on"), "set resource-r0/todo-hostB/sync -> 1\n");
  // The result: hostB follows hostA's history from log 3 on.
  EXPECT_EQ(Link(R("version-000000002-hostB")), v2a_);
  EXPECT_EQ(Link(R("version-000000001-hostB")), Link(R("version-000000001-hostA")));
  EXPECT_FALSE(Exists(R("version-000000003-hostB")));
  EXPECT_TRUE(Entry(R("log-000000003-hostB"))->tombstone);
  EXPECT_EQ(Entry(R("log-000000003-hostA"))->type, EntryType::kFile);
  EXPECT_EQ(Run("hostB", {"view-is-split-brain", "r0"}).out, "0\n");
  EXPECT_EQ(TriggerValue(), "1");  // the last phase: a local switch
}

TEST_F(InvalidateTest, WaitsUntilTheKernelStopped) {
  MakeSplitBrain();
  Actual("hostB", "is-attached", "1");
  RunResult r = Op("hostB", {"--verbose", "invalidate", "r0"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_TRUE(Has(r.err, "waiting until actual-hostB/is-attached is 0")) << r.err;
  EXPECT_EQ(PhaseLines(r.out, "forget the local replica"), "<no phase 'forget the local replica'>");
  for (const char* sw : {"attach", "connect", "sync", "allow-replay"}) {
    EXPECT_EQ(Todo("hostB", sw), "0") << sw;  // phase 2 happened, nothing after it
  }
  EXPECT_EQ(Link(R("syncstatus-hostB")), "4194304");
  EXPECT_EQ(Link(R("replay-hostB")), "log-000000003-hostB,50,0");
  EXPECT_EQ(Entry(R("log-000000003-hostB"))->type, EntryType::kFile);
  Actual("hostB", "is-attached", "0");
  r = Op("hostB", {"invalidate", "r0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Link(R("replay-hostB")), "log-000000003-hostA,0,0");
}

TEST_F(InvalidateTest, Refusals) {
  MakeSplitBrain();
  std::string before = Listing();
  ExpectRefused(Op("hostA", {"invalidate", "r0"}), "this host is the designated primary");
  ExpectRefused(Op("hostC", {"invalidate", "r0"}), "not a member");
  Actual("hostB", "open-count", "1");
  before = Listing();
  ExpectRefused(Op("hostB", {"invalidate", "r0"}), "in use");
  EXPECT_EQ(Listing(), before);
  EXPECT_EQ(Op("hostB", {"invalidate", "r0", "--force"}).code, 0);
  SetLinks({{R("primary"), "(none)"}});
  before = Listing();
  ExpectRefused(Op("hostB", {"invalidate", "r0"}), "no designated primary");
  EXPECT_EQ(Listing(), before);
}

TEST_F(InvalidateTest, StopsWhenThePrimaryChangesDuringTheWait) {
  MakeSplitBrain();
  Actual("hostB", "is-replaying", "1");
  auto run = RunAsync("hostB", {"invalidate", "r0"});
  ASSERT_TRUE(AwaitLink(R("todo-hostB/attach"), "0"));
  SetLinks({{R("primary"), "(none)"}});
  Actual("hostB", "is-replaying", "0");
  const RunResult r = run.get();
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(Has(r.err, "the designated primary changed meanwhile (was hostA)")) << r.err;
  EXPECT_EQ(Link(R("syncstatus-hostB")), "4194304");  // phase 4 wrote nothing
  EXPECT_EQ(Todo("hostB", "attach"), "0");
}

TEST_F(InvalidateTest, AllWhereOneResourceTimesOutSkipsItsLaterPhases) {
  MakeResource("r1");
  SetLinks({{R("replay-hostA"), "log-000000001-hostA,500,0"}});
  Actual("hostB", "is-replaying", "1", "r1");  // r1's kernel does not stop
  SetLinks({{R("syncstatus-hostB"), "4096"}, {"resource-r1/syncstatus-hostB", "4096"}});
  const RunResult r = Op("hostB", {"invalidate", "r0,r1"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_TRUE(Has(r.err, "resource r1: checked once")) << r.err;
  EXPECT_EQ(Todo("hostB", "sync", "r1"), "0");  // phase 2 happened for both
  EXPECT_EQ(Todo("hostB", "sync", "r0"), "1");  // r0 completed: back on
  EXPECT_EQ(Link(R("syncstatus-hostB")), "0");
  EXPECT_EQ(Link("resource-r1/syncstatus-hostB"), "4096");  // r1: nothing after the wait
}

}  // namespace
}  // namespace mars::cli
