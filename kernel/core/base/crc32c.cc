// Portable slicing-by-8 CRC-32C. The tables are computed at compile time, so
// there is no global constructor (forbidden in the module).
#include "core/base/crc32c.h"

namespace mars {
namespace crc32c {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // reflected Castagnoli
constexpr int kSlices = 8;

struct Tables {
  uint32_t entry[kSlices][256];
};

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1u) ? kPolynomial : 0u);
    }
    t.entry[0][i] = crc;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (int s = 1; s < kSlices; ++s) {
      const uint32_t prev = t.entry[s - 1][i];
      t.entry[s][i] = (prev >> 8) ^ t.entry[0][prev & 0xFFu];
    }
  }
  return t;
}

constexpr Tables kTables = MakeTables();

// Polynomials mod P in the reflected representation: bit 31 is x^0.
constexpr uint32_t kXPower0 = 0x80000000u;

// a * b mod P.
constexpr uint32_t MultiplyModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t bit = kXPower0; bit != 0; bit >>= 1) {
    if ((a & bit) != 0) product ^= b;
    b = (b >> 1) ^ ((b & 1u) ? kPolynomial : 0u);
  }
  return product;
}

// power[k] = x^(2^k) mod P; k up to 3 + 63 for shifts by 2^64 - 1 bytes.
constexpr int kPowerCount = 67;
struct Powers {
  uint32_t power[kPowerCount];
};

constexpr Powers MakePowers() {
  Powers p{};
  p.power[0] = kXPower0 >> 1;  // x^1
  for (int k = 1; k < kPowerCount; ++k) {
    p.power[k] = MultiplyModP(p.power[k - 1], p.power[k - 1]);
  }
  return p;
}

constexpr Powers kPowers = MakePowers();

inline uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

uint32_t ExtendPortable(uint32_t crc, const void* data, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  const auto& t = kTables.entry;
  uint32_t c = ~crc;
  while (size >= 8) {
    const uint32_t lo = LoadLe32(p) ^ c;
    const uint32_t hi = LoadLe32(p + 4);
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^
        t[4][lo >> 24] ^ t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^
        t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    c = (c >> 8) ^ t[0][(c ^ *p) & 0xFF];
    ++p;
    --size;
  }
  return ~c;
}

uint32_t Combine(uint32_t crc_a, uint32_t crc_b, uint64_t size_b) {
  // Value(a ++ b) = Value(a) * x^(8 * |b|) + Value(b): the inversions at the
  // start and the end of b's checksum cancel those of the whole's.
  uint32_t shifted = crc_a;
  for (int k = 3; size_b != 0; ++k, size_b >>= 1) {
    if ((size_b & 1u) != 0) shifted = MultiplyModP(kPowers.power[k], shifted);
  }
  return shifted ^ crc_b;
}

}  // namespace crc32c
}  // namespace mars
