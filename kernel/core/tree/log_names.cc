// Logfile names, version link names, replay links and fetch positions
// (docu/mars-tree.md).
#include "core/tree/log_names.h"

#include "core/tree/text.h"

namespace mars {
namespace tree {
namespace {

struct NumberedNameForm {
  const char* prefix;
  const char* bad_prefix;
};

constexpr NumberedNameForm kLogfileForm = {
    "log-", "logfile name does not start with 'log-'"};
constexpr NumberedNameForm kVersionForm = {
    "version-", "version link name does not start with 'version-'"};

Status ParseNumberedName(const NumberedNameForm& form, Slice text,
                         LogfileName* name) {
  *name = LogfileName();
  const Slice prefix = Slice::FromCString(form.prefix);
  if (!text.StartsWith(prefix)) {
    return Status(StatusCode::kInvalidArgument, form.bad_prefix);
  }
  const Slice rest = text.RemovePrefix(prefix.size());
  uint32_t number = 0;
  for (size_t i = 0; i < kLogfileNumberDigits; ++i) {
    if (i >= rest.size() || !IsAsciiDigit(rest[i])) {
      return Status(StatusCode::kInvalidArgument,
                    "logfile number is not exactly 9 digits");
    }
    number = number * 10 + (rest[i] - '0');
  }
  if (rest.size() > kLogfileNumberDigits &&
      IsAsciiDigit(rest[kLogfileNumberDigits])) {
    return Status(StatusCode::kInvalidArgument,
                  "logfile number is not exactly 9 digits");
  }
  if (rest.size() == kLogfileNumberDigits ||
      rest[kLogfileNumberDigits] != '-') {
    return Status(StatusCode::kInvalidArgument,
                  "logfile number is not followed by '-'");
  }
  if (number < kMinLogfileNumber) {
    return Status(StatusCode::kOutOfRange, "logfile number is 0");
  }
  HostName host;
  Status s = host.Assign(rest.RemovePrefix(kLogfileNumberDigits + 1));
  if (!s.ok()) return s;
  name->number = number;
  name->host = host;
  return Status::Ok();
}

Status AppendNumberedName(const NumberedNameForm& form, const LogfileName& name,
                          Bytes* out) {
  if (name.number < kMinLogfileNumber || name.number > kMaxLogfileNumber) {
    return Status(StatusCode::kOutOfRange,
                  "logfile number is outside 1..999999999");
  }
  if (name.host.empty()) {
    return Status(StatusCode::kInvalidArgument, "host name is empty");
  }
  char digits[kLogfileNumberDigits];
  uint32_t n = name.number;
  for (size_t i = kLogfileNumberDigits; i > 0; --i) {
    digits[i - 1] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  const size_t start = out->size();
  Status s = AppendBytes(Slice::FromCString(form.prefix), out);
  if (s.ok()) s = AppendBytes(Slice(digits, sizeof(digits)), out);
  if (s.ok()) s = AppendChar('-', out);
  if (s.ok()) s = AppendBytes(name.host.slice(), out);
  if (!s.ok()) TruncateBytes(start, out);
  return s;
}

Status ParseField(Slice text, uint64_t* value, const char* invalid,
                  const char* too_big) {
  Status s = ParseDecimalU64(text, value);
  if (s.ok()) return s;
  if (s.code() == StatusCode::kOutOfRange) {
    return Status(StatusCode::kOutOfRange, too_big);
  }
  return Status(StatusCode::kInvalidArgument, invalid);
}

Status CheckReplayRange(const ReplayLink& link) {
  if (link.position > UINT64_MAX - link.dirty_length) {
    return Status(StatusCode::kOutOfRange,
                  "replay link position plus dirty length exceeds 2^64-1");
  }
  return Status::Ok();
}

}  // namespace

Status ParseLogfileName(Slice text, LogfileName* name) {
  return ParseNumberedName(kLogfileForm, text, name);
}

Status AppendLogfileName(const LogfileName& name, Bytes* out) {
  return AppendNumberedName(kLogfileForm, name, out);
}

Status ParseVersionLinkName(Slice text, LogfileName* name) {
  return ParseNumberedName(kVersionForm, text, name);
}

Status AppendVersionLinkName(const LogfileName& name, Bytes* out) {
  return AppendNumberedName(kVersionForm, name, out);
}

Status ParseReplayLink(Slice text, ReplayLink* link) {
  *link = ReplayLink();
  Slice log_text, rest, position_text, dirty_text;
  if (!SplitAt(text, ',', &log_text, &rest) ||
      !SplitAt(rest, ',', &position_text, &dirty_text)) {
    return Status(StatusCode::kInvalidArgument,
                  "replay link has fewer than three fields");
  }
  ReplayLink parsed;
  Status s = ParseLogfileName(log_text, &parsed.log);
  if (!s.ok()) return s;
  s = ParseField(position_text, &parsed.position,
                 "replay link position is not a canonical decimal",
                 "replay link position exceeds 2^64-1");
  if (!s.ok()) return s;
  s = ParseField(dirty_text, &parsed.dirty_length,
                 "replay link dirty length is not a canonical decimal",
                 "replay link dirty length exceeds 2^64-1");
  if (!s.ok()) return s;
  s = CheckReplayRange(parsed);
  if (!s.ok()) return s;
  *link = parsed;
  return Status::Ok();
}

Status AppendReplayLink(const ReplayLink& link, Bytes* out) {
  Status s = CheckReplayRange(link);
  if (!s.ok()) return s;
  const size_t start = out->size();
  s = AppendLogfileName(link.log, out);
  if (s.ok()) s = AppendChar(',', out);
  if (s.ok()) s = AppendDecimalU64(link.position, out);
  if (s.ok()) s = AppendChar(',', out);
  if (s.ok()) s = AppendDecimalU64(link.dirty_length, out);
  if (!s.ok()) TruncateBytes(start, out);
  return s;
}

Status ParseFetchPosition(Slice text, FetchPosition* position) {
  *position = FetchPosition();
  Slice log_text, bytes_text;
  if (!SplitAt(text, ',', &log_text, &bytes_text)) {
    return Status(StatusCode::kInvalidArgument,
                  "fetch position has fewer than two fields");
  }
  FetchPosition parsed;
  Status s = ParseLogfileName(log_text, &parsed.log);
  if (!s.ok()) return s;
  s = ParseField(bytes_text, &parsed.bytes,
                 "fetch position byte count is not a canonical decimal",
                 "fetch position byte count exceeds 2^64-1");
  if (!s.ok()) return s;
  *position = parsed;
  return Status::Ok();
}

Status AppendFetchPosition(const FetchPosition& position, Bytes* out) {
  const size_t start = out->size();
  Status s = AppendLogfileName(position.log, out);
  if (s.ok()) s = AppendChar(',', out);
  if (s.ok()) s = AppendDecimalU64(position.bytes, out);
  if (!s.ok()) TruncateBytes(start, out);
  return s;
}

}  // namespace tree
}  // namespace mars
