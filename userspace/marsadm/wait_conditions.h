// The conditions of `wait-resource RES CONDITION` (docu/marsadm.md,
// "wait-resource"), as upstream spells them: {is-,}{attach,primary,device,
// sync,fetch,replay}{-off,}. Without "is-" a condition reads the desired
// state (todo switches, the designated primary) that marsadm writes; with
// "is-" it reads what the kernel reports (actual-HOST/* links, the device
// node /dev/mars/DEVNAME).
#ifndef MARS_USERSPACE_MARSADM_WAIT_CONDITIONS_H_
#define MARS_USERSPACE_MARSADM_WAIT_CONDITIONS_H_

#include <optional>
#include <string>

#include "phases.h"
#include "tree_read.h"

namespace mars::cli {

struct WaitCondition {
  enum class Kind {
    kTodo,        // todo-HOST/<name> is 1
    kDesignated,  // the resource's `primary` link names this host
    kDeviceWanted,  // designated primary here and todo-HOST/attach is 1
    kActual,      // actual-HOST/<name> is 1
    kDevice,      // /dev/mars/DEVNAME exists
  };
  Kind kind;
  std::string name;  // the switch or indicator name (kTodo, kActual)
  bool on = true;    // false: the condition with "-off" (the negation)
};

// Parses CONDITION; nullopt for an unknown one. Accepted: the base names
// attach, primary, device, sync, fetch (alias connect), replay, each with
// an optional "is-" prefix (upstream's attached, syncing, fetching, copying,
// replaying work after "is-" too) and an optional "-off" or "-on" suffix.
std::optional<WaitCondition> ParseWaitCondition(const std::string& text);

// For usage errors: the accepted forms in one phrase.
std::string WaitConditionNames();

// Whether `condition` holds for `host` in `res`; *what describes the awaited
// state for messages, e.g. "actual-hostA/is-attached is 1".
bool WaitConditionHolds(const WaitCondition& condition, const ResourceTree& res,
                        const std::string& host, std::string* what);

// A wait phase until the condition holds for this host.
Phase WaitConditionPhase(const WaitCondition& condition);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_WAIT_CONDITIONS_H_
