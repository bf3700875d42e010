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
// (the kernel's crc32c(); in userspace VPCLMULQDQ folding or the SSE4.2
// instruction when the CPU has them, userspace/lib/crc32c_x86_user.cc).
// Context: any, does not allocate.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

// Copies `src[0, size)` to `dst` (no overlap) and returns
// Crc32cExtend(crc, src, size): one pass over the data where the platform
// can fuse the two. Context: any, does not allocate.
uint32_t Crc32cCopy(uint32_t crc, void* dst, const void* src, size_t size);

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

// Lock classes: each role a lock or wait queue plays gets its own class, so
// that lockdep in the kernel checks the order between them (one static
// lock_class_key per class lives in the glue). Append only; never renumber.
enum class LockClass : int {
  kSelfTest = 0,
  kTree = 1,
  kResource = 2,
  kLogger = 3,
  kWriteback = 4,
  kPeer = 5,
  kDurability = 6,
  kLocalCopies = 7,
  kDataAccess = 8,
  kCount = 9,
};

// A sleeping mutual-exclusion lock. Init() before use; Context of Lock():
// may sleep. Not recursive. Non-copyable.
class Mutex {
 public:
  Mutex() = default;
  ~Mutex();
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Allocates the platform lock: kNoMemory on failure. Call once.
  Status Init(LockClass lock_class, Gfp gfp);
  void Lock();
  void Unlock();

 private:
  void* impl_ = nullptr;
};

// Holds a Mutex for the lifetime of the guard.
class MutexGuard {
 public:
  explicit MutexGuard(Mutex& mutex) : mutex_(mutex) { mutex_.Lock(); }
  ~MutexGuard() { mutex_.Unlock(); }
  MutexGuard(const MutexGuard&) = delete;
  MutexGuard& operator=(const MutexGuard&) = delete;

 private:
  Mutex& mutex_;
};

// A wait queue: threads sleep until a condition holds; whoever changes the
// state the condition reads calls WakeAll() afterwards.
class WaitQueue {
 public:
  using Condition = bool (*)(void* context);

  WaitQueue() = default;
  ~WaitQueue();
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  Status Init(LockClass lock_class, Gfp gfp);
  // Sleeps until condition(context) is true (returns true), `timeout_ns`
  // passed, or the calling platform thread was asked to stop (returns the
  // condition's value then). The condition must not sleep. Context: may
  // sleep.
  bool WaitUntil(Condition condition, void* context, uint64_t timeout_ns);
  // Wakes every waiter so that it re-evaluates its condition. Context: any.
  void WakeAll();

 private:
  void* impl_ = nullptr;
};

// A kernel thread (kthread) or, in userspace, a POSIX thread.
class Thread {
 public:
  using Body = void (*)(void* context);

  Thread() = default;
  // REQUIRES: Stop() was called if Start() succeeded.
  ~Thread();
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;

  // Runs body(context) in a new thread named `name` (at most 15 chars
  // shown). The body must return soon after ShouldStop() becomes true.
  Status Start(const char* name, Body body, void* context, Gfp gfp);
  // Asks the thread to stop, wakes it if it waits in WaitQueue::WaitUntil,
  // and waits until its body returned. Idempotent. Context: may sleep.
  void Stop();
  bool running() const { return impl_ != nullptr; }

  // True in a platform thread whose Stop() was called. Context: any.
  static bool ShouldStop();

 private:
  void* impl_ = nullptr;
};

}  // namespace platform
}  // namespace mars

// Checks an invariant; on failure reports it and evaluates to false so that the
// caller can bail out: `if (!MARS_CHECK(x)) return Status::...;`
#define MARS_CHECK(cond) \
  ((cond) ? true : (::mars::platform::ReportBug(__FILE__, __LINE__), false))

#endif  // MARS_CORE_PLATFORM_H_
