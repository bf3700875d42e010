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

}  // namespace crc32c
}  // namespace mars
