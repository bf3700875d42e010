// core/platform.h implemented with POSIX: malloc, stderr, clock_gettime;
// CRC-32C with the SSE4.2 instruction when the CPU has it; SHA-256 and
// HMAC-SHA256 from OpenSSL's libcrypto.
//
// The log threshold comes from MARS_LOG_LEVEL (0..7, default 4 = warnings and
// worse), so tests stay quiet unless asked. ReportBug aborts: in userspace a
// broken invariant must stop the test that hit it, not be ignored.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/base/crc32c.h"
#include "core/platform.h"
#include "platform_user.h"

namespace mars {
namespace platform {
namespace {

int LogThreshold() {
  const char* env = getenv("MARS_LOG_LEVEL");
  if (env == nullptr || env[0] < '0' || env[0] > '7' || env[1] != '\0') {
    return static_cast<int>(LogLevel::kWarning);
  }
  return env[0] - '0';
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kNotice:
      return "notice";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "log";
}

__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(uint32_t crc,
                                                       const void* data,
                                                       size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint64_t c = ~crc;
  while (size > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = __builtin_ia32_crc32qi(static_cast<uint32_t>(c), *p++);
    --size;
  }
  while (size >= 8) {
    uint64_t word;
    __builtin_memcpy(&word, p, 8);  // little-endian host (x86-64)
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    c = __builtin_ia32_crc32qi(static_cast<uint32_t>(c), *p++);
    --size;
  }
  return ~static_cast<uint32_t>(c);
}

bool CpuHasSse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}

}  // namespace

bool Crc32cUsesSse42() { return CpuHasSse42(); }

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) {
  if (CpuHasSse42()) return Crc32cSse42(crc, data, size);
  return crc32c::ExtendPortable(crc, data, size);
}

void Sha256(const void* data, size_t size, uint8_t out[kSha256Bytes]) {
  SHA256(static_cast<const unsigned char*>(data), size, out);
}

Status HmacSha256(const void* key, size_t key_size, const void* data,
                  size_t size, uint8_t out[kSha256Bytes]) {
  unsigned int out_len = 0;
  if (key_size > INT32_MAX) {
    return Status(StatusCode::kUnavailable, "HMAC key too long");
  }
  if (HMAC(EVP_sha256(), key, static_cast<int>(key_size),
           static_cast<const unsigned char*>(data), size, out,
           &out_len) == nullptr ||
      out_len != kSha256Bytes) {
    return Status(StatusCode::kUnavailable, "libcrypto HMAC-SHA256 failed");
  }
  return Status::Ok();
}

void* Allocate(size_t size, Gfp /*gfp*/) { return malloc(size); }

void Free(void* ptr) { free(ptr); }

void Log(LogLevel level, const char* format, ...) {
  if (static_cast<int>(level) > LogThreshold()) return;
  char line[512];
  va_list ap;
  va_start(ap, format);
  vsnprintf(line, sizeof(line), format, ap);
  va_end(ap);
  fprintf(stderr, "mars: %s: %s\n", LevelName(level), line);
}

void ReportBug(const char* file, int line) {
  fprintf(stderr, "mars: internal error at %s:%d\n", file, line);
  abort();
}

uint64_t RealTimeNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace platform
}  // namespace mars
