#include "phases.h"

#include <gtest/gtest.h>

#include <sstream>

#include "command_test_env.h"

namespace mars::cli {
namespace {

class PhasesTest : public CommandTest {
 protected:
  ExitCode RunPlanned(const Plan& plan) {
    out_.str("");
    err_.str("");
    Context context(out_, err_);
    context.root = root_;
    context.host = "hostA";
    context.dry_run = dry_run_;
    context.verbose = verbose_;
    context.timeout_seconds = timeout_;
    return RunPlan(plan, context, ModuleLink(proc_));
  }

  // An act phase setting resource-R/NAME -> VALUE.
  static Phase Set(const std::string& name, const std::string& value) {
    return ActPhase("set", [name, value](Step& step) {
      step.changes().SetLink("resource-" + step.resource() + "/" + name, value);
      return Outcome::Done();
    });
  }
  // A check phase failing for `bad`.
  static Phase FailFor(const std::string& bad, ExitCode code = ExitCode::kPreconditionFailed) {
    return CheckPhase("check", [bad, code](Step& step) {
      return step.resource() == bad ? Outcome::Fail("it is bad", code) : Outcome::Done();
    });
  }

  std::ostringstream out_;
  std::ostringstream err_;
  bool dry_run_ = false;
  bool verbose_ = false;
  int timeout_ = 0;
};

TEST_F(PhasesTest, CommitsEveryPhaseForEveryResource) {
  Plan plan{{"r0", "r1"}, false, {Set("a", "1"), Set("b", "2")}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kOk) << err_.str();
  for (const char* res : {"r0", "r1"}) {
    EXPECT_EQ(Link(std::string("resource-") + res + "/a"), "1");
    EXPECT_EQ(Link(std::string("resource-") + res + "/b"), "2");
  }
  // Phase order is commit order: a (phase 1) is older than b (phase 2).
  EXPECT_LT(Entry("resource-r1/a")->stamp_ns, Entry("resource-r0/b")->stamp_ns);
  EXPECT_EQ(TriggerValue(), "1");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(PhasesTest, FailedResourceIsSkippedInLaterPhasesOthersComplete) {
  Plan plan{{"r0", "r1", "r2"}, false, {Set("a", "1"), FailFor("r1"), Set("b", "2")}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kPartialFailure);
  EXPECT_EQ(err_.str(), "marsadm: resource r1: it is bad\n");
  EXPECT_EQ(Link("resource-r1/a"), "1");  // committed before the failure
  EXPECT_FALSE(Exists("resource-r1/b"));
  EXPECT_EQ(Link("resource-r0/b"), "2");
  EXPECT_EQ(Link("resource-r2/b"), "2");
}

TEST_F(PhasesTest, FailedCheckOfSingleResourceWritesNothing) {
  const std::string before = Listing();
  Plan plan{{"r0"}, false, {FailFor("r0"), Set("a", "1")}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kPreconditionFailed);
  EXPECT_EQ(Listing(), before);
  EXPECT_EQ(TriggerValue(), "");
  EXPECT_EQ(LineCount(err_.str()), 1);
}

TEST_F(PhasesTest, ChangesOfTheFailingPhaseAreDropped) {
  Plan plan{{"r0"},
            false,
            {ActPhase("stage then fail", [](Step& step) {
              step.changes().SetLink("resource-r0/x", "1");
              return Outcome::Fail("no");
            })}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kPreconditionFailed);
  EXPECT_FALSE(Exists("resource-r0/x"));
}

TEST_F(PhasesTest, AllFailedGivesTheCommonCause) {
  Plan plan{{"r0", "r1"}, false, {FailFor("r0", ExitCode::kTimeout), FailFor("r1", ExitCode::kTimeout)}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kTimeout);
  Plan mixed{{"r0", "r1"}, false, {FailFor("r0", ExitCode::kTimeout), FailFor("r1")}};
  EXPECT_EQ(RunPlanned(mixed), ExitCode::kPreconditionFailed);
}

TEST_F(PhasesTest, DryRunPrintsAndWritesNothing) {
  dry_run_ = true;
  const std::string before = Listing();
  Plan plan{{"r0"},
            false,
            {Set("a", "1"), WaitPhase("wait", [](Step&) {
               return Outcome::NotYet("the moon is blue");
             })}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kOk);
  EXPECT_EQ(out_.str(),
            "would: set resource-r0/a -> 1\n"
            "would wait: resource r0: until the moon is blue\n");
  EXPECT_EQ(Listing(), before);
  EXPECT_EQ(TriggerValue(), "");
}

TEST_F(PhasesTest, WaitTimesOutWithExitThreeAndNamesTheCondition) {
  Plan plan{{"r0", "r1"},
            false,
            {WaitPhase("wait",
                       [](Step& step) {
                         return step.resource() == "r0" ? Outcome::Done()
                                                        : Outcome::NotYet("x is 1");
                       }),
             Set("after", "1")}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kPartialFailure);
  EXPECT_TRUE(Has(err_.str(), "resource r1: checked once (--timeout 0) waiting until x is 1"))
      << err_.str();
  EXPECT_EQ(Link("resource-r0/after"), "1");
  EXPECT_FALSE(Exists("resource-r1/after"));
  Plan single{{"r1"}, false, {plan.phases[0]}};
  EXPECT_EQ(RunPlanned(single), ExitCode::kTimeout);
}

TEST_F(PhasesTest, WaitPollsUntilTheConditionHolds) {
  timeout_ = 10;
  int polls = 0;
  Plan plan{{"r0"},
            false,
            {WaitPhase("wait", [&polls](Step&) {
              return ++polls >= 3 ? Outcome::Done() : Outcome::NotYet("later");
            })}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kOk);
  EXPECT_EQ(polls, 3);
  EXPECT_EQ(TriggerValue(), "1");  // triggered between polls
}

TEST_F(PhasesTest, NeedsModuleRefusesWithoutIt) {
  UnloadModule();
  Plan plan{{"r0"}, true, {Set("a", "1")}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kPreconditionFailed);
  EXPECT_TRUE(Has(err_.str(), "module is not loaded")) << err_.str();
  EXPECT_FALSE(Exists("resource-r0/a"));
  plan.needs_module = false;
  EXPECT_EQ(RunPlanned(plan), ExitCode::kOk);  // tree-only works without it
}

TEST_F(PhasesTest, ScratchSurvivesPhasesPerResource) {
  Plan plan{{"r0", "r1"},
            false,
            {CheckPhase("remember",
                        [](Step& step) {
                          step.scratch()["v"] = step.resource() + "-v";
                          return Outcome::Done();
                        }),
             ActPhase("use", [](Step& step) {
               step.changes().SetLink("resource-" + step.resource() + "/v",
                                      step.scratch()["v"]);
               return Outcome::Done();
             })}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kOk);
  EXPECT_EQ(Link("resource-r1/v"), "r1-v");
}

TEST_F(PhasesTest, VerbosePrintsPhasesAndChanges) {
  verbose_ = true;
  Plan plan{{"r0"}, false, {Set("a", "1")}};
  EXPECT_EQ(RunPlanned(plan), ExitCode::kOk);
  EXPECT_EQ(out_.str(), "phase 1/1: set\nset resource-r0/a -> 1\n");
}

TEST_F(PhasesTest, RefusesInvalidHostAndMissingRoot) {
  Plan plan{{"r0"}, false, {Set("a", "1")}};
  std::ostringstream out, err;
  Context context(out, err);
  context.root = root_;
  context.host = "bad host";
  EXPECT_EQ(RunPlan(plan, context, ModuleLink(proc_)), ExitCode::kPreconditionFailed);
  context.host = "hostA";
  context.root = base_ + "/missing";
  EXPECT_EQ(RunPlan(plan, context, ModuleLink(proc_)), ExitCode::kPreconditionFailed);
  EXPECT_EQ(LineCount(err.str()), 2);
}

}  // namespace
}  // namespace mars::cli
