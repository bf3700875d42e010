#include "phases.h"

#include <memory>
#include <set>

#include "core/tree/names.h"
#include "report.h"
#include "tree_read.h"

namespace mars::cli {
namespace {

struct ResourceState {
  std::string name;
  bool failed = false;
  ExitCode cause = ExitCode::kOk;
  std::map<std::string, std::string> scratch;
};

class Engine {
 public:
  Engine(const Plan& plan, Context& context, const ModuleLink& module)
      : plan_(plan), context_(context), module_(module), tree_(context.root) {
    for (const std::string& name : plan.resources) {
      ResourceState state;
      state.name = name;
      states_.push_back(std::move(state));
    }
  }

  ExitCode Run();

 private:
  void Fail(ResourceState& state, ExitCode code, const std::string& message) {
    state.failed = true;
    state.cause = code;
    ReportError(context_.err, FailureLine(state.name, message));
  }
  // Runs a check or act phase; returns true if something was committed.
  bool RunOnce(const Phase& phase);
  void RunWait(const Phase& phase);
  // Commits what `step` staged; false (and the resource failed) on error.
  bool CommitStep(ResourceState& state, Step& step, bool* committed);
  ExitCode Result() const;

  const Plan& plan_;
  Context& context_;
  const ModuleLink& module_;
  TreeDir tree_;
  std::vector<ResourceState> states_;
  std::unique_ptr<Stamper> stamper_;
};

bool Engine::CommitStep(ResourceState& state, Step& step, bool* committed) {
  const std::vector<std::string> lines = step.changes().Describe();
  if (context_.dry_run) {
    for (const FileAction& action : step.file_actions()) {
      context_.out << "would: " << action.description << '\n';
    }
    for (const std::string& line : lines) context_.out << "would: " << line << '\n';
    return true;
  }
  for (const FileAction& action : step.file_actions()) {
    if (auto error = action.apply()) {
      Fail(state, ExitCode::kInternalError, *error);
      return false;
    }
    if (context_.verbose) context_.out << action.description << '\n';
    *committed = true;
  }
  if (step.changes().empty()) return true;
  if (!stamper_) {
    stamper_ = std::make_unique<Stamper>(tree_, module_.LamportClockPath());
  }
  if (auto error = Commit(tree_, step.changes(), *stamper_)) {
    Fail(state, ExitCode::kInternalError, *error);
    return false;
  }
  if (context_.verbose) {
    for (const std::string& line : lines) context_.out << line << '\n';
  }
  *committed = true;
  return true;
}

bool Engine::RunOnce(const Phase& phase) {
  bool committed = false;
  for (ResourceState& state : states_) {
    if (state.failed) continue;
    Step step(state.name, tree_, context_, module_, state.scratch);
    const Outcome outcome = phase.run(step);
    if (outcome.state() == Outcome::State::kFailed) {
      Fail(state, outcome.code(), outcome.message());
      continue;
    }
    CommitStep(state, step, &committed);
  }
  return committed;
}

void Engine::RunWait(const Phase& phase) {
  std::set<std::size_t> pending;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    if (!states_[i].failed) pending.insert(i);
  }
  std::map<std::size_t, std::string> awaited;
  auto round = [&]() {
    for (auto it = pending.begin(); it != pending.end();) {
      ResourceState& state = states_[*it];
      Step step(state.name, tree_, context_, module_, state.scratch);
      const Outcome outcome = phase.run(step);
      if (outcome.state() == Outcome::State::kNotYet) {
        awaited[*it] = outcome.message();
        ++it;
        continue;
      }
      if (outcome.state() == Outcome::State::kFailed) {
        Fail(state, outcome.code(), outcome.message());
      }
      it = pending.erase(it);
    }
    return pending.empty();
  };
  if (context_.dry_run) {
    round();
    for (std::size_t i : pending) {
      context_.out << "would wait: "
                   << FailureLine(states_[i].name, "until " + awaited[i]) << '\n';
    }
    return;
  }
  PollLimits limits;
  limits.timeout_seconds = context_.timeout_seconds;
  if (Poll(round, limits, module_, phase.trigger)) return;
  for (std::size_t i : pending) {
    const std::string after =
        context_.timeout_seconds == 0
            ? "checked once (--timeout 0)"
            : "timed out after " + std::to_string(context_.timeout_seconds) + " s";
    Fail(states_[i], ExitCode::kTimeout,
         after + " waiting until " + awaited[i] +
             "; check the module's state or retry with a longer --timeout");
  }
}

ExitCode Engine::Result() const {
  std::size_t failed = 0;
  std::set<ExitCode> causes;
  for (const ResourceState& state : states_) {
    if (!state.failed) continue;
    ++failed;
    causes.insert(state.cause);
  }
  if (failed == 0) return ExitCode::kOk;
  if (failed < states_.size()) return ExitCode::kPartialFailure;
  return causes.size() == 1 ? *causes.begin() : ExitCode::kPreconditionFailed;
}

ExitCode Engine::Run() {
  if (!tree::ValidateHostName(CoreSlice(context_.host)).ok()) {
    ReportError(context_.err, "this host's name '" + context_.host +
                                  "' is not a valid MARS host name; pass "
                                  "--host NAME (1..63 of A-Z a-z 0-9 _ -)");
    return ExitCode::kPreconditionFailed;
  }
  if (!tree_.RootIsDirectory()) {
    ReportError(context_.err, "the MARS directory " + context_.root +
                                  " does not exist or is not a directory; "
                                  "mount /mars or pass --root DIR");
    return ExitCode::kPreconditionFailed;
  }
  if (plan_.needs_module && !module_.Loaded()) {
    ReportError(context_.err, module_.NotLoadedMessage());
    return ExitCode::kPreconditionFailed;
  }
  std::size_t number = 0;
  for (const Phase& phase : plan_.phases) {
    ++number;
    bool any_left = false;
    for (const ResourceState& state : states_) any_left |= !state.failed;
    if (!any_left) break;
    if (context_.verbose) {
      context_.out << "phase " << number << "/" << plan_.phases.size() << ": "
                   << phase.headline << '\n';
    }
    if (phase.kind == PhaseKind::kWait) {
      RunWait(phase);
      continue;
    }
    if (RunOnce(phase) && !context_.dry_run) {
      if (auto error = module_.Trigger(phase.trigger)) {
        // The change is in place; the module's periodic scan picks it up.
        ReportError(context_.err, "warning: " + *error);
      }
    }
  }
  return Result();
}

}  // namespace

std::string FailureLine(const std::string& resource, const std::string& message) {
  return resource.empty() ? message : "resource " + resource + ": " + message;
}

ExitCode RunPlan(const Plan& plan, Context& context, const ModuleLink& module) {
  Engine engine(plan, context, module);
  return engine.Run();
}

ExitCode RunPlan(const Plan& plan, Context& context) {
  return RunPlan(plan, context, ModuleLink::FromEnvironment());
}

}  // namespace mars::cli
