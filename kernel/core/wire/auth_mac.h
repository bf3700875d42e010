// The authentication proof of the mars peer protocol (docu/wire-protocol.md,
// "Authentication"): exactly which bytes each side MACs with HMAC-SHA256
// under the shared cluster secret, and a constant-time MAC comparison.
#ifndef MARS_CORE_WIRE_AUTH_MAC_H_
#define MARS_CORE_WIRE_AUTH_MAC_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

// The side of a connection: the client opened it, the server accepted it.
enum class Role : uint8_t {
  kClient = 1,
  kServer = 2,
};

// The 16-byte domain-separation label that starts every MAC input.
constexpr char kAuthLabel[] = "mars-wire-auth-1";
constexpr size_t kAuthLabelSize = sizeof(kAuthLabel) - 1;
static_assert(kAuthLabelSize == 16, "the label is 16 bytes on the wire");

// Everything a connection's proofs are bound to, identical on both sides.
struct AuthTranscript {
  uint8_t client_nonce[kNonceSize] = {};
  uint8_t server_nonce[kNonceSize] = {};
  uint8_t client_hello_hash[kDigestSize] = {};  // SHA-256 of the Hello payload
  uint8_t server_hello_hash[kDigestSize] = {};
  Slice client_host;  // Hello.host_name of each side
  Slice server_host;
};

// The largest MAC input: label, role, 2 nonces, 2 hashes, 2 host names.
constexpr size_t kMaxAuthMacInputSize = kAuthLabelSize + 1 + 2 * kNonceSize +
                                        2 * kDigestSize +
                                        2 * (2 + kMaxHostNameSize);

// Writes the MAC input for a proof sent by `sender` into `buf` and returns
// its size (docu/wire-protocol.md lists the bytes), or 0 when a host name is
// longer than kMaxHostNameSize.
size_t BuildAuthMacInput(Role sender, const AuthTranscript& transcript,
                         uint8_t buf[kMaxAuthMacInputSize]);

// HMAC-SHA256(secret, BuildAuthMacInput(sender, transcript)) into `mac`.
// Errors: kInvalidArgument for an oversized host name; the platform's
// kNoMemory/kUnavailable. Context: may sleep (platform::HmacSha256).
Status ComputeAuthMac(Slice secret, Role sender,
                      const AuthTranscript& transcript, uint8_t mac[kMacSize]);

// True when a[0, size) == b[0, size). The time taken depends on `size` only,
// never on where the bytes differ. Context: any.
bool ConstantTimeEqual(const uint8_t* a, const uint8_t* b, size_t size);

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_AUTH_MAC_H_
