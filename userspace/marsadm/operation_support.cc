#include "operation_support.h"

#include "module_link.h"

namespace mars::cli {

void SetIfDifferent(Step& step, const std::string& path,
                    const std::string& value) {
  if (step.tree().ReadLink(path) != value) step.changes().SetLink(path, value);
}

Phase SwitchPhase(const char* headline,
                  std::vector<std::pair<const char*, bool>> switches) {
  return ActPhase(headline, [switches](Step& step) {
    const ResourceTree res(step.tree(), step.resource());
    for (const auto& [name, on] : switches) {
      SetIfDifferent(step, res.TodoPath(step.host(), name), SwitchValue(on));
    }
    return Outcome::Done();
  });
}

Phase WaitActualPhase(const char* name, bool on, TriggerCode trigger) {
  return WaitPhase(
      on ? "wait for the module to switch on"
         : "wait for the module to switch off",
      [name, on](Step& step) {
        const ResourceTree res(step.tree(), step.resource());
        if (res.Actual(step.host(), name) == on) return Outcome::Done();
        // Switching off: the module refuses while the device is open
        // (docu/module-state.md); waiting on would only time out.
        const auto refused = step.tree().ReadLink(
            res.ActualPath(step.host(), "msg-wrn-device-open"));
        if (!on && refused) {
          return Outcome::Fail(
              "the module keeps the device up: " + *refused +
              "; it switches off once the device is closed ('marsadm "
              "wait-umount " +
              step.resource() + "')");
        }
        return Outcome::NotYet("actual-" + step.host() + "/" + name + " is " +
                               (on ? "1" : "0"));
      },
      trigger);
}

std::optional<Outcome> RequireUnused(const ResourceTree& res,
                                     const std::string& host, bool force,
                                     const ModuleLink& module) {
  if (force) return std::nullopt;
  uint64_t open = 0;
  const auto closed = [&] {
    open = res.ActualNumber(host, "open-count").value_or(0);
    return open == 0;
  };
  if (closed()) return std::nullopt;
  if (module.Loaded() &&
      Poll(closed,
           PollLimits{kOpenCountSettleSeconds, std::chrono::milliseconds(50)},
           module, TriggerCode::kLocal)) {
    return std::nullopt;
  }
  return Outcome::Fail("the device of this host is in use (actual-" + host +
                       "/open-count " + std::to_string(open) +
                       "); stop its users (umount) first, or use --force");
}

std::string StageReplayRestart(Step& step, const ResourceTree& res,
                               const std::string& primary,
                               const tree::ReplayLink& primary_replay) {
  const std::string& host = step.host();
  tree::ReplayLink replay = primary_replay;
  replay.position = 0;
  replay.dirty_length = 0;
  SetIfDifferent(step, res.Path("replay-" + host), FormatReplayLink(replay));
  const auto chain = res.VersionChain(primary);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (it->number < replay.log.number) {
      const std::string copy = FormatVersionLinkName(it->number, host);
      SetIfDifferent(step, res.Path(copy), it->value);
      return copy;
    }
  }
  return "";
}

void StageRestartFrom(Step& step, const ResourceTree& res,
                      const std::string& primary) {
  const std::string& host = step.host();
  SetIfDifferent(step, res.Path("syncstatus-" + host), FormatByteCount(0));
  const std::string kept =
      StageReplayRestart(step, res, primary, *res.Replay(primary));
  for (const VersionEntry& own : res.VersionChain(host)) {
    if (own.file != kept) step.changes().Delete(res.Path(own.file));
  }
}

}  // namespace mars::cli
