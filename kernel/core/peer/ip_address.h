// Numeric IP addresses as /mars stores them in ips/ip-HOST
// (docu/mars-tree.md §1): dotted-quad IPv4 ("192.168.1.10") or IPv6 text
// ("fd00::1", "::ffff:10.0.0.1"), no host names, no zone index.
#ifndef MARS_CORE_PEER_IP_ADDRESS_H_
#define MARS_CORE_PEER_IP_ADDRESS_H_

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/platform_net.h"

namespace mars {
namespace peer {

// Parses `text` into out->family and out->bytes (out->port unchanged).
// kInvalidArgument "not a numeric IPv4 or IPv6 address" otherwise.
// Context: any.
Status ParseIpAddress(Slice text, platform::NetAddress* out);

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_IP_ADDRESS_H_
