// The replication benchmarks of replication_bench (make bench; see
// docu/benchmarks.md). Each one measures mars and its reference in the same
// run, prints what it sees as it goes, and returns the numbers for the
// summary. None of them is a pass/fail test.
#ifndef MARS_TESTING_BENCH_BENCHES_H_
#define MARS_TESTING_BENCH_BENCHES_H_

#include <stdint.h>

#include "bench_util.h"
#include "slow_link.h"

namespace mars {
namespace bench {

// fetch_bench.cc: a secondary's Node fetches a finished logfile of `bytes`
// from the primary's Node over loopback (127.0.0.1 -> 127.0.0.2), against a
// plain file -> TCP socket -> file copy of the same bytes between the same
// addresses. `rounds` of each, interleaved; medians. With `over_link`,
// both go through SlowLinks of `link` (a long network link emulated on
// loopback).
struct FetchOptions {
  uint64_t bytes = 256 * kMiB;
  int rounds = 3;
  bool over_link = false;
  SlowLinkOptions link;
  // peer_inflight_bytes of both hosts during the benchmark; 0: the
  // tunable's default.
  uint64_t inflight_bytes = 0;
};
Measurement RunFetchBench(const FetchOptions& options);

// replay_bench.cc: engine::Replayer applies a complete local logfile copy
// of `bytes` payload in records of `record_bytes` to a data file, against a
// raw sequential write (1 MiB pwrite calls, then fdatasync) of the same
// payload to the same file. `rounds` of each, interleaved; medians.
struct ReplayOptions {
  uint64_t bytes = 256 * kMiB;
  size_t record_bytes = 64 << 10;
  int rounds = 3;
};
Measurement RunReplayBench(const ReplayOptions& options);

// sync_bench.cc: a secondary syncs its data device of `device_bytes` from
// the primary (Manager + Resource + Node on each side, production sync
// settings); every block differs, or none (`identical`). Against the plain
// TCP copy of the primary's data file. `rounds` of each, interleaved;
// medians. With `over_link` through SlowLinks as the fetch benchmark.
struct SyncOptions {
  uint64_t device_bytes = 256 * kMiB;
  int rounds = 3;
  bool identical = false;
  bool over_link = false;
  SlowLinkOptions link;
};
Measurement RunSyncBench(const SyncOptions& options);

// lag_bench.cc: a primary (Manager + Resource + Node) takes writes at
// `rate_mibs` through its exported device while a secondary (Manager +
// Resource + Node) fetches and replays; the lag is sampled every
// `sample_ms` and printed as a curve.
struct LagOptions {
  double rate_mibs = 32;
  double seconds = 15;
  int sample_ms = 200;
  size_t write_bytes = 256 << 10;  // one request of the writer
  uint64_t device_bytes = 256 * kMiB;
};
LagResult RunLagBench(const LagOptions& options);

}  // namespace bench
}  // namespace mars

#endif  // MARS_TESTING_BENCH_BENCHES_H_
