#include "core/startup_checks.h"

#include "core/base/crc32c.h"
#include "core/platform.h"

namespace mars {
namespace {

constexpr uint8_t kZeros[32] = {};
constexpr uint8_t kOnes[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

// FIPS 180-2 appendix B.1: SHA-256("abc").
constexpr uint8_t kSha256Abc[32] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
    0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
    0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

// RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
constexpr uint8_t kHmacCase2[32] = {
    0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
    0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
    0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};

Status Fail(const char* name) {
  platform::Log(platform::LogLevel::kError, "self-test %s failed", name);
  return Status(StatusCode::kInternal, "self-test failed");
}

Status CheckCrc(const char* name, const void* data, size_t size,
                uint32_t expected) {
  const uint32_t fast = crc32c::Value(data, size);
  const uint32_t portable = crc32c::ExtendPortable(0, data, size);
  if (fast != expected || portable != expected) {
    platform::Log(platform::LogLevel::kError,
                  "self-test %s: crc32c 0x%08x (portable 0x%08x), expected "
                  "0x%08x",
                  name, fast, portable, expected);
    return Fail(name);
  }
  return Status::Ok();
}

// The platform's CRC must equal the portable one at every length and
// alignment that exercises its head, body and tail handling.
Status CheckCrcAgreement() {
  uint8_t buf[192];
  uint32_t x = 0x9E3779B9u;
  for (uint8_t& b : buf) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; len + offset <= sizeof(buf); len += 7) {
      const uint32_t seed = static_cast<uint32_t>(len * 2654435761u);
      if (crc32c::Extend(seed, buf + offset, len) !=
          crc32c::ExtendPortable(seed, buf + offset, len)) {
        return Fail("crc32c-agreement");
      }
    }
  }
  return Status::Ok();
}

Status CheckSha256() {
  uint8_t digest[platform::kSha256Bytes];
  platform::Sha256("abc", 3, digest);
  if (__builtin_memcmp(digest, kSha256Abc, sizeof(digest)) != 0) {
    return Fail("sha256-abc");
  }
  return Status::Ok();
}

Status CheckHmacSha256() {
  static constexpr char kData[] = "what do ya want for nothing?";
  uint8_t mac[platform::kSha256Bytes];
  const Status s =
      platform::HmacSha256("Jefe", 4, kData, sizeof(kData) - 1, mac);
  if (!s.ok()) {
    platform::Log(platform::LogLevel::kError, "self-test hmac-sha256: %s",
                  s.message());
    return s;
  }
  if (__builtin_memcmp(mac, kHmacCase2, sizeof(mac)) != 0) {
    return Fail("hmac-sha256-rfc4231-2");
  }
  return Status::Ok();
}

// Shared between the checking thread and a worker thread.
struct ThreadProbe {
  platform::Mutex mutex;
  platform::WaitQueue queue;
  int ran = 0;  // Written under mutex; read atomically.
};

// A wait condition: must not sleep (it runs with the task state set), so it
// reads the flag atomically instead of taking the mutex.
bool ProbeRan(void* context) {
  return __atomic_load_n(&static_cast<ThreadProbe*>(context)->ran,
                         __ATOMIC_ACQUIRE) != 0;
}

void ProbeBody(void* context) {
  auto* probe = static_cast<ThreadProbe*>(context);
  {
    platform::MutexGuard guard(probe->mutex);
    __atomic_store_n(&probe->ran, 1, __ATOMIC_RELEASE);
  }
  probe->queue.WakeAll();
  // Sleep until Stop(): proves that Stop() ends a wait.
  probe->queue.WaitUntil([](void*) { return false; }, nullptr,
                         UINT64_MAX / 2);
}

// Threads, mutexes and wait queues work: a worker runs, signals, and is
// stopped while it sleeps.
Status CheckThreads() {
  ThreadProbe probe;
  Status s = probe.mutex.Init(platform::LockClass::kSelfTest,
                              platform::Gfp::kKernel);
  if (s.ok()) s = probe.queue.Init(platform::LockClass::kSelfTest,
                                   platform::Gfp::kKernel);
  if (!s.ok()) return s;
  platform::Thread worker;
  s = worker.Start("mars_selftest", ProbeBody, &probe, platform::Gfp::kKernel);
  if (!s.ok()) return s;
  constexpr uint64_t kTenSecondsNs = 10ull * 1000 * 1000 * 1000;
  const bool ran = probe.queue.WaitUntil(ProbeRan, &probe, kTenSecondsNs);
  worker.Stop();
  return ran ? Status::Ok() : Fail("thread-wakeup");
}

}  // namespace

Status RunStartupChecks() {
  Status s = CheckCrc("crc32c-check", "123456789", 9, 0xE3069283u);
  if (s.ok()) s = CheckCrc("crc32c-zeros", kZeros, sizeof(kZeros), 0x8A9136AAu);
  if (s.ok()) s = CheckCrc("crc32c-ones", kOnes, sizeof(kOnes), 0x62A8AB43u);
  if (s.ok()) s = CheckCrcAgreement();
  if (s.ok()) s = CheckSha256();
  if (s.ok()) s = CheckHmacSha256();
  if (s.ok()) s = CheckThreads();
  return s;
}

}  // namespace mars
