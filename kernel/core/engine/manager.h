// The Manager: the module's main thread. It scans the /mars tree (every
// second and whenever the trigger is written), finds the resources this host
// is a member of, drives each toward the state the tree asks for through a
// ResourceHooks table (attach, primary, detach, log rotation) and publishes
// what it actually does in resource-R/actual-HOST/ (docu/module-state.md).
#ifndef MARS_CORE_ENGINE_MANAGER_H_
#define MARS_CORE_ENGINE_MANAGER_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/memory.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/engine/resource_hooks.h"
#include "core/lamport_clock.h"
#include "core/platform.h"
#include "core/tree/names.h"

namespace mars {
namespace engine {

class Manager {
 public:
  // Monotonic nanoseconds for the retry and heartbeat intervals; nullptr
  // means platform::MonotonicNs. Injectable for tests.
  using TimeSource = uint64_t (*)();

  // A resource name, NUL-terminated.
  struct ResourceName {
    char text[tree::kMaxNameChars + 1];
  };

  // A failed attach or start_primary is retried after this long.
  static constexpr uint64_t kRetryIntervalNs = 10ull * 1000 * 1000 * 1000;
  // actual-HOST/time (the heartbeat) is rewritten this often.
  static constexpr uint64_t kHeartbeatIntervalNs = 5ull * 1000 * 1000 * 1000;
  // The thread scans at least this often.
  static constexpr uint64_t kScanIntervalNs = 1000ull * 1000 * 1000;

  explicit Manager(TimeSource monotonic_ns = nullptr);
  // REQUIRES: Stop() was called if Init() or Start() succeeded.
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Sets the tree root (the /mars directory, copied), the hooks, the clock
  // and the registries of durable logfile ends and of data devices handed
  // to every resource (ResourceSettings::durability and data_access; may be
  // null) without starting a thread,
  // for Scan() driven by a caller. hooks, clock and durability must outlive
  // the Manager. kInvalidArgument for an empty or too long root, kNoMemory.
  // Context: may sleep.
  Status Init(const char* root, const ResourceHooks* hooks, LamportClock* clock,
              LogDurability* durability = nullptr,
              DataAccess* data_access = nullptr);
  // Init() and then one platform thread "mars_main" that scans once at once
  // and then after every trigger or kScanIntervalNs. Context: may sleep.
  Status Start(const char* root, const ResourceHooks* hooks,
               LamportClock* clock, LogDurability* durability = nullptr,
               DataAccess* data_access = nullptr);
  // Stops the thread (if any), then detaches and destroys every resource it
  // attached and publishes them as detached. A resource whose detach is
  // refused (its device is open) is logged and left alive, never destroyed.
  // Idempotent. Context: may sleep.
  void Stop();

  // One pass over the tree: what the thread does after every wake-up.
  // Does nothing while root or root/uuid is missing. REQUIRES: Init() and
  // no thread running (tests), or called from the Manager's thread.
  // Context: may sleep.
  void Scan();

  // Resources this host is (or was, while their engine lives) a member of,
  // for tests and diagnostics.
  size_t resource_count() const { return resources_.size(); }

 private:
  struct Resource;  // the state of one resource (manager.cc)
  class Ops;        // the operations on one resource (manager.cc)
  static void ThreadBody(void* context);

  uint64_t NowNs() const;
  void ScanResource(const char* name, uint64_t now);
  void ForgetVanished();
  void DetachAll();
  void WriteHeartbeat(uint64_t now);

  TimeSource monotonic_ns_;
  const ResourceHooks* hooks_ = nullptr;
  LamportClock* clock_ = nullptr;
  LogDurability* durability_ = nullptr;
  DataAccess* data_access_ = nullptr;
  char* root_ = nullptr;  // owned, NUL-terminated
  char host_[tree::kMaxNameChars + 1] = {};
  char* scratch_ = nullptr;      // platform::kMaxLinkValueBytes + 1, owned
  char* path_ = nullptr;         // platform::kMaxPathBytes + 1, owned
  Vector<Resource*> resources_;  // owned
  Vector<ResourceName> names_;   // scan scratch
  uint64_t next_heartbeat_ns_ = 0;
  bool heartbeat_written_ = false;
  bool heartbeat_failed_ = false;  // the last heartbeat write failed (logged)
  platform::Thread thread_;
};

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_MANAGER_H_
