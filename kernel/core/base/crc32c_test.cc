#include "core/base/crc32c.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "platform_user.h"

namespace mars {
namespace {

// Bitwise reference implementation, independent of the table code.
uint32_t ReferenceCrc(const uint8_t* p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int b = 0; b < 8; ++b)
      crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

TEST(Crc32cTest, StandardCheckValue) {
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xE3069283u);
}

TEST(Crc32cTest, EmptyInputIsZero) { EXPECT_EQ(crc32c::Value("", 0), 0u); }

// RFC 3720 appendix B.4 test vectors.
TEST(Crc32cTest, Rfc3720Vectors) {
  uint8_t buf[32];
  std::memset(buf, 0, sizeof(buf));
  EXPECT_EQ(crc32c::Value(buf, sizeof(buf)), 0x8A9136AAu);
  std::memset(buf, 0xFF, sizeof(buf));
  EXPECT_EQ(crc32c::Value(buf, sizeof(buf)), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c::Value(buf, sizeof(buf)), 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(crc32c::Value(buf, sizeof(buf)), 0x113FDB5Cu);
  const uint8_t iscsi_read[48] = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(crc32c::Value(iscsi_read, sizeof(iscsi_read)), 0xD9963A56u);
}

TEST(Crc32cTest, MatchesBitwiseReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(42);
  std::vector<uint8_t> data(300);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; len + offset <= data.size(); ++len) {
      const uint32_t want = ReferenceCrc(data.data() + offset, len);
      ASSERT_EQ(crc32c::Value(data.data() + offset, len), want)
          << "offset " << offset << " len " << len;
      ASSERT_EQ(crc32c::ExtendPortable(0, data.data() + offset, len), want)
          << "offset " << offset << " len " << len;
    }
  }
}

TEST(Crc32cTest, ExtendEqualsOneShotAtEverySplit) {
  std::vector<uint8_t> data(100);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 7);
  const uint32_t whole = crc32c::Value(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t first = crc32c::Value(data.data(), split);
    EXPECT_EQ(crc32c::Extend(first, data.data() + split, data.size() - split),
              whole)
        << "split " << split;
  }
}

TEST(Crc32cTest, CombineEqualsTheChecksumOfTheConcatenation) {
  std::mt19937 rng(7);
  std::vector<uint8_t> data(3 * 4096 + 13);
  for (auto& byte : data) byte = static_cast<uint8_t>(rng());
  const size_t splits[] = {
      0, 1, 7, 72, 4096, 4096 + 72, data.size() - 1, data.size()};
  for (size_t split : splits) {
    for (size_t end : {split, split + (data.size() - split) / 2, data.size()}) {
      const uint32_t a = crc32c::Value(data.data(), split);
      const uint32_t b = crc32c::Value(data.data() + split, end - split);
      EXPECT_EQ(crc32c::Combine(a, b, end - split),
                crc32c::Value(data.data(), end))
          << "split " << split << " end " << end;
    }
  }
}

TEST(Crc32cTest, CombineShiftsByLongRunsOfZeros) {
  // Value(a ++ 1 MiB of zeros ++ "x") from the parts, against Extend.
  std::vector<uint8_t> zeros(size_t{1} << 20, 0);
  const uint8_t a[] = {'m', 'a', 'r', 's'};
  const uint8_t x = 'x';
  uint32_t whole = crc32c::Value(a, sizeof(a));
  whole = crc32c::Extend(whole, zeros.data(), zeros.size());
  whole = crc32c::Extend(whole, &x, 1);
  uint32_t tail = crc32c::Value(zeros.data(), zeros.size());
  tail = crc32c::Extend(tail, &x, 1);
  EXPECT_EQ(
      crc32c::Combine(crc32c::Value(a, sizeof(a)), tail, zeros.size() + 1),
      whole);
}

TEST(Crc32cTest, AcceleratedAndPortablePathsAgreeWithSeeds) {
  std::mt19937 rng(7);
  std::vector<uint8_t> data(4096 + 9);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 511u, 4096u, 4105u}) {
    const uint32_t seed = static_cast<uint32_t>(rng());
    EXPECT_EQ(crc32c::Extend(seed, data.data() + 1, len - (len > 4104 ? 1 : 0)),
              crc32c::ExtendPortable(seed, data.data() + 1,
                                     len - (len > 4104 ? 1 : 0)))
        << "len " << len;
  }
  RecordProperty("crc32c_path",
                 platform::Crc32cPathName(platform::Crc32cFastestPath()));
}

// The userspace platform's paths this CPU can run, slowest first.
std::vector<platform::Crc32cPath> RunnablePaths() {
  std::vector<platform::Crc32cPath> paths;
  for (platform::Crc32cPath p :
       {platform::Crc32cPath::kPortable, platform::Crc32cPath::kSse42,
        platform::Crc32cPath::kVpclmul}) {
    if (p <= platform::Crc32cFastestPath()) paths.push_back(p);
  }
  return paths;
}

// Every path, checksum and fused copy, against the portable one: every
// length up to 1100 (the folding path's 256-, 64- and 16-byte steps and the
// bytes after them in every combination), then long inputs, at every
// alignment of the source modulo 16 and with a start value.
TEST(Crc32cTest, EveryPathAgreesWithThePortableOne) {
  std::mt19937 rng(17);
  std::vector<uint8_t> data(70000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  std::vector<size_t> lengths;
  for (size_t len = 0; len <= 1100; ++len) lengths.push_back(len);
  for (size_t len : {4096u, 4097u, 65536u, 65536u + 255u, 69000u}) {
    lengths.push_back(len);
  }
  std::vector<uint8_t> copy(data.size() + 2);
  for (platform::Crc32cPath path : RunnablePaths()) {
    SCOPED_TRACE(platform::Crc32cPathName(path));
    for (size_t offset = 0; offset < 16; ++offset) {
      for (size_t len : lengths) {
        if (offset + len > data.size()) continue;
        if (len > 1100 && offset % 5 != 0) continue;
        const uint8_t* src = data.data() + offset;
        // Value(seed ++ data) from a CRC that is not 0: the start value
        // must enter the folding as the CRC register does.
        const uint32_t seed = ReferenceCrc(data.data() + 1000, offset + 3);
        // (The portable path is held against the bitwise reference above.)
        const uint32_t want = crc32c::ExtendPortable(seed, src, len);
        ASSERT_EQ(platform::Crc32cExtendWith(path, seed, src, len), want)
            << "offset " << offset << " len " << len;
        std::fill(copy.begin(), copy.begin() + len + 2, 0xEE);
        ASSERT_EQ(
            platform::Crc32cCopyWith(path, seed, copy.data() + 1, src, len),
            want)
            << "copy, offset " << offset << " len " << len;
        ASSERT_EQ(std::memcmp(copy.data() + 1, src, len), 0) << len;
        ASSERT_EQ(copy[0], 0xEE);
        ASSERT_EQ(copy[len + 1], 0xEE) << "wrote past the end at " << len;
      }
    }
  }
}

// Lengths around and beyond the three-stream threshold, at every alignment.
TEST(Crc32cTest, InterleavedPathAgreesAtEveryAlignment) {
  std::mt19937 rng(11);
  std::vector<uint8_t> data(2500);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 700; len + offset <= data.size(); len += 13) {
      ASSERT_EQ(crc32c::Extend(0x12345678u, data.data() + offset, len),
                crc32c::ExtendPortable(0x12345678u, data.data() + offset, len))
          << "offset " << offset << " len " << len;
    }
  }
}

// The fused copy returns the CRC of its source and leaves an exact copy, at
// every length around the three-stream threshold and at mismatched
// source/destination alignments.
TEST(Crc32cTest, CopyChecksumsAndCopiesExactly) {
  std::mt19937 rng(13);
  std::vector<uint8_t> src(2600);
  for (auto& b : src) b = static_cast<uint8_t>(rng());
  std::vector<uint8_t> dst(2700);
  for (size_t src_off : {0u, 3u}) {
    for (size_t dst_off : {0u, 5u}) {
      for (size_t len = 0; len + 8 <= 2560; len += len < 64 ? 1 : 61) {
        std::fill(dst.begin(), dst.end(), 0xEE);
        const uint32_t got = platform::Crc32cCopy(0xABCDu, dst.data() + dst_off,
                                                  src.data() + src_off, len);
        ASSERT_EQ(got,
                  crc32c::ExtendPortable(0xABCDu, src.data() + src_off, len))
            << len;
        ASSERT_EQ(std::memcmp(dst.data() + dst_off, src.data() + src_off, len),
                  0)
            << len;
        ASSERT_EQ(dst[dst_off + len], 0xEE) << "wrote past the end at " << len;
        if (dst_off > 0) {
          ASSERT_EQ(dst[dst_off - 1], 0xEE);
        }
      }
    }
  }
}

}  // namespace
}  // namespace mars
