// Small helpers shared by the POSIX platform's files (platform_*_user.cc):
// errno as a Status, timespec and deadline arithmetic. Internal to
// userspace/lib.
#ifndef MARS_USERSPACE_LIB_POSIX_USER_H_
#define MARS_USERSPACE_LIB_POSIX_USER_H_

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include <chrono>

#include "core/base/errno_status.h"
#include "core/base/status.h"

namespace mars {
namespace platform {
namespace internal {

inline Status LastError() { return StatusFromErrno(errno); }

constexpr uint64_t kNsPerSecond = 1000000000ull;

inline uint64_t TimespecNs(const struct timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSecond +
         static_cast<uint64_t>(ts.tv_nsec);
}

// Deadline of a wait of `timeout_ns`; beyond a century means never.
inline std::chrono::steady_clock::time_point DeadlineAfter(
    uint64_t timeout_ns) {
  constexpr uint64_t kCenturyNs = 100ull * 365 * 24 * 3600 * kNsPerSecond;
  if (timeout_ns >= kCenturyNs) {
    return std::chrono::steady_clock::time_point::max();
  }
  return std::chrono::steady_clock::now() +
         std::chrono::nanoseconds(timeout_ns);
}

}  // namespace internal
}  // namespace platform
}  // namespace mars

#endif  // MARS_USERSPACE_LIB_POSIX_USER_H_
