// Replication benchmarks (make bench; docu/benchmarks.md): fetch over
// loopback against a plain socket copy, replay against a raw sequential
// write, and the replication lag of a primary and a secondary under a steady
// load of half the measured fetch rate. Prints MiB/s of mars and of the
// reference measured in the same run, the ratio and the target.
// Informational: the exit status is 0 unless a benchmark could not run.
//
// Options: --only=fetch,link,wan,sync,replay,lag   run only these
//          --fetch-mib=N --replay-mib=N --sync-mib=N --rounds=N
//          --fetch-inflight-mib=N (peer_inflight_bytes during the loopback
//          fetch; default: the tunable's default)
//          (sync: loopback with every block differing and with identical
//          disks of sync-mib, and every block differing over the link of
//          link-mib)
//          --link-mib=N --link-rtt-ms=T --link-mbits=R (fetch over an
//          emulated link of round trip T and rate R)
//          --link-inflight-mib=N (peer_inflight_bytes during the link
//          benchmark; default: the tunable's default)
//          --wan-rtt-ms=T --wan-inflight-mib=N (wan: fetch of 2 x link-mib
//          over a link of round trip T, default 100 ms, at link-mbits,
//          with peer_inflight_bytes N MiB, default 17)
//          --lag-seconds=S --lag-cap-mibs=R (the lag load is half the
//          fetch rate, at most R; without the fetch benchmark it is R)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench_util.h"
#include "benches.h"
#include "slow_link.h"

namespace {

struct Args {
  std::string only = "fetch,link,wan,sync,replay,lag";
  uint64_t fetch_mib = 256;
  uint64_t link_mib = 64;
  double link_rtt_ms = 20;
  double link_mbits = 1000;
  uint64_t fetch_inflight_mib = 0;
  uint64_t link_inflight_mib = 0;
  double wan_rtt_ms = 100;
  uint64_t wan_inflight_mib = 17;
  uint64_t replay_mib = 256;
  uint64_t sync_mib = 256;
  int rounds = 3;
  double lag_seconds = 15;
  double lag_cap_mibs = 64;
};

bool Value(const char* arg, const char* name, const char** value) {
  const size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

bool Parse(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const char* v = nullptr;
    if (Value(argv[i], "--only", &v)) {
      args->only = v;
    } else if (Value(argv[i], "--fetch-mib", &v)) {
      args->fetch_mib = strtoull(v, nullptr, 10);
    } else if (Value(argv[i], "--fetch-inflight-mib", &v)) {
      args->fetch_inflight_mib = strtoull(v, nullptr, 10);
    } else if (Value(argv[i], "--link-mib", &v)) {
      args->link_mib = strtoull(v, nullptr, 10);
    } else if (Value(argv[i], "--link-rtt-ms", &v)) {
      args->link_rtt_ms = atof(v);
    } else if (Value(argv[i], "--link-mbits", &v)) {
      args->link_mbits = atof(v);
    } else if (Value(argv[i], "--link-inflight-mib", &v)) {
      args->link_inflight_mib = strtoull(v, nullptr, 10);
    } else if (Value(argv[i], "--wan-rtt-ms", &v)) {
      args->wan_rtt_ms = atof(v);
    } else if (Value(argv[i], "--wan-inflight-mib", &v)) {
      args->wan_inflight_mib = strtoull(v, nullptr, 10);
    } else if (Value(argv[i], "--sync-mib", &v)) {
      args->sync_mib = strtoull(v, nullptr, 10);
    } else if (Value(argv[i], "--replay-mib", &v)) {
      args->replay_mib = strtoull(v, nullptr, 10);
    } else if (Value(argv[i], "--rounds", &v)) {
      args->rounds = atoi(v);
    } else if (Value(argv[i], "--lag-seconds", &v)) {
      args->lag_seconds = atof(v);
    } else if (Value(argv[i], "--lag-cap-mibs", &v)) {
      args->lag_cap_mibs = atof(v);
    } else {
      fprintf(stderr, "unknown argument %s (see the top of %s)\n", argv[i],
              __FILE__);
      return false;
    }
  }
  return args->fetch_mib > 0 && args->replay_mib > 0 && args->rounds > 0 &&
         args->sync_mib > 0 && args->link_mib > 0 && args->link_rtt_ms > 0 &&
         args->link_mbits > 0 && args->wan_rtt_ms > 0 &&
         args->wan_inflight_mib > 0 && args->lag_seconds > 0 &&
         args->lag_cap_mibs > 0;
}

bool Wanted(const Args& args, const char* name) {
  const std::string list = "," + args.only + ",";
  return list.find("," + std::string(name) + ",") != std::string::npos;
}

// An emulated link of round trip `rtt_ms` at `mbits` Mbit/s.
mars::bench::SlowLinkOptions Link(double rtt_ms, double mbits) {
  mars::bench::SlowLinkOptions link;
  link.one_way_ns = static_cast<uint64_t>(rtt_ms / 2 * 1e6);
  link.rate_bytes_per_s = mbits * 1e6 / 8;
  return link;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mars::bench;  // NOLINT
  Args args;
  if (!Parse(argc, argv, &args)) return 2;
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::vector<Measurement> results;
  double fetch_mibs = 0;
  if (Wanted(args, "fetch")) {
    FetchOptions options;
    options.bytes = args.fetch_mib * kMiB;
    options.inflight_bytes = args.fetch_inflight_mib * kMiB;
    options.rounds = args.rounds;
    results.push_back(RunFetchBench(options));
    if (results.back().ok) fetch_mibs = results.back().mars_mibs;
  }
  if (Wanted(args, "link")) {
    FetchOptions options;
    options.bytes = args.link_mib * kMiB;
    options.rounds = args.rounds;
    options.over_link = true;
    options.link = Link(args.link_rtt_ms, args.link_mbits);
    options.inflight_bytes = args.link_inflight_mib * kMiB;
    results.push_back(RunFetchBench(options));
  }
  if (Wanted(args, "wan")) {
    FetchOptions options;
    options.bytes = 2 * args.link_mib * kMiB;
    options.rounds = args.rounds;
    options.over_link = true;
    options.link = Link(args.wan_rtt_ms, args.link_mbits);
    options.inflight_bytes = args.wan_inflight_mib * kMiB;
    results.push_back(RunFetchBench(options));
  }
  if (Wanted(args, "sync")) {
    for (bool identical : {false, true}) {
      SyncOptions options;
      options.device_bytes = args.sync_mib * kMiB;
      options.rounds = args.rounds;
      options.identical = identical;
      results.push_back(RunSyncBench(options));
    }
    SyncOptions options;
    options.device_bytes = args.link_mib * kMiB;
    options.rounds = args.rounds;
    options.over_link = true;
    options.link = Link(args.link_rtt_ms, args.link_mbits);
    results.push_back(RunSyncBench(options));
  }
  if (Wanted(args, "replay")) {
    for (size_t record : {size_t{4} << 10, size_t{256} << 10}) {
      ReplayOptions options;
      options.bytes = args.replay_mib * kMiB;
      options.record_bytes = record;
      options.rounds = args.rounds;
      results.push_back(RunReplayBench(options));
    }
  }
  LagResult lag;
  bool lag_run = false;
  if (Wanted(args, "lag")) {
    LagOptions options;
    options.seconds = args.lag_seconds;
    options.rate_mibs = fetch_mibs > 0
                            ? std::min(fetch_mibs / 2, args.lag_cap_mibs)
                            : args.lag_cap_mibs;
    if (fetch_mibs <= 0) {
      printf("lag: load %.1f MiB/s: the cap (no fetch rate measured)\n",
             options.rate_mibs);
    } else if (fetch_mibs / 2 <= args.lag_cap_mibs) {
      printf("lag: load %.1f MiB/s: half the measured fetch rate\n",
             options.rate_mibs);
    } else {
      // The primary's log and data device and the secondary's copy and data
      // device all write on this one machine, and both hosts share its CPUs.
      printf(
          "lag: load %.1f MiB/s: the cap (--lag-cap-mibs); half the "
          "measured fetch rate would be %.1f MiB/s, written four times "
          "over on one machine\n",
          options.rate_mibs, fetch_mibs / 2);
    }
    lag = RunLagBench(options);
    lag_run = true;
  }
  PrintSummary(results, lag_run ? &lag : nullptr);
  bool failed = lag_run && !lag.ok;
  for (const Measurement& m : results) failed = failed || !m.ok;
  return failed ? 1 : 0;
}
