// The reference of the fetch and sync benchmarks: a file copied through one
// plain TCP connection (what `nc < file` into `nc > file` does), over
// loopback or through a SlowLink; and the CPU time of the two busiest
// threads of a side.
#ifndef MARS_TESTING_BENCH_SOCKET_COPY_H_
#define MARS_TESTING_BENCH_SOCKET_COPY_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "bench_util.h"
#include "slow_link.h"

namespace mars {
namespace bench {

// CPU time of the two busiest threads of one side (mars: the connection
// threads, the serving one and the asking one; the reference: its sender
// and receiver), from the first bytes of the copy to its last, and how long
// each waited for a CPU meanwhile (runnable while the CPU it was queued on
// ran another thread).
struct CpuMs {
  double first = 0;
  double second = 0;
  double first_wait = 0;
  double second_wait = 0;
};

// The two longest-running of `used` (sorted longest first), in ms.
CpuMs BusiestTwo(const std::vector<SchedNs>& used);

// `source` (`length` bytes) read and sent in 256 KiB pieces through a TCP
// connection from 127.0.0.1 to 127.0.0.2, received in whole 512 KiB pieces
// and written at their offsets to a file in `dir` (removed after); MiB/s from
// the receiver's first bytes to its last, or a negative number on failure. With
// `link`, the sender connects to a SlowLink on 127.0.0.5 that relays to the
// receiver.
double SocketCopyOnce(const std::string& source, uint64_t length,
                      const std::string& dir, const SlowLinkOptions* link,
                      CpuMs* cpu);

// One round of a benchmark against the socket copy.
struct CopyRound {
  double reference_mibs = -1;  // negative: the socket copy failed
  CpuMs reference_cpu;
  double mars_mibs = -1;  // negative: mars failed (`error`)
  CpuMs mars_cpu;
  std::string error;
  std::string extra;  // printed after mars's CPU time, e.g. ", 4 MiB copied"
};

// Prints the round's line ("round N: socket copy ... mars `what` ...") and
// appends both rates to the lists; when either failed, marks *m failed
// with the reason instead and returns false.
bool RecordCopyRound(int round, const char* what, const CopyRound& r,
                     Measurement* m, std::vector<double>* reference,
                     std::vector<double>* mars);

}  // namespace bench
}  // namespace mars

#endif  // MARS_TESTING_BENCH_SOCKET_COPY_H_
