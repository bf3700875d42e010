// Tests of ParseIpAddress against inet_pton(3), the reference.
#include "core/peer/ip_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace mars {
namespace peer {
namespace {

void ExpectLikeInetPton(const std::string& text) {
  platform::NetAddress parsed;
  const bool ok = ParseIpAddress(Slice(text.data(), text.size()), &parsed).ok();
  uint8_t v4[4], v6[16];
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) {
    ASSERT_TRUE(ok) << text;
    EXPECT_EQ(parsed.family, platform::NetAddress::kIpv4) << text;
    EXPECT_EQ(memcmp(parsed.bytes, v4, 4), 0) << text;
  } else if (inet_pton(AF_INET6, text.c_str(), v6) == 1) {
    ASSERT_TRUE(ok) << text;
    EXPECT_EQ(parsed.family, platform::NetAddress::kIpv6) << text;
    EXPECT_EQ(memcmp(parsed.bytes, v6, 16), 0) << text;
  } else {
    EXPECT_FALSE(ok) << text;
  }
}

TEST(IpAddressTest, AgreesWithInetPton) {
  for (const char* text :
       {"127.0.0.1", "0.0.0.0", "255.255.255.255", "192.168.1.10",
        "256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "01.2.3.4", "1.2.3.4 ",
        "", "::", "::1", "1::", "fd00::1", "FD00:0:0:0:0:0:0:1",
        "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1::2",
        "1::2::3", "::ffff:10.0.0.1", "::10.0.0.1", "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4", "12345::1", "g::1", "1:", ":1", "1::2:",
        "fe80::1%eth0", "host", "::ffff:1.2.3"}) {
    ExpectLikeInetPton(text);
  }
}

TEST(IpAddressTest, KeepsThePortAndNamesTheProblem) {
  platform::NetAddress address;
  address.port = 7777;
  ASSERT_TRUE(ParseIpAddress(Slice("10.0.0.2", 8), &address).ok());
  EXPECT_EQ(address.port, 7777);
  const Status bad = ParseIpAddress(Slice("alpha", 5), &address);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_STREQ(bad.message(), "not a numeric IPv4 or IPv6 address");
}

}  // namespace
}  // namespace peer
}  // namespace mars
