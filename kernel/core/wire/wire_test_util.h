// Test-only helpers shared by the wire message tests (messages_test.cc,
// tree_messages_test.cc, logfile_messages_test.cc, sync_messages_test.cc):
// raw buffers, encode/decode shorthands and the codec properties every
// message type must have. Included only by *_test.cc; not part of mars.ko
// (scripts/check-core-includes, kernel/Makefile).
#ifndef MARS_CORE_WIRE_WIRE_TEST_UTIL_H_
#define MARS_CORE_WIRE_WIRE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/wire/frame.h"
#include "core/wire/messages.h"

namespace mars {
namespace wire {
namespace test {

using Raw = std::vector<uint8_t>;

inline Raw ToRaw(const Bytes& b) { return Raw(b.data(), b.data() + b.size()); }
inline Slice S(const std::string& s) { return Slice(s.data(), s.size()); }
inline std::string Str(Slice s) { return std::string(s.chars(), s.size()); }

template <class M>
Raw EncodeOk(const M& m) {
  Bytes out;
  const Status s = m.Encode(&out);
  EXPECT_TRUE(s.ok()) << s.message();
  return ToRaw(out);
}

template <class M>
Status DecodeRaw(const Raw& payload, M* m) {
  return m->Decode(Slice(payload.data(), payload.size()));
}

// The properties every message type must have, checked on one encoding:
// decode -> encode is the identity; every strict prefix is refused as
// truncated; any trailing byte is refused; the frame fits the limit.
template <class M>
void CheckCodecProperties(const Raw& payload) {
  SCOPED_TRACE(MessageTypeName(static_cast<uint16_t>(M::kType)));
  M decoded;
  ASSERT_TRUE(DecodeRaw(payload, &decoded).ok());
  EXPECT_EQ(EncodeOk(decoded), payload);
  for (size_t len = 0; len < payload.size(); ++len) {
    // A fresh copy of exactly `len` bytes, so ASan catches any overread.
    const Raw prefix(payload.begin(), payload.begin() + len);
    M m;
    const Status s = DecodeRaw(prefix, &m);
    ASSERT_FALSE(s.ok()) << "prefix " << len;
    ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
    ASSERT_NE(std::strstr(s.message(), "payload truncated"), nullptr)
        << "prefix " << len << ": " << s.message();
  }
  for (uint8_t extra : {0x00, 0xFF}) {
    Raw longer = payload;
    longer.push_back(extra);
    M m;
    const Status s = DecodeRaw(longer, &m);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(std::strstr(s.message(), "trailing bytes"), nullptr)
        << s.message();
  }
  EXPECT_LE(payload.size(), kMaxPayloadSize);
  Bytes frame;
  FrameEncoder encoder(&frame);
  EXPECT_TRUE(encoder.AppendMessage(decoded).ok());
}

template <class M>
void ExpectDecodeError(const Raw& payload, const char* message) {
  M m;
  const Status s = DecodeRaw(payload, &m);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_STREQ(s.message(), message);
}

template <class M>
void ExpectEncodeError(const M& m, const char* message) {
  Bytes out;
  ASSERT_TRUE(out.PushBack(0x11).ok());
  const Status s = m.Encode(&out);
  EXPECT_FALSE(s.ok());
  EXPECT_STREQ(s.message(), message);
  EXPECT_EQ(out.size(), 1u);  // unchanged
}

}  // namespace test
}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_WIRE_TEST_UTIL_H_
