// Hello payload and version/feature negotiation (docu/wire-protocol.md).
#include "core/wire/hello.h"

#include "core/base/utility.h"
#include "core/wire/payload_coding.h"

namespace mars {
namespace wire {
namespace {

Status Validate(const Hello& h) {
  if (h.protocol_min == 0 || h.protocol_min > h.protocol_max) {
    return Status(StatusCode::kInvalidArgument,
                  "hello: invalid protocol version range");
  }
  if (!IsValidHostName(h.host_name)) {
    return Status(StatusCode::kInvalidArgument, "hello: invalid host name");
  }
  return Status::Ok();
}

}  // namespace

Status Hello::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.Fail(Validate(*this));
  w.U16(protocol_min);
  w.U16(protocol_max);
  w.U64(features);
  w.String16(host_name, 1, kMaxHostNameSize, "hello: invalid host name");
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
  r.String16(&host_name, 1, kMaxHostNameSize, "hello: invalid host name");
  r.String16(&cluster_id, 1, kMaxClusterIdSize,
             "hello: cluster id empty or too long");
  r.String16(&module_version, 0, kMaxModuleVersionSize,
             "hello: module version too long");
  if (r.ok()) r.Fail(Validate(*this));
  return r.Finish("hello: trailing bytes after payload");
}

Result<Agreement> Negotiate(const Hello& local, const Hello& remote) {
  if (local.cluster_id != remote.cluster_id) {
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
