// Cluster commands: create-cluster, join-cluster, leave-cluster,
// wait-cluster, lowlevel-ls-host-ips, lowlevel-set-host-ip,
// lowlevel-delete-host (docu/marsadm.md, "Cluster commands").
#include <time.h>

#include <boost/program_options/value_semantic.hpp>

#include "command_groups.h"
#include "cluster_secret.h"
#include "command_support.h"
#include "report.h"

namespace mars::cli {
namespace po = boost::program_options;
namespace {

constexpr char kUuid[] = "uuid";
constexpr std::size_t kUuidBytes = 16;

std::string IpPath(const std::string& host) { return "ips/ip-" + host; }
std::string JoinRequestPath(const std::string& host) {
  return "todo-global/join-cluster-" + host;
}

// Entries that may be in an "empty" /mars: ext4's lost+found.
bool IsIgnorableTopLevel(const std::string& path) {
  return path == "lost+found" || path.rfind("lost+found/", 0) == 0;
}

// The IP of this host: --ip, else the resolver's answer for the host name.
std::optional<std::string> OwnIp(const std::string& option, const std::string& host,
                                 std::string* error) {
  if (!option.empty()) return option;
  auto ip = ResolveHost(host);
  if (!ip || ip->rfind("127.", 0) == 0 || *ip == "::1") {
    *error = "cannot determine a non-loopback IP address of host " + host +
             "; pass --ip ADDR";
    return std::nullopt;
  }
  return ip;
}

ExitCode RunCreateCluster(const Invocation& invocation, Context& context) {
  const std::string ip_option = IpOption(invocation);
  return RunOnCluster(
      context, /*needs_module=*/false,
      {CheckPhase("check that /mars is empty",
                  [ip_option](Step& step) -> Outcome {
                    const TreeDir& tree = step.tree();
                    if (auto uuid = tree.ReadLink(kUuid)) {
                      return Outcome::Fail("this host already belongs to cluster " +
                                           *uuid + " (" + kUuid +
                                           " exists); create-cluster runs once, on "
                                           "an empty /mars");
                    }
                    for (const DiskEntry& entry : tree.ListAll()) {
                      if (IsIgnorableTopLevel(entry.path)) continue;
                      return Outcome::Fail("the MARS directory " + tree.root() +
                                           " is not empty (it holds " + entry.path +
                                           "); create-cluster needs an empty /mars");
                    }
                    std::string error;
                    auto ip = OwnIp(ip_option, step.host(), &error);
                    if (!ip) return Outcome::Fail(error);
                    step.scratch()["ip"] = *ip;
                    return Outcome::Done();
                  }),
       ActPhase("create the cluster", [](Step& step) {
         step.AddFileAction(WriteSecret(step.tree()));
         step.changes().SetLink(kUuid, RandomHex(kUuidBytes));
         step.changes().SetLink(IpPath(step.host()), step.scratch()["ip"]);
         return Outcome::Done();
       })});
}

ExitCode RunJoinCluster(const Invocation& invocation, Context& context) {
  const std::string peer = invocation.args[0];
  if (std::string problem = HostNameProblem(peer); !problem.empty()) {
    return ReportUsageError(context.err, problem, &invocation.command);
  }
  std::string peer_ip = invocation.args.size() > 1 ? invocation.args[1] : "";
  if (!peer_ip.empty() && !IsIpAddress(peer_ip)) {
    return ReportUsageError(context.err,
                            "'" + peer_ip + "' is not a numeric IPv4 or IPv6 address",
                            &invocation.command);
  }
  const std::string ip_option = IpOption(invocation);
  return RunOnCluster(
      context, /*needs_module=*/true,
      {CheckPhase("check preconditions",
                  [=](Step& step) -> Outcome {
                    const TreeDir& tree = step.tree();
                    if (peer == step.host()) {
                      return Outcome::Fail("cannot join a cluster through this host "
                                           "itself; name another member as PEER");
                    }
                    // An earlier join-cluster through PEER that gave up
                    // (e.g. the secret was wrong) completes by itself once
                    // the module connects; running it again finishes it.
                    const auto pending = tree.ReadLink(JoinRequestPath(step.host()));
                    const bool completing = pending && *pending == peer;
                    if (auto uuid = tree.ReadLink(kUuid); uuid && !completing) {
                      return Outcome::Fail("this host already belongs to cluster " +
                                           *uuid + " (" + kUuid +
                                           " exists); joining twice is refused");
                    }
                    if (!completing && !AllResourceNames(tree).empty()) {
                      return Outcome::Fail("/mars holds resources but no uuid; clean "
                                           "up " + tree.root() + " before joining");
                    }
                    if (auto problem = SecretProblem(tree)) {
                      return Outcome::Fail(
                          "the cluster secret " + tree.Absolute(kSecretFile) + " " +
                          *problem + "; copy it from " + peer + " first (scp " +
                          peer + ":/mars/secret " + tree.Absolute(kSecretFile) +
                          "; chmod 600)");
                    }
                    std::string error;
                    auto ip = OwnIp(ip_option, step.host(), &error);
                    if (!ip) return Outcome::Fail(error);
                    std::string resolved = peer_ip;
                    if (resolved.empty()) {
                      auto found = ResolveHost(peer);
                      if (!found) {
                        return Outcome::Fail("cannot resolve the address of " + peer +
                                             "; pass it as PEER_IP");
                      }
                      resolved = *found;
                    }
                    step.scratch()["ip"] = *ip;
                    step.scratch()["peer-ip"] = resolved;
                    return Outcome::Done();
                  }),
       ActPhase("request the join",
                [peer](Step& step) {
                  step.changes().SetLink(IpPath(step.host()), step.scratch()["ip"]);
                  step.changes().SetLink(IpPath(peer), step.scratch()["peer-ip"]);
                  step.changes().SetLink(JoinRequestPath(step.host()), peer);
                  return Outcome::Done();
                }),
       WaitPhase("wait for the cluster tree",
                 [peer](Step& step) {
                   if (step.tree().ReadLink(kUuid)) return Outcome::Done();
                   return Outcome::NotYet("the module has pulled the tree from " +
                                          peer + " (" + kUuid + " appears)");
                 }),
       ActPhase("remove the join request", [](Step& step) {
         step.changes().Delete(JoinRequestPath(step.host()));
         return Outcome::Done();
       })});
}

ExitCode RunLeaveCluster(const Invocation& /*invocation*/, Context& context) {
  return RunOnCluster(
      context, /*needs_module=*/false,
      {CheckPhase("check preconditions",
                  [](Step& step) -> Outcome {
                    if (!step.tree().ReadLink(IpPath(step.host()))) {
                      return Outcome::Fail("host " + step.host() +
                                           " is not in the cluster (no " +
                                           IpPath(step.host()) + ")");
                    }
                    const auto member = MemberResources(step.tree(), step.host());
                    if (!member.empty() && !step.force()) {
                      std::string list;
                      for (const auto& r : member) list += (list.empty() ? "" : ",") + r;
                      return Outcome::Fail("host " + step.host() +
                                           " is still a member of " + list +
                                           "; run 'marsadm leave-resource " + list +
                                           "' first, or use --force");
                    }
                    return Outcome::Done();
                  }),
       ActPhase("leave the cluster",
                [](Step& step) {
                  step.changes().Delete(IpPath(step.host()));
                  return Outcome::Done();
                },
                TriggerCode::kLocalAndPeers)});
}

uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

ExitCode RunWaitCluster(const Invocation& invocation, Context& context) {
  const std::string res = invocation.args.empty() ? "" : invocation.args[0];
  if (!res.empty()) {
    if (std::string problem = ResourceNameProblem(res); !problem.empty()) {
      return ReportUsageError(context.err, problem, &invocation.command);
    }
  }
  const uint64_t start = NowNs();
  auto peers = [res](const Step& step) {
    std::vector<std::string> hosts = res.empty()
                                         ? ClusterHosts(step.tree())
                                         : ResourceTree(step.tree(), res).Members();
    std::vector<std::string> others;
    for (auto& h : hosts) {
      if (h != step.host()) others.push_back(h);
    }
    return others;
  };
  return RunOnCluster(
      context, /*needs_module=*/true,
      {CheckPhase("check the cluster",
                  [res](Step& step) -> Outcome {
                    if (!step.tree().ReadLink(kUuid)) {
                      return Outcome::Fail("this host belongs to no cluster (no " +
                                           std::string(kUuid) +
                                           "); run create-cluster or join-cluster");
                    }
                    if (!res.empty()) {
                      return RequireResource(ResourceTree(step.tree(), res))
                          .value_or(Outcome::Done());
                    }
                    return Outcome::Done();
                  }),
       WaitPhase("wait for every peer's heartbeat",
                 [start, peers](Step& step) {
                   std::string missing;
                   for (const std::string& peer : peers(step)) {
                     const auto beat = step.tree().Stat("actual-" + peer + "/time");
                     if (!beat || beat->tombstone || beat->stamp_ns <= start) {
                       missing += (missing.empty() ? "" : ",") + peer;
                     }
                   }
                   if (missing.empty()) return Outcome::Done();
                   return Outcome::NotYet("peers " + missing +
                                          " report a heartbeat (actual-PEER/time) "
                                          "newer than the start of wait-cluster");
                 },
                 TriggerCode::kLocalAndPeers)});
}

ExitCode RunLsHostIps(const Invocation& /*invocation*/, Context& context) {
  const TreeDir tree(context.root);
  if (!tree.RootIsDirectory()) {
    ReportError(context.err, "the MARS directory " + context.root +
                                 " does not exist; mount /mars or pass --root DIR");
    return ExitCode::kPreconditionFailed;
  }
  for (const std::string& host : ClusterHosts(tree)) {
    context.out << host << ' ' << tree.ReadLink(IpPath(host)).value_or("") << '\n';
  }
  return ExitCode::kOk;
}

ExitCode RunSetHostIp(const Invocation& invocation, Context& context) {
  const std::string host = invocation.args[0];
  const std::string ip = invocation.args[1];
  if (std::string problem = HostNameProblem(host); !problem.empty()) {
    return ReportUsageError(context.err, problem, &invocation.command);
  }
  if (!IsIpAddress(ip)) {
    return ReportUsageError(context.err,
                            "'" + ip + "' is not a numeric IPv4 or IPv6 address",
                            &invocation.command);
  }
  return RunOnCluster(context, false,
                      {ActPhase("set the address", [host, ip](Step& step) {
                        step.changes().SetLink(IpPath(host), ip);
                        return Outcome::Done();
                      })});
}

ExitCode RunDeleteHost(const Invocation& invocation, Context& context) {
  const std::string host = invocation.args[0];
  if (std::string problem = HostNameProblem(host); !problem.empty()) {
    return ReportUsageError(context.err, problem, &invocation.command);
  }
  return RunOnCluster(
      context, false,
      {CheckPhase("check preconditions",
                  [host](Step& step) -> Outcome {
                    if (!step.tree().ReadLink(IpPath(host))) {
                      return Outcome::Fail("host " + host + " is not in the cluster (no " +
                                           IpPath(host) + "); see "
                                           "'marsadm lowlevel-ls-host-ips'");
                    }
                    const auto member = MemberResources(step.tree(), host);
                    if (!member.empty() && !step.force()) {
                      return Outcome::Fail("host " + host + " is still a member of " +
                                           member.front() +
                                           "; remove it with 'marsadm --host " + host +
                                           " --force leave-resource' first, or use --force");
                    }
                    return Outcome::Done();
                  }),
       ActPhase("delete the host", [host](Step& step) {
         step.changes().Delete(IpPath(host));
         return Outcome::Done();
       })});
}

void AddIpOption(po::options_description& options) {
  options.add_options()("ip", po::value<IpAddressValue>()->value_name("ADDR"),
                        "this host's IPv4 or IPv6 address (default: resolve "
                        "the host name)");
}

const Command kClusterCommands[] = {
    {"create-cluster", "create a new cluster with this host as its first member", "",
     0, 0,
     "Needs an empty MARS directory (ext4's lost+found is allowed).\n"
     "Writes uuid (128 random bits as hex), ips/ip-HOST -> ADDR and the\n"
     "cluster secret file 'secret' (32 random bytes as hex, mode 0600) that\n"
     "peers use to authenticate each other. Copy the secret to every host\n"
     "before it runs join-cluster. Does not need the module.",
     AddIpOption, RunCreateCluster},
    {"join-cluster", "join the cluster that PEER belongs to", "PEER [PEER_IP]", 1, 2,
     "Needs the module, the cluster secret copied from PEER to /mars/secret,\n"
     "and no uuid yet (joining twice is refused; running it again after an\n"
     "earlier join-cluster through PEER gave up finishes that join). Writes ips/ip-HOST,\n"
     "ips/ip-PEER and the request todo-global/join-cluster-HOST -> PEER, waits\n"
     "until the module has pulled the tree from PEER (uuid appears), then\n"
     "removes the request. PEER_IP defaults to the resolver's answer.",
     AddIpOption, RunJoinCluster},
    {"leave-cluster", "remove this host from the cluster's host list", "", 0, 0,
     "Refuses while this host is a member of any resource (leave-resource\n"
     "first) unless --force. Deletes ips/ip-HOST.",
     nullptr, RunLeaveCluster},
    {"wait-cluster", "wait until every peer has reported a fresh heartbeat", "[RES]",
     0, 1,
     "Waits until every peer in ips/ (or every other member of RES) has an\n"
     "actual-PEER/time entry stamped after the command started, triggering\n"
     "the module (code 2: also the peers) between polls. Needs the module.\n"
     "Exit 3 after --timeout.",
     nullptr, RunWaitCluster},
    {"lowlevel-ls-host-ips", "list the hosts of the cluster and their addresses", "",
     0, 0, "Prints 'HOST ADDRESS' per line, from ips/ip-HOST.", nullptr, RunLsHostIps},
    {"lowlevel-set-host-ip", "set the address of a host (expert)", "HOST IP", 2, 2,
     "Writes ips/ip-HOST -> IP. IP must be a numeric IPv4 or IPv6 address.",
     nullptr, RunSetHostIp},
    {"lowlevel-delete-host", "remove a host from the cluster's host list (expert)",
     "HOST", 1, 1,
     "Deletes ips/ip-HOST. Refuses while HOST is a member of a resource\n"
     "unless --force.",
     nullptr, RunDeleteHost},
};

}  // namespace

CommandGroup ClusterCommands() {
  return MakeCommandGroup("Cluster", kClusterCommands);
}

}  // namespace mars::cli
