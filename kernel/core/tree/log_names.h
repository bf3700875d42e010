// Logfile names, version-link names, replay links and fetch positions of the
// /mars tree (docu/mars-tree.md §2.2, §3.7 "Replay links" and §3.8 "Fetch
// positions").
//
//   logfile name      log-NNNNNNNNN-HOST       (N: 9 digits, 1..999999999)
//   version link name version-NNNNNNNNN-HOST
//   replay link value log-NNNNNNNNN-HOST,POS,DIRTYLEN
//   fetch-pos value   log-NNNNNNNNN-HOST,BYTES
//
// Parsers are strict (one text form per value) and never read outside the
// input; every error is kInvalidArgument or kOutOfRange with a static message.
#ifndef MARS_CORE_TREE_LOG_NAMES_H_
#define MARS_CORE_TREE_LOG_NAMES_H_

#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/tree/names.h"

namespace mars {
namespace tree {

constexpr uint32_t kMinLogfileNumber = 1;
constexpr uint32_t kMaxLogfileNumber = 999999999;
constexpr size_t kLogfileNumberDigits = 9;

// A logfile number and a host. In a logfile name the host created the
// logfile; in a version link name it is the host that wrote the link.
struct LogfileName {
  uint32_t number = 0;
  HostName host;
  bool operator==(const LogfileName& o) const {
    return number == o.number && host == o.host;
  }
  bool operator!=(const LogfileName& o) const { return !(*this == o); }
};

// "log-NNNNNNNNN-HOST". Errors: "logfile name does not start with 'log-'",
// "logfile number is not exactly 9 digits", "logfile number is not followed
// by '-'", kOutOfRange "logfile number is 0", or a host-name error.
Status ParseLogfileName(Slice text, LogfileName* name);
// Appends "log-NNNNNNNNN-HOST". kOutOfRange for a number outside
// 1..999999999, kInvalidArgument for an empty host.
Status AppendLogfileName(const LogfileName& name, Bytes* out);

// "version-NNNNNNNNN-HOST", the same rules with the prefix "version-".
Status ParseVersionLinkName(Slice text, LogfileName* name);
Status AppendVersionLinkName(const LogfileName& name, Bytes* out);

// The value of replay-HOST: how far HOST has applied the logfile `log` to
// its data disk. Every record ending at or before `position` is applied;
// the `dirty_length` bytes after `position` may be partially applied (to be
// replayed again after a crash). position + dirty_length fits in a u64.
struct ReplayLink {
  LogfileName log;
  uint64_t position = 0;
  uint64_t dirty_length = 0;
};

// "log-NNNNNNNNN-HOST,POS,DIRTYLEN" with canonical decimals (digits only,
// no sign, no spaces, no leading zero except "0"). Errors: "replay link has
// fewer than three fields", the logfile-name errors, "replay link position
// is not a canonical decimal", kOutOfRange "replay link position exceeds
// 2^64-1", the same two for the dirty length, and kOutOfRange "replay link
// position plus dirty length exceeds 2^64-1".
Status ParseReplayLink(Slice text, ReplayLink* link);
// Appends the canonical text; the same range checks as the parser.
Status AppendReplayLink(const ReplayLink& link, Bytes* out);

// The value of actual-HOST/fetch-pos: the newest logfile HOST holds a local
// copy of, and how many bytes of it the copy holds.
struct FetchPosition {
  LogfileName log;
  uint64_t bytes = 0;
};

// "log-NNNNNNNNN-HOST,BYTES" with a canonical decimal. Errors: "fetch
// position has fewer than two fields", the logfile-name errors, "fetch
// position byte count is not a canonical decimal" (also for a third field:
// "...,5,0"), kOutOfRange "fetch position byte count exceeds 2^64-1".
Status ParseFetchPosition(Slice text, FetchPosition* position);
// Appends the canonical text; the logfile-name errors of AppendLogfileName.
Status AppendFetchPosition(const FetchPosition& position, Bytes* out);

}  // namespace tree
}  // namespace mars

#endif  // MARS_CORE_TREE_LOG_NAMES_H_
