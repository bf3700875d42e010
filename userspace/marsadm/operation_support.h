// Building blocks of the operation commands (commands_operation.cc,
// commands_switch.cc): switch phases, waits for the kernel's actual-*
// indicators, the "device not in use" precondition, and the restart of a
// replica from the primary's logfile (join-resource, invalidate).
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
void SetIfDifferent(Step& step, const std::string& path, const std::string& value);

// An act phase writing this host's todo switches (name, on).
Phase SwitchPhase(const char* headline,
                  std::vector<std::pair<const char*, bool>> switches);

// A wait phase until actual-HOST/NAME is 1 (`on`) or not 1 (`!on`).
Phase WaitActualPhase(const char* name, bool on,
                      TriggerCode trigger = TriggerCode::kLocal);

// Fails unless --force while this host's device is open
// (actual-HOST/open-count > 0).
std::optional<Outcome> RequireUnused(const ResourceTree& res,
                                     const std::string& host, bool force);

// Stages this host's restart from `primary`'s current logfile at position 0:
// syncstatus-HOST = 0, replay-HOST = log-N-P,0,0, HOST's version links
// replaced by a copy of the primary's newest link before N (the shared
// history). REQUIRES: res.Replay(primary).
void StageRestartFrom(Step& step, const ResourceTree& res, const std::string& primary);

// A condition of wait-resource.
struct WaitCondition {
  enum class Kind { kActual, kTodo, kDesignated, kDevice };
  Kind kind;
  std::string name;  // actual-HOST/NAME or todo-HOST/NAME
  bool on = true;
};
std::optional<WaitCondition> ParseWaitCondition(const std::string& text);
std::string WaitConditionNames();
Phase WaitConditionPhase(const WaitCondition& condition);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_OPERATION_SUPPORT_H_
