// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every
// on-disk and on-wire format of mars (docu/log-format.md,
// docu/wire-protocol.md).
#ifndef MARS_CORE_BASE_CRC32C_H_
#define MARS_CORE_BASE_CRC32C_H_

#include <stddef.h>
#include <stdint.h>

#include "core/platform.h"

namespace mars {
namespace crc32c {

// Returns the CRC-32C of `data[0, size)` continued from `crc`, the CRC of the
// bytes before it (0 for none). Extend(Extend(0, a), b) == Value(a ++ b).
// Uses the platform's fastest implementation (platform::Crc32cExtend).
// Context: any, does not allocate.
inline uint32_t Extend(uint32_t crc, const void* data, size_t size) {
  return platform::Crc32cExtend(crc, data, size);
}

// The same function in portable C++ (slicing-by-8). Platforms without a
// faster implementation use it; tests hold the fast paths against it.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t size);

// Returns Value(a ++ b) from crc_a = Value(a), crc_b = Value(b) and the
// length of b, without the bytes: for a checksum whose prefix changes while
// the rest does not (a record header before a growing payload). Costs one
// carry-less multiplication per set bit of size_b (at most 64 of 32 steps).
// Context: any.
uint32_t Combine(uint32_t crc_a, uint32_t crc_b, uint64_t size_b);

// Returns the CRC-32C of `data[0, size)`. Value("123456789") == 0xE3069283.
inline uint32_t Value(const void* data, size_t size) {
  return Extend(0, data, size);
}

}  // namespace crc32c
}  // namespace mars

#endif  // MARS_CORE_BASE_CRC32C_H_
