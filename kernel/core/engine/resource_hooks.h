// The operations the main thread (Manager) performs on one resource of this
// host, as a table of functions so that the Manager is tested with a fake and
// runs the real engine (engine/resource.h: kResourceHooks) in the module.
// The engine is C++ without RTTI or virtual destructors in the kernel; a
// table keeps ownership explicit (create/destroy).
#ifndef MARS_CORE_ENGINE_RESOURCE_HOOKS_H_
#define MARS_CORE_ENGINE_RESOURCE_HOOKS_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/status.h"
#include "core/lamport_clock.h"

namespace mars {
namespace engine {

class DataAccess;
class LogDurability;

// A human-readable explanation of a failure, for `msg-*` links and the
// kernel log: one line, NUL-terminated, e.g. "cannot open data device
// /dev/vdb: device or resource busy (errno 16); is it mounted or used by
// another resource?".
struct ErrorText {
  static constexpr size_t kCapacity = 256;
  char text[kCapacity] = {};
};

// What the Manager read from the tree for one resource. Strings are
// NUL-terminated and owned by the caller; create() copies what it keeps.
struct ResourceSettings {
  const char* root = nullptr;       // the /mars directory, no trailing '/'
  const char* name = nullptr;       // resource name R
  const char* host = nullptr;       // this host's name
  const char* data_path = nullptr;  // value of resource-R/data-HOST
  uint64_t size_bytes = 0;          // value of resource-R/size
  LamportClock* clock = nullptr;    // stamps of links the engine writes
  // The durable ends of the logfiles this host writes as primary, for the
  // peer server (engine/log_durability.h); null: not tracked (tests).
  LogDurability* durability = nullptr;
  // The data devices for the block sync of the peer server
  // (engine/data_access.h); null: no sync (tests).
  DataAccess* data_access = nullptr;
};

// A snapshot for the actual-HOST/ links (docu/marsadm.md "Links the kernel
// must write").
struct ResourceReport {
  bool attached = false;          // is-attached: data device open, recovered
  bool primary = false;           // is-primary: /dev/mars/DEVNAME exists
  int open_count = 0;             // open-count
  uint64_t device_size = 0;       // device-size: bytes of /dev/mars/DEVNAME
  uint64_t data_device_size = 0;  // actsize-HOST: bytes of the data device
  uint64_t logfile = 0;           // N of the logfile being written (0: none)
  bool io_error = false;          // a log or data-device I/O error stopped
                                  // the write path (see error text)
  ErrorText error;                // last failure of the write path, or empty
  // Replay on a secondary (engine/replayer.h): is-replaying (the replay
  // thread runs and has not stopped), replay-code (0, or the negative errno
  // of the stop, ReplayCode()) and msg-err-replay (why it stopped, or
  // empty).
  bool replaying = false;
  int64_t replay_code = 0;
  ErrorText replay_error;
  // Bytes per second replay applied to the data device over the last
  // 5 s (0 while not replaying).
  uint64_t replay_rate = 0;
};

// Every function: Context: may sleep; called only from the Manager's thread.
struct ResourceHooks {
  // Creates the engine object for one resource (nothing is opened yet).
  Status (*create)(const ResourceSettings& settings, void** resource);
  // REQUIRES detached (detach() returned Ok, or attach() never succeeded).
  void (*destroy)(void* resource);
  // Opens the data device exclusively and replays the log from
  // replay-HOST (crash recovery). When replay-HOST names another host's
  // logfile (a secondary) there is no crash recovery: set_replay() continues
  // from there. On failure nothing stays open.
  Status (*attach)(void* resource, ErrorText* why);
  // Starts a fresh logfile and creates /dev/mars/`device_name`; stops the
  // replay thread first. Refused while replay-HOST names another host's
  // logfile (handover is not built). REQUIRES attached.
  Status (*start_primary)(void* resource, const char* device_name,
                          ErrorText* why);
  // Removes the device (kUnavailable while it is open: nothing changes),
  // writes everything back and closes the logfile.
  Status (*stop_primary)(void* resource, ErrorText* why);
  // stop_primary() if needed (same refusal), then closes the data device.
  Status (*detach)(void* resource, ErrorText* why);
  // marsadm created log-`number`-HOST (log-rotate): switch to it if it is
  // newer than the current logfile.
  void (*request_logfile)(void* resource, uint64_t number);
  void (*report)(void* resource, ResourceReport* report);
  // Periodic housekeeping (replay-link publication, rates, a wake-up of the
  // replay thread), about every second and after every scan.
  void (*tick)(void* resource);
  // Runs (`run`) or stops the replay thread mars_replay, which applies
  // fetched logfiles from replay-HOST on (engine/replayer.h). Running
  // needs attached and not primary; otherwise, and with !run, the thread is
  // stopped (joined) after it published its position. Called at every
  // scan; cheap when nothing changes.
  void (*set_replay)(void* resource, bool run);
};

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_RESOURCE_HOOKS_H_
