#include "invalidate_phases.h"

#include <map>
#include <string>

#include "command_support.h"
#include "log_retention.h"
#include "operation_support.h"
#include "status_model.h"

namespace mars::cli {
namespace {

// Scratch keys kept across the phases.
constexpr char kPrimary[] = "primary";
constexpr char kRestart[] = "restart";  // the primary's replay link (phase 4)

Outcome CheckInvalidate(Step& step) {
  const ResourceTree res(step.tree(), step.resource());
  const std::string& host = step.host();
  if (auto failure = RequireMember(res, host)) return *failure;
  const auto primary = res.DesignatedPrimary();
  if (!primary) {
    return Outcome::Fail(
        "no designated primary to sync from; run 'marsadm primary " +
        step.resource() + "' on the host with the good data first");
  }
  if (*primary == host) {
    return Outcome::Fail(
        "this host is the designated primary; invalidate runs on a "
        "secondary");
  }
  if (!res.Replay(*primary)) {
    return Outcome::Fail("the primary " + *primary +
                         " has no valid replay link yet; "
                         "wait with 'marsadm wait-cluster " +
                         step.resource() + "'");
  }
  if (auto failure = RequireUnused(res, host, step.force(), step.module()))
    return *failure;
  step.scratch()[kPrimary] = *primary;
  return Outcome::Done();
}

Outcome StoppedLocally(Step& step) {
  const ResourceTree res(step.tree(), step.resource());
  for (const char* name :
       {kActualSyncing, kActualFetching, kActualReplaying, kActualAttached}) {
    if (res.Actual(step.host(), name)) {
      return Outcome::NotYet("actual-" + step.host() + "/" + name + " is 0");
    }
  }
  return Outcome::Done();
}

// Phase 4: forget the local replica's state and the history after N.
Outcome ForgetReplica(Step& step) {
  const ResourceTree res(step.tree(), step.resource());
  const std::string& host = step.host();
  const std::string primary = step.scratch()[kPrimary];
  const auto replay = res.Replay(primary);
  if (res.DesignatedPrimary() != primary || !replay) {
    return Outcome::Fail(
        "the designated primary changed meanwhile (was " + primary +
        "); the local switches are off: retry 'marsadm invalidate " +
        step.resource() + "'");
  }
  step.scratch()[kRestart] = FormatReplayLink(*replay);
  const uint32_t n = replay->log.number;
  SetIfDifferent(step, res.Path("syncstatus-" + host), FormatByteCount(0));
  std::map<uint32_t, std::string> history;  // number -> the primary's value
  for (const VersionEntry& link : res.VersionChain(primary)) {
    history[link.number] = link.value;
  }
  for (const VersionEntry& own : res.VersionChain(host)) {
    const auto it = history.find(own.number);
    if (own.number >= n || (it != history.end() && it->second != own.value)) {
      step.changes().Delete(res.Path(own.file));
    }
  }
  return Outcome::Done();
}

Outcome PurgeLogfiles(Step& step) {
  const ResourceTree res(step.tree(), step.resource());
  for (const std::string& file :
       UnreachableLogfiles(res, step.scratch()[kPrimary]).logfiles) {
    step.changes().Delete(res.Path(file));
  }
  return Outcome::Done();
}

Outcome Restart(Step& step) {
  const ResourceTree res(step.tree(), step.resource());
  const std::string& text = step.scratch()[kRestart];
  tree::ReplayLink replay;
  if (!tree::ParseReplayLink(CoreSlice(text), &replay).ok()) {
    return Outcome::Fail("internal: bad restart point '" + text + "'",
                         ExitCode::kInternalError);
  }
  StageReplayRestart(step, res, step.scratch()[kPrimary], replay);
  return Outcome::Done();
}

}  // namespace

std::vector<Phase> InvalidatePhases() {
  return {
      CheckPhase("check preconditions", CheckInvalidate),
      SwitchPhase("switch sync, fetch, replay and attach off",
                  {{kTodoSync, false},
                   {kTodoConnect, false},
                   {kTodoReplay, false},
                   {kTodoAttach, false}}),
      WaitPhase("wait until sync, fetch, replay and attach stopped",
                StoppedLocally),
      ActPhase("forget the local replica", ForgetReplica),
      ActPhase("purge obsolete logfiles", PurgeLogfiles,
               TriggerCode::kLocalAndPeers),
      ActPhase("restart from the primary's logfile", Restart),
      SwitchPhase(
          "switch attach, fetch and replay on",
          {{kTodoAttach, true}, {kTodoConnect, true}, {kTodoReplay, true}}),
      SwitchPhase("switch sync on", {{kTodoSync, true}}),
  };
}

}  // namespace mars::cli
