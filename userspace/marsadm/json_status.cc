#include "json_status.h"

#include <cmath>

#include "status_text.h"

namespace mars::cli {
namespace {

using Json = nlohmann::ordered_json;

template <class T>
Json Nullable(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

// Seconds with millisecond precision (or null).
Json Seconds(const std::optional<double>& seconds) {
  if (!seconds) return nullptr;
  return std::round(*seconds * 1000.0) / 1000.0;
}

Json PlaceJson(const std::optional<LogPlace>& place) {
  if (!place) return nullptr;
  return Json{{"logfile", place->logfile},
              {"number", place->number},
              {"origin", place->origin},
              {"position_bytes", place->position}};
}

Json SpeedFields(Json object, const Speed& speed) {
  object["rate_bytes_per_second"] =
      speed.rate_bytes_per_second
          ? Json(std::round(*speed.rate_bytes_per_second))
          : Json(nullptr);
  object["eta_seconds"] = Nullable(speed.eta_seconds);
  return object;
}

Json MessagesJson(const std::vector<Message>& messages) {
  Json array = Json::array();
  for (const Message& m : messages) {
    array.push_back(
        Json{{"host", m.host.empty() ? Json(nullptr) : Json(m.host)},
             {"severity", SeverityName(m.severity)},
             {"source", MessageSourceName(m.source)},
             {"key", m.key},
             {"text", m.text},
             {"stamp_ns", m.stamp_ns == 0 ? Json(nullptr) : Json(m.stamp_ns)}});
  }
  return array;
}

Json HostJson(const HostStatus& h) {
  Json host;
  host["name"] = h.name;
  host["is_local"] = h.is_local;
  host["member"] = h.member;
  host["disk"] = Nullable(h.disk);
  host["device"] = Nullable(h.device);
  host["role"] = RoleName(h.role);
  host["disk_state"] = DiskStateName(h.disk_state);
  host["disk_state_text"] = DiskStateToken(h);
  host["repl_state"] = ReplStateName(h.repl_state);
  host["flags"] = h.flags;
  host["alive"] = h.alive;
  host["heartbeat_age_seconds"] = Seconds(h.heartbeat_age_seconds);
  host["consistent"] = h.consistent;
  host["orphan"] = Nullable(h.orphan);
  host["behind_bytes"] = Nullable(h.behind_bytes);
  host["todo"] = Json{{"attach", h.todo.attach},
                      {"fetch", h.todo.fetch},
                      {"sync", h.todo.sync},
                      {"replay", h.todo.replay}};
  host["actual"] = Json{{"attached", h.actual.attached},
                        {"fetching", h.actual.fetching},
                        {"syncing", h.actual.syncing},
                        {"replaying", h.actual.replaying},
                        {"primary", h.actual.primary},
                        {"emergency", h.actual.emergency},
                        {"open_count", Nullable(h.actual.open_count)},
                        {"replay_code", Nullable(h.actual.replay_code)},
                        {"disk_error", Nullable(h.actual.disk_error)}};
  host["sync"] = SpeedFields(Json{{"size_bytes", h.sync.size_bytes},
                                  {"position_bytes", h.sync.position_bytes},
                                  {"rest_bytes", h.sync.rest_bytes},
                                  {"percent", h.sync.percent},
                                  {"reached", h.sync.reached}},
                             h.sync.speed);
  host["fetch"] = SpeedFields(
      Json{{"place", PlaceJson(h.fetch.place)},
           {"history_position_bytes", Nullable(h.fetch.history_position_bytes)},
           {"rest_bytes", Nullable(h.fetch.rest_bytes)},
           {"lag_seconds", Seconds(h.fetch.lag_seconds)},
           {"reached", h.fetch.reached}},
      h.fetch.speed);
  host["replay"] = SpeedFields(
      Json{
          {"place", PlaceJson(h.replay.place)},
          {"dirty_bytes", h.replay.dirty_bytes},
          {"history_position_bytes", Nullable(h.replay.history_position_bytes)},
          {"rest_bytes", Nullable(h.replay.rest_bytes)},
          {"lag_seconds", Seconds(h.replay.lag_seconds)},
          {"reached", h.replay.reached}},
      h.replay.speed);
  return host;
}

Json ResourceJson(const ResourceStatus& r, const std::string& local_host) {
  const HostStatus& local = r.Host(local_host);
  Json resource;
  resource["name"] = r.name;
  resource["size_bytes"] = Nullable(r.size_bytes);
  resource["designated_primary"] = Nullable(r.designated_primary);
  resource["actual_primaries"] = r.actual_primaries;
  resource["split_brain"] =
      Json{{"detected", r.split_brain}, {"hosts", r.split_brain_hosts}};
  // The local host's view line, field by field.
  resource["role"] = RoleName(local.role);
  resource["disk_state"] = DiskStateName(local.disk_state);
  resource["repl_state"] = ReplStateName(local.repl_state);
  resource["flags"] = local.flags;
  resource["primary_node"] = PrimaryNodeToken(r);
  resource["comm_state"] = CommStateName(r.comm_state);
  resource["unreachable_peers"] = r.unreachable_peers;
  resource["view"] = ViewLine(r, local_host);
  Json hosts = Json::array();
  for (const HostStatus& h : r.hosts) hosts.push_back(HostJson(h));
  resource["hosts"] = std::move(hosts);
  resource["messages"] = MessagesJson(r.messages);
  return resource;
}

}  // namespace

nlohmann::ordered_json StatusToJson(const ClusterStatus& status,
                                    const char* generator) {
  Json doc;
  doc["schema_version"] = kStatusSchemaVersion;
  doc["generator"] = generator;
  doc["host"] = status.host;
  doc["cluster_uuid"] = Nullable(status.uuid);
  doc["observed_at_ns"] = status.observed_at_ns;
  doc["window_seconds"] = status.window_seconds;
  doc["module_loaded"] = status.module_loaded;
  Json hosts = Json::array();
  for (const ClusterHost& h : status.hosts) {
    hosts.push_back(
        Json{{"name", h.name},
             {"ip", h.ip},
             {"alive", h.alive},
             {"heartbeat_age_seconds", Seconds(h.heartbeat_age_seconds)}});
  }
  doc["cluster_hosts"] = std::move(hosts);
  Json resources = Json::array();
  for (const ResourceStatus& r : status.resources) {
    resources.push_back(ResourceJson(r, status.host));
  }
  doc["resources"] = std::move(resources);
  doc["messages"] = MessagesJson(status.messages);
  return doc;
}

}  // namespace mars::cli
