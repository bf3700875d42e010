// Building blocks of the operation commands (commands_operation.cc,
// commands_switch.cc, primary_handover.cc, invalidate_phases.cc): switch
// phases, waits for the kernel's actual-* indicators, the "device not in
// use" precondition, and the restart of a replica from the primary's logfile
// (join-resource, invalidate).
#ifndef MARS_USERSPACE_MARSADM_OPERATION_SUPPORT_H_
#define MARS_USERSPACE_MARSADM_OPERATION_SUPPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "phases.h"
#include "tree_read.h"

namespace mars::cli {

// Stages `path` -> `value` unless the link already has that value (no
// needless new stamps).
void SetIfDifferent(Step& step, const std::string& path,
                    const std::string& value);

// An act phase writing this host's todo switches (name, on).
Phase SwitchPhase(const char* headline,
                  std::vector<std::pair<const char*, bool>> switches);

// A wait phase until actual-HOST/NAME is 1 (`on`) or not 1 (`!on`).
Phase WaitActualPhase(const char* name, bool on,
                      TriggerCode trigger = TriggerCode::kLocal);

// Fails unless --force while this host's device is open
// (actual-HOST/open-count > 0). The module publishes open-count right after
// a close, but asynchronously: a count > 0 is re-read, with triggers, for up
// to kOpenCountSettleSeconds while the module is loaded before it counts.
inline constexpr int kOpenCountSettleSeconds = 2;
std::optional<Outcome> RequireUnused(const ResourceTree& res,
                                     const std::string& host, bool force,
                                     const ModuleLink& module);

// Stages replay-HOST = `primary_replay` at position 0 (log-N-ORIGIN,0,0)
// and a copy of `primary`'s newest version link numbered below N as
// version-M-HOST (the shared history up to the restart). Returns the name of
// that copy ("" if the primary has no such link).
std::string StageReplayRestart(Step& step, const ResourceTree& res,
                               const std::string& primary,
                               const tree::ReplayLink& primary_replay);

// join-resource: syncstatus-HOST = 0, StageReplayRestart from `primary`'s
// current replay link, and every other version link of HOST deleted.
// REQUIRES: res.Replay(primary).
void StageRestartFrom(Step& step, const ResourceTree& res,
                      const std::string& primary);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_OPERATION_SUPPORT_H_
