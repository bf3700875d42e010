// Standard test vectors through the platform's SHA-256 and HMAC-SHA256 (the
// only crypto the wire protocol uses): FIPS 180-2 appendix B and RFC 4231.
// In the kernel the module's startup checks cover the same functions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/platform.h"

namespace mars {
namespace {

std::string Hex(const uint8_t* bytes, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

std::string Sha256Hex(const std::string& message) {
  uint8_t digest[platform::kSha256Bytes];
  platform::Sha256(message.data(), message.size(), digest);
  return Hex(digest, sizeof(digest));
}

std::string HmacHex(const std::string& key, const std::string& data) {
  uint8_t mac[platform::kSha256Bytes];
  const Status s = platform::HmacSha256(key.data(), key.size(), data.data(),
                                        data.size(), mac);
  EXPECT_TRUE(s.ok()) << s.message();
  return Hex(mac, sizeof(mac));
}

TEST(CryptoVectorsTest, Sha256Fips180) {
  // FIPS 180-2 B.1: one block.
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // FIPS 180-2 B.2: the 448-bit message (two blocks after padding).
  EXPECT_EQ(
      Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // The empty message.
  EXPECT_EQ(Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // FIPS 180-2 B.3: one million 'a'.
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(CryptoVectorsTest, HmacSha256Rfc4231) {
  struct Case {
    const char* name;
    std::string key;
    std::string data;
    const char* mac;
  };
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4 += static_cast<char>(i);
  const std::vector<Case> cases = {
      {"4.2 test case 1", std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"4.3 test case 2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"4.4 test case 3", std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4.5 test case 4", key4, std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"4.7 test case 6", std::string(131, '\xaa'),
       "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"4.8 test case 7", std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than "
       "block-size data. The key needs to be hashed before being used by the "
       "HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(HmacHex(c.key, c.data), c.mac) << c.name;
  }
}

}  // namespace
}  // namespace mars
