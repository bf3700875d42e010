#include "status_states.h"

namespace mars::cli {

const char* RoleName(Role role) {
  static constexpr const char* kNames[kRoleCount] = {
      "None",    "Secondary",      "NotYetPrimary",
      "Primary", "RemainsPrimary", "ForcedPrimary"};
  return kNames[static_cast<int>(role)];
}

const char* DiskStateName(DiskState state) {
  static constexpr const char* kNames[kDiskStateCount] = {
      "DiskError",    "NotJoined", "NotPresent",    "Detaching",    "Detached",
      "DefectiveLog", "Orphan",    "NoAttach",      "InConsistent", "WriteBack",
      "Recovery",     "OutDated",  "EmergencyMode", "UpToDate"};
  return kNames[static_cast<int>(state)];
}

const char* ReplStateName(ReplState state) {
  static constexpr const char* kNames[kReplStateCount] = {
      "ModuleNotLoaded",    "UnResponsive",  "NotJoined",
      "NotStarted",         "EmergencyMode", "Replicating",
      "NotYetPrimary",      "PausedSync",    "Syncing",
      "PausedFetch",        "PausedReplay",  "NoPrimaryDesignated",
      "PrimaryUnreachable", "Orphan",        "Replaying"};
  return kNames[static_cast<int>(state)];
}

const char* CommStateName(CommState state) {
  static constexpr const char* kNames[kCommStateCount] = {"Connected", "Alone",
                                                          "Unreachable"};
  return kNames[static_cast<int>(state)];
}

const char* SeverityName(Severity severity) {
  static constexpr const char* kNames[kSeverityCount] = {"error", "warning",
                                                         "info"};
  return kNames[static_cast<int>(severity)];
}

const char* MessageSourceName(MessageSource source) {
  static constexpr const char* kNames[kMessageSourceCount] = {"module",
                                                              "marsadm"};
  return kNames[static_cast<int>(source)];
}

void DeriveStates(const StateFacts& facts, HostStatus* host) {
  if (!facts.disk_present) {
    host->role = Role::kNone;
  } else if (facts.designated_here) {
    host->role = !host->actual.primary        ? Role::kNotYetPrimary
                 : facts.actual_primaries > 1 ? Role::kForcedPrimary
                                              : Role::kPrimary;
  } else {
    host->role =
        host->actual.primary ? Role::kRemainsPrimary : Role::kSecondary;
  }

  const bool orphan = host->orphan.value_or(false);
  if (host->actual.disk_error) {
    host->disk_state = DiskState::kDiskError;
  } else if (!host->member) {
    host->disk_state = DiskState::kNotJoined;
  } else if (!facts.disk_present) {
    host->disk_state = DiskState::kNotPresent;
  } else if (!host->todo.attach) {
    host->disk_state =
        host->actual.attached ? DiskState::kDetaching : DiskState::kDetached;
  } else if (host->actual.replay_code && *host->actual.replay_code < 0) {
    host->disk_state = DiskState::kDefectiveLog;
  } else if (orphan) {
    host->disk_state = DiskState::kOrphan;
  } else if (!host->actual.attached) {
    host->disk_state = DiskState::kNoAttach;
  } else if (!host->consistent || !facts.work_reached) {
    host->disk_state = !facts.designated_here
                           ? (!host->consistent ? DiskState::kInConsistent
                                                : DiskState::kOutDated)
                       : host->actual.primary ? DiskState::kWriteBack
                                              : DiskState::kRecovery;
  } else if (facts.primary_emergency) {
    host->disk_state = DiskState::kEmergencyMode;
  } else {
    host->disk_state = DiskState::kUpToDate;
  }

  if (!facts.module_loaded) {
    host->repl_state = ReplState::kModuleNotLoaded;
  } else if (!host->alive) {
    host->repl_state = ReplState::kUnResponsive;
  } else if (!host->member) {
    host->repl_state = ReplState::kNotJoined;
  } else if (!host->todo.attach) {
    host->repl_state = ReplState::kNotStarted;
  } else if (facts.designated_here) {
    host->repl_state = host->actual.emergency ? ReplState::kEmergencyMode
                       : host->actual.primary ? ReplState::kReplicating
                                              : ReplState::kNotYetPrimary;
  } else if (host->sync.rest_bytes > 0 && !host->todo.sync) {
    host->repl_state = ReplState::kPausedSync;
  } else if (host->actual.syncing) {
    host->repl_state = ReplState::kSyncing;
  } else if (!host->todo.fetch) {
    host->repl_state = ReplState::kPausedFetch;
  } else if (!host->todo.replay) {
    host->repl_state = ReplState::kPausedReplay;
  } else if (!facts.designated_exists) {
    host->repl_state = ReplState::kNoPrimaryDesignated;
  } else if (!facts.designated_alive) {
    host->repl_state = ReplState::kPrimaryUnreachable;
  } else if (orphan) {
    host->repl_state = ReplState::kOrphan;
  } else {
    host->repl_state = ReplState::kReplaying;
  }

  host->flags.clear();
  host->flags += !facts.disk_present ? '-' : host->actual.primary ? 'D' : 'd';
  host->flags += host->consistent ? 'C' : facts.disk_present ? 'c' : '-';
  host->flags += host->actual.attached ? (host->todo.attach ? 'A' : 'a')
                                       : (host->todo.attach ? 'a' : '-');
  host->flags += host->sync.reached ? 'S' : host->todo.sync ? 's' : '-';
  host->flags += facts.fetch_reached ? 'F' : host->todo.fetch ? 'f' : '-';
  host->flags += facts.replay_reached ? 'R' : host->todo.replay ? 'r' : '-';
}

}  // namespace mars::cli
