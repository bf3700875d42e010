// Logfile housekeeping: log-rotate, log-delete, log-delete-all,
// log-purge-all and cron (docu/marsadm.md, "Logfile commands"). Tree-only;
// none needs the module. A logfile is deleted like a link (ChangeSet::Delete
// renames a tombstone link over it), so that peers delete their copies too.
#include <unistd.h>

#include "command_groups.h"
#include "command_support.h"
#include "log_retention.h"

namespace mars::cli {
namespace {

std::optional<Outcome> RequirePrimaryHere(const ResourceTree& res,
                                          const std::string& host) {
  if (auto failure = RequireMember(res, host)) return failure;
  if (res.DesignatedPrimary() == host) return std::nullopt;
  return Outcome::Fail("log-rotate runs on the designated primary (" +
                       res.DesignatedPrimary().value_or("none") + "), not on " + host);
}

// Stages the next logfile if this host writes the newest one and it is not
// empty.
void StageRotate(Step& step, const ResourceTree& res) {
  const auto logs = res.Logfiles();
  if (logs.empty()) return;
  const LogfileEntry& newest = logs.back();
  if (FromSlice(newest.name.host.slice()) != step.host() || newest.size == 0) return;
  if (newest.name.number >= tree::kMaxLogfileNumber) return;
  step.changes().CreateFile(res.Path(FormatLogfileName(newest.name.number + 1, step.host())));
}

void StageDeletions(Step& step, const ResourceTree& res, const LogDeletion& deletion) {
  for (const std::string& file : deletion.logfiles) {
    step.changes().Delete(res.Path(file));  // tombstone renamed over the file
  }
  for (const std::string& link : deletion.version_links) {
    step.changes().Delete(res.Path(link));
  }
}

ExitCode RunLogRotate(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, false,
      {CheckPhase("check preconditions",
                  [](Step& step) -> Outcome {
                    return RequirePrimaryHere(ResourceTree(step.tree(), step.resource()),
                                              step.host())
                        .value_or(Outcome::Done());
                  }),
       ActPhase("create the next logfile", [](Step& step) {
         StageRotate(step, ResourceTree(step.tree(), step.resource()));
         return Outcome::Done();
       })});
}

template <bool kAll>
ExitCode RunLogDelete(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, false,
      {CheckPhase("check preconditions",
                  [](Step& step) -> Outcome {
                    return RequireMember(ResourceTree(step.tree(), step.resource()),
                                         step.host())
                        .value_or(Outcome::Done());
                  }),
       ActPhase("delete replayed logfiles",
                [](Step& step) {
                  const ResourceTree res(step.tree(), step.resource());
                  StageDeletions(step, res, ReplayedLogfiles(res, kAll));
                  return Outcome::Done();
                },
                TriggerCode::kLocalAndPeers)});
}

ExitCode RunLogPurgeAll(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, false,
      {CheckPhase("check preconditions",
                  [](Step& step) -> Outcome {
                    const ResourceTree res(step.tree(), step.resource());
                    if (auto failure = RequireMember(res, step.host())) return *failure;
                    if (!res.DesignatedPrimary()) {
                      return Outcome::Fail("no designated primary whose history to "
                                           "keep; run 'marsadm primary " +
                                           step.resource() + "' first");
                    }
                    return Outcome::Done();
                  }),
       ActPhase("delete logfiles outside the primary's history",
                [](Step& step) {
                  const ResourceTree res(step.tree(), step.resource());
                  StageDeletions(step, res,
                                 UnreachableLogfiles(res, *res.DesignatedPrimary()));
                  return Outcome::Done();
                },
                TriggerCode::kLocalAndPeers)});
}

// Stages the purge of every tombstone that every peer has seen.
void StagePurge(Step& step) {
  const TreeDir& tree = step.tree();
  const uint64_t horizon = TombstoneHorizon(tree, step.host());
  for (const DiskEntry& entry : tree.ListAll()) {
    if (!entry.tombstone || entry.stamp_ns >= horizon) continue;
    const std::string path = entry.path;
    const uint64_t stamp = entry.stamp_ns;
    const TreeDir* const tree_ptr = &tree;
    step.AddFileAction(FileAction{
        "purge " + path + " (tombstone seen by every peer)",
        [tree_ptr, path, stamp]() -> std::optional<std::string> {
          const auto now = tree_ptr->Stat(path);
          // Replaced meanwhile (a newer value or tombstone): keep it.
          if (!now || !now->tombstone || now->stamp_ns != stamp) return std::nullopt;
          if (unlink(tree_ptr->Absolute(path).c_str()) != 0) {
            return "cannot purge " + tree_ptr->Absolute(path);
          }
          // Remove directories that became empty (rmdir refuses others).
          std::string dir = path;
          while (dir.find('/') != std::string::npos) {
            dir.resize(dir.rfind('/'));
            if (rmdir(tree_ptr->Absolute(dir).c_str()) != 0) break;
          }
          return std::nullopt;
        }});
  }
}

ExitCode RunCron(const Invocation& /*invocation*/, Context& context) {
  Plan plan;
  plan.resources = MemberResources(TreeDir(context.root), context.host);
  plan.resources.push_back("");  // the cluster-wide tombstone purge
  plan.phases = {
      ActPhase("rotate logfiles on the primary",
               [](Step& step) {
                 if (step.resource().empty()) return Outcome::Done();
                 const ResourceTree res(step.tree(), step.resource());
                 if (res.DesignatedPrimary() == step.host()) StageRotate(step, res);
                 return Outcome::Done();
               }),
      ActPhase("delete replayed logfiles",
               [](Step& step) {
                 if (step.resource().empty()) return Outcome::Done();
                 const ResourceTree res(step.tree(), step.resource());
                 StageDeletions(step, res, ReplayedLogfiles(res, true));
                 return Outcome::Done();
               },
               TriggerCode::kLocalAndPeers),
      ActPhase("purge tombstones every peer has seen", [](Step& step) {
        if (step.resource().empty()) StagePurge(step);
        return Outcome::Done();
      })};
  return RunPlan(plan, context);
}

const Command kLogCommands[] = {
    {"log-rotate", "start a new logfile on the primary", "RES", 1, 1,
     "Runs on the designated primary. If the newest logfile is this host's and\n"
     "not empty, creates the empty log-(N+1)-HOST; the module switches to it.",
     nullptr, RunLogRotate},
    {"log-delete", "delete the oldest logfile every member has replayed", "RES", 1, 1,
     "A logfile N is deletable when every member's replay-HOST names a logfile\n"
     "after N. Deletes the oldest deletable number and the version links\n"
     "before it (each host keeps its newest version link).",
     nullptr, RunLogDelete<false>},
    {"log-delete-all", "delete every logfile every member has replayed", "RES", 1, 1,
     "As log-delete, for every deletable logfile.", nullptr, RunLogDelete<true>},
    {"log-purge-all", "delete logfiles outside the primary's history (split brain)",
     "RES", 1, 1,
     "Last resort after a split brain: deletes what log-delete-all deletes, plus\n"
     "every logfile and version link that is not part of the designated\n"
     "primary's history (another origin for a number the primary has, or after\n"
     "the primary's current logfile).",
     nullptr, RunLogPurgeAll},
    {"cron", "housekeeping: rotate, delete replayed logfiles, purge tombstones", "", 0, 0,
     "For every resource this host is a member of: log-rotate (on the primary)\n"
     "and log-delete-all. Then purges tombstones older than every peer's\n"
     "heartbeat (actual-PEER/time). Run it every 10 minutes.",
     nullptr, RunCron},
};

}  // namespace

CommandGroup LogCommands() { return MakeCommandGroup("Logfiles", kLogCommands); }

}  // namespace mars::cli
