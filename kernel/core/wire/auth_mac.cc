// MAC input and comparison of the authentication (docu/wire-protocol.md,
// "Authentication").
#include "core/wire/auth_mac.h"

#include "core/base/coding.h"
#include "core/platform.h"

namespace mars {
namespace wire {

size_t BuildAuthMacInput(Role sender, const AuthTranscript& t,
                         uint8_t buf[kMaxAuthMacInputSize]) {
  if (t.client_host.size() > kMaxHostNameSize ||
      t.server_host.size() > kMaxHostNameSize) {
    return 0;
  }
  size_t n = 0;
  __builtin_memcpy(buf + n, kAuthLabel, kAuthLabelSize);
  n += kAuthLabelSize;
  buf[n++] = static_cast<uint8_t>(sender);
  __builtin_memcpy(buf + n, t.client_nonce, kNonceSize);
  n += kNonceSize;
  __builtin_memcpy(buf + n, t.server_nonce, kNonceSize);
  n += kNonceSize;
  __builtin_memcpy(buf + n, t.client_hello_hash, kDigestSize);
  n += kDigestSize;
  __builtin_memcpy(buf + n, t.server_hello_hash, kDigestSize);
  n += kDigestSize;
  const Slice hosts[2] = {t.client_host, t.server_host};
  for (const Slice& host : hosts) {
    EncodeFixed16(buf + n, static_cast<uint16_t>(host.size()));
    n += 2;
    if (!host.empty()) __builtin_memcpy(buf + n, host.data(), host.size());
    n += host.size();
  }
  return n;
}

Status ComputeAuthMac(Slice secret, Role sender, const AuthTranscript& t,
                      uint8_t mac[kMacSize]) {
  uint8_t input[kMaxAuthMacInputSize];
  const size_t size = BuildAuthMacInput(sender, t, input);
  if (size == 0) {
    return Status(StatusCode::kInvalidArgument, "auth: host name too long");
  }
  return platform::HmacSha256(secret.data(), secret.size(), input, size, mac);
}

bool ConstantTimeEqual(const uint8_t* a, const uint8_t* b, size_t size) {
  uint8_t diff = 0;
  for (size_t i = 0; i < size; ++i) {
    diff = static_cast<uint8_t>(diff | (a[i] ^ b[i]));
    // An empty asm that "may change" diff keeps the compiler from turning
    // the loop into an early-exit comparison.
    __asm__ volatile("" : "+r"(diff));
  }
  return diff == 0;
}

}  // namespace wire
}  // namespace mars
