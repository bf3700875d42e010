// The platform interface: everything the portable core needs from its host.
//
// The core (kernel/core/) never includes a kernel or C library header. It reaches
// memory, the clock and the log only through the functions declared here. Two
// implementations exist: kernel/platform/platform_kernel.cc (on top of the C glue
// in kernel/glue/) and userspace/lib/platform_user.cc (POSIX, for tests and tools).
#ifndef MARS_CORE_PLATFORM_H_
#define MARS_CORE_PLATFORM_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/status.h"

namespace mars {
namespace platform {

// Allocation context. Maps to GFP_KERNEL / GFP_NOIO / GFP_ATOMIC in the kernel.
// kNoIo is required on every path that may be entered to complete block I/O.
enum class Gfp : int {
  kKernel = 0,  // may sleep, may recurse into I/O
  kNoIo = 1,    // may sleep, must not start I/O
  kAtomic = 2,  // must not sleep
};

// Returns uninitialised memory, or nullptr when the allocation fails.
// Context: as given by `gfp`.
void* Allocate(size_t size, Gfp gfp);
// Releases memory from Allocate(). Accepts nullptr. Context: any.
void Free(void* ptr);

enum class LogLevel : int {
  kError = 3,
  kWarning = 4,
  kNotice = 5,
  kInfo = 6,
  kDebug = 7,
};

// Emits one log line (no trailing newline needed). Context: any, does not
// allocate. Only trivially copyable values may be passed as arguments.
void Log(LogLevel level, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

// Reports a broken internal invariant at file:line with a stack trace where the
// platform can produce one. In the kernel it returns (a WARN), and the caller
// must then fail the operation; it is never marked noreturn (objtool cannot
// know about it, see docu/kernel-cpp-rules.md). The userspace platform aborts
// so that a test hitting a bug stops at once.
void ReportBug(const char* file, int line);

// Wall-clock time in nanoseconds since the Unix epoch. Context: any.
uint64_t RealTimeNs();

// CRC-32C of `data[0, size)` continued from `crc` (same contract as
// crc32c::Extend), computed with the fastest implementation the platform has
// (the kernel's crc32c(), or SSE4.2 in userspace when the CPU has it).
// Context: any, does not allocate.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

constexpr size_t kSha256Bytes = 32;

// SHA-256 of `data[0, size)` into `out`. Never hand-written: the kernel's
// sha256 library or OpenSSL's libcrypto. Context: any, does not allocate.
void Sha256(const void* data, size_t size, uint8_t out[kSha256Bytes]);

// HMAC-SHA256 (RFC 2104) of `data` under `key` into `out`, from the kernel
// crypto API (hmac(sha256)) or libcrypto. Returns kNoMemory or kUnavailable
// when the crypto backend cannot run; `out` is then unspecified.
// Context: may sleep (the kernel allocates a transform).
Status HmacSha256(const void* key, size_t key_size, const void* data,
                  size_t size, uint8_t out[kSha256Bytes]);

}  // namespace platform
}  // namespace mars

// Checks an invariant; on failure reports it and evaluates to false so that the
// caller can bail out: `if (!MARS_CHECK(x)) return Status::...;`
#define MARS_CHECK(cond) \
  ((cond) ? true : (::mars::platform::ReportBug(__FILE__, __LINE__), false))

#endif  // MARS_CORE_PLATFORM_H_
