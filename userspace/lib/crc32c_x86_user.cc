// CRC-32C of the userspace platform (core/platform.h: Crc32cExtend,
// Crc32cCopy) on x86-64, with the fastest path the CPU has:
//
//  - kVpclmul: AVX-512 carry-less multiplication (VPCLMULQDQ) folds 256 bytes
//    per step in four 512-bit accumulators, for inputs of kFoldMinBytes and
//    more; the folded remainder and short inputs take the SSE4.2 path's
//    instruction.
//  - kSse42: the crc32 instruction in three interleaved streams.
//  - kPortable: crc32c::ExtendPortable (slicing-by-8).
//
// Both fast paths can copy the bytes to a destination in the same pass.
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "core/base/crc32c.h"
#include "core/platform.h"
#include "platform_user.h"

namespace mars {
namespace platform {
namespace {

// ---------------------------------------------------------------------------
// SSE4.2. The crc32 instruction has a latency of three cycles but a
// throughput of one per cycle, so long inputs run as three interleaved streams
// of kStride bytes whose raw CRCs are then combined: raw CRCs are linear, so
// raw(r, A||B) = Shift(raw(r, A), |B|) ^ raw(0, B), and Shift by kStride
// zero bytes is a fixed linear map applied through four byte tables.
constexpr size_t kStride = 256;

struct ShiftTables {
  uint32_t byte[4][256];
};

__attribute__((target("sse4.2"))) ShiftTables MakeShiftTables() {
  ShiftTables tables;
  for (int k = 0; k < 4; ++k) {
    for (uint32_t v = 0; v < 256; ++v) {
      uint64_t r = v << (8 * k);
      for (size_t i = 0; i < kStride; i += 8) r = __builtin_ia32_crc32di(r, 0);
      tables.byte[k][v] = static_cast<uint32_t>(r);
    }
  }
  return tables;
}

const ShiftTables& StrideShift() {
  static const ShiftTables tables = MakeShiftTables();
  return tables;
}

inline uint64_t ShiftByStride(const ShiftTables& t, uint64_t c) {
  return t.byte[0][c & 0xFF] ^ t.byte[1][(c >> 8) & 0xFF] ^
         t.byte[2][(c >> 16) & 0xFF] ^ t.byte[3][(c >> 24) & 0xFF];
}

inline uint64_t Load64(const uint8_t* p) {
  uint64_t word;
  __builtin_memcpy(&word, p, 8);  // little-endian host (x86-64)
  return word;
}

inline void Store64(uint8_t* p, uint64_t word) {
  __builtin_memcpy(p, &word, 8);
}

// Continues the raw (not inverted) CRC register `c` over `src`; with kCopy it
// also stores every byte to `dst` in the same pass (loads feed both the crc32
// instruction and the store).
template <bool kCopy>
__attribute__((target("sse4.2"))) uint64_t Sse42Raw(uint64_t c, uint8_t* dst,
                                                    const uint8_t* p,
                                                    size_t size) {
  while (size > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    if (kCopy) *dst++ = *p;
    c = __builtin_ia32_crc32qi(static_cast<uint32_t>(c), *p++);
    --size;
  }
  if (size >= 3 * kStride) {
    const ShiftTables& shift = StrideShift();
    do {
      uint64_t c1 = 0;
      uint64_t c2 = 0;
      for (size_t i = 0; i < kStride; i += 8) {
        const uint64_t w0 = Load64(p + i);
        const uint64_t w1 = Load64(p + kStride + i);
        const uint64_t w2 = Load64(p + 2 * kStride + i);
        c = __builtin_ia32_crc32di(c, w0);
        c1 = __builtin_ia32_crc32di(c1, w1);
        c2 = __builtin_ia32_crc32di(c2, w2);
        if (kCopy) {
          Store64(dst + i, w0);
          Store64(dst + kStride + i, w1);
          Store64(dst + 2 * kStride + i, w2);
        }
      }
      c = ShiftByStride(shift, c) ^ c1;
      c = ShiftByStride(shift, c) ^ c2;
      p += 3 * kStride;
      if (kCopy) dst += 3 * kStride;
      size -= 3 * kStride;
    } while (size >= 3 * kStride);
  }
  while (size >= 8) {
    const uint64_t w = Load64(p);
    c = __builtin_ia32_crc32di(c, w);
    if (kCopy) {
      Store64(dst, w);
      dst += 8;
    }
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    if (kCopy) *dst++ = *p;
    c = __builtin_ia32_crc32qi(static_cast<uint32_t>(c), *p++);
    --size;
  }
  return c;
}

template <bool kCopy>
uint32_t Sse42Pass(uint32_t crc, uint8_t* dst, const uint8_t* src,
                   size_t size) {
  return ~static_cast<uint32_t>(
      Sse42Raw<kCopy>(static_cast<uint32_t>(~crc), dst, src, size));
}

// ---------------------------------------------------------------------------
// VPCLMULQDQ folding.
//
// In the reflected bit order of CRC-32C a 128-bit lane loaded from 16 bytes
// holds the polynomial A = H * x^64 + L, bit i of the lane being the
// coefficient of x^(127 - i); H is the low quadword (the first 8 bytes).
// Data D bits later in the stream is unchanged mod P by replacing A with
// A * x^D = H * x^(D + 64) + L * x^D, and mod P each product has at most 96
// bits: a lane is folded forward as
//   clmul(H, k(D + 64)) ^ clmul(L, k(D)) ^ (the lane D bits later),
// where k(n) is x^(n - 1) mod P placed so that coefficient x^t is bit 63 - t
// of a quadword (the carry-less product of two such 64-bit operands lands one
// bit short of the lane's order; the x^-1 makes up for it).
//
// The CRC register's start value is added into the first 32 bits of the
// message; the last folded lane A gives the raw CRC A * x^32 mod P through two
// crc32 instructions from 0, which then go on over the bytes left.

constexpr uint32_t kPolynomial = 0x82F63B78;  // reflected

// x^n mod P in the reflected order of the CRC register (coefficient x^t in
// bit 31 - t).
constexpr uint32_t XPowModP(uint32_t n) {
  uint32_t r = 0x80000000u;  // x^0
  for (uint32_t i = 0; i < n; ++i) r = (r >> 1) ^ ((r & 1) ? kPolynomial : 0);
  return r;
}

// k(n) of the comment above: x^(n - 1) mod P, coefficient x^t in bit 63 - t.
constexpr uint64_t FoldConstant(uint32_t n) {
  return static_cast<uint64_t>(XPowModP(n - 1)) << 32;
}

// The constants that move a lane forward by `bytes`: low quadword for H,
// high quadword for L.
struct FoldBy {
  uint64_t for_high_half;
  uint64_t for_low_half;
};

constexpr FoldBy FoldConstants(uint32_t bytes) {
  return FoldBy{FoldConstant(8 * bytes + 64), FoldConstant(8 * bytes)};
}

constexpr FoldBy kFold256 = FoldConstants(256);  // the four accumulators
constexpr FoldBy kFold64 = FoldConstants(64);    // one 512-bit register
constexpr FoldBy kFold16 = FoldConstants(16);    // one lane

// Below this the set-up and the final reduction cost more than they save.
constexpr size_t kFoldMinBytes = 256;

#define MARS_VPCLMUL_TARGET \
  __attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2")))

// (Not _mm512_broadcast_i32x4, _mm512_extracti32x4_epi32 nor
// _mm512_castsi512_si128: GCC 12 warns that the undefined fill values in
// their headers are uninitialized.)
MARS_VPCLMUL_TARGET inline __m512i Broadcast(FoldBy k) {
  const auto high = static_cast<long long>(k.for_high_half);  // NOLINT
  const auto low = static_cast<long long>(k.for_low_half);    // NOLINT
  return _mm512_set_epi64(low, high, low, high, low, high, low, high);
}

// Lane i (0..3) of x.
template <int kLane>
MARS_VPCLMUL_TARGET inline __m128i Lane(__m512i x) {
  return _mm512_maskz_extracti32x4_epi32(0xF, x, kLane);
}

// x folded forward onto `next` (every lane by the same distance).
MARS_VPCLMUL_TARGET inline __m512i Fold512(__m512i x, __m512i k, __m512i next) {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
                                   _mm512_clmulepi64_epi128(x, k, 0x11), next,
                                   0x96);  // a ^ b ^ c
}

MARS_VPCLMUL_TARGET inline __m128i Fold128(__m128i x, __m128i k, __m128i next) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                                     _mm_clmulepi64_si128(x, k, 0x11)),
                       next);
}

// The 64 bytes at src + at (also stored to dst + at with kCopy; dst is null
// without).
template <bool kCopy>
MARS_VPCLMUL_TARGET inline __m512i Load512(uint8_t* dst, const uint8_t* src,
                                           size_t at = 0) {
  const __m512i v = _mm512_loadu_si512(src + at);
  if (kCopy) _mm512_storeu_si512(dst + at, v);
  return v;
}

template <bool kCopy>
MARS_VPCLMUL_TARGET inline __m128i Load128(uint8_t* dst, const uint8_t* src) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
  if (kCopy) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), v);
  return v;
}

template <bool kCopy>
MARS_VPCLMUL_TARGET uint32_t VpclmulPass(uint32_t crc, uint8_t* dst,
                                         const uint8_t* src, size_t size) {
  if (size < kFoldMinBytes) return Sse42Pass<kCopy>(crc, dst, src, size);
  const __m512i start = _mm512_zextsi128_si512(_mm_cvtsi32_si128(
      static_cast<int>(~crc)));  // into the first 32 bits of the message
  __m512i x0 = _mm512_xor_si512(Load512<kCopy>(dst, src), start);
  __m512i x1 = Load512<kCopy>(dst, src, 64);
  __m512i x2 = Load512<kCopy>(dst, src, 128);
  __m512i x3 = Load512<kCopy>(dst, src, 192);
  src += 256;
  if (kCopy) dst += 256;
  size -= 256;
  const __m512i k256 = Broadcast(kFold256);
  while (size >= 256) {
    x0 = Fold512(x0, k256, Load512<kCopy>(dst, src));
    x1 = Fold512(x1, k256, Load512<kCopy>(dst, src, 64));
    x2 = Fold512(x2, k256, Load512<kCopy>(dst, src, 128));
    x3 = Fold512(x3, k256, Load512<kCopy>(dst, src, 192));
    src += 256;
    if (kCopy) dst += 256;
    size -= 256;
  }
  const __m512i k64 = Broadcast(kFold64);
  __m512i x = Fold512(x0, k64, x1);
  x = Fold512(x, k64, x2);
  x = Fold512(x, k64, x3);
  while (size >= 64) {
    x = Fold512(x, k64, Load512<kCopy>(dst, src));
    src += 64;
    if (kCopy) dst += 64;
    size -= 64;
  }
  const __m128i k16 =
      _mm_set_epi64x(static_cast<long long>(kFold16.for_low_half),    // NOLINT
                     static_cast<long long>(kFold16.for_high_half));  // NOLINT
  __m128i lane = Lane<0>(x);
  lane = Fold128(lane, k16, Lane<1>(x));
  lane = Fold128(lane, k16, Lane<2>(x));
  lane = Fold128(lane, k16, Lane<3>(x));
  while (size >= 16) {
    lane = Fold128(lane, k16, Load128<kCopy>(dst, src));
    src += 16;
    if (kCopy) dst += 16;
    size -= 16;
  }
  uint64_t c =
      __builtin_ia32_crc32di(0, static_cast<uint64_t>(_mm_cvtsi128_si64(lane)));
  c = __builtin_ia32_crc32di(c,
                             static_cast<uint64_t>(_mm_extract_epi64(lane, 1)));
  return ~static_cast<uint32_t>(Sse42Raw<kCopy>(c, dst, src, size));
}

#undef MARS_VPCLMUL_TARGET

// ---------------------------------------------------------------------------

Crc32cPath DetectFastestPath() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("vpclmulqdq") &&
      __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.2")) {
    return Crc32cPath::kVpclmul;
  }
  if (__builtin_cpu_supports("sse4.2")) return Crc32cPath::kSse42;
  return Crc32cPath::kPortable;
}

}  // namespace

Crc32cPath Crc32cFastestPath() {
  static const Crc32cPath path = DetectFastestPath();
  return path;
}

const char* Crc32cPathName(Crc32cPath path) {
  switch (path) {
    case Crc32cPath::kPortable:
      return "portable";
    case Crc32cPath::kSse42:
      return "sse4.2";
    case Crc32cPath::kVpclmul:
      return "vpclmulqdq";
  }
  return "?";
}

uint32_t Crc32cExtendWith(Crc32cPath path, uint32_t crc, const void* data,
                          size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  switch (path) {
    case Crc32cPath::kVpclmul:
      return VpclmulPass<false>(crc, nullptr, p, size);
    case Crc32cPath::kSse42:
      return Sse42Pass<false>(crc, nullptr, p, size);
    case Crc32cPath::kPortable:
      break;
  }
  return crc32c::ExtendPortable(crc, data, size);
}

uint32_t Crc32cCopyWith(Crc32cPath path, uint32_t crc, void* dst,
                        const void* src, size_t size) {
  uint8_t* d = static_cast<uint8_t*>(dst);
  const uint8_t* s = static_cast<const uint8_t*>(src);
  switch (path) {
    case Crc32cPath::kVpclmul:
      return VpclmulPass<true>(crc, d, s, size);
    case Crc32cPath::kSse42:
      return Sse42Pass<true>(crc, d, s, size);
    case Crc32cPath::kPortable:
      break;
  }
  crc = crc32c::ExtendPortable(crc, src, size);
  memcpy(dst, src, size);
  return crc;
}

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) {
  return Crc32cExtendWith(Crc32cFastestPath(), crc, data, size);
}

uint32_t Crc32cCopy(uint32_t crc, void* dst, const void* src, size_t size) {
  return Crc32cCopyWith(Crc32cFastestPath(), crc, dst, src, size);
}

}  // namespace platform
}  // namespace mars
