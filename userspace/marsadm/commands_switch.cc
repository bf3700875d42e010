// Switch commands: pause-/resume- sync, fetch and replay, connect and
// disconnect (= resume-/pause-fetch), each with -local (the default) and
// -global variants (docu/marsadm.md, "Switch commands"). They only write
// todo switches (desired state) and do not wait, so they work without the
// module; the module acts on them at its next scan.
#include "command_groups.h"
#include "command_support.h"
#include "operation_support.h"

namespace mars::cli {
namespace {

enum class Scope { kLocal, kGlobal };

template <const char* kSwitch, bool kOn, Scope kScope>
ExitCode RunSwitch(const Invocation& invocation, Context& context) {
  return RunOnResources(
      invocation, context, ListPolicy::kListOrAll, /*needs_module=*/false,
      {CheckPhase("check preconditions",
                  [](Step& step) -> Outcome {
                    const ResourceTree res(step.tree(), step.resource());
                    if (kScope == Scope::kLocal) {
                      if (auto failure = RequireMember(res, step.host())) return *failure;
                    } else if (auto failure = RequireResource(res)) {
                      return *failure;
                    }
                    if (kOn && std::string(kSwitch) == kTodoSync &&
                        !res.DesignatedPrimary()) {
                      return Outcome::Fail("no designated primary to sync from; run "
                                           "'marsadm primary " + step.resource() +
                                           "' on the primary first");
                    }
                    return Outcome::Done();
                  }),
       ActPhase("write the switches",
                [](Step& step) {
                  const ResourceTree res(step.tree(), step.resource());
                  const std::vector<std::string> hosts =
                      kScope == Scope::kLocal ? std::vector<std::string>{step.host()}
                                              : res.Members();
                  for (const std::string& host : hosts) {
                    SetIfDifferent(step, res.TodoPath(host, kSwitch), SwitchValue(kOn));
                  }
                  return Outcome::Done();
                },
                kScope == Scope::kLocal ? TriggerCode::kLocal
                                        : TriggerCode::kLocalAndPeers)});
}

#define MARS_SWITCH_ROWS(name, sw, on, summary, link)                          \
  {name, summary " on this host", "RES", 1, 1,                                 \
   "Writes todo-HOST/" link " = " #on ". RES may be a list or 'all'.\n"        \
   "Does not wait and does not need the module.",                               \
   nullptr, RunSwitch<sw, on == 1, Scope::kLocal>},                            \
      {name "-local", summary " on this host", "RES", 1, 1,                    \
       "Same as '" name "'.", nullptr, RunSwitch<sw, on == 1, Scope::kLocal>}, \
      {name "-global", summary " on every member", "RES", 1, 1,                \
       "Writes todo-MEMBER/" link " = " #on " for every member of RES.",       \
       nullptr, RunSwitch<sw, on == 1, Scope::kGlobal>}

const Command kSwitchCommands[] = {
    MARS_SWITCH_ROWS("pause-sync", kTodoSync, 0, "pause the initial/repair sync", "sync"),
    MARS_SWITCH_ROWS("resume-sync", kTodoSync, 1, "resume the initial/repair sync", "sync"),
    MARS_SWITCH_ROWS("pause-fetch", kTodoConnect, 0, "pause fetching logfiles", "connect"),
    MARS_SWITCH_ROWS("resume-fetch", kTodoConnect, 1, "resume fetching logfiles",
                     "connect"),
    MARS_SWITCH_ROWS("disconnect", kTodoConnect, 0, "pause fetching logfiles", "connect"),
    MARS_SWITCH_ROWS("connect", kTodoConnect, 1, "resume fetching logfiles", "connect"),
    MARS_SWITCH_ROWS("pause-replay", kTodoReplay, 0, "pause replaying logfiles",
                     "allow-replay"),
    MARS_SWITCH_ROWS("resume-replay", kTodoReplay, 1, "resume replaying logfiles",
                     "allow-replay"),
};

#undef MARS_SWITCH_ROWS

}  // namespace

CommandGroup SwitchCommands() {
  return MakeCommandGroup("Switches", kSwitchCommands);
}

}  // namespace mars::cli
