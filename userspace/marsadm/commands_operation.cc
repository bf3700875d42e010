// Operation commands: attach, detach, up, down, primary, secondary,
// invalidate, fake-sync, wait-umount, wait-resource (docu/marsadm.md,
// "Operation commands"). They need the module: each writes todo switches or
// the designated primary and then waits for the kernel's actual-* answer.
#include "command_groups.h"
#include "command_support.h"
#include "invalidate_phases.h"
#include "operation_support.h"
#include "primary_handover.h"
#include "report.h"
#include "wait_conditions.h"

namespace mars::cli {
namespace {

Phase CheckMemberPhase() {
  return CheckPhase("check preconditions", [](Step& step) -> Outcome {
    return RequireMember(ResourceTree(step.tree(), step.resource()),
                         step.host())
        .value_or(Outcome::Done());
  });
}

// Refuses (unless --force) while /dev/mars/DEV of this host is open.
Phase CheckUnusedPhase() {
  return CheckPhase("check preconditions", [](Step& step) -> Outcome {
    const ResourceTree res(step.tree(), step.resource());
    if (auto failure = RequireMember(res, step.host())) return *failure;
    if (auto failure =
            RequireUnused(res, step.host(), step.force(), step.module()))
      return *failure;
    return Outcome::Done();
  });
}

ExitCode RunAttach(const Invocation& invocation, Context& context) {
  return RunOnResources(invocation, context, ListPolicy::kListOrAll, true,
                        {CheckMemberPhase(),
                         SwitchPhase("switch attach on", {{kTodoAttach, true}}),
                         WaitActualPhase("is-attached", true)});
}

ExitCode RunDetach(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, true,
      {CheckUnusedPhase(),
       SwitchPhase("switch attach off", {{kTodoAttach, false}}),
       WaitActualPhase("is-attached", false)});
}

ExitCode RunUp(const Invocation& invocation, Context& context) {
  return RunOnResources(invocation, context, ListPolicy::kListOrAll, true,
                        {CheckMemberPhase(),
                         SwitchPhase("switch attach, fetch, replay and sync on",
                                     {{kTodoAttach, true},
                                      {kTodoConnect, true},
                                      {kTodoReplay, true},
                                      {kTodoSync, true}}),
                         WaitActualPhase("is-attached", true)});
}

ExitCode RunDown(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, true,
      {CheckUnusedPhase(),
       SwitchPhase("switch sync, fetch, replay and attach off",
                   {{kTodoSync, false},
                    {kTodoConnect, false},
                    {kTodoReplay, false},
                    {kTodoAttach, false}}),
       WaitActualPhase("is-attached", false)});
}

ExitCode RunPrimary(const Invocation& invocation, Context& context) {
  return RunOnResources(invocation, context, ListPolicy::kListOrAll, true,
                        PrimaryPhases());
}

ExitCode RunSecondary(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, true,
      {CheckPhase("check preconditions",
                  [](Step& step) -> Outcome {
                    const ResourceTree res(step.tree(), step.resource());
                    const std::string& host = step.host();
                    if (auto failure = RequireMember(res, host))
                      return *failure;
                    const auto primary = res.DesignatedPrimary();
                    if (primary && *primary != host && !step.force()) {
                      return Outcome::Fail(*primary +
                                           " is the designated primary; run "
                                           "'marsadm secondary " +
                                           step.resource() +
                                           "' there, or use --force");
                    }
                    return RequireUnused(res, host, step.force(), step.module())
                        .value_or(Outcome::Done());
                  }),
       ActPhase(
           "designate no primary",
           [](Step& step) {
             const ResourceTree res(step.tree(), step.resource());
             SetIfDifferent(step, res.Path("primary"), FormatPrimary(""));
             return Outcome::Done();
           },
           TriggerCode::kLocalAndPeers),
       WaitActualPhase("is-primary", false)});
}

ExitCode RunInvalidate(const Invocation& invocation, Context& context) {
  return RunOnResources(invocation, context, ListPolicy::kListOrAll, true,
                        InvalidatePhases());
}

ExitCode RunFakeSync(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, true,
      {CheckPhase("check preconditions",
                  [](Step& step) -> Outcome {
                    const ResourceTree res(step.tree(), step.resource());
                    if (auto failure = RequireMember(res, step.host()))
                      return *failure;
                    step.scratch()["sync"] =
                        res.Todo(step.host(), kTodoSync).value_or(false) ? "1"
                                                                         : "0";
                    return Outcome::Done();
                  }),
       SwitchPhase("switch sync off", {{kTodoSync, false}}),
       WaitActualPhase("is-syncing", false),
       ActPhase("mark the sync as finished", [](Step& step) {
         const ResourceTree res(step.tree(), step.resource());
         SetIfDifferent(step, res.Path("syncstatus-" + step.host()),
                        FormatByteCount(*res.Size()));
         if (step.scratch()["sync"] == "1") {
           SetIfDifferent(step, res.TodoPath(step.host(), kTodoSync),
                          SwitchValue(true));
         }
         return Outcome::Done();
       })});
}

ExitCode RunWaitUmount(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, true,
      {CheckMemberPhase(),
       WaitPhase("wait until the device is closed", [](Step& step) {
         const ResourceTree res(step.tree(), step.resource());
         const uint64_t open =
             res.ActualNumber(step.host(), "open-count").value_or(0);
         if (open == 0) return Outcome::Done();
         return Outcome::NotYet("actual-" + step.host() +
                                "/open-count is 0 (now " +
                                std::to_string(open) + ")");
       })});
}

ExitCode RunWaitResource(const Invocation& invocation, Context& context) {
  const auto condition = ParseWaitCondition(invocation.args[1]);
  if (!condition) {
    return ReportUsageError(context.err,
                            "unknown condition '" + invocation.args[1] + "' (" +
                                WaitConditionNames() + ")",
                            &invocation.command);
  }
  return RunOnResources(invocation, context, ListPolicy::kListOrAll, true,
                        {CheckMemberPhase(), WaitConditionPhase(*condition)});
}

const Command kOperationCommands[] = {
    {"attach", "attach the local disk", "RES", 1, 1,
     "Writes todo-HOST/attach = 1 and waits for actual-HOST/is-attached = 1.\n"
     "RES may be a comma-separated list or 'all'. Needs the module.",
     nullptr, RunAttach},
    {"detach", "detach the local disk", "RES", 1, 1,
     "Refuses while /dev/mars/DEV is open (actual-HOST/open-count > 0) unless\n"
     "--force. Writes todo-HOST/attach = 0 and waits for is-attached = 0.",
     nullptr, RunDetach},
    {"up", "attach and switch fetch, replay and sync on", "RES", 1, 1,
     "Writes todo-HOST/{attach,connect,allow-replay,sync} = 1 and waits for\n"
     "actual-HOST/is-attached = 1.",
     nullptr, RunUp},
    {"down", "switch sync, fetch and replay off and detach", "RES", 1, 1,
     "Refuses while the device is open unless --force. Writes\n"
     "todo-HOST/{sync,connect,allow-replay,attach} = 0 and waits for\n"
     "actual-HOST/is-attached = 0.",
     nullptr, RunDown},
    {"primary", "make this host the primary (planned handover)", "RES", 1, 1,
     "Checks that the local replica is consistent (sync finished), no split\n"
     "brain exists, todo-HOST/{attach,connect,allow-replay} are 1 and the old\n"
     "primary is alive with its device closed (else: unmount it there). Then\n"
     "writes primary = (none), waits for actual-OLD/is-primary = 0, writes\n"
     "primary = HOST and waits for actual-HOST/is-primary = 1.\n"
     "--force (failover): only membership and todo-HOST/attach are checked;\n"
     "writes primary = HOST at once, then waits for the device. May lose what\n"
     "the old primary did not replicate.",
     nullptr, RunPrimary},
    {"secondary", "designate no primary for a resource", "RES", 1, 1,
     "Writes primary = (none) and waits for actual-HOST/is-primary = 0.\n"
     "Refuses on another host than the designated primary and while the local\n"
     "device is open, unless --force.",
     nullptr, RunSecondary},
    {"invalidate",
     "discard the local replica and sync it again from the primary", "RES", 1,
     1,
     "Runs on a secondary. Switches sync, fetch, replay and attach off, waits\n"
     "until they stopped, writes syncstatus-HOST = 0, deletes this host's\n"
     "version links from the primary's logfile N on (and diverged older "
     "ones),\n"
     "purges obsolete logfiles, sets replay-HOST to log-N-ORIGIN,0,0 with a "
     "copy\n"
     "of the primary's version link before N, and switches attach, fetch and\n"
     "replay on, sync last. A full sync follows; resolves a local split brain.",
     nullptr, RunInvalidate},
    {"fake-sync", "mark the local replica as synced without copying", "RES", 1,
     1,
     "Dangerous: only for new resources before mkfs, or identical data.\n"
     "Switches sync off, waits for actual-HOST/is-syncing = 0, writes\n"
     "syncstatus-HOST = size and restores the sync switch.",
     nullptr, RunFakeSync},
    {"wait-umount", "wait until the local device is closed", "RES", 1, 1,
     "Waits until actual-HOST/open-count is 0 (or absent).", nullptr,
     RunWaitUmount},
    {"wait-resource", "wait until a resource reaches a condition",
     "RES CONDITION", 2, 2,
     "CONDITION is {is-,}{attach,primary,device,sync,fetch,replay}{-off,}.\n"
     "Without 'is-' it tests the desired state: todo-HOST/attach (sync, "
     "connect,\n"
     "allow-replay) is 1; primary: this host is the designated primary; "
     "device:\n"
     "designated primary here and todo-HOST/attach is 1. With 'is-' it tests\n"
     "the kernel's answer: actual-HOST/is-attached (is-syncing, is-copying,\n"
     "is-replaying, is-primary) is 1; is-device: /dev/mars/DEVNAME exists.\n"
     "'-off' waits for the negation.",
     nullptr, RunWaitResource},
};

}  // namespace

CommandGroup OperationCommands() {
  return MakeCommandGroup("Operation", kOperationCommands);
}

}  // namespace mars::cli
