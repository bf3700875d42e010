// LogHistory: the logfiles of one resource as this host's tree shows them —
// local logfile sizes (logfiles are never replicated as entries, so only the
// local ones are known), the final lengths recorded in version links, the
// positions in replay links and fetch-pos links — and the version chains of
// its hosts. The status
// model asks it for positions, rests and split brain (status_model.h).
#ifndef MARS_USERSPACE_MARSADM_LOG_HISTORY_H_
#define MARS_USERSPACE_MARSADM_LOG_HISTORY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tree/version_link.h"
#include "status_model.h"
#include "tree_dir.h"

namespace mars::cli {

// A parsed replay-HOST (or syncpos-HOST) link.
struct ReplayPlace {
  uint32_t number = 0;
  std::string origin;
  uint64_t position = 0;
  uint64_t dirty = 0;
};

// Parses a replay link value with the core parser (core/tree/log_names.h).
std::optional<ReplayPlace> ParseReplayPlace(const std::string& value);
// Parses actual-HOST/fetch-pos, "log-NNNNNNNNN-ORIGIN,BYTES" (the newest
// logfile HOST holds a local copy of and its bytes), with the core parser
// (tree::ParseFetchPosition in core/tree/log_names.h).
std::optional<LogPlace> ParseFetchPlace(const std::string& value);
// -1, 0, 1 as `a` is before, at, after `b` (number, then position).
int CompareReplayPlaces(const ReplayPlace& a, const ReplayPlace& b);

// How far one host is along the history, from its replay link.
struct HostLogProgress {
  std::optional<uint64_t> behind;          // known bytes after replay pos
  std::optional<uint64_t> replay_history;  // upstream's replay-pos
  // Local host only:
  std::optional<uint64_t> replay_rest;
  std::optional<uint64_t> fetch_rest;
  std::optional<uint64_t> fetch_history;
  std::optional<LogPlace> fetch_place;  // end of the newest local log
  uint64_t fetch_mtime_ns = 0;          // its modification time
  bool orphan = false;                  // local host only
};

class LogHistory {
 public:
  // Reads the log-* files and version-* links of `resource_dir`. Entries
  // that do not parse are reported as marsadm messages in `problems`.
  static LogHistory Load(const TreeDir& tree, const std::string& resource_dir,
                         std::vector<Message>* problems);

  // Records that logfile (number, origin) is at least `end` bytes long
  // (from a replay link: position + dirty length).
  void NoteLength(uint32_t number, const std::string& origin, uint64_t end);

  // The progress of `host` whose replay link is `replay`, following the
  // lineage of `host` (its own version links, then the designated
  // primary's). Local-only fields are filled when `local` is true.
  HostLogProgress Measure(const ReplayPlace& replay, const std::string& host,
                          const std::optional<std::string>& primary,
                          bool local) const;

  // The fetch progress of a peer whose local copies reach `fetched` (its
  // fetch-pos link), along the lineage of `host` as in Measure.
  struct FetchMeasure {
    uint64_t history = 0;  // as HostLogProgress::fetch_history
    uint64_t rest = 0;     // known bytes after `fetched`
  };
  FetchMeasure MeasureFetch(const LogPlace& fetched, const std::string& host,
                            const std::optional<std::string>& primary) const;

  // Hosts whose version chains diverge from another host's (sorted), among
  // `hosts`. A chain that does not verify is cut to its newest verified part
  // and reported in `problems`.
  std::vector<std::string> SplitBrainHosts(
      const std::vector<std::string>& hosts,
      std::vector<Message>* problems) const;

 private:
  struct LogInfo {
    std::optional<uint64_t> local_size;
    uint64_t local_mtime_ns = 0;
    uint64_t known_length = 0;  // max of every evidence
  };
  using Key = std::pair<uint32_t, std::string>;  // number, origin

  bool HasNumber(uint32_t number) const;
  // The known lengths of the logfiles before `number` in the history of
  // `host`, back to the first unknown one.
  uint64_t LengthsBefore(uint32_t number, const std::string& host,
                         const std::optional<std::string>& primary) const;
  // The origin of logfile `number` in the history of `host`.
  std::optional<std::string> OriginFor(
      uint32_t number, const std::string& host,
      const std::optional<std::string>& primary) const;
  const LogInfo* Find(uint32_t number, const std::string& origin) const;

  std::map<Key, LogInfo> logs_;
  // Per writer host: its version links by number.
  std::map<std::string, std::map<uint32_t, tree::VersionLink>> versions_;
};

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_LOG_HISTORY_H_
