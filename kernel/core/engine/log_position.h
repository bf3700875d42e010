// LogPosition: a byte position in the sequence of logfiles of one resource,
// (logfile number N of log-N-HOST, byte offset in that file). Positions order
// lexicographically: every byte of logfile N comes before logfile N+1.
#ifndef MARS_CORE_ENGINE_LOG_POSITION_H_
#define MARS_CORE_ENGINE_LOG_POSITION_H_

#include <stdint.h>

namespace mars {
namespace engine {

struct LogPosition {
  uint64_t logfile = 0;  // the N of log-N-HOST
  uint64_t offset = 0;   // byte offset in that logfile
};

constexpr bool operator==(const LogPosition& a, const LogPosition& b) {
  return a.logfile == b.logfile && a.offset == b.offset;
}
constexpr bool operator!=(const LogPosition& a, const LogPosition& b) {
  return !(a == b);
}
constexpr bool operator<(const LogPosition& a, const LogPosition& b) {
  return a.logfile < b.logfile ||
         (a.logfile == b.logfile && a.offset < b.offset);
}
constexpr bool operator<=(const LogPosition& a, const LogPosition& b) {
  return !(b < a);
}

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_LOG_POSITION_H_
