// core/platform.h implemented with POSIX: malloc, stderr, clock_gettime;
// SHA-256 and HMAC-SHA256 from OpenSSL's libcrypto. (CRC-32C:
// crc32c_x86_user.cc.)
//
// The log threshold comes from MARS_LOG_LEVEL (0..7, default 4 = warnings and
// worse), so tests stay quiet unless asked. ReportBug aborts: in userspace a
// broken invariant must stop the test that hit it, not be ignored.
#include "platform_user.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/platform.h"

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

}  // namespace

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

namespace {
// Live allocations, as the kernel's /proc/sys/mars/allocations counts them.
std::atomic<int64_t> g_live_allocations{0};
}  // namespace

void* Allocate(size_t size, Gfp /*gfp*/) {
  void* ptr = malloc(size);
  if (ptr != nullptr) g_live_allocations.fetch_add(1);
  return ptr;
}

void Free(void* ptr) {
  if (ptr != nullptr) g_live_allocations.fetch_sub(1);
  free(ptr);
}

namespace test {
int64_t LiveAllocations() { return g_live_allocations.load(); }
}  // namespace test

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

// Mutex, WaitQueue and Thread on the C++ standard library. Lock classes have
// no meaning here (no lockdep); ThreadSanitizer checks what it can.
Mutex::~Mutex() { delete static_cast<std::mutex*>(impl_); }

Status Mutex::Init(LockClass /*lock_class*/, Gfp /*gfp*/) {
  impl_ = new std::mutex;
  return Status::Ok();
}

namespace {
// Set while a WaitQueue condition runs on this thread. The kernel runs
// conditions with the task state set, where sleeping is a bug
// (DEBUG_ATOMIC_SLEEP reports it); here taking a Mutex there is reported.
thread_local bool t_in_wait_condition = false;

bool EvaluateCondition(WaitQueue::Condition condition, void* context) {
  t_in_wait_condition = true;
  const bool value = condition(context);
  t_in_wait_condition = false;
  return value;
}
}  // namespace

void Mutex::Lock() {
  // A wait condition must not sleep (platform.h).
  (void)MARS_CHECK(!t_in_wait_condition);
  static_cast<std::mutex*>(impl_)->lock();
}
void Mutex::Unlock() { static_cast<std::mutex*>(impl_)->unlock(); }

namespace {

struct UserWaitQueue {
  std::mutex mutex;
  std::condition_variable cv;
};

// The stop flag of the platform thread running on this OS thread, if any.
thread_local std::atomic<bool>* t_stop_flag = nullptr;

struct UserThread {
  std::atomic<bool> stop{false};
  Thread::Body body;
  void* context;
  std::thread thread;
};

// Waiters re-check ShouldStop() at least this often, so that Stop() needs
// no registry of which queue a thread sleeps on.
constexpr auto kStopPollInterval = std::chrono::milliseconds(10);

}  // namespace

WaitQueue::~WaitQueue() { delete static_cast<UserWaitQueue*>(impl_); }

Status WaitQueue::Init(LockClass /*lock_class*/, Gfp /*gfp*/) {
  impl_ = new UserWaitQueue;
  return Status::Ok();
}

bool WaitQueue::WaitUntil(Condition condition, void* context,
                          uint64_t timeout_ns) {
  auto* q = static_cast<UserWaitQueue*>(impl_);
  // Timeouts beyond a century mean "no timeout" (and would overflow).
  constexpr uint64_t kCenturyNs = 100ull * 365 * 24 * 3600 * 1000000000ull;
  const auto deadline =
      timeout_ns >= kCenturyNs
          ? std::chrono::steady_clock::time_point::max()
          : std::chrono::steady_clock::now() +
                std::chrono::nanoseconds(timeout_ns);
  std::unique_lock<std::mutex> lock(q->mutex);
  while (!EvaluateCondition(condition, context)) {
    if (Thread::ShouldStop()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    q->cv.wait_until(lock, std::min(deadline, now + kStopPollInterval));
  }
  return true;
}

void WaitQueue::WakeAll() {
  auto* q = static_cast<UserWaitQueue*>(impl_);
  // Taking the mutex orders the caller's state change before any waiter's
  // next evaluation of its condition.
  { std::lock_guard<std::mutex> lock(q->mutex); }
  q->cv.notify_all();
}

Thread::~Thread() { Stop(); }

Status Thread::Start(const char* name, Body body, void* context, Gfp /*gfp*/) {
  auto* t = new UserThread;
  t->body = body;
  t->context = context;
  t->thread = std::thread([t] {
    t_stop_flag = &t->stop;
    t->body(t->context);
  });
  char short_name[16];
  snprintf(short_name, sizeof(short_name), "%s", name);
  pthread_setname_np(t->thread.native_handle(), short_name);
  impl_ = t;
  return Status::Ok();
}

void Thread::Stop() {
  auto* t = static_cast<UserThread*>(impl_);
  if (t == nullptr) return;
  t->stop = true;
  t->thread.join();
  delete t;
  impl_ = nullptr;
}

bool Thread::ShouldStop() {
  return t_stop_flag != nullptr && t_stop_flag->load();
}

uint64_t RealTimeNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace platform
}  // namespace mars
