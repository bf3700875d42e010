// The Lamport clock that stamps every /mars tree entry (docu/mars-tree.md).
//
// A stamp is nanoseconds since the Unix epoch. Now() returns
// max(real time, highest stamp issued or observed + 1), so stamps are strictly
// increasing on one host and every stamp issued after observing a peer's stamp
// is greater than it. A peer stamp further in the future than the configured
// limit is refused, so one host with a wild clock cannot poison the cluster.
#ifndef MARS_CORE_LAMPORT_CLOCK_H_
#define MARS_CORE_LAMPORT_CLOCK_H_

#include <stdint.h>

#include "core/base/status.h"

namespace mars {

class LamportClock {
 public:
  // Default limit for Observe(): 30 days ahead of local real time.
  static constexpr uint64_t kDefaultMaxFutureNs =
      30ull * 24 * 60 * 60 * 1000 * 1000 * 1000;

  // `real_time_ns` supplies wall-clock time; nullptr means
  // platform::RealTimeNs(). Injectable for tests.
  using RealTimeSource = uint64_t (*)();
  explicit constexpr LamportClock(RealTimeSource real_time_ns = nullptr,
                                  uint64_t max_future_ns = kDefaultMaxFutureNs)
      : real_time_ns_(real_time_ns), max_future_ns_(max_future_ns) {}

  LamportClock(const LamportClock&) = delete;
  LamportClock& operator=(const LamportClock&) = delete;

  // Returns a fresh stamp, greater than every stamp returned or observed
  // before. Context: any, lock-free, thread-safe.
  uint64_t Now();

  // Records a stamp seen from a peer or from disk. Refuses (kOutOfRange, clock
  // unchanged) a stamp more than max_future_ns ahead of local real time.
  // Context: any, lock-free, thread-safe.
  Status Observe(uint64_t stamp);

  // The highest stamp issued or observed so far (0 initially).
  uint64_t Latest() const;

  uint64_t max_future_ns() const { return max_future_ns_; }
  void set_max_future_ns(uint64_t ns) { max_future_ns_ = ns; }

 private:
  uint64_t RealTime() const;
  // Raises latest_ to at least `value`; returns the resulting value.
  uint64_t RaiseTo(uint64_t value);

  RealTimeSource real_time_ns_;
  uint64_t max_future_ns_;
  uint64_t latest_ = 0;  // accessed only through __atomic builtins
};

}  // namespace mars

#endif  // MARS_CORE_LAMPORT_CLOCK_H_
