#include "log_retention.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

namespace mars::cli {
namespace {

// The smallest logfile number of all members' replay links; 0 if a member
// has no valid replay link (nothing is deletable then).
uint32_t OldestReplayNumber(const ResourceTree& res) {
  const auto members = res.Members();
  if (members.empty()) return 0;
  uint32_t oldest = std::numeric_limits<uint32_t>::max();
  for (const std::string& member : members) {
    const auto replay = res.Replay(member);
    if (!replay) return 0;
    oldest = std::min(oldest, replay->log.number);
  }
  return oldest;
}

// The host a version link belongs to (version-NNNNNNNNN-HOST).
std::string HostOf(const VersionEntry& link) {
  return link.file.substr(std::string("version-").size() + tree::kLogfileNumberDigits + 1);
}

// Adds version links numbered below `below` except each host's newest.
void AddOldVersionLinks(const ResourceTree& res, uint32_t below, LogDeletion* deletion) {
  std::map<std::string, uint32_t> newest;  // host suffix -> newest number
  const auto links = res.AllVersionLinks();
  for (const VersionEntry& link : links) {
    newest[HostOf(link)] = std::max(newest[HostOf(link)], link.number);
  }
  for (const VersionEntry& link : links) {
    if (link.number < below && link.number != newest[HostOf(link)]) {
      deletion->version_links.push_back(link.file);
    }
  }
}

}  // namespace

LogDeletion ReplayedLogfiles(const ResourceTree& res, bool all) {
  LogDeletion deletion;
  const uint32_t limit = OldestReplayNumber(res);
  uint32_t highest = 0;
  for (const LogfileEntry& log : res.Logfiles()) {
    if (log.name.number >= limit) break;
    if (!all && highest != 0 && log.name.number != highest) break;
    highest = log.name.number;
    deletion.logfiles.push_back(log.file);
  }
  if (highest != 0) AddOldVersionLinks(res, highest, &deletion);
  return deletion;
}

LogDeletion UnreachableLogfiles(const ResourceTree& res, const std::string& primary) {
  LogDeletion deletion = ReplayedLogfiles(res, true);
  const std::set<std::string> already(deletion.logfiles.begin(), deletion.logfiles.end());
  std::map<uint32_t, VersionEntry> history;
  for (VersionEntry& link : res.VersionChain(primary)) history[link.number] = link;
  const auto replay = res.Replay(primary);
  for (const LogfileEntry& log : res.Logfiles()) {
    if (already.count(log.file) != 0) continue;
    const uint32_t n = log.name.number;
    bool foreign = false;
    if (auto it = history.find(n); it != history.end()) {
      foreign = it->second.link.log.host != log.name.host;
    } else if (replay && n == replay->log.number) {
      foreign = replay->log.host != log.name.host;
    } else if (replay && n > replay->log.number) {
      foreign = FromSlice(log.name.host.slice()) != primary;
    }
    if (foreign) deletion.logfiles.push_back(log.file);
  }
  const std::set<std::string> old_links(deletion.version_links.begin(),
                                        deletion.version_links.end());
  for (const VersionEntry& link : res.AllVersionLinks()) {
    if (old_links.count(link.file) != 0) continue;
    const auto it = history.find(link.number);
    if (it != history.end() && it->second.file != link.file &&
        it->second.value != link.value) {
      deletion.version_links.push_back(link.file);
    }
  }
  return deletion;
}

uint64_t TombstoneHorizon(const TreeDir& tree, const std::string& host) {
  uint64_t horizon = std::numeric_limits<uint64_t>::max();
  for (const std::string& peer : ClusterHosts(tree)) {
    if (peer == host) continue;
    const auto beat = tree.Stat("actual-" + peer + "/time");
    if (!beat || beat->tombstone) return 0;
    horizon = std::min(horizon, beat->stamp_ns);
  }
  return horizon;
}

}  // namespace mars::cli
