#include "log_history.h"

#include <algorithm>

#include "core/base/slice.h"
#include "core/tree/log_names.h"
#include "tree_read.h"

namespace mars::cli {
namespace {

Message Problem(const std::string& host, const std::string& key,
                const std::string& text) {
  Message message;
  message.host = host;
  message.severity = Severity::kWarning;
  message.source = MessageSource::kMarsadm;
  message.key = key;
  message.text = text;
  return message;
}

bool StartsWith(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

}  // namespace

std::optional<ReplayPlace> ParseReplayPlace(const std::string& value) {
  tree::ReplayLink link;
  if (!tree::ParseReplayLink(CoreSlice(value), &link).ok()) {
    return std::nullopt;
  }
  ReplayPlace place;
  place.number = link.log.number;
  place.origin = FromSlice(link.log.host.slice());
  place.position = link.position;
  place.dirty = link.dirty_length;
  return place;
}

std::optional<LogPlace> ParseFetchPlace(const std::string& value) {
  tree::FetchPosition fetched;
  if (!tree::ParseFetchPosition(CoreSlice(value), &fetched).ok()) {
    return std::nullopt;
  }
  const std::string origin = FromSlice(fetched.log.host.slice());
  return LogPlace{FormatLogfileName(fetched.log.number, origin),
                  fetched.log.number, origin, fetched.bytes};
}

int CompareReplayPlaces(const ReplayPlace& a, const ReplayPlace& b) {
  if (a.number != b.number) return a.number < b.number ? -1 : 1;
  if (a.position != b.position) return a.position < b.position ? -1 : 1;
  return 0;
}

LogHistory LogHistory::Load(const TreeDir& tree,
                            const std::string& resource_dir,
                            std::vector<Message>* problems) {
  LogHistory history;
  for (const std::string& name : tree.ListNames(resource_dir)) {
    const std::string path = resource_dir + "/" + name;
    if (StartsWith(name, "log-")) {
      tree::LogfileName log;
      const auto entry = tree.Stat(path);
      if (!entry || entry->type != EntryType::kFile) continue;
      if (!tree::ParseLogfileName(CoreSlice(name), &log).ok()) {
        problems->push_back(
            Problem("", "bad-logfile-name",
                    "ignoring " + path + ": not a logfile name"));
        continue;
      }
      LogInfo& info = history.logs_[{log.number, FromSlice(log.host.slice())}];
      info.local_size = entry->size;
      info.local_mtime_ns = entry->stamp_ns;
      info.known_length = std::max(info.known_length, entry->size);
    } else if (StartsWith(name, "version-")) {
      tree::LogfileName writer;
      if (!tree::ParseVersionLinkName(CoreSlice(name), &writer).ok()) {
        problems->push_back(
            Problem("", "bad-version-link", "ignoring " + path + ": bad name"));
        continue;
      }
      const std::optional<std::string> value = tree.ReadLink(path);
      if (!value) continue;
      tree::VersionLink link;
      const Status status = tree::ParseVersionLink(CoreSlice(*value), &link);
      if (!status.ok()) {
        problems->push_back(
            Problem(FromSlice(writer.host.slice()), "bad-version-link",
                    "ignoring " + path + ": " + status.message()));
        continue;
      }
      if (link.log.number != writer.number) {
        problems->push_back(
            Problem(FromSlice(writer.host.slice()), "bad-version-link",
                    "ignoring " + path + ": it describes logfile " +
                        std::to_string(link.log.number)));
        continue;
      }
      history.versions_[FromSlice(writer.host.slice())][writer.number] = link;
      LogInfo& info =
          history.logs_[{link.log.number, FromSlice(link.log.host.slice())}];
      info.known_length = std::max(info.known_length, link.length);
    }
  }
  return history;
}

void LogHistory::NoteLength(uint32_t number, const std::string& origin,
                            uint64_t end) {
  LogInfo& info = logs_[{number, origin}];
  info.known_length = std::max(info.known_length, end);
}

bool LogHistory::HasNumber(uint32_t number) const {
  const auto it = logs_.lower_bound({number, std::string()});
  return it != logs_.end() && it->first.first == number;
}

const LogHistory::LogInfo* LogHistory::Find(uint32_t number,
                                            const std::string& origin) const {
  const auto it = logs_.find({number, origin});
  return it == logs_.end() ? nullptr : &it->second;
}

std::optional<std::string> LogHistory::OriginFor(
    uint32_t number, const std::string& host,
    const std::optional<std::string>& primary) const {
  for (const std::string* writer : {&host, primary ? &*primary : nullptr}) {
    if (writer == nullptr) continue;
    const auto chain = versions_.find(*writer);
    if (chain == versions_.end()) continue;
    const auto link = chain->second.find(number);
    if (link != chain->second.end())
      return FromSlice(link->second.log.host.slice());
  }
  // No version link: the designated primary's logfile, else the longest.
  const LogInfo* best = nullptr;
  std::optional<std::string> origin;
  for (auto it = logs_.lower_bound({number, std::string()});
       it != logs_.end() && it->first.first == number; ++it) {
    if (primary && it->first.second == *primary) return *primary;
    if (best == nullptr || it->second.known_length > best->known_length) {
      best = &it->second;
      origin = it->first.second;
    }
  }
  return origin;
}

uint64_t LogHistory::LengthsBefore(
    uint32_t number, const std::string& host,
    const std::optional<std::string>& primary) const {
  uint64_t base = 0;
  for (uint32_t n = number - 1; n >= tree::kMinLogfileNumber; --n) {
    const std::optional<std::string> origin = OriginFor(n, host, primary);
    const LogInfo* info = origin ? Find(n, *origin) : nullptr;
    if (info == nullptr) break;
    base += info->known_length;
  }
  return base;
}

LogHistory::FetchMeasure LogHistory::MeasureFetch(
    const LogPlace& fetched, const std::string& host,
    const std::optional<std::string>& primary) const {
  FetchMeasure measure;
  measure.history =
      LengthsBefore(fetched.number, host, primary) + fetched.position;
  for (uint32_t n = fetched.number; n <= tree::kMaxLogfileNumber; ++n) {
    std::optional<std::string> origin = fetched.origin;
    if (n != fetched.number) {
      if (!HasNumber(n)) break;
      origin = OriginFor(n, host, primary);
      if (!origin) break;
    }
    const LogInfo* info = Find(n, *origin);
    const uint64_t known = info != nullptr ? info->known_length : 0;
    if (n == fetched.number) {
      measure.rest += known > fetched.position ? known - fetched.position : 0;
    } else {
      measure.rest += known;
    }
  }
  return measure;
}

HostLogProgress LogHistory::Measure(const ReplayPlace& replay,
                                    const std::string& host,
                                    const std::optional<std::string>& primary,
                                    bool local) const {
  HostLogProgress progress;
  // Lengths before the replay logfile, back to the first unknown number.
  const uint64_t base = LengthsBefore(replay.number, host, primary);
  progress.replay_history = base + replay.position;

  uint64_t known_total = 0;
  uint64_t fetched_total = 0;
  uint64_t replay_rest = 0;
  uint64_t fetch_rest = 0;
  bool first_present = false;
  for (uint32_t n = replay.number; n <= tree::kMaxLogfileNumber; ++n) {
    std::optional<std::string> origin = replay.origin;
    if (n != replay.number) {
      if (!HasNumber(n)) break;
      origin = OriginFor(n, host, primary);
      if (!origin) break;
    }
    const LogInfo* info = Find(n, *origin);
    const uint64_t known = info != nullptr ? info->known_length : 0;
    const uint64_t fetched =
        info != nullptr && info->local_size ? *info->local_size : 0;
    known_total += known;
    fetched_total += fetched;
    if (n == replay.number) {
      first_present = info != nullptr && info->local_size.has_value();
      replay_rest += fetched > replay.position ? fetched - replay.position : 0;
    } else {
      replay_rest += fetched;
    }
    fetch_rest += known > fetched ? known - fetched : 0;
    if (info != nullptr && info->local_size) {
      progress.fetch_place =
          LogPlace{FormatLogfileName(n, *origin), n, *origin, fetched};
      progress.fetch_mtime_ns = info->local_mtime_ns;
    }
  }
  progress.behind =
      known_total > replay.position ? known_total - replay.position : 0;
  if (local) {
    progress.replay_rest = replay_rest;
    progress.fetch_rest = fetch_rest;
    progress.fetch_history = base + fetched_total;
    // Orphan: the logfile to replay is gone (a later one is here instead)
    // or shorter than the position already replayed.
    const LogInfo* first = Find(replay.number, replay.origin);
    if (first_present) {
      progress.orphan = *first->local_size < replay.position;
    } else {
      progress.orphan = progress.fetch_place.has_value();
    }
  } else {
    progress.fetch_place.reset();
    progress.fetch_mtime_ns = 0;
  }
  return progress;
}

std::vector<std::string> LogHistory::SplitBrainHosts(
    const std::vector<std::string>& hosts,
    std::vector<Message>* problems) const {
  std::map<std::string, std::vector<tree::VersionLink>> chains;
  for (const std::string& host : hosts) {
    const auto it = versions_.find(host);
    if (it == versions_.end()) continue;
    std::vector<tree::VersionLink> chain;
    for (const auto& [number, link] : it->second) chain.push_back(link);
    // Keep the newest part that verifies (older links may be deleted).
    size_t start = 0;
    while (start < chain.size() &&
           !tree::VerifyVersionChain(chain.data() + start, chain.size() - start)
                .ok()) {
      ++start;
    }
    if (start > 0) {
      problems->push_back(Problem(host, "version-chain-broken",
                                  "the version links of " + host +
                                      " do not form one chain; only "
                                      "the newest " +
                                      std::to_string(chain.size() - start) +
                                      " are compared"));
      chain.erase(chain.begin(), chain.begin() + static_cast<long>(start));
    }
    chains[host] = std::move(chain);
  }
  std::vector<std::string> split;
  for (auto a = chains.begin(); a != chains.end(); ++a) {
    for (auto b = std::next(a); b != chains.end(); ++b) {
      tree::ChainComparison comparison;
      const Status status = tree::CompareVersionChains(
          a->second.data(), a->second.size(), b->second.data(),
          b->second.size(), &comparison);
      if (status.ok() &&
          comparison.relation == tree::ChainRelation::kSplitBrain) {
        split.push_back(a->first);
        split.push_back(b->first);
      }
    }
  }
  std::sort(split.begin(), split.end());
  split.erase(std::unique(split.begin(), split.end()), split.end());
  return split;
}

}  // namespace mars::cli
