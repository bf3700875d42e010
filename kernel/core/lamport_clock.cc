#include "core/lamport_clock.h"

#include "core/platform.h"

namespace mars {

uint64_t LamportClock::RealTime() const {
  return real_time_ns_ != nullptr ? real_time_ns_() : platform::RealTimeNs();
}

uint64_t LamportClock::Now() {
  const uint64_t real = RealTime();
  uint64_t seen = __atomic_load_n(&latest_, __ATOMIC_ACQUIRE);
  uint64_t next;
  do {
    next = seen + 1 > real ? seen + 1 : real;
  } while (!__atomic_compare_exchange_n(&latest_, &seen, next, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
  return next;
}

Status LamportClock::Observe(uint64_t stamp) {
  const uint64_t real = RealTime();
  const uint64_t limit =
      real > UINT64_MAX - max_future_ns_ ? UINT64_MAX : real + max_future_ns_;
  if (stamp > limit) {
    return Status(StatusCode::kOutOfRange,
                  "Lamport stamp too far in the future");
  }
  RaiseTo(stamp);
  return Status::Ok();
}

uint64_t LamportClock::Latest() const {
  return __atomic_load_n(&latest_, __ATOMIC_ACQUIRE);
}

uint64_t LamportClock::RaiseTo(uint64_t value) {
  uint64_t seen = __atomic_load_n(&latest_, __ATOMIC_ACQUIRE);
  while (seen < value) {
    if (__atomic_compare_exchange_n(&latest_, &seen, value, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      return value;
    }
  }
  return seen;
}

}  // namespace mars
