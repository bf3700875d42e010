// core/platform.h implemented on top of the C glue (kernel/glue/mars_glue.h).
#include <stdarg.h>

#include "core/platform.h"
#include "glue/mars_glue.h"

namespace mars {
namespace platform {

static_assert(static_cast<int>(Gfp::kKernel) == MARS_GFP_KERNEL, "gfp map");
static_assert(static_cast<int>(Gfp::kNoIo) == MARS_GFP_NOIO, "gfp map");
static_assert(static_cast<int>(Gfp::kAtomic) == MARS_GFP_ATOMIC, "gfp map");

void* Allocate(size_t size, Gfp gfp) {
  return mars_glue_alloc(size, static_cast<int>(gfp));
}

void Free(void* ptr) { mars_glue_free(ptr); }

void Log(LogLevel level, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  mars_glue_vlog(static_cast<int>(level), format, ap);
  va_end(ap);
}

void ReportBug(const char* file, int line) { mars_glue_report_bug(file, line); }

uint64_t RealTimeNs() { return mars_glue_real_time_ns(); }

static_assert(static_cast<int>(StatusCode::kNoMemory) == MARS_STATUS_NO_MEMORY,
              "status map");
static_assert(static_cast<int>(StatusCode::kUnavailable) ==
                  MARS_STATUS_UNAVAILABLE,
              "status map");

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) {
  return mars_glue_crc32c(crc, data, size);
}

void Sha256(const void* data, size_t size, uint8_t out[kSha256Bytes]) {
  mars_glue_sha256(data, size, out);
}

Status HmacSha256(const void* key, size_t key_size, const void* data,
                  size_t size, uint8_t out[kSha256Bytes]) {
  switch (mars_glue_hmac_sha256(key, key_size, data, size, out)) {
    case MARS_STATUS_OK:
      return Status::Ok();
    case MARS_STATUS_NO_MEMORY:
      return Status(StatusCode::kNoMemory, "no memory for hmac(sha256)");
    default:
      return Status(StatusCode::kUnavailable, "hmac(sha256) unavailable");
  }
}

}  // namespace platform
}  // namespace mars
