#include "operation_support.h"

#include <sys/stat.h>

#include "module_link.h"

namespace mars::cli {
namespace {

struct ConditionName {
  const char* text;
  WaitCondition::Kind kind;
  const char* name;
};

// Upstream spellings (is-attach, is-sync, ...) are accepted as aliases.
constexpr ConditionName kConditions[] = {
    {"is-attached", WaitCondition::Kind::kActual, "is-attached"},
    {"is-attach", WaitCondition::Kind::kActual, "is-attached"},
    {"is-primary", WaitCondition::Kind::kActual, "is-primary"},
    {"is-device", WaitCondition::Kind::kDevice, ""},
    {"is-syncing", WaitCondition::Kind::kActual, "is-syncing"},
    {"is-sync", WaitCondition::Kind::kActual, "is-syncing"},
    {"is-fetching", WaitCondition::Kind::kActual, "is-copying"},
    {"is-fetch", WaitCondition::Kind::kActual, "is-copying"},
    {"is-replaying", WaitCondition::Kind::kActual, "is-replaying"},
    {"is-replay", WaitCondition::Kind::kActual, "is-replaying"},
    {"attach", WaitCondition::Kind::kTodo, kTodoAttach},
    {"primary", WaitCondition::Kind::kDesignated, ""},
};

}  // namespace

void SetIfDifferent(Step& step, const std::string& path, const std::string& value) {
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
      on ? "wait for the module to switch on" : "wait for the module to switch off",
      [name, on](Step& step) {
        const ResourceTree res(step.tree(), step.resource());
        if (res.Actual(step.host(), name) == on) return Outcome::Done();
        return Outcome::NotYet("actual-" + step.host() + "/" + name + " is " +
                               (on ? "1" : "0"));
      },
      trigger);
}

std::optional<Outcome> RequireUnused(const ResourceTree& res, const std::string& host,
                                     bool force) {
  const uint64_t open = res.ActualNumber(host, "open-count").value_or(0);
  if (open == 0 || force) return std::nullopt;
  return Outcome::Fail("the device of this host is in use (actual-" + host +
                       "/open-count " + std::to_string(open) +
                       "); stop its users (umount) first, or use --force");
}

void StageRestartFrom(Step& step, const ResourceTree& res, const std::string& primary) {
  const std::string& host = step.host();
  tree::ReplayLink replay = *res.Replay(primary);
  replay.position = 0;
  replay.dirty_length = 0;
  SetIfDifferent(step, res.Path("syncstatus-" + host), FormatByteCount(0));
  step.changes().SetLink(res.Path("replay-" + host), FormatReplayLink(replay));
  std::string kept;
  const auto chain = res.VersionChain(primary);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (it->number < replay.log.number) {
      kept = FormatVersionLinkName(it->number, host);
      SetIfDifferent(step, res.Path(kept), it->value);
      break;
    }
  }
  for (const VersionEntry& own : res.VersionChain(host)) {
    if (own.file != kept) step.changes().Delete(res.Path(own.file));
  }
}

std::optional<WaitCondition> ParseWaitCondition(const std::string& text) {
  const std::string suffix = "-off";
  std::string base = text;
  bool on = true;
  if (base.size() > suffix.size() &&
      base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0) {
    base.resize(base.size() - suffix.size());
    on = false;
  }
  for (const ConditionName& c : kConditions) {
    if (base == c.text) return WaitCondition{c.kind, c.name, on};
  }
  return std::nullopt;
}

std::string WaitConditionNames() {
  return "is-attached, is-primary, is-device, is-syncing, is-fetching, "
         "is-replaying, attach or primary, optionally with -off";
}

Phase WaitConditionPhase(const WaitCondition& condition) {
  return WaitPhase("wait for the condition", [condition](Step& step) {
    const ResourceTree res(step.tree(), step.resource());
    const std::string& host = step.host();
    bool holds = false;
    std::string what;
    const char* const value = condition.on ? "1" : "0";
    switch (condition.kind) {
      case WaitCondition::Kind::kActual:
        holds = res.Actual(host, condition.name);
        what = "actual-" + host + "/" + condition.name + " is " + value;
        break;
      case WaitCondition::Kind::kTodo:
        holds = res.Todo(host, condition.name).value_or(false);
        what = "todo-" + host + "/" + condition.name + " is " + value;
        break;
      case WaitCondition::Kind::kDesignated:
        holds = res.DesignatedPrimary() == host;
        what = host + (condition.on ? " is" : " is not") + " the designated primary";
        break;
      case WaitCondition::Kind::kDevice: {
        const std::string path = MarsDeviceDir() + "/" +
                                 res.Value("device-" + host).value_or(res.resource());
        struct stat st;
        holds = stat(path.c_str(), &st) == 0;
        what = path + (condition.on ? " exists" : " is gone");
        break;
      }
    }
    if (holds == condition.on) return Outcome::Done();
    return Outcome::NotYet(what);
  });
}

}  // namespace mars::cli
