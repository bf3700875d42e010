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

uint32_t Crc32cCopy(uint32_t crc, void* dst, const void* src, size_t size) {
  crc = mars_glue_crc32c(crc, src, size);
  __builtin_memcpy(dst, src, size);
  return crc;
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

static_assert(static_cast<int>(LockClass::kCount) == MARS_LOCK_CLASS_COUNT,
              "lock class count");

Mutex::~Mutex() { mars_glue_mutex_destroy(impl_); }

Status Mutex::Init(LockClass lock_class, Gfp gfp) {
  impl_ = mars_glue_mutex_create(static_cast<int>(lock_class),
                                 static_cast<int>(gfp));
  return impl_ != nullptr ? Status::Ok()
                          : Status(StatusCode::kNoMemory, "no memory for mutex");
}

void Mutex::Lock() { mars_glue_mutex_lock(impl_); }
void Mutex::Unlock() { mars_glue_mutex_unlock(impl_); }

WaitQueue::~WaitQueue() { mars_glue_waitq_destroy(impl_); }

Status WaitQueue::Init(LockClass lock_class, Gfp gfp) {
  impl_ = mars_glue_waitq_create(static_cast<int>(lock_class),
                                 static_cast<int>(gfp));
  return impl_ != nullptr
             ? Status::Ok()
             : Status(StatusCode::kNoMemory, "no memory for wait queue");
}

namespace {

// The glue takes an int-returning C callback; never cast function pointer
// types across the boundary (kCFI hashes them), call through this instead.
struct ConditionCall {
  WaitQueue::Condition condition;
  void* context;
};

extern "C" int MarsConditionTrampoline(void* call) {
  const ConditionCall* c = static_cast<const ConditionCall*>(call);
  return c->condition(c->context) ? 1 : 0;
}

}  // namespace

bool WaitQueue::WaitUntil(Condition condition, void* context,
                          uint64_t timeout_ns) {
  ConditionCall call{condition, context};
  return mars_glue_waitq_wait(impl_, MarsConditionTrampoline, &call,
                              timeout_ns) != 0;
}

void WaitQueue::WakeAll() { mars_glue_waitq_wake_all(impl_); }

Thread::~Thread() { Stop(); }

Status Thread::Start(const char* name, Body body, void* context, Gfp gfp) {
  impl_ = mars_glue_thread_start(name, body, context, static_cast<int>(gfp));
  return impl_ != nullptr
             ? Status::Ok()
             : Status(StatusCode::kNoMemory, "cannot start kernel thread");
}

void Thread::Stop() {
  if (impl_ == nullptr) return;
  mars_glue_thread_stop(impl_);
  impl_ = nullptr;
}

bool Thread::ShouldStop() { return mars_glue_thread_should_stop() != 0; }

}  // namespace platform
}  // namespace mars
