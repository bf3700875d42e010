// Known-answer tests that the module runs when it loads, before it touches any
// data: CRC-32C (standard vectors, and the platform's fast path against the
// portable one), SHA-256 and HMAC-SHA256, and that threads, mutexes and wait
// queues work. A checksum or MAC that disagrees
// with the standard must never judge a logfile, a network frame or a peer.
#ifndef MARS_CORE_STARTUP_CHECKS_H_
#define MARS_CORE_STARTUP_CHECKS_H_

#include "core/base/status.h"

namespace mars {

// Returns Ok, or kInternal naming the first failed test (also logged).
// Context: may sleep (the kernel allocates an HMAC transform).
Status RunStartupChecks();

}  // namespace mars

#endif  // MARS_CORE_STARTUP_CHECKS_H_
