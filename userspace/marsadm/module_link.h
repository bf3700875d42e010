// ModuleLink: how marsadm talks to the loaded mars.ko (docu/control-interface.md):
// the trigger entry that wakes the module after a change of the /mars tree,
// the Lamport clock entry that stamps marsadm's changes, and the test
// whether the module is loaded at all. Plus Poll(), the loop that waiting
// commands use to watch the tree until a condition holds or --timeout ends.
//
// The proc directory is injectable: $MARS_PROC_DIR if set and non-empty,
// else /proc/sys/mars. Tests point it at a temporary directory holding a
// plain `trigger` file to fake a loaded module.
#ifndef MARS_USERSPACE_MARSADM_MODULE_LINK_H_
#define MARS_USERSPACE_MARSADM_MODULE_LINK_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace mars::cli {

// Default of the proc directory when $MARS_PROC_DIR is unset or empty.
inline constexpr char kDefaultProcDir[] = "/proc/sys/mars";

// Values written to the trigger entry.
enum class TriggerCode : int {
  kLocal = 1,           // rescan the local /mars tree
  kLocalAndPeers = 2,   // rescan locally and ask the peers to do the same
};

class ModuleLink {
 public:
  explicit ModuleLink(std::string proc_dir) : proc_dir_(std::move(proc_dir)) {}
  // Uses $MARS_PROC_DIR or kDefaultProcDir.
  static ModuleLink FromEnvironment();

  const std::string& proc_dir() const { return proc_dir_; }
  std::string TriggerPath() const { return proc_dir_ + "/trigger"; }
  std::string LamportClockPath() const { return proc_dir_ + "/lamport_clock"; }
  std::string TreeWriteErrnoPath() const {
    return proc_dir_ + "/tree_write_errno";
  }

  // True if the proc directory holds a `trigger` entry.
  bool Loaded() const;
  // Writes the code to the trigger entry. Returns an error message (one
  // line) or nullopt. Does nothing and succeeds if the module is not loaded.
  std::optional<std::string> Trigger(TriggerCode code) const;

  // The one-line diagnostic for commands that need the module.
  std::string NotLoadedMessage() const;

 private:
  std::string proc_dir_;
};

// Where the module creates the resource devices: $MARS_DEV_DIR if set and
// non-empty (tests), else /dev/mars.
std::string MarsDeviceDir();

// How long a waiting command polls.
struct PollLimits {
  // Give up after this many seconds; 0 = check once; negative = no limit
  // (Context::kWaitForever).
  int timeout_seconds = 0;
  std::chrono::milliseconds interval{100};
};

// Calls `poll` until it returns true or the timeout expires; between two
// calls writes `code` to the module's trigger (when loaded) and sleeps
// limits.interval. `poll` is always called at least once. Returns true if
// the condition was reached.
bool Poll(const std::function<bool()>& poll, const PollLimits& limits,
          const ModuleLink& module, TriggerCode code);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_MODULE_LINK_H_
