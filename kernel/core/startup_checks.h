// Known-answer tests that the module runs when it loads, before it touches any
// data: a checksum implementation that disagrees with the standard vectors
// must never be used to judge a logfile or a network frame.
#ifndef MARS_CORE_STARTUP_CHECKS_H_
#define MARS_CORE_STARTUP_CHECKS_H_

#include "core/base/status.h"

namespace mars {

// Returns Ok, or kInternal naming the first failed test (also logged).
// Context: any, does not allocate.
Status RunStartupChecks();

}  // namespace mars

#endif  // MARS_CORE_STARTUP_CHECKS_H_
