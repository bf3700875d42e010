// Hello, the first message each side sends, and Negotiate(), which decides the
// protocol version and features of a connection (docu/wire-protocol.md,
// "Hello and negotiation").
#ifndef MARS_CORE_WIRE_HELLO_H_
#define MARS_CORE_WIRE_HELLO_H_

#include <stdint.h>

#include "core/base/result.h"
#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

// Decoded slices point into the payload passed to Decode(); encoded ones into
// the caller's memory. Either must outlive the Hello.
struct Hello {
  static constexpr MessageType kType = MessageType::kHello;

  uint16_t protocol_min = kMinProtocolVersion;  // >= 1
  uint16_t protocol_max = kProtocolVersion;     // >= protocol_min
  uint64_t features = 0;                        // kFeature* bits
  Slice host_name;  // tree::ValidateHostName() (docu/mars-tree.md §2.1)
  Slice cluster_id;      // text of /mars/uuid, 1..kMaxClusterIdSize bytes
  Slice module_version;  // free text, 0..kMaxModuleVersionSize bytes

  // Appends the payload to *out; on error *out is unchanged.
  Status Encode(Bytes* out) const;
  // Replaces *this by the payload's contents; strict (docu: no trailing
  // bytes, every field in range).
  Status Decode(Slice payload);
};

// What both sides of a connection use.
struct Agreement {
  uint16_t protocol_version = 0;
  uint64_t features = 0;
};

// The cluster id a host sends while it joins a cluster (it has no
// /mars/uuid yet). Never the text of a /mars/uuid (marsadm writes hex).
constexpr char kJoiningClusterId[] = "(joining)";

// The highest protocol version both speak and the features both have.
// Errors: kOutOfRange when the version ranges do not overlap,
// kInvalidArgument when the peer belongs to another cluster (cluster ids
// differ, unless exactly one side is joining: kJoiningClusterId), when both
// are joining, or when the peer claims our own host name. Context: any.
Result<Agreement> Negotiate(const Hello& local, const Hello& remote);

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_HELLO_H_
