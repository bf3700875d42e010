// Byte counts, resource size, switches and primary (docu/mars-tree.md).
#include "core/tree/values.h"

#include "core/tree/text.h"

namespace mars {
namespace tree {

Status ParseByteCount(Slice value, uint64_t* bytes) {
  return ParseDecimalU64(value, bytes);
}

Status AppendByteCount(uint64_t bytes, Bytes* out) {
  return AppendDecimalU64(bytes, out);
}

namespace {

Status CheckResourceSize(uint64_t bytes) {
  if (bytes == 0)
    return Status(StatusCode::kOutOfRange, "resource size is zero");
  if (bytes % kResourceSizeUnit != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "resource size is not a multiple of 4096 bytes");
  }
  return Status::Ok();
}

}  // namespace

Status ParseResourceSize(Slice value, uint64_t* bytes) {
  uint64_t parsed = 0;
  *bytes = 0;
  Status s = ParseDecimalU64(value, &parsed);
  if (!s.ok()) return s;
  s = CheckResourceSize(parsed);
  if (!s.ok()) return s;
  *bytes = parsed;
  return Status::Ok();
}

Status AppendResourceSize(uint64_t bytes, Bytes* out) {
  Status s = CheckResourceSize(bytes);
  if (!s.ok()) return s;
  return AppendDecimalU64(bytes, out);
}

Status ParseSwitch(Slice value, bool* on) {
  *on = false;
  if (value.size() == 1 && (value[0] == '0' || value[0] == '1')) {
    *on = value[0] == '1';
    return Status::Ok();
  }
  return Status(StatusCode::kInvalidArgument, "switch value is not '0' or '1'");
}

Slice FormatSwitch(bool on) { return Slice(on ? "1" : "0", 1); }

Status ParsePrimary(Slice value, HostName* host) {
  *host = HostName();
  if (value == Slice::FromCString(kNoPrimary)) return Status::Ok();
  return host->Assign(value);
}

Slice FormatPrimary(const HostName& host) {
  return host.empty() ? Slice::FromCString(kNoPrimary) : host.slice();
}

}  // namespace tree
}  // namespace mars
