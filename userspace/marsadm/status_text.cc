#include "status_text.h"

#include <cinttypes>
#include <cstdio>

#include "report.h"

namespace mars::cli {
namespace {

std::string Format(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string Rate(const Speed& speed) {
  return speed.rate_bytes_per_second ? HumanBinary(static_cast<uint64_t>(
                                           *speed.rate_bytes_per_second)) +
                                           "/s"
                                     : "unknown";
}

std::string Remaining(const Speed& speed) {
  return speed.eta_seconds ? HumanDuration(*speed.eta_seconds) : "unknown";
}

std::string Lag(const std::optional<double>& seconds) {
  return seconds ? HumanDuration(static_cast<uint64_t>(*seconds)) : "unknown";
}

// "rest: ...  lag: ...  rate: ...  remaining: ..." of a known fetch.
std::string FetchLine(const FetchProgress& fetch) {
  return "rest: " + HumanBinary(fetch.rest_bytes.value_or(0)) +
         "  lag: " + Lag(fetch.lag_seconds) + "  rate: " + Rate(fetch.speed) +
         "  remaining: " + Remaining(fetch.speed);
}

}  // namespace

std::string HumanBinary(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB",
                                           "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    ++unit;
  }
  return Format("%.2f ", value) + kUnits[unit];
}

std::string HumanDuration(uint64_t seconds) {
  char buffer[64];
  const uint64_t days = seconds / 86400;
  const uint64_t rest = seconds % 86400;
  if (days > 0) {
    std::snprintf(buffer, sizeof(buffer), "%" PRIu64 "d %02u:%02u:%02u", days,
                  static_cast<unsigned>(rest / 3600),
                  static_cast<unsigned>(rest / 60 % 60),
                  static_cast<unsigned>(rest % 60));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%02u:%02u:%02u",
                  static_cast<unsigned>(rest / 3600),
                  static_cast<unsigned>(rest / 60 % 60),
                  static_cast<unsigned>(rest % 60));
  }
  return buffer;
}

std::string DiskStateToken(const HostStatus& host) {
  std::string token = DiskStateName(host.disk_state);
  if (host.disk_state == DiskState::kOutDated) {
    token += '[';
    if (host.outdated_fetch) token += 'F';
    if (host.outdated_replay) token += 'R';
    token += ']';
  }
  return token;
}

std::string CommStateToken(const ResourceStatus& resource) {
  std::string token = CommStateName(resource.comm_state);
  if (resource.comm_state == CommState::kUnreachable) {
    token += '[';
    for (size_t i = 0; i < resource.unreachable_peers.size(); ++i) {
      if (i > 0) token += ',';
      token += resource.unreachable_peers[i];
    }
    token += ']';
  }
  return token;
}

std::string PrimaryNodeToken(const ResourceStatus& resource) {
  return resource.designated_primary.value_or("(none)");
}

std::string ViewLine(const ResourceStatus& resource, const std::string& host) {
  const HostStatus& local = resource.Host(host);
  return resource.name + " " + DiskStateToken(local) + " " +
         ReplStateName(local.repl_state) + " " + local.flags + " " +
         RoleName(local.role) + " " + PrimaryNodeToken(resource) + " " +
         CommStateToken(resource);
}

void RenderView(const ResourceStatus& resource, const std::string& host,
                bool verbose, std::ostream& out) {
  const HostStatus& local = resource.Host(host);
  out << ViewLine(resource, host) << '\n';
  // As upstream: progress of an attached replica that is not the device.
  if (local.member && local.actual.attached && !local.actual.primary) {
    if (!local.sync.reached) {
      out << "    sync: " << HumanBinary(local.sync.position_bytes) << " / "
          << HumanBinary(local.sync.size_bytes) << " ("
          << Format("%.2f", local.sync.percent)
          << "%)  rest: " << HumanBinary(local.sync.rest_bytes)
          << "  rate: " << Rate(local.sync.speed)
          << "  remaining: " << Remaining(local.sync.speed) << '\n';
    }
    if (local.behind_bytes && *local.behind_bytes > 0) {
      if (local.fetch.rest_bytes) {
        out << "    fetch: " << FetchLine(local.fetch) << '\n';
      }
      out << "    replay: ";
      if (local.replay.place) {
        out << local.replay.place->logfile << " at "
            << local.replay.place->position << "  ";
      }
      out << "rest: "
          << (local.replay.rest_bytes ? HumanBinary(*local.replay.rest_bytes)
                                      : "unknown")
          << "  lag: " << Lag(local.replay.lag_seconds)
          << "  rate: " << Rate(local.replay.speed)
          << "  remaining: " << Remaining(local.replay.speed) << '\n';
    }
  }
  // The same fetch line for each peer that publishes its fetch position,
  // while it is behind.
  for (const HostStatus& peer : resource.hosts) {
    if (peer.is_local || !peer.member || !peer.fetch.rest_bytes ||
        !peer.behind_bytes || *peer.behind_bytes == 0) {
      continue;
    }
    out << "    fetch " << peer.name << ": " << FetchLine(peer.fetch) << '\n';
  }
  if (resource.split_brain) {
    out << "    split brain: the histories of";
    for (const std::string& name : resource.split_brain_hosts) {
      out << ' ' << name;
    }
    out << " diverge\n";
  }
  for (const Message& message : resource.messages) {
    if (message.severity == Severity::kInfo && !verbose) continue;
    out << "    " << SeverityName(message.severity);
    if (!message.host.empty()) out << ' ' << message.host;
    out << ": " << OneLine(message.key) << ": " << OneLine(message.text)
        << '\n';
  }
}

}  // namespace mars::cli
