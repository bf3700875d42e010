#include "view_macros.h"

#include <cmath>

#include "status_text.h"

namespace mars::cli {
namespace {

using Resource = ResourceStatus;

const HostStatus& Local(const Resource& r, const std::string& host) {
  return r.Host(host);
}

std::string Bool(bool value) { return value ? "1" : "0"; }

// Unknown numbers print as -1 (upstream's convention for ages).
std::string Number(const std::optional<uint64_t>& value) {
  return value ? std::to_string(*value) : "-1";
}

std::string WholeSeconds(const std::optional<double>& value) {
  return value ? std::to_string(static_cast<uint64_t>(std::floor(*value)))
               : "-1";
}

const std::vector<ViewMacro>* BuildMacros() {
  return new std::vector<ViewMacro>{
      {"role", "Print the role of this host (None, Secondary, Primary, ...)",
       [](const Resource& r, const std::string& h) -> std::string {
         return RoleName(Local(r, h).role);
       }},
      {"primarynode", "Print the designated primary host, or (none)",
       [](const Resource& r, const std::string&) {
         return PrimaryNodeToken(r);
       }},
      {"is-primary", "Print 1 if the device is up on this host, else 0",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).actual.primary);
       }},
      {"is-consistent", "Print 1 if this host's disk is consistent, else 0",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).consistent);
       }},
      {"is-split-brain", "Print 1 if the members' histories diverge, else 0",
       [](const Resource& r, const std::string&) {
         return Bool(r.split_brain);
       }},
      {"is-alive",
       "Print 1 if the designated primary (else this host) is alive, else 0",
       [](const Resource& r, const std::string& h) {
         const std::string& who = r.designated_primary.value_or(h);
         for (const HostStatus& host : r.hosts) {
           if (host.name == who) return Bool(host.alive);
         }
         return Bool(false);
       }},
      {"is-orphan", "Print 1 if this host cannot replay any more, else 0",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).orphan.value_or(false));
       }},
      {"diskstate", "Print the disk state of this host (UpToDate, ...)",
       [](const Resource& r, const std::string& h) {
         return DiskStateToken(Local(r, h));
       }},
      {"replstate", "Print the replication state of this host (Replaying, ...)",
       [](const Resource& r, const std::string& h) -> std::string {
         return ReplStateName(Local(r, h).repl_state);
       }},
      {"flags", "Print the six flag characters of this host (DCASFR)",
       [](const Resource& r, const std::string& h) {
         return Local(r, h).flags;
       }},
      {"commstate", "Print the communication state (Connected, ...)",
       [](const Resource& r, const std::string&) { return CommStateToken(r); }},
      {"sync-size", "Print the resource size in bytes (-1: unknown)",
       [](const Resource& r, const std::string&) {
         return Number(r.size_bytes);
       }},
      {"sync-pos", "Print the bytes synced so far on this host",
       [](const Resource& r, const std::string& h) {
         return std::to_string(Local(r, h).sync.position_bytes);
       }},
      {"sync-rest", "Print the bytes this host still has to sync",
       [](const Resource& r, const std::string& h) {
         return std::to_string(Local(r, h).sync.rest_bytes);
       }},
      {"fetch-pos", "Print the fetch position in the log history (-1: unknown)",
       [](const Resource& r, const std::string& h) {
         return Number(Local(r, h).fetch.history_position_bytes);
       }},
      {"fetch-rest", "Print the logfile bytes still to fetch (-1: unknown)",
       [](const Resource& r, const std::string& h) {
         return Number(Local(r, h).fetch.rest_bytes);
       }},
      {"fetch-lag", "Print how many seconds fetch is behind (-1: unknown)",
       [](const Resource& r, const std::string& h) {
         return WholeSeconds(Local(r, h).fetch.lag_seconds);
       }},
      {"replay-pos",
       "Print the replay position in the log history (-1: unknown)",
       [](const Resource& r, const std::string& h) {
         return Number(Local(r, h).replay.history_position_bytes);
       }},
      {"replay-rest", "Print the fetched bytes still to replay (-1: unknown)",
       [](const Resource& r, const std::string& h) {
         return Number(Local(r, h).replay.rest_bytes);
       }},
      {"replay-lag", "Print how many seconds replay is behind (-1: unknown)",
       [](const Resource& r, const std::string& h) {
         return WholeSeconds(Local(r, h).replay.lag_seconds);
       }},
      {"is-attach", "Print 1 if the module reports the disk attached, else 0",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).actual.attached);
       }},
      {"is-sync", "Print 1 if the module reports sync running, else 0",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).actual.syncing);
       }},
      {"is-fetch", "Print 1 if the module reports fetch running, else 0",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).actual.fetching);
       }},
      {"is-replay", "Print 1 if the module reports replay running, else 0",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).actual.replaying);
       }},
      {"todo-attach", "Print the attach switch of this host (1 or 0)",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).todo.attach);
       }},
      {"todo-sync", "Print the sync switch of this host (1 or 0)",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).todo.sync);
       }},
      {"todo-fetch", "Print the fetch switch of this host (1 or 0)",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).todo.fetch);
       }},
      {"todo-replay", "Print the replay switch of this host (1 or 0)",
       [](const Resource& r, const std::string& h) {
         return Bool(Local(r, h).todo.replay);
       }},
  };
}

}  // namespace

const std::vector<ViewMacro>& ViewMacros() {
  static const std::vector<ViewMacro>* const kMacros = BuildMacros();
  return *kMacros;
}

const ViewMacro* FindViewMacro(const std::string& name) {
  for (const ViewMacro& macro : ViewMacros()) {
    if (name == macro.name) return &macro;
  }
  return nullptr;
}

}  // namespace mars::cli
