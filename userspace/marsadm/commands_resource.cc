// Resource lifecycle commands: create-resource, join-resource,
// leave-resource, delete-resource, resize (docu/marsadm.md, "Resource
// commands"). All of them only change the tree; only resize needs the module
// (it waits until the device has the new size).
#include <algorithm>

#include "command_groups.h"
#include "command_support.h"
#include "core/tree/values.h"
#include "core/tree/version_link.h"
#include "operation_support.h"
#include "report.h"
#include "status_model.h"

namespace mars::cli {
namespace {

// Optional positional arguments after RES DEV, validated in Run*().
struct DeviceArgs {
  std::string device;
  std::string devname;           // "" = the resource name
  std::optional<uint64_t> size;  // create-resource only
};

// Validates DEVNAME and SIZE; reports a usage error and returns false.
bool ParseDeviceArgs(const Invocation& invocation, Context& context,
                     DeviceArgs* args) {
  args->device = invocation.args[1];
  // The default DEVNAME is RES, which RunOnResources() validates.
  args->devname =
      invocation.args.size() > 2 ? invocation.args[2] : invocation.args[0];
  if (invocation.args.size() > 2) {
    if (std::string problem = ResourceNameProblem(args->devname);
        !problem.empty()) {
      ReportUsageError(context.err, "device name: " + problem,
                       &invocation.command);
      return false;
    }
  }
  if (invocation.args.size() > 3) {
    const std::string& text = invocation.args[3];
    args->size = ParseSize(text);
    if (!args->size) {
      ReportUsageError(context.err,
                       "size '" + text +
                           "' is not a number of bytes with an "
                           "optional suffix k, M, G or T",
                       &invocation.command);
      return false;
    }
    if (*args->size % tree::kResourceSizeUnit != 0 ||
        *args->size <= kMinResourceSize) {
      ReportUsageError(context.err,
                       "size " + HumanBytes(*args->size) +
                           " must be a multiple of "
                           "4096 bytes and larger than 64 KiB",
                       &invocation.command);
      return false;
    }
  }
  return true;
}

// Preconditions on DEV and DEVNAME shared by create- and join-resource.
// Stores the device size in scratch "device-size".
std::optional<Outcome> CheckDevice(Step& step, const ResourceTree& res,
                                   const DeviceArgs& args) {
  std::string error;
  auto size = DeviceSize(args.device, &error);
  if (!size) return Outcome::Fail(error);
  for (const std::string& other : AllResourceNames(step.tree())) {
    if (other == res.resource()) continue;
    const auto data =
        step.tree().ReadLink("resource-" + other + "/data-" + step.host());
    if (data && *data == args.device) {
      return Outcome::Fail("device " + args.device +
                           " is already used by resource " + other +
                           " on this host");
    }
  }
  const auto names =
      ResourceTree::DeviceNamesOf(step.tree(), step.host(), res.resource());
  if (std::find(names.begin(), names.end(), args.devname) != names.end()) {
    return Outcome::Fail("device name " + args.devname +
                         " is already used by another resource on this host; "
                         "pass another DEVNAME");
  }
  step.scratch()["device-size"] = std::to_string(*size);
  return std::nullopt;
}

void StageMemberLinks(Step& step, const ResourceTree& res,
                      const DeviceArgs& args) {
  const std::string& host = step.host();
  ChangeSet& changes = step.changes();
  changes.SetLink(res.Path("data-" + host), args.device);
  changes.SetLink(res.Path("device-" + host), args.devname);
  for (const char* name : {kTodoAttach, kTodoConnect, kTodoSync, kTodoReplay}) {
    changes.SetLink(res.TodoPath(host, name), SwitchValue(true));
  }
}

ExitCode RunCreateResource(const Invocation& invocation, Context& context) {
  DeviceArgs args;
  if (!ParseDeviceArgs(invocation, context, &args))
    return ExitCode::kUsageError;
  return RunOnResources(
      invocation, context, ListPolicy::kSingle, /*needs_module=*/false,
      {CheckPhase(
           "check preconditions",
           [args](Step& step) -> Outcome {
             const ResourceTree res(step.tree(), step.resource());
             if (!step.tree().ReadLink("uuid")) {
               return Outcome::Fail(
                   "this host belongs to no cluster (no uuid); "
                   "run 'marsadm create-cluster' first");
             }
             if (res.Exists() || res.HasLiveEntry()) {
               return Outcome::Fail(
                   "the resource already exists; choose another "
                   "name");
             }
             if (res.HasAnyEntry()) {
               return Outcome::Fail(
                   "the resource was deleted but its tombstones are not purged "
                   "yet; run "
                   "'marsadm cron' once every peer has seen the deletion");
             }
             if (auto failure = CheckDevice(step, res, args)) return *failure;
             const uint64_t device = std::stoull(step.scratch()["device-size"]);
             const uint64_t size = args.size.value_or(
                 device / tree::kResourceSizeUnit * tree::kResourceSizeUnit);
             if (size > device) {
               return Outcome::Fail("size " + HumanBytes(size) +
                                    " is larger than device " + args.device +
                                    " (" + HumanBytes(device) + ")");
             }
             if (size <= kMinResourceSize) {
               return Outcome::Fail("device " + args.device +
                                    " is too small (" + HumanBytes(device) +
                                    "); a resource needs more than 64 KiB");
             }
             step.scratch()["size"] = std::to_string(size);
             return Outcome::Done();
           }),
       ActPhase("create the resource", [args](Step& step) {
         const ResourceTree res(step.tree(), step.resource());
         const std::string& host = step.host();
         const uint64_t size = std::stoull(step.scratch()["size"]);
         ChangeSet& changes = step.changes();
         tree::ReplayLink replay;
         replay.log.number = tree::kMinLogfileNumber;
         (void)replay.log.host.Assign(CoreSlice(host));
         changes.SetLink(res.Path("size"), FormatResourceSize(size));
         changes.SetLink(res.Path("primary"), FormatPrimary(host));
         StageMemberLinks(step, res, args);
         changes.SetLink(res.Path("syncstatus-" + host), FormatByteCount(size));
         changes.CreateFile(res.Path(FormatLogfileName(1, host)));
         // No version link yet: a version link declares a logfile's final
         // length, and the module writes the first when logfile 1 is done.
         changes.SetLink(res.Path("replay-" + host), FormatReplayLink(replay));
         return Outcome::Done();
       })});
}

ExitCode RunJoinResource(const Invocation& invocation, Context& context) {
  DeviceArgs args;
  if (!ParseDeviceArgs(invocation, context, &args))
    return ExitCode::kUsageError;
  return RunOnResources(
      invocation, context, ListPolicy::kSingle, /*needs_module=*/false,
      {CheckPhase("check preconditions",
                  [args](Step& step) -> Outcome {
                    const ResourceTree res(step.tree(), step.resource());
                    if (auto failure = RequireResource(res)) return *failure;
                    if (res.IsMember(step.host())) {
                      return Outcome::Fail("host " + step.host() +
                                           " is already a member (data-" +
                                           step.host() + " exists)");
                    }
                    const auto primary = res.DesignatedPrimary();
                    if (!primary) {
                      return Outcome::Fail(
                          "no designated primary; run 'marsadm primary " +
                          step.resource() +
                          "' on the host that has "
                          "the data first");
                    }
                    const auto replay = res.Replay(*primary);
                    if (!replay) {
                      return Outcome::Fail(
                          "the primary " + *primary + " has no valid replay-" +
                          *primary +
                          " link yet; wait with 'marsadm wait-cluster'");
                    }
                    if (auto failure = CheckDevice(step, res, args))
                      return *failure;
                    const uint64_t device =
                        std::stoull(step.scratch()["device-size"]);
                    if (device < *res.Size()) {
                      return Outcome::Fail("device " + args.device + " (" +
                                           HumanBytes(device) +
                                           ") is smaller than the resource (" +
                                           HumanBytes(*res.Size()) + ")");
                    }
                    if (device > *res.Size() && step.context().verbose) {
                      step.context().out << "note: device " << args.device
                                         << " is larger than the resource\n";
                    }
                    step.scratch()["primary"] = *primary;
                    return Outcome::Done();
                  }),
       ActPhase("join the resource", [args](Step& step) {
         const ResourceTree res(step.tree(), step.resource());
         StageMemberLinks(step, res, args);
         StageRestartFrom(step, res, step.scratch()["primary"]);
         return Outcome::Done();
       })});
}

ExitCode RunLeaveResource(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, /*needs_module=*/false,
      {CheckPhase("check preconditions",
                  [](Step& step) -> Outcome {
                    const ResourceTree res(step.tree(), step.resource());
                    if (auto failure = RequireMember(res, step.host()))
                      return *failure;
                    if (step.force()) return Outcome::Done();
                    if (res.DesignatedPrimary() == step.host()) {
                      return Outcome::Fail(
                          "host " + step.host() +
                          " is the designated primary; hand over with "
                          "'marsadm primary " +
                          step.resource() +
                          "' on another member first, or use --force");
                    }
                    if (res.Actual(step.host(), "is-attached")) {
                      return Outcome::Fail(
                          "the local disk is still attached; run "
                          "'marsadm down " +
                          step.resource() + "' first, or use --force");
                    }
                    return Outcome::Done();
                  }),
       ActPhase("delete this host's links", [](Step& step) {
         const ResourceTree res(step.tree(), step.resource());
         const std::string& host = step.host();
         ChangeSet& changes = step.changes();
         for (const char* prefix :
              {"data-", "device-", "replay-", "syncstatus-", "syncpos-",
               "syncfrom-", "actsize-", "verifystatus-"}) {
           if (res.Value(prefix + host))
             changes.Delete(res.Path(prefix + host));
         }
         changes.Delete(res.Path("todo-" + host));
         changes.Delete(res.Path("actual-" + host));
         for (const VersionEntry& link : res.VersionChain(host)) {
           changes.Delete(res.Path(link.file));
         }
         if (res.DesignatedPrimary() == host) {
           changes.SetLink(res.Path("primary"), FormatPrimary(""));
         }
         return Outcome::Done();
       })});
}

ExitCode RunDeleteResource(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, /*needs_module=*/false,
      {CheckPhase("check preconditions",
                  [](Step& step) -> Outcome {
                    const ResourceTree res(step.tree(), step.resource());
                    if (auto failure = RequireResource(res)) return *failure;
                    if (step.force()) return Outcome::Done();
                    std::string others;
                    for (const std::string& member : res.Members()) {
                      if (member != step.host())
                        others += (others.empty() ? "" : ",") + member;
                    }
                    if (!others.empty()) {
                      return Outcome::Fail("other members remain (" + others +
                                           "); run 'marsadm leave-resource " +
                                           step.resource() +
                                           "' there first, or use --force");
                    }
                    if (res.Actual(step.host(), "is-attached")) {
                      return Outcome::Fail(
                          "the local disk is still attached; run "
                          "'marsadm down " +
                          step.resource() + "' first, or use --force");
                    }
                    return Outcome::Done();
                  }),
       ActPhase(
           "delete the resource",
           [](Step& step) {
             const ResourceTree res(step.tree(), step.resource());
             // Every link and logfile below the directory.
             step.changes().Delete(res.Dir());
             return Outcome::Done();
           },
           TriggerCode::kLocalAndPeers)});
}

ExitCode RunResize(const Invocation& invocation, Context& context) {
  std::optional<uint64_t> wanted;
  if (invocation.args.size() > 1) {
    wanted = ParseSize(invocation.args[1]);
    if (!wanted || *wanted % tree::kResourceSizeUnit != 0) {
      return ReportUsageError(
          context.err,
          "size '" + invocation.args[1] +
              "' is not a multiple of 4096 bytes with an optional "
              "suffix k, M, G or T",
          &invocation.command);
    }
  }
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, /*needs_module=*/true,
      {CheckPhase(
           "check preconditions",
           [wanted](Step& step) -> Outcome {
             const ResourceTree res(step.tree(), step.resource());
             const std::string& host = step.host();
             if (auto failure = RequireMember(res, host)) return *failure;
             const auto primary = res.DesignatedPrimary();
             if (primary != host) {
               return Outcome::Fail("resize runs on the designated primary (" +
                                    primary.value_or("none") + "), not on " +
                                    host);
             }
             if (!res.Actual(host, kActualPrimary)) {
               return Outcome::Fail(
                   "the device is not up here (actual-" + host +
                   "/is-primary is not 1); wait until 'marsadm "
                   "primary " +
                   step.resource() + "' finished");
             }
             std::string error;
             auto local = DeviceSize(*res.Value("data-" + host), &error);
             if (!local) return Outcome::Fail(error);
             uint64_t limit = *local;
             std::string limiter = host;
             for (const std::string& member : res.Members()) {
               if (member == host) continue;
               const auto act = res.ActSize(member);
               if (!act) {
                 if (wanted) continue;
                 return Outcome::Fail("the device size of member " + member +
                                      " is unknown (no actsize-" + member +
                                      "); give SIZE explicitly");
               }
               if (*act < limit) limit = *act, limiter = member;
             }
             const uint64_t size = wanted.value_or(
                 limit / tree::kResourceSizeUnit * tree::kResourceSizeUnit);
             const uint64_t old = *res.Size();
             if (size > limit) {
               return Outcome::Fail("size " + HumanBytes(size) +
                                    " exceeds the device of " + limiter + " (" +
                                    HumanBytes(limit) + ")");
             }
             if (size < old) {
               return Outcome::Fail(
                   "shrinking is not supported (current size " +
                   HumanBytes(old) + ")");
             }
             step.scratch()["size"] = std::to_string(size);
             return Outcome::Done();
           }),
       ActPhase(
           "set the new size",
           [](Step& step) {
             const ResourceTree res(step.tree(), step.resource());
             const uint64_t size = std::stoull(step.scratch()["size"]);
             const uint64_t old = *res.Size();
             if (size == old) return Outcome::Done();
             step.scratch()["grown"] = "1";
             step.changes().SetLink(res.Path("size"), FormatResourceSize(size));
             const std::string status = "syncstatus-" + step.host();
             if (res.ByteCount(status) == old) {
               step.changes().SetLink(res.Path(status), FormatByteCount(size));
             }
             return Outcome::Done();
           },
           TriggerCode::kLocalAndPeers),
       WaitPhase("wait until the device has the new size", [](Step& step) {
         if (step.scratch()["grown"] != "1") return Outcome::Done();
         const ResourceTree res(step.tree(), step.resource());
         const std::string size = step.scratch()["size"];
         const auto now = res.ActualNumber(step.host(), kActualDeviceSize);
         if (now && std::to_string(*now) == size) return Outcome::Done();
         return Outcome::NotYet(
             "actual-" + step.host() + "/" + kActualDeviceSize + " is " + size +
             " (now " + (now ? std::to_string(*now) : std::string("absent")) +
             ")");
       })});
}

const Command kResourceCommands[] = {
    {"create-resource", "create a resource with this host as its primary",
     "RES DEV [DEVNAME] [SIZE]", 2, 4,
     "DEV is the absolute path of the backing block device (a regular file\n"
     "works too, e.g. for tests). DEVNAME (default RES) names "
     "/dev/mars/DEVNAME.\n"
     "SIZE (bytes, suffix k/M/G/T = 2^10..2^40) defaults to the device size\n"
     "rounded down to 4096 bytes; it must be > 64 KiB, a multiple of 4096 and\n"
     "at most the device size. Refuses an existing resource name, and a\n"
     "deleted one until 'marsadm cron' purged its tombstones.",
     nullptr, RunCreateResource},
    {"join-resource", "make this host a secondary member of a resource",
     "RES DEV [DEVNAME]", 2, 3,
     "Needs a designated primary and a device of at least the resource size.\n"
     "Starts from the primary's current logfile; a full sync follows.",
     nullptr, RunJoinResource},
    {"leave-resource", "remove this host from a resource", "RES", 1, 1,
     "Refuses on the designated primary and while the disk is attached\n"
     "(actual-HOST/is-attached) unless --force. Deletes this host's links.\n"
     "RES may be a comma-separated list or 'all'.",
     nullptr, RunLeaveResource},
    {"delete-resource", "delete a resource from the cluster", "RES", 1, 1,
     "Refuses while other hosts are members or the local disk is attached\n"
     "unless --force. Replaces every entry and logfile with a tombstone.",
     nullptr, RunDeleteResource},
    {"resize", "grow a resource", "RES [SIZE]", 1, 2,
     "Runs on the designated primary with its device up "
     "(actual-HOST/is-primary\n"
     "= 1); needs the module. SIZE defaults to the smallest device of all\n"
     "members (actsize-HOST, this host's device); shrinking is refused. "
     "Writes\n"
     "size and waits until actual-HOST/device-size reports SIZE.",
     nullptr, RunResize},
};

}  // namespace

CommandGroup ResourceCommands() {
  return MakeCommandGroup("Resources", kResourceCommands);
}

}  // namespace mars::cli
