#include "primary_handover.h"

#include <sstream>
#include <string>

#include "command_support.h"
#include "operation_support.h"
#include "status_model.h"

namespace mars::cli {
namespace {

// Scratch key: the old primaries, comma-separated ("" = none).
constexpr char kOldPrimaries[] = "old-primaries";

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

// Hosts whose device must go before this host's comes up: the designated
// primary (unless it is `host`) and every other member reporting
// actual-MEMBER/is-primary 1.
std::vector<std::string> OldPrimaries(const ResourceTree& res, const std::string& host) {
  std::vector<std::string> old;
  const auto designated = res.DesignatedPrimary();
  if (designated && *designated != host) old.push_back(*designated);
  for (const std::string& member : res.Members()) {
    if (member != host && member != designated && res.Actual(member, kActualPrimary)) {
      old.push_back(member);
    }
  }
  return old;
}

bool IsAlive(const Step& step, const std::string& host) {
  const auto beat = step.tree().Stat("actual-" + host + "/" + kHeartbeatTime);
  if (!beat || beat->tombstone || beat->type != EntryType::kLink) return false;
  const uint64_t now = LamportNowNs(step.module().LamportClockPath());
  return beat->stamp_ns >= now || now - beat->stamp_ns <= kHandoverAliveSeconds * 1000000000ull;
}

// The old primary `old` can take part in a handover; else why not.
std::optional<std::string> HandoverPartnerProblem(const Step& step, const ResourceTree& res,
                                                  const std::string& old) {
  const std::string failover =
      "; if it is gone, run 'marsadm primary --force " + res.resource() + "' (failover)";
  if (res.tree().ListNames(res.Path("actual-" + old)).empty()) {
    return "the old primary " + old + " does not report its state (no links in " +
           res.Path("actual-" + old) + "/)" + failover;
  }
  if (!IsAlive(step, old)) {
    return "the old primary " + old + " is not alive (no heartbeat actual-" + old +
           "/time within " + std::to_string(kHandoverAliveSeconds) + " s)" + failover;
  }
  return std::nullopt;
}

Outcome CheckPrimary(Step& step) {
  const ResourceTree res(step.tree(), step.resource());
  const std::string& host = step.host();
  const std::string& name = step.resource();
  step.scratch()[kOldPrimaries] = "";
  if (auto failure = RequireMember(res, host)) return *failure;
  if (res.DesignatedPrimary() == host) return Outcome::Done();  // only wait
  if (res.Todo(host, kTodoAttach) != true) {
    return Outcome::Fail("the local disk is not switched on (todo-" + host +
                         "/attach is not 1); run 'marsadm up " + name + "' first");
  }
  if (step.force()) return Outcome::Done();
  for (const char* sw : {kTodoConnect, kTodoReplay}) {
    if (res.Todo(host, sw) != true) {
      return Outcome::Fail(std::string("fetch or replay is switched off here (todo-") +
                           host + "/" + sw + " is not 1); run 'marsadm up " + name +
                           "' first, or use --force");
    }
  }
  const uint64_t size = *res.Size();
  const uint64_t synced = res.ByteCount("syncstatus-" + host).value_or(0);
  if (synced < size) {
    return Outcome::Fail("the local replica is inconsistent (synced " +
                         std::to_string(synced) + " of " + std::to_string(size) +
                         " bytes); wait for the sync to finish, or use --force");
  }
  for (const std::string& member : res.Members()) {
    if (member != host &&
        CompareHistories(res, host, member) == HistoryRelation::kSplitBrain) {
      return Outcome::Fail("split brain between " + host + " and " + member +
                           " (their version links diverge); run 'marsadm invalidate " +
                           name + "' on the host whose data should be discarded, or "
                           "use --force");
    }
  }
  std::string old_list;
  for (const std::string& old : OldPrimaries(res, host)) {
    const uint64_t open = res.ActualNumber(old, kActualOpenCount).value_or(0);
    if (open > 0) {
      const std::string device = res.Value("device-" + old).value_or(name);
      return Outcome::Fail("the device is still in use on the old primary " + old +
                           " (actual-" + old + "/open-count " + std::to_string(open) +
                           "); unmount /dev/mars/" + device + " on " + old +
                           " (stop its users) first, or use --force");
    }
    if (auto problem = HandoverPartnerProblem(step, res, old)) {
      return Outcome::Fail(*problem);
    }
    old_list += (old_list.empty() ? "" : ",") + old;
  }
  step.scratch()[kOldPrimaries] = old_list;
  return Outcome::Done();
}

Outcome LeavePrimaryState(Step& step) {
  const ResourceTree res(step.tree(), step.resource());
  const auto designated = res.DesignatedPrimary();
  if (!step.force() && designated && *designated != step.host()) {
    step.changes().SetLink(res.Path("primary"), FormatPrimary(""));
  }
  return Outcome::Done();
}

Outcome OldPrimariesGone(Step& step) {
  const ResourceTree res(step.tree(), step.resource());
  for (const std::string& old : SplitList(step.scratch()[kOldPrimaries])) {
    if (!res.Actual(old, kActualPrimary)) continue;
    if (auto problem = HandoverPartnerProblem(step, res, old)) {
      return Outcome::Fail(*problem + "; primary is (none) now");
    }
    std::string what = "actual-" + old + "/is-primary is 0";
    const uint64_t open = res.ActualNumber(old, kActualOpenCount).value_or(0);
    if (open > 0) {
      what += " (its device is open " + std::to_string(open) + " times: unmount it on " +
              old + ")";
    }
    return Outcome::NotYet(what);
  }
  return Outcome::Done();
}

Outcome BecomePrimary(Step& step) {
  const ResourceTree res(step.tree(), step.resource());
  const auto designated = res.DesignatedPrimary();
  // With --dry-run phase 2 wrote nothing, so the old primary is still there.
  if (!step.force() && !step.context().dry_run && designated &&
      *designated != step.host()) {
    return Outcome::Fail("the designated primary changed meanwhile to " + *designated +
                         "; check with 'marsadm view " + step.resource() + "' and retry");
  }
  SetIfDifferent(step, res.Path("primary"), FormatPrimary(step.host()));
  return Outcome::Done();
}

}  // namespace

std::vector<Phase> PrimaryPhases() {
  return {CheckPhase("check preconditions", CheckPrimary),
          ActPhase("leave the primary state: designate no primary", LeavePrimaryState,
                   TriggerCode::kLocalAndPeers),
          WaitPhase("wait until the old primary gave up its device", OldPrimariesGone,
                    TriggerCode::kLocalAndPeers),
          ActPhase("designate this host as primary", BecomePrimary,
                   TriggerCode::kLocalAndPeers),
          WaitActualPhase(kActualPrimary, true, TriggerCode::kLocalAndPeers)};
}

}  // namespace mars::cli
