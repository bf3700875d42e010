// The reference of the fetch and sync benchmarks: a file copied through one
// plain TCP connection (what `nc < file` into `nc > file` does), over
// loopback or through a SlowLink; and the CPU time of the two busiest
// threads of a side.
#ifndef MARS_TESTING_BENCH_SOCKET_COPY_H_
#define MARS_TESTING_BENCH_SOCKET_COPY_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "slow_link.h"

namespace mars {
namespace bench {

// CPU time of the two busiest threads of one side (mars: the connection
// threads, the serving one and the asking one; the reference: its sender
// and receiver), from the first bytes of the copy to its last.
struct CpuMs {
  double first = 0;
  double second = 0;
};

// The two largest of `used_ns` (sorted largest first), in ms.
CpuMs BusiestTwo(const std::vector<uint64_t>& used_ns);

// `source` (`length` bytes) read in 256 KiB pieces, sent through a TCP
// connection from 127.0.0.1 to 127.0.0.2 and written to a file in `dir`
// (removed after); MiB/s from the receiver's first bytes to its last, or a
// negative number on failure. With `link`, the sender connects to a
// SlowLink on 127.0.0.5 that relays to the receiver.
double SocketCopyOnce(const std::string& source, uint64_t length,
                      const std::string& dir, const SlowLinkOptions* link,
                      CpuMs* cpu);

}  // namespace bench
}  // namespace mars

#endif  // MARS_TESTING_BENCH_SOCKET_COPY_H_
