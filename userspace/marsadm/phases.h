// The phases engine: how every tree-changing marsadm command runs
// (docu/marsadm.md, "Phases"). A command is a Plan: a list of phases
// (check preconditions, act, wait) over a list of resources.
//
// - Each phase runs for every selected resource that has not failed yet, in
//   the order given.
// - What a phase stages for a resource (Step::changes(), file actions) is
//   committed for that resource at the end of the phase (the commit point):
//   links are staged as .tmp.* links and renamed into place (tree_dir.h).
// - A resource that fails a phase is reported (one line on stderr), its
//   staged changes of that phase are dropped, and it is skipped in all later
//   phases, so nothing of its later phases is written. The other resources
//   continue. With one resource, a failed check therefore writes nothing.
// - A wait phase polls its condition for every pending resource, re-reading
//   the tree each round and writing the module's trigger between rounds,
//   until all hold or --timeout expires (the rest fail with exit 3).
// - After every phase in which something was committed, the module is woken
//   through its trigger entry (when loaded).
// - --dry-run: every staged change is printed as "would: <change>" and
//   nothing is written; a wait whose condition does not hold yet is printed
//   as "would wait: ..." instead of waiting.
//
// Exit code: 0 when every resource succeeded; 4 when some succeeded and some
// failed; when all failed, their common cause (1 precondition, 3 timeout, 5
// internal) or 1 for mixed causes.
#ifndef MARS_USERSPACE_MARSADM_PHASES_H_
#define MARS_USERSPACE_MARSADM_PHASES_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "exit_codes.h"
#include "module_link.h"
#include "tree_dir.h"

namespace mars::cli {

// What one phase did for one resource.
class Outcome {
 public:
  enum class State { kDone, kFailed, kNotYet };

  // The phase succeeded (for a wait: the condition holds).
  static Outcome Done() { return Outcome(State::kDone, ExitCode::kOk, ""); }
  // The phase failed; `message` says what is wrong and what to do.
  static Outcome Fail(std::string message,
                      ExitCode code = ExitCode::kPreconditionFailed) {
    return Outcome(State::kFailed, code, std::move(message));
  }
  // Wait phases only: the condition does not hold yet; `condition` describes
  // what is awaited, e.g. "actual-hostA/is-attached to be 1".
  static Outcome NotYet(std::string condition) {
    return Outcome(State::kNotYet, ExitCode::kTimeout, std::move(condition));
  }

  State state() const { return state_; }
  ExitCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Outcome(State state, ExitCode code, std::string message)
      : state_(state), code_(code), message_(std::move(message)) {}
  State state_;
  ExitCode code_;
  std::string message_;
};

// A change that is not a link: writing a regular file (the cluster secret) or
// purging a tombstone. Applied before the links of the same commit.
struct FileAction {
  std::string description;  // printed as "would: <description>"
  // Returns an error message (one line) or nullopt.
  std::function<std::optional<std::string>()> apply;
};

// One phase for one resource: what a phase function sees and stages.
class Step {
 public:
  Step(const std::string& resource, const TreeDir& tree, Context& context,
       const ModuleLink& module, std::map<std::string, std::string>& scratch)
      : resource_(resource),
        tree_(tree),
        context_(context),
        module_(module),
        scratch_(scratch) {}

  // The resource name; "" for commands about the cluster as a whole.
  const std::string& resource() const { return resource_; }
  const TreeDir& tree() const { return tree_; }
  Context& context() const { return context_; }
  const std::string& host() const { return context_.host; }
  bool force() const { return context_.force; }
  const ModuleLink& module() const { return module_; }

  // Changes committed at the end of this phase if the phase succeeds.
  ChangeSet& changes() { return changes_; }
  void AddFileAction(FileAction action) { files_.push_back(std::move(action)); }
  const std::vector<FileAction>& file_actions() const { return files_; }
  // Per-resource values kept across the phases of one command, e.g. a
  // switch's value read in the check phase and restored later.
  std::map<std::string, std::string>& scratch() { return scratch_; }

 private:
  const std::string& resource_;
  const TreeDir& tree_;
  Context& context_;
  const ModuleLink& module_;
  std::map<std::string, std::string>& scratch_;
  ChangeSet changes_;
  std::vector<FileAction> files_;
};

enum class PhaseKind { kCheck, kAct, kWait };

struct Phase {
  PhaseKind kind;
  const char* headline;  // e.g. "check preconditions"; shown with --verbose
  std::function<Outcome(Step&)> run;
  // Written to the trigger after commits of this phase and between polls.
  TriggerCode trigger = TriggerCode::kLocal;
};

// Convenience constructors.
inline Phase CheckPhase(const char* headline, std::function<Outcome(Step&)> run) {
  return Phase{PhaseKind::kCheck, headline, std::move(run)};
}
inline Phase ActPhase(const char* headline, std::function<Outcome(Step&)> run,
                      TriggerCode trigger = TriggerCode::kLocal) {
  return Phase{PhaseKind::kAct, headline, std::move(run), trigger};
}
inline Phase WaitPhase(const char* headline, std::function<Outcome(Step&)> run,
                       TriggerCode trigger = TriggerCode::kLocal) {
  return Phase{PhaseKind::kWait, headline, std::move(run), trigger};
}

struct Plan {
  // The resources to act on, in order; {""} for cluster-wide commands.
  std::vector<std::string> resources;
  // Refuse (exit 1, nothing written) unless the module is loaded.
  bool needs_module = false;
  std::vector<Phase> phases;
};

// Runs `plan` on the tree at context.root, talking to `module`.
ExitCode RunPlan(const Plan& plan, Context& context, const ModuleLink& module);
// As above with ModuleLink::FromEnvironment().
ExitCode RunPlan(const Plan& plan, Context& context);

// The one-line diagnostic for a failure of `resource` ("" = none).
std::string FailureLine(const std::string& resource, const std::string& message);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_PHASES_H_
