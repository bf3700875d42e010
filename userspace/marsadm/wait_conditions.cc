#include "wait_conditions.h"

#include <sys/stat.h>

#include "module_link.h"
#include "status_model.h"

namespace mars::cli {
namespace {

struct ConditionName {
  const char* text;  // without "is-" and "-off"
  bool actual;       // true: only after "is-"; false: only without
  WaitCondition::Kind kind;
  const char* name;
};

constexpr ConditionName kConditions[] = {
    // Desired state (what marsadm wrote).
    {"attach", false, WaitCondition::Kind::kTodo, kTodoAttach},
    {"sync", false, WaitCondition::Kind::kTodo, kTodoSync},
    {"fetch", false, WaitCondition::Kind::kTodo, kTodoConnect},
    {"connect", false, WaitCondition::Kind::kTodo, kTodoConnect},
    {"replay", false, WaitCondition::Kind::kTodo, kTodoReplay},
    {"primary", false, WaitCondition::Kind::kDesignated, ""},
    {"device", false, WaitCondition::Kind::kDeviceWanted, ""},
    // Actual state (what the kernel reports), upstream's spellings too.
    {"attach", true, WaitCondition::Kind::kActual, kActualAttached},
    {"attached", true, WaitCondition::Kind::kActual, kActualAttached},
    {"sync", true, WaitCondition::Kind::kActual, kActualSyncing},
    {"syncing", true, WaitCondition::Kind::kActual, kActualSyncing},
    {"fetch", true, WaitCondition::Kind::kActual, kActualFetching},
    {"fetching", true, WaitCondition::Kind::kActual, kActualFetching},
    {"copying", true, WaitCondition::Kind::kActual, kActualFetching},
    {"replay", true, WaitCondition::Kind::kActual, kActualReplaying},
    {"replaying", true, WaitCondition::Kind::kActual, kActualReplaying},
    {"primary", true, WaitCondition::Kind::kActual, kActualPrimary},
    {"device", true, WaitCondition::Kind::kDevice, ""},
};

bool StripPrefix(std::string* text, const std::string& prefix) {
  if (text->compare(0, prefix.size(), prefix) != 0) return false;
  text->erase(0, prefix.size());
  return true;
}

bool StripSuffix(std::string* text, const std::string& suffix) {
  if (text->size() <= suffix.size() ||
      text->compare(text->size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  text->resize(text->size() - suffix.size());
  return true;
}

}  // namespace

std::optional<WaitCondition> ParseWaitCondition(const std::string& text) {
  std::string base = text;
  const bool actual = StripPrefix(&base, "is-");
  bool on = true;
  if (StripSuffix(&base, "-off")) {
    on = false;
  } else {
    StripSuffix(&base, "-on");
  }
  for (const ConditionName& c : kConditions) {
    if (base == c.text && actual == c.actual) return WaitCondition{c.kind, c.name, on};
  }
  return std::nullopt;
}

std::string WaitConditionNames() {
  return "{is-,}{attach,primary,device,sync,fetch,replay}{-off,}";
}

bool WaitConditionHolds(const WaitCondition& condition, const ResourceTree& res,
                        const std::string& host, std::string* what) {
  const std::string value = condition.on ? "1" : "0";
  const std::string is = condition.on ? " is" : " is not";
  bool holds = false;
  switch (condition.kind) {
    case WaitCondition::Kind::kTodo:
      holds = res.Todo(host, condition.name).value_or(false);
      *what = "todo-" + host + "/" + condition.name + " is " + value;
      break;
    case WaitCondition::Kind::kDesignated:
      holds = res.DesignatedPrimary() == host;
      *what = host + is + " the designated primary";
      break;
    case WaitCondition::Kind::kDeviceWanted:
      holds = res.DesignatedPrimary() == host &&
              res.Todo(host, kTodoAttach).value_or(false);
      *what = condition.on ? host + " is the designated primary and todo-" + host +
                                 "/attach is 1"
                           : host + " is not the designated primary or todo-" + host +
                                 "/attach is 0";
      break;
    case WaitCondition::Kind::kActual:
      holds = res.Actual(host, condition.name);
      *what = "actual-" + host + "/" + condition.name + " is " + value;
      break;
    case WaitCondition::Kind::kDevice: {
      const std::string path = MarsDeviceDir() + "/" +
                               res.Value("device-" + host).value_or(res.resource());
      struct stat st;
      holds = stat(path.c_str(), &st) == 0;
      *what = path + (condition.on ? " exists" : " is gone");
      break;
    }
  }
  return holds == condition.on;
}

Phase WaitConditionPhase(const WaitCondition& condition) {
  return WaitPhase("wait for the condition", [condition](Step& step) {
    const ResourceTree res(step.tree(), step.resource());
    std::string what;
    if (WaitConditionHolds(condition, res, step.host(), &what)) return Outcome::Done();
    return Outcome::NotYet(what);
  });
}

}  // namespace mars::cli
