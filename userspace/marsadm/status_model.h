// The status model behind `view`, `view-MACRO` and `status`: what this host's
// copy of the /mars tree says about each resource and each of its hosts
// (roles, disk and replication states, flags, positions, lags, sync progress,
// split brain, messages). It is computed once and rendered twice (text in
// status_text.h, JSON in json_status.h), so the two never disagree.
//
// The states follow upstream MARS's view macros (docu/marsadm.md, "view").
// Logfiles are local files: the local host's fetch and replay rests are
// measured from them. For peers the model keeps what the replicated links
// show: their fetch progress from their fetch-pos links where they publish
// one, and leaves the rest unknown (std::nullopt), never guessed.
#ifndef MARS_USERSPACE_MARSADM_STATUS_MODEL_H_
#define MARS_USERSPACE_MARSADM_STATUS_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tree_dir.h"

namespace mars::cli {

// Names of the indicator links the module writes (docu/marsadm.md, "Talking
// to the module" and "What view and status read"). Per resource:
// resource-R/actual-HOST/<name>.
inline constexpr char kActualAttached[] = "is-attached";
inline constexpr char kActualFetching[] = "is-copying";
inline constexpr char kActualSyncing[] = "is-syncing";
inline constexpr char kActualReplaying[] = "is-replaying";
inline constexpr char kActualPrimary[] = "is-primary";
inline constexpr char kActualEmergency[] = "is-emergency";
inline constexpr char kActualOpenCount[] = "open-count";
inline constexpr char kActualReplayCode[] = "replay-code";
inline constexpr char kActualDiskError[] = "disk-error";
inline constexpr char kActualSyncRate[] = "sync-rate";
inline constexpr char kActualFetchRate[] = "fetch-rate";
inline constexpr char kActualReplayRate[] = "replay-rate";
// "log-NNNNNNNNN-ORIGIN,BYTES": the newest logfile the host holds a local
// copy of and its bytes (written by a host that fetches).
inline constexpr char kActualFetchPos[] = "fetch-pos";
// Size in bytes of /dev/mars/DEV as the module currently provides it (on the
// host where the device is up); `resize` waits for it.
inline constexpr char kActualDeviceSize[] = "device-size";
inline constexpr char kMessagePrefix[] = "msg-";
// Per host, global: the stamp of actual-HOST/time is its heartbeat.
inline constexpr char kHeartbeatTime[] = "time";

// Every enum below has a name table (the *Name functions); the JSON schema
// lists the same names and a test keeps them equal.
enum class Role {
  kNone,  // not a member
  kSecondary,
  kNotYetPrimary,  // designated, device not up yet
  kPrimary,
  kRemainsPrimary,  // no longer designated, device still up
  kForcedPrimary,   // designated and up, but another host is up as well
};
inline constexpr int kRoleCount = 6;

enum class DiskState {
  kDiskError,
  kNotJoined,
  kNotPresent,
  kDetaching,
  kDetached,
  kDefectiveLog,
  kOrphan,
  kNoAttach,
  kInConsistent,
  kWriteBack,
  kRecovery,
  kOutDated,
  kEmergencyMode,
  kUpToDate,
};
inline constexpr int kDiskStateCount = 14;

enum class ReplState {
  kModuleNotLoaded,
  kUnResponsive,
  kNotJoined,
  kNotStarted,
  kEmergencyMode,
  kReplicating,
  kNotYetPrimary,
  kPausedSync,
  kSyncing,
  kPausedFetch,
  kPausedReplay,
  kNoPrimaryDesignated,
  kPrimaryUnreachable,
  kOrphan,
  kReplaying,
};
inline constexpr int kReplStateCount = 15;

enum class CommState {
  kConnected,    // every relevant peer has a heartbeat within the window
  kAlone,        // the resource has no other member
  kUnreachable,  // some relevant peer has none
};
inline constexpr int kCommStateCount = 3;

enum class Severity { kError, kWarning, kInfo };
inline constexpr int kSeverityCount = 3;

// Who reported a message: the module (an msg-* link) or marsadm itself (a
// link it could not parse, a broken version chain).
enum class MessageSource { kModule, kMarsadm };
inline constexpr int kMessageSourceCount = 2;

const char* RoleName(Role role);
const char* DiskStateName(DiskState state);
const char* ReplStateName(ReplState state);
const char* CommStateName(CommState state);
const char* SeverityName(Severity severity);
const char* MessageSourceName(MessageSource source);

struct Message {
  std::string host;  // the host whose link it is ("" for none)
  Severity severity = Severity::kError;
  MessageSource source = MessageSource::kModule;
  std::string key;  // msg-KEY without "msg-"; a short id for marsadm's own
  std::string text;
  uint64_t stamp_ns = 0;  // 0 for marsadm's own messages
};

struct Switches {  // todo-HOST/{attach,connect,sync,allow-replay}
  bool attach = false;
  bool fetch = false;
  bool sync = false;
  bool replay = false;
};

struct Indicators {  // resource-R/actual-HOST/...
  bool attached = false;
  bool fetching = false;
  bool syncing = false;
  bool replaying = false;
  bool primary = false;  // /dev/mars/R is up on the host
  bool emergency = false;
  std::optional<uint64_t> open_count;
  std::optional<int64_t> replay_code;  // < 0: replay failed
  std::optional<std::string> disk_error;
};

// A place in a logfile: log-NNNNNNNNN-ORIGIN and a byte offset in it.
struct LogPlace {
  std::string logfile;
  uint32_t number = 0;
  std::string origin;
  uint64_t position = 0;
};

// Rate and ETA of one kind of progress. Both unknown unless the module
// publishes a rate link or two observations were taken (status --sample).
struct Speed {
  std::optional<double> rate_bytes_per_second;
  std::optional<uint64_t> eta_seconds;  // rest / rate, rounded up
};

struct SyncProgress {
  uint64_t size_bytes = 0;      // resource-R/size (0 if unknown)
  uint64_t position_bytes = 0;  // syncstatus-HOST (0 if absent)
  uint64_t rest_bytes = 0;
  double percent = 0;  // 0..100, two decimals
  bool reached = false;
  Speed speed;
};

struct ReplayProgress {
  std::optional<LogPlace> place;  // the replay-HOST link
  uint64_t dirty_bytes = 0;
  // Upstream's replay-pos: position plus the lengths of the known logfiles
  // before it (a number that only grows while no logfile is deleted).
  std::optional<uint64_t> history_position_bytes;
  std::optional<uint64_t> rest_bytes;  // fetched, not yet replayed (local)
  std::optional<double> lag_seconds;
  bool reached = false;
  Speed speed;
};

// Local host: measured from its logfiles. Peers: from their fetch-pos link
// (unknown without one).
struct FetchProgress {
  std::optional<LogPlace> place;  // end of the newest local logfile
  std::optional<uint64_t> history_position_bytes;  // as for replay
  std::optional<uint64_t> rest_bytes;  // known to exist, not yet there
  std::optional<double> lag_seconds;
  bool reached = false;
  Speed speed;
};

struct HostStatus {
  std::string name;
  bool is_local = false;              // the host marsadm acts as (--host)
  bool member = false;                // data-HOST exists
  std::optional<std::string> disk;    // data-HOST
  std::optional<std::string> device;  // device-HOST
  Role role = Role::kNone;
  DiskState disk_state = DiskState::kNotJoined;
  ReplState repl_state = ReplState::kNotJoined;
  std::string flags = "------";
  // OutDated[FR]: what is not reached yet.
  bool outdated_fetch = false;
  bool outdated_replay = false;
  bool alive = false;
  std::optional<double> heartbeat_age_seconds;
  bool consistent = false;
  std::optional<bool> orphan;  // known for the local host only
  // Bytes of the known log history after the replay position (any host).
  std::optional<uint64_t> behind_bytes;
  Switches todo;
  Indicators actual;
  SyncProgress sync;
  FetchProgress fetch;
  ReplayProgress replay;
};

struct ResourceStatus {
  std::string name;
  std::optional<uint64_t> size_bytes;
  std::optional<std::string> designated_primary;  // nullopt: "(none)"
  std::vector<std::string> actual_primaries;      // hosts with is-primary
  bool split_brain = false;
  std::vector<std::string> split_brain_hosts;
  CommState comm_state = CommState::kAlone;
  std::vector<std::string> unreachable_peers;
  // Every member, plus the local host if it is none; sorted by name.
  std::vector<HostStatus> hosts;
  std::vector<Message> messages;

  // The entry of `host` in hosts. REQUIRES it is there (local always is).
  const HostStatus& Host(const std::string& host) const;
  HostStatus& Host(const std::string& host);
};

struct ClusterHost {  // ips/ip-HOST
  std::string name;
  std::string ip;
  bool alive = false;
  std::optional<double> heartbeat_age_seconds;
};

struct ClusterStatus {
  std::string host;  // the local host
  std::optional<std::string> uuid;
  uint64_t observed_at_ns = 0;
  uint64_t window_seconds = 0;
  bool module_loaded = false;
  std::vector<ClusterHost> hosts;
  std::vector<ResourceStatus> resources;
  std::vector<Message> messages;  // global actual-HOST/msg-*
};

struct StatusOptions {
  std::string host;              // the local host
  uint64_t now_ns = 0;           // Lamport "now" for ages
  uint64_t window_seconds = 60;  // a heartbeat older than this is stale
  bool module_loaded = false;
};

// "Now" for ages: the later of the wall clock and the module's Lamport clock
// (read from `lamport_clock_file` if readable, see module_link.h).
uint64_t LamportNowNs(const std::string& lamport_clock_file);

// The status of `resource` (REQUIRES its directory exists).
ResourceStatus ComputeResourceStatus(const TreeDir& tree,
                                     const std::string& resource,
                                     const StatusOptions& options);

// The status of `resources` and the global part of the tree.
ClusterStatus ComputeClusterStatus(const TreeDir& tree,
                                   const std::vector<std::string>& resources,
                                   const StatusOptions& options);

// Fills the speeds (rate, ETA) of `later` from the difference to `earlier`,
// an observation of the same resources taken before. A progress that went
// backwards (e.g. a logfile was deleted in between) leaves its speed as it
// was. Rates from module links in `later` are replaced.
void ApplySample(const ClusterStatus& earlier, ClusterStatus& later);

// The ETA for `rest` bytes at `rate` bytes/s (rounded up); nullopt if the
// rate is unknown or not positive and rest > 0.
std::optional<uint64_t> EtaSeconds(uint64_t rest, std::optional<double> rate);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_STATUS_MODEL_H_
