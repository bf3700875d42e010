#include "status_model.h"

#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "core/base/slice.h"
#include "core/tree/names.h"
#include "core/tree/text.h"
#include "core/tree/values.h"
#include "log_history.h"
#include "status_states.h"
#include "tree_read.h"

namespace mars::cli {
namespace {

constexpr uint64_t kNsPerSecond = 1000000000ull;

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// Reads the links of one resource, collecting what does not parse.
class Reader {
 public:
  Reader(const TreeDir& tree, std::vector<Message>* problems)
      : tree_(tree), problems_(problems) {}

  std::optional<std::string> Link(const std::string& path) const {
    return tree_.ReadLink(path);
  }
  uint64_t Stamp(const std::string& path) const {
    const auto entry = tree_.Stat(path);
    return entry && !entry->tombstone ? entry->stamp_ns : 0;
  }
  // A "0"/"1" switch or indicator; absent reads as off.
  bool Switch(const std::string& host, const std::string& path) {
    const auto value = Link(path);
    if (!value) return false;
    bool on = false;
    if (!tree::ParseSwitch(CoreSlice(*value), &on).ok()) {
      Bad(host, path, *value, "not 0 or 1");
      return false;
    }
    return on;
  }
  std::optional<uint64_t> Count(const std::string& host,
                                const std::string& path) {
    const auto value = Link(path);
    if (!value) return std::nullopt;
    uint64_t count = 0;
    if (!tree::ParseByteCount(CoreSlice(*value), &count).ok()) {
      Bad(host, path, *value, "not a decimal number");
      return std::nullopt;
    }
    return count;
  }
  // A decimal with an optional leading '-'.
  std::optional<int64_t> Signed(const std::string& host,
                                const std::string& path) {
    const auto value = Link(path);
    if (!value) return std::nullopt;
    const bool negative = !value->empty() && (*value)[0] == '-';
    uint64_t magnitude = 0;
    const std::string digits = negative ? value->substr(1) : *value;
    if (!tree::ParseDecimalU64(CoreSlice(digits), &magnitude).ok() ||
        magnitude > static_cast<uint64_t>(INT64_MAX)) {
      Bad(host, path, *value, "not a decimal number");
      return std::nullopt;
    }
    return negative ? -static_cast<int64_t>(magnitude)
                    : static_cast<int64_t>(magnitude);
  }
  std::optional<ReplayPlace> Place(const std::string& host,
                                   const std::string& path) {
    const auto value = Link(path);
    if (!value) return std::nullopt;
    auto place = ParseReplayPlace(*value);
    if (!place) Bad(host, path, *value, "not LOGFILE,POS,DIRTYLEN");
    return place;
  }
  std::optional<LogPlace> FetchPlace(const std::string& host,
                                     const std::string& path) {
    const auto value = Link(path);
    if (!value) return std::nullopt;
    auto place = ParseFetchPlace(*value);
    if (!place) Bad(host, path, *value, "not LOGFILE,BYTES");
    return place;
  }
  void Bad(const std::string& host, const std::string& path,
           const std::string& value, const std::string& why) {
    Message message;
    message.host = host;
    message.severity = Severity::kWarning;
    message.source = MessageSource::kMarsadm;
    message.key = "bad-link";
    message.text = "ignoring " + path + " -> '" + value + "': " + why;
    problems_->push_back(std::move(message));
  }

 private:
  const TreeDir& tree_;
  std::vector<Message>* problems_;
};

uint64_t HeartbeatStamp(const Reader& reader, const std::string& host) {
  return reader.Stamp("actual-" + host + "/" + kHeartbeatTime);
}

double Seconds(uint64_t later_ns, uint64_t earlier_ns) {
  return later_ns > earlier_ns
             ? static_cast<double>(later_ns - earlier_ns) / kNsPerSecond
             : 0.0;
}

Severity SeverityOfKey(const std::string& key) {
  if (StartsWith(key, "err-")) return Severity::kError;
  if (StartsWith(key, "inf-")) return Severity::kInfo;
  return Severity::kWarning;
}

// The msg-* links in `dir` (written by the module for `host`).
void ReadMessages(const TreeDir& tree, const std::string& dir,
                  const std::string& host, std::vector<Message>* out) {
  for (const std::string& name : tree.ListNames(dir)) {
    if (!StartsWith(name, kMessagePrefix)) continue;
    const auto entry = tree.Stat(dir + "/" + name);
    if (!entry || entry->type != EntryType::kLink || entry->tombstone) continue;
    Message message;
    message.host = host;
    message.key = name.substr(std::strlen(kMessagePrefix));
    message.severity = SeverityOfKey(message.key);
    message.source = MessageSource::kModule;
    message.text = entry->value;
    message.stamp_ns = entry->stamp_ns;
    out->push_back(std::move(message));
  }
}

double Percent(uint64_t position, uint64_t size) {
  if (size == 0) return 0;
  if (position >= size) return 100;
  return std::floor(static_cast<double>(position) * 10000.0 /
                    static_cast<double>(size)) /
         100.0;
}

// Everything read for one host before the states are derived.
struct HostInput {
  std::optional<ReplayPlace> replay;
  std::optional<ReplayPlace> syncpos;
  std::optional<LogPlace> fetch_pos;  // actual-HOST/fetch-pos
  uint64_t fetch_pos_stamp = 0;
  uint64_t replay_stamp = 0;
  uint64_t heartbeat = 0;
};

}  // namespace

const HostStatus& ResourceStatus::Host(const std::string& host) const {
  for (const HostStatus& h : hosts) {
    if (h.name == host) return h;
  }
  return hosts.front();
}

HostStatus& ResourceStatus::Host(const std::string& host) {
  for (HostStatus& h : hosts) {
    if (h.name == host) return h;
  }
  return hosts.front();
}

uint64_t LamportNowNs(const std::string& lamport_clock_file) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t now = static_cast<uint64_t>(ts.tv_sec) * kNsPerSecond +
                 static_cast<uint64_t>(ts.tv_nsec);
  std::ifstream in(lamport_clock_file);
  uint64_t module_now = 0;
  if (in >> module_now) now = std::max(now, module_now);
  return now;
}

std::optional<uint64_t> EtaSeconds(uint64_t rest, std::optional<double> rate) {
  if (rest == 0) return 0;
  if (!rate || *rate <= 0) return std::nullopt;
  return static_cast<uint64_t>(std::ceil(static_cast<double>(rest) / *rate));
}

ResourceStatus ComputeResourceStatus(const TreeDir& tree,
                                     const std::string& resource,
                                     const StatusOptions& options) {
  ResourceStatus status;
  status.name = resource;
  const std::string dir = "resource-" + resource;
  std::vector<Message> problems;
  Reader reader(tree, &problems);
  const std::string in = dir + "/";

  if (const auto value = reader.Link(in + "size")) {
    uint64_t size = 0;
    if (tree::ParseResourceSize(CoreSlice(*value), &size).ok()) {
      status.size_bytes = size;
    } else {
      reader.Bad("", in + "size", *value, "not a resource size");
    }
  }
  if (const auto value = reader.Link(in + "primary")) {
    tree::HostName primary;
    if (!tree::ParsePrimary(CoreSlice(*value), &primary).ok()) {
      reader.Bad("", in + "primary", *value, "not a host name or (none)");
    } else if (!primary.empty()) {
      status.designated_primary = *value;
    }
  }
  const std::optional<std::string>& designated = status.designated_primary;

  std::vector<std::string> members = ResourceTree(tree, resource).Members();
  std::set<std::string> names(members.begin(), members.end());
  names.insert(options.host);

  LogHistory history = LogHistory::Load(tree, dir, &problems);
  std::map<std::string, HostInput> inputs;
  for (const std::string& name : names) {
    HostInput& input = inputs[name];
    input.replay = reader.Place(name, in + "replay-" + name);
    input.replay_stamp = reader.Stamp(in + "replay-" + name);
    input.syncpos = reader.Place(name, in + "syncpos-" + name);
    input.heartbeat = HeartbeatStamp(reader, name);
    if (input.replay) {
      history.NoteLength(input.replay->number, input.replay->origin,
                         input.replay->position + input.replay->dirty);
    }
    const std::string fetch_pos = in + "actual-" + name + "/" + kActualFetchPos;
    input.fetch_pos = reader.FetchPlace(name, fetch_pos);
    input.fetch_pos_stamp = reader.Stamp(fetch_pos);
    // A peer's copy holds these bytes: the logfile is at least that long.
    // (The local host's own copies are measured directly.)
    if (input.fetch_pos && name != options.host) {
      history.NoteLength(input.fetch_pos->number, input.fetch_pos->origin,
                         input.fetch_pos->position);
    }
  }
  status.split_brain_hosts = history.SplitBrainHosts(members, &problems);
  status.split_brain = !status.split_brain_hosts.empty();

  auto alive = [&](const std::string& host) {
    const uint64_t beat = HeartbeatStamp(reader, host);
    return beat != 0 && Seconds(options.now_ns, beat) <=
                            static_cast<double>(options.window_seconds);
  };
  for (const std::string& name : names) {
    const std::string actual = in + "actual-" + name + "/";
    HostStatus host;
    host.name = name;
    host.is_local = name == options.host;
    host.disk = reader.Link(in + "data-" + name);
    host.member = host.disk.has_value();
    host.device = reader.Link(in + "device-" + name);
    const std::string todo = in + "todo-" + name + "/";
    host.todo.attach = reader.Switch(name, todo + "attach");
    host.todo.fetch = reader.Switch(name, todo + "connect");
    host.todo.sync = reader.Switch(name, todo + "sync");
    host.todo.replay = reader.Switch(name, todo + "allow-replay");
    host.actual.attached = reader.Switch(name, actual + kActualAttached);
    host.actual.fetching = reader.Switch(name, actual + kActualFetching);
    host.actual.syncing = reader.Switch(name, actual + kActualSyncing);
    host.actual.replaying = reader.Switch(name, actual + kActualReplaying);
    host.actual.primary = reader.Switch(name, actual + kActualPrimary);
    host.actual.emergency = reader.Switch(name, actual + kActualEmergency);
    host.actual.open_count = reader.Count(name, actual + kActualOpenCount);
    host.actual.replay_code = reader.Signed(name, actual + kActualReplayCode);
    if (auto error = reader.Link(actual + kActualDiskError);
        error && *error != "0") {
      host.actual.disk_error = *error;
    }
    if (host.actual.primary) status.actual_primaries.push_back(name);
    const HostInput& input = inputs[name];
    if (input.heartbeat != 0) {
      host.heartbeat_age_seconds = Seconds(options.now_ns, input.heartbeat);
    }
    host.alive = alive(name);

    host.sync.size_bytes = status.size_bytes.value_or(0);
    host.sync.position_bytes =
        reader.Count(name, in + "syncstatus-" + name).value_or(0);
    host.sync.rest_bytes = host.sync.size_bytes > host.sync.position_bytes
                               ? host.sync.size_bytes - host.sync.position_bytes
                               : 0;
    host.sync.reached =
        status.size_bytes && host.sync.position_bytes >= *status.size_bytes;
    host.sync.percent = Percent(host.sync.position_bytes, host.sync.size_bytes);
    status.hosts.push_back(std::move(host));
  }
  if (!reader.Link(in + "size")) {
    Message message;
    message.severity = Severity::kWarning;
    message.source = MessageSource::kMarsadm;
    message.key = "no-size";
    message.text = in + "size is missing: sizes and sync progress are unknown";
    problems.push_back(std::move(message));
  }

  // The reference for lags: the designated primary, else the one actual.
  std::optional<std::string> reference = designated;
  if (!reference && status.actual_primaries.size() == 1) {
    reference = status.actual_primaries.front();
  }
  const uint64_t reference_stamp =
      reference ? inputs[*reference].replay_stamp : 0;
  const bool primary_emergency = designated && names.count(*designated) != 0 &&
                                 status.Host(*designated).actual.emergency;

  for (HostStatus& host : status.hosts) {
    const HostInput& input = inputs[host.name];
    const bool designated_here = designated && *designated == host.name;
    const bool disk_present = host.member && (!host.is_local || [&] {
                                struct stat st;
                                return stat(host.disk->c_str(), &st) == 0;
                              }());
    bool fetch_reached = false;
    bool replay_reached = false;
    bool work_reached = false;
    if (input.replay) {
      const HostLogProgress progress =
          history.Measure(*input.replay, host.name, designated, host.is_local);
      host.replay.place = LogPlace{
          FormatLogfileName(input.replay->number, input.replay->origin),
          input.replay->number, input.replay->origin, input.replay->position};
      host.replay.dirty_bytes = input.replay->dirty;
      host.replay.history_position_bytes = progress.replay_history;
      host.replay.rest_bytes = progress.replay_rest;
      host.fetch.rest_bytes = progress.fetch_rest;
      host.fetch.place = progress.fetch_place;
      host.fetch.history_position_bytes = progress.fetch_history;
      host.behind_bytes = progress.behind;
      work_reached = progress.behind == 0u;
      fetch_reached = host.is_local ? progress.fetch_rest == 0u : work_reached;
      replay_reached =
          host.is_local ? progress.replay_rest == 0u : work_reached;
      if (host.is_local && !host.actual.primary) host.orphan = progress.orphan;
      if (host.is_local && host.actual.primary) host.orphan = false;
      // Lags against the reference host's replay link stamp.
      if (reference && *reference == host.name) {
        host.replay.lag_seconds = 0.0;
        if (host.is_local) host.fetch.lag_seconds = 0.0;
      } else if (reference_stamp != 0) {
        host.replay.lag_seconds =
            work_reached ? 0.0 : Seconds(reference_stamp, input.replay_stamp);
        if (host.is_local) {
          if (fetch_reached) {
            host.fetch.lag_seconds = 0.0;
          } else if (progress.fetch_place) {
            host.fetch.lag_seconds =
                Seconds(reference_stamp, progress.fetch_mtime_ns);
          }
        }
      }
    } else if (host.is_local && host.member && !host.actual.primary) {
      host.orphan = true;  // nothing to replay from
    }
    // A peer's fetch from its own report (fetch-pos). Not for the reference
    // host (it writes the log), nor when the link is behind its replay link
    // (left from an earlier fetch: it has replayed further since).
    const bool fetch_pos_current =
        input.fetch_pos &&
        (!input.replay || input.fetch_pos->number > input.replay->number ||
         (input.fetch_pos->number == input.replay->number &&
          input.fetch_pos->position >= input.replay->position));
    if (!host.is_local && fetch_pos_current &&
        !(reference && *reference == host.name)) {
      const LogHistory::FetchMeasure measure =
          history.MeasureFetch(*input.fetch_pos, host.name, designated);
      host.fetch.place = *input.fetch_pos;
      host.fetch.history_position_bytes = measure.history;
      host.fetch.rest_bytes = measure.rest;
      fetch_reached = measure.rest == 0;
      if (fetch_reached) {
        host.fetch.lag_seconds = 0.0;
      } else if (reference_stamp != 0) {
        host.fetch.lag_seconds =
            Seconds(reference_stamp, input.fetch_pos_stamp);
      }
    }
    host.replay.reached = replay_reached;
    host.fetch.reached = fetch_reached;
    host.outdated_fetch = !fetch_reached;
    host.outdated_replay = !replay_reached;

    // Consistency as upstream's is-consistent.
    host.consistent = host.member && host.sync.reached && input.replay &&
                      !(host.actual.primary && input.replay->dirty > 0) &&
                      !(input.syncpos &&
                        CompareReplayPlaces(*input.syncpos, *input.replay) > 0);

    StateFacts facts;
    facts.disk_present = disk_present;
    facts.designated_here = designated_here;
    facts.designated_exists = designated.has_value();
    facts.designated_alive = designated && alive(*designated);
    facts.module_loaded = !host.is_local || options.module_loaded;
    facts.fetch_reached = fetch_reached;
    facts.replay_reached = replay_reached;
    facts.work_reached = work_reached;
    facts.primary_emergency = primary_emergency;
    facts.actual_primaries = status.actual_primaries.size();
    DeriveStates(facts, &host);

    // Rates published by the module (bytes per second).
    const std::string actual = in + "actual-" + host.name + "/";
    auto rate = [&](const char* name) -> std::optional<double> {
      const auto value = reader.Count(host.name, actual + name);
      if (!value) return std::nullopt;
      return static_cast<double>(*value);
    };
    host.sync.speed.rate_bytes_per_second = rate(kActualSyncRate);
    host.fetch.speed.rate_bytes_per_second = rate(kActualFetchRate);
    host.replay.speed.rate_bytes_per_second = rate(kActualReplayRate);
    host.sync.speed.eta_seconds =
        EtaSeconds(host.sync.rest_bytes, host.sync.speed.rate_bytes_per_second);
    if (host.fetch.rest_bytes) {
      host.fetch.speed.eta_seconds = EtaSeconds(
          *host.fetch.rest_bytes, host.fetch.speed.rate_bytes_per_second);
    }
    if (host.replay.rest_bytes) {
      host.replay.speed.eta_seconds = EtaSeconds(
          *host.replay.rest_bytes, host.replay.speed.rate_bytes_per_second);
    }
  }

  // Communication as the local host sees it.
  std::vector<std::string> relevant;
  if (designated && *designated != options.host) {
    relevant.push_back(*designated);
  } else {
    for (const std::string& member : members) {
      if (member != options.host) relevant.push_back(member);
    }
  }
  for (const std::string& peer : relevant) {
    if (!alive(peer)) status.unreachable_peers.push_back(peer);
  }
  status.comm_state = relevant.empty() ? CommState::kAlone
                      : status.unreachable_peers.empty()
                          ? CommState::kConnected
                          : CommState::kUnreachable;

  for (const std::string& name : names) {
    ReadMessages(tree, in + "actual-" + name, name, &status.messages);
  }
  status.messages.insert(status.messages.end(), problems.begin(),
                         problems.end());
  return status;
}

ClusterStatus ComputeClusterStatus(const TreeDir& tree,
                                   const std::vector<std::string>& resources,
                                   const StatusOptions& options) {
  ClusterStatus status;
  status.host = options.host;
  status.uuid = tree.ReadLink("uuid");
  status.observed_at_ns = options.now_ns;
  status.window_seconds = options.window_seconds;
  status.module_loaded = options.module_loaded;
  std::vector<Message> unused;
  Reader reader(tree, &unused);
  std::set<std::string> hosts;
  for (const std::string& name : ClusterHosts(tree)) {
    ClusterHost host;
    host.name = name;
    host.ip = reader.Link("ips/ip-" + name).value_or("");
    const uint64_t beat = HeartbeatStamp(reader, name);
    if (beat != 0) host.heartbeat_age_seconds = Seconds(options.now_ns, beat);
    host.alive = beat != 0 && Seconds(options.now_ns, beat) <=
                                  static_cast<double>(options.window_seconds);
    status.hosts.push_back(std::move(host));
    hosts.insert(name);
  }
  hosts.insert(options.host);
  for (const std::string& host : hosts) {
    ReadMessages(tree, "actual-" + host, host, &status.messages);
  }
  for (const std::string& resource : resources) {
    status.resources.push_back(ComputeResourceStatus(tree, resource, options));
  }
  return status;
}

void ApplySample(const ClusterStatus& earlier, ClusterStatus& later) {
  if (later.observed_at_ns <= earlier.observed_at_ns) return;
  const double seconds = Seconds(later.observed_at_ns, earlier.observed_at_ns);
  auto rate = [seconds](std::optional<uint64_t> before,
                        std::optional<uint64_t> after, Speed* speed) {
    if (!before || !after || *after < *before) return;
    speed->rate_bytes_per_second =
        static_cast<double>(*after - *before) / seconds;
  };
  for (ResourceStatus& resource : later.resources) {
    const auto old_resource = std::find_if(
        earlier.resources.begin(), earlier.resources.end(),
        [&](const ResourceStatus& r) { return r.name == resource.name; });
    if (old_resource == earlier.resources.end()) continue;
    for (HostStatus& host : resource.hosts) {
      const auto old = std::find_if(
          old_resource->hosts.begin(), old_resource->hosts.end(),
          [&](const HostStatus& h) { return h.name == host.name; });
      if (old == old_resource->hosts.end()) continue;
      rate(old->sync.position_bytes, host.sync.position_bytes,
           &host.sync.speed);
      rate(old->fetch.history_position_bytes, host.fetch.history_position_bytes,
           &host.fetch.speed);
      rate(old->replay.history_position_bytes,
           host.replay.history_position_bytes, &host.replay.speed);
      host.sync.speed.eta_seconds = EtaSeconds(
          host.sync.rest_bytes, host.sync.speed.rate_bytes_per_second);
      if (host.fetch.rest_bytes) {
        host.fetch.speed.eta_seconds = EtaSeconds(
            *host.fetch.rest_bytes, host.fetch.speed.rate_bytes_per_second);
      }
      if (host.replay.rest_bytes) {
        host.replay.speed.eta_seconds = EtaSeconds(
            *host.replay.rest_bytes, host.replay.speed.rate_bytes_per_second);
      }
    }
  }
}

}  // namespace mars::cli
