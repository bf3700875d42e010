// Tests of the authentication MAC input layout and ConstantTimeEqual
// (docu/wire-protocol.md, "Authentication").
#include "core/wire/auth_mac.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/platform.h"

namespace mars {
namespace wire {
namespace {

AuthTranscript SampleTranscript() {
  AuthTranscript t;
  for (size_t i = 0; i < kNonceSize; ++i) {
    t.client_nonce[i] = static_cast<uint8_t>(0x10 + i);
    t.server_nonce[i] = static_cast<uint8_t>(0x80 + i);
  }
  std::memset(t.client_hello_hash, 0xC1, kDigestSize);
  std::memset(t.server_hello_hash, 0x51, kDigestSize);
  t.client_host = Slice::FromCString("alpha");
  t.server_host = Slice::FromCString("beta1");
  return t;
}

TEST(AuthMacTest, InputLayoutIsExactlyAsDocumented) {
  const AuthTranscript t = SampleTranscript();
  uint8_t buf[kMaxAuthMacInputSize];
  const size_t n = BuildAuthMacInput(Role::kServer, t, buf);
  ASSERT_EQ(n, 16 + 1 + 32 + 32 + 32 + 32 + 2 + 5 + 2 + 5u);
  EXPECT_EQ(std::memcmp(buf, "mars-wire-auth-1", 16), 0);
  EXPECT_EQ(buf[16], 2);  // role of the MAC's sender: server
  EXPECT_EQ(std::memcmp(buf + 17, t.client_nonce, 32), 0);
  EXPECT_EQ(std::memcmp(buf + 49, t.server_nonce, 32), 0);
  EXPECT_EQ(std::memcmp(buf + 81, t.client_hello_hash, 32), 0);
  EXPECT_EQ(std::memcmp(buf + 113, t.server_hello_hash, 32), 0);
  EXPECT_EQ(buf[145], 5);
  EXPECT_EQ(buf[146], 0);
  EXPECT_EQ(std::memcmp(buf + 147, "alpha", 5), 0);
  EXPECT_EQ(buf[152], 5);
  EXPECT_EQ(buf[153], 0);
  EXPECT_EQ(std::memcmp(buf + 154, "beta1", 5), 0);
  EXPECT_EQ(BuildAuthMacInput(Role::kClient, t, buf), n);
  EXPECT_EQ(buf[16], 1);
}

TEST(AuthMacTest, MacIsHmacOfTheInputAndBindsEveryPart) {
  const std::string secret = "0123456789abcdef-cluster-secret";
  const Slice key(secret.data(), secret.size());
  const AuthTranscript t = SampleTranscript();
  uint8_t mac[kMacSize];
  ASSERT_TRUE(ComputeAuthMac(key, Role::kClient, t, mac).ok());
  uint8_t buf[kMaxAuthMacInputSize];
  const size_t n = BuildAuthMacInput(Role::kClient, t, buf);
  uint8_t direct[kMacSize];
  ASSERT_TRUE(
      platform::HmacSha256(secret.data(), secret.size(), buf, n, direct).ok());
  EXPECT_EQ(std::memcmp(mac, direct, kMacSize), 0);

  // Changing any bound item changes the MAC.
  std::vector<AuthTranscript> variants(7, t);
  variants[0].client_nonce[31] ^= 1;
  variants[1].server_nonce[0] ^= 1;
  variants[2].client_hello_hash[5] ^= 1;
  variants[3].server_hello_hash[9] ^= 1;
  variants[4].client_host = Slice::FromCString("alphb");
  variants[5].server_host = Slice::FromCString("beta");
  // Swapping the names must not give the same bytes either.
  variants[6].client_host = t.server_host;
  variants[6].server_host = t.client_host;
  for (size_t i = 0; i < variants.size(); ++i) {
    uint8_t other[kMacSize];
    ASSERT_TRUE(ComputeAuthMac(key, Role::kClient, variants[i], other).ok());
    EXPECT_NE(std::memcmp(mac, other, kMacSize), 0) << i;
  }
  uint8_t server[kMacSize];
  ASSERT_TRUE(ComputeAuthMac(key, Role::kServer, t, server).ok());
  EXPECT_NE(std::memcmp(mac, server, kMacSize), 0);
  const std::string other_secret = "0123456789abcdef-cluster-secreT";
  uint8_t wrong[kMacSize];
  ASSERT_TRUE(ComputeAuthMac(Slice(other_secret.data(), other_secret.size()),
                             Role::kClient, t, wrong)
                  .ok());
  EXPECT_NE(std::memcmp(mac, wrong, kMacSize), 0);
}

TEST(AuthMacTest, OversizedHostNameIsRefused) {
  AuthTranscript t = SampleTranscript();
  const std::string long_host(kMaxHostNameSize + 1, 'h');
  t.server_host = Slice(long_host.data(), long_host.size());
  uint8_t buf[kMaxAuthMacInputSize];
  EXPECT_EQ(BuildAuthMacInput(Role::kClient, t, buf), 0u);
  uint8_t mac[kMacSize];
  const Status s = ComputeAuthMac(Slice("k", 1), Role::kClient, t, mac);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(AuthMacTest, ConstantTimeEqual) {
  uint8_t a[32];
  uint8_t b[32];
  for (int i = 0; i < 32; ++i) a[i] = b[i] = static_cast<uint8_t>(i * 31);
  EXPECT_TRUE(ConstantTimeEqual(a, b, 32));
  EXPECT_TRUE(ConstantTimeEqual(a, b, 0));
  for (int i = 0; i < 32; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      b[i] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_FALSE(ConstantTimeEqual(a, b, 32)) << i << ":" << bit;
      b[i] ^= static_cast<uint8_t>(1 << bit);
    }
  }
}

}  // namespace
}  // namespace wire
}  // namespace mars
