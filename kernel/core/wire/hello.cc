// Hello payload and version/feature negotiation (docu/wire-protocol.md).
#include "core/wire/hello.h"

#include "core/base/utility.h"
#include "core/wire/payload_coding.h"

namespace mars {
namespace wire {
namespace {

constexpr HostNameErrors kHostNameErrors = {
    "hello: host name is empty",
    "hello: host name is longer than 63 characters",
    "hello: host name starts with '-'",
    "hello: host name contains a character other than letters, digits, '_' "
    "and '-'",
    "hello: host name is reserved",
};

Status Validate(const Hello& h) {
  if (h.protocol_min == 0 || h.protocol_min > h.protocol_max) {
    return Status(StatusCode::kInvalidArgument,
                  "hello: invalid protocol version range");
  }
  return CheckHostName(h.host_name, kHostNameErrors);
}

}  // namespace

Status Hello::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.Fail(Validate(*this));
  w.U16(protocol_min);
  w.U16(protocol_max);
  w.U64(features);
  w.String16(host_name, 0, kMaxHostNameSize, kHostNameErrors.too_long);
  w.String16(cluster_id, 1, kMaxClusterIdSize,
             "hello: cluster id empty or too long");
  w.String16(module_version, 0, kMaxModuleVersionSize,
             "hello: module version too long");
  return w.Finish();
}

Status Hello::Decode(Slice payload) {
  PayloadReader r(payload, "hello: payload truncated");
  r.U16(&protocol_min);
  r.U16(&protocol_max);
  r.U64(&features);
  // Empty and over-long names are refused by Validate() and the bound, with
  // the precise message.
  r.String16(&host_name, 0, kMaxHostNameSize, kHostNameErrors.too_long);
  r.String16(&cluster_id, 1, kMaxClusterIdSize,
             "hello: cluster id empty or too long");
  r.String16(&module_version, 0, kMaxModuleVersionSize,
             "hello: module version too long");
  if (r.ok()) r.Fail(Validate(*this));
  return r.Finish("hello: trailing bytes after payload");
}

Result<Agreement> Negotiate(const Hello& local, const Hello& remote) {
  const Slice joining = Slice::FromCString(kJoiningClusterId);
  const bool local_joins = local.cluster_id == joining;
  const bool remote_joins = remote.cluster_id == joining;
  if (local_joins && remote_joins) {
    return Status(StatusCode::kInvalidArgument,
                  "hello: neither host is a cluster member");
  }
  if (local.cluster_id != remote.cluster_id && !local_joins && !remote_joins) {
    return Status(StatusCode::kInvalidArgument,
                  "hello: peer belongs to another cluster");
  }
  if (local.host_name == remote.host_name) {
    return Status(StatusCode::kInvalidArgument,
                  "hello: peer uses our own host name");
  }
  const uint16_t high = Min(local.protocol_max, remote.protocol_max);
  const uint16_t low = Max(local.protocol_min, remote.protocol_min);
  if (high < low) {
    return Status(StatusCode::kOutOfRange, "hello: no common protocol version");
  }
  Agreement agreement;
  agreement.protocol_version = high;
  agreement.features = local.features & remote.features;
  return agreement;
}

}  // namespace wire
}  // namespace mars
