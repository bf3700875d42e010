// Fetch throughput over loopback: peer::Node against a plain socket copy.
//
// mars: host alpha (127.0.0.1) is the primary of r0 and holds a finished
// logfile 1 (its version link gives the length); host beta (127.0.0.2) is a
// secondary that fetches it with the production fetch settings (512 KiB
// requests, 8 in flight). Timed from the first bytes of beta's local copy
// to its last: (length - first size seen) / time.
//
// Reference: the same logfile read and sent in 256 KiB pieces over one TCP
// connection from 127.0.0.1 to 127.0.0.2 and written to a file by the
// receiver in whole 512 KiB pieces, as mars writes its answers (what
// `nc < file` into `nc > file` does), timed the same way on the receiving
// side (socket_copy.h).
//
// Over loopback, one untimed round of each comes first: on this machine
// the first page-cache writes of a process can be several times slower
// than later ones (docu/benchmarks.md, "Whole pieces on both sides").
//
// Both also over a long link: SlowLinks (slow_link.h) between the hosts
// delay and rate-limit every byte as a WAN link would.
//
// Each round also prints the CPU time the two busiest threads of each side
// used while the bytes moved (mars: the serving and the asking connection
// thread; the reference: sender and receiver).
#include <stdio.h>
#include <unistd.h>

#include "benches.h"
#include "cluster_host.h"
#include "platform_user.h"
#include "slow_link.h"
#include "socket_copy.h"

namespace mars {
namespace bench {
namespace {

constexpr uint64_t kScanNs = kNsPerSecond / 10;

// One mars fetch of `source` (a logfile of `length` bytes); MiB/s, or a
// negative number when it did not complete. With `link`, the hosts reach
// each other only through a SlowLink each way: the tree gives alpha as
// 127.0.0.3 and beta as 127.0.0.4, where the links listen.
double FetchOnce(const std::string& source, uint64_t length,
                 const SlowLinkOptions* link, CpuMs* cpu, std::string* error) {
  ClusterHost alpha("alpha", "127.0.0.1");
  ClusterHost beta("beta", "127.0.0.2");
  if (link != nullptr) {
    alpha.SetTreeIp("127.0.0.3");
    beta.SetTreeIp("127.0.0.4");
  }
  WriteClusterLinks(&alpha, beta, /*created=*/true);
  WriteClusterLinks(&beta, alpha, /*created=*/false);
  const std::string log = "resource-r0/" + LogfileName(1, "alpha");
  alpha.Put("resource-r0/primary", "alpha");
  alpha.Put("resource-r0/data-alpha", "/dev/null");
  alpha.Put("resource-r0/data-beta", "/dev/null");
  alpha.Put("resource-r0/todo-beta/connect", "1");
  alpha.Put("resource-r0/replay-beta", LogfileName(1, "alpha") + ",0,0");
  alpha.Put("resource-r0/replay-alpha", LogfileName(2, "alpha") + ",0,0");
  alpha.Put("resource-r0/" + VersionLinkName(1, "alpha"),
            VersionLinkValue(1, "alpha", length));
  // The same bytes (and page-cache pages) in every round.
  if (::link(source.c_str(), alpha.Path(log).c_str()) != 0) {
    *error = "cannot link the logfile";
    return -1;
  }
  const uint16_t port = StartPair(&alpha, &beta, kScanNs);
  if (port == 0) {
    *error = "no free port on 127.0.0.1 and 127.0.0.2";
    return -1;
  }
  SlowLink to_alpha, to_beta;
  if (link != nullptr && (!to_alpha.Start(alpha.tree_ip(), port, alpha.ip(),
                                          port, beta.tree_ip(), *link) ||
                          !to_beta.Start(beta.tree_ip(), port, beta.ip(), port,
                                         alpha.tree_ip(), *link))) {
    StopPair(&alpha, &beta);
    *error = "cannot listen on 127.0.0.3 and 127.0.0.4 for the link";
    return -1;
  }
  const std::string copy = beta.Path(log);
  uint64_t first_size = 0;
  Clock::time_point first;
  if (!WaitFor(
          [&] {
            first_size = FileSize(copy);
            first = Clock::now();
            return first_size > 0;
          },
          std::chrono::seconds(30), std::chrono::microseconds(500))) {
    *error = "nothing fetched in 30 s: " + std::string(beta.Peer().last_error);
    return -1;
  }
  const std::map<int, SchedNs> cpu_before = ThreadsSchedNs("mars_peer");
  Clock::time_point last;
  if (!WaitFor(
          [&] {
            last = Clock::now();
            return FileSize(copy) >= length;
          },
          std::chrono::seconds(120), std::chrono::microseconds(500))) {
    *error = "fetch did not complete in 120 s";
    return -1;
  }
  *cpu = BusiestTwo(SchedUsed(cpu_before, ThreadsSchedNs("mars_peer")));
  StopPair(&alpha, &beta);
  const double seconds = std::chrono::duration<double>(last - first).count();
  return MiBPerSecond(length - first_size, seconds);
}

}  // namespace

Measurement RunFetchBench(const FetchOptions& options) {
  Measurement m;
  const SlowLinkOptions* link = options.over_link ? &options.link : nullptr;
  char text[160];
  if (link == nullptr) {
    m.name = "fetch, loopback";
    m.reference =
        "file -> TCP socket (127.0.0.1 -> 127.0.0.2) -> file copy of the "
        "same logfile, 256 KiB sends, 512 KiB writes";
  } else {
    snprintf(text, sizeof(text), "fetch, %.0f ms link",
             2 * link->one_way_ns / 1e6);
    m.name = text;
    snprintf(text, sizeof(text),
             "the same file -> TCP -> file copy through the same link "
             "(round trip %.0f ms, %.0f Mbit/s, %.1f MiB buffer)",
             2 * link->one_way_ns / 1e6, link->rate_bytes_per_s * 8 / 1e6,
             static_cast<double>(link->router_buffer_bytes) / kMiB);
    m.reference = text;
  }
  if (options.inflight_bytes > 0) {
    snprintf(text, sizeof(text), ", peer_inflight_bytes %.0f MiB",
             static_cast<double>(options.inflight_bytes) / kMiB);
    m.name += text;
  }
  m.target_ratio = 0.9;
  struct Tunable {
    explicit Tunable(uint64_t value) {
      if (value > 0) {
        platform::test::SetTunableForTest(platform::Tunable::kPeerInflightBytes,
                                          value);
      }
    }
    ~Tunable() { platform::test::ResetTunablesForTest(); }
  } tunable(options.inflight_bytes);
  TempDir work("fetch");
  const std::string source = work.path() + "/log";
  const std::vector<uint8_t> payload = PseudoRandomBytes(4 * kMiB, 7);
  const uint64_t length =
      WriteLogfile(source, 1, options.bytes, 64 << 10, 256 * kMiB, payload);
  printf("%s: logfile of %.1f MiB, %d rounds (reference, mars)\n",
         m.name.c_str(), static_cast<double>(length) / kMiB, options.rounds);
  std::vector<double> mars, reference;
  if (link == nullptr) {
    CopyRound warm;
    warm.reference_mibs =
        SocketCopyOnce(source, length, work.path(), link, &warm.reference_cpu);
    warm.mars_mibs =
        FetchOnce(source, length, link, &warm.mars_cpu, &warm.error);
    printf("  warm-up (not counted): socket copy %.1f MiB/s, mars %.1f MiB/s\n",
           warm.reference_mibs, warm.mars_mibs);
  }
  for (int round = 0; round < options.rounds; ++round) {
    // Odd rounds run mars first: each side's copy lands in the page cache
    // the other side's copy freed a moment before, which this machine's
    // hypervisor may have taken back meanwhile (docu/benchmarks.md, "Busy
    // or waiting"); alternating gives neither side that order every time.
    CopyRound r;
    const bool mars_first = round % 2 == 1;
    if (mars_first) {
      r.mars_mibs = FetchOnce(source, length, link, &r.mars_cpu, &r.error);
    }
    r.reference_mibs =
        SocketCopyOnce(source, length, work.path(), link, &r.reference_cpu);
    if (!mars_first) {
      r.mars_mibs = FetchOnce(source, length, link, &r.mars_cpu, &r.error);
    }
    if (!RecordCopyRound(round, "fetch", r, &m, &reference, &mars)) return m;
  }
  m.mars_mibs = Median(mars);
  m.reference_mibs = Median(reference);
  char note[128];
  snprintf(note, sizeof(note), "%.0f MiB logfile, median of %d rounds",
           static_cast<double>(length) / kMiB, options.rounds);
  m.note = note;
  return m;
}

}  // namespace bench
}  // namespace mars
