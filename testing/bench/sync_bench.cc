// Full sync throughput: peer::Node's block sync against a plain socket copy.
//
// mars: host alpha (127.0.0.1) is the primary of r0 (a real engine resource
// through engine::Manager) with pseudo-random bytes on its data file; host
// beta (127.0.0.2) joins with todo-beta/sync and syncstatus-beta 0, its data
// file all zeros (every digest block differs) or a copy of alpha's (none
// differs: compared, not copied). beta syncs with the production settings
// (docu/replication.md §6: windows of 64 digest blocks of 64 KiB, up to 4
// block-requests of 1 MiB in flight, a flush of the data file before
// syncstatus-beta moves).
// Timed from the first bytes compared (counter sync_bytes_compared) until
// syncstatus-beta reaches the size; the data files are compared after.
//
// Reference: alpha's data file sent through one TCP connection into a file
// (socket_copy.h), as the fetch benchmark's reference.
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "benches.h"
#include "cluster_host.h"
#include "core/engine/manager.h"
#include "core/engine/resource.h"
#include "core/platform_io.h"
#include "manager_driver.h"
#include "platform_user.h"
#include "socket_copy.h"

namespace mars {
namespace bench {
namespace {

constexpr uint64_t kScanNs = kNsPerSecond / 10;

// `bytes` of pseudo-random data at `path` (a 4 MiB pattern repeated).
void MakeRandomFile(const std::string& path, uint64_t bytes) {
  const std::vector<uint8_t> pattern = PseudoRandomBytes(4 * kMiB, 5);
  FILE* f = fopen(path.c_str(), "wb");
  bool ok = f != nullptr;
  for (uint64_t done = 0; ok && done < bytes; done += pattern.size()) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(pattern.size(), bytes - done));
    ok = fwrite(pattern.data(), 1, n, f) == n;
  }
  if (f != nullptr && fclose(f) != 0) ok = false;
  if (!ok) {
    perror(path.c_str());
    abort();
  }
}

bool SameFiles(const std::string& a, const std::string& b, uint64_t bytes) {
  FILE* fa = fopen(a.c_str(), "rb");
  FILE* fb = fopen(b.c_str(), "rb");
  bool same = fa != nullptr && fb != nullptr;
  std::vector<uint8_t> x(1 << 20), y(1 << 20);
  for (uint64_t done = 0; same && done < bytes; done += x.size()) {
    const size_t n = fread(x.data(), 1, x.size(), fa);
    same = n > 0 && fread(y.data(), 1, n, fb) == n &&
           memcmp(x.data(), y.data(), n) == 0;
  }
  if (fa != nullptr) fclose(fa);
  if (fb != nullptr) fclose(fb);
  return same;
}

// One sync of beta's data file from alpha's; MiB/s, or negative with
// *error set. *copied: the bytes beta received and wrote.
double SyncOnce(const SyncOptions& options, const std::string& alpha_data,
                const std::string& dir, CpuMs* cpu, uint64_t* copied,
                std::string* error) {
  const uint64_t size = options.device_bytes;
  const std::string beta_data = dir + "/beta-r0.img";
  if (options.identical) {
    MakeRandomFile(beta_data, size);
  } else {
    MakeDataFile(beta_data, size);
  }
  ClusterHost alpha("alpha", "127.0.0.1");
  ClusterHost beta("beta", "127.0.0.2");
  if (options.over_link) {
    alpha.SetTreeIp("127.0.0.3");
    beta.SetTreeIp("127.0.0.4");
  }
  WriteClusterLinks(&alpha, beta, /*created=*/true);
  WriteClusterLinks(&beta, alpha, /*created=*/false);
  const std::string log1 = LogfileName(1, "alpha");
  alpha.Put("resource-r0/size", std::to_string(size));
  alpha.Put("resource-r0/primary", "alpha");
  alpha.Put("resource-r0/data-alpha", alpha_data);
  alpha.Put("resource-r0/todo-alpha/attach", "1");
  alpha.Put("resource-r0/replay-alpha", log1 + ",0,0");
  MakeParents(alpha.Path("resource-r0/" + log1));
  FILE* f = fopen(alpha.Path("resource-r0/" + log1).c_str(), "w");
  if (f != nullptr) fclose(f);
  // As join-resource leaves beta: attached, connected, syncing from 0.
  beta.Put("resource-r0/data-beta", beta_data);
  beta.Put("resource-r0/todo-beta/attach", "1");
  beta.Put("resource-r0/todo-beta/connect", "1");
  beta.Put("resource-r0/todo-beta/sync", "1");
  beta.Put("resource-r0/replay-beta", log1 + ",0,0");
  beta.Put("resource-r0/syncstatus-beta", "0");
  const uint16_t port = StartPair(&alpha, &beta, kScanNs);
  if (port == 0) {
    *error = "no free port on 127.0.0.1 and 127.0.0.2";
    return -1;
  }
  SlowLink to_alpha, to_beta;
  if (options.over_link &&
      (!to_alpha.Start(alpha.tree_ip(), port, alpha.ip(), port, beta.tree_ip(),
                       options.link) ||
       !to_beta.Start(beta.tree_ip(), port, beta.ip(), port, alpha.tree_ip(),
                      options.link))) {
    StopPair(&alpha, &beta);
    *error = "cannot listen on 127.0.0.3 and 127.0.0.4 for the link";
    return -1;
  }
  struct StopHosts {  // after the Managers
    ClusterHost* a;
    ClusterHost* b;
    ~StopHosts() { StopPair(a, b); }
  } stop_hosts{&alpha, &beta};
  ManagerPair managers;
  if (!managers.Init(&alpha, &beta)) {
    *error = "Manager::Init failed";
    return -1;
  }
  const uint64_t compared_base =
      platform::GetCounter(platform::Counter::kSyncBytesCompared);
  const uint64_t copied_base =
      platform::GetCounter(platform::Counter::kSyncBytesCopied);
  double mibs = -1;
  {
    ManagerDriver driver(&managers.alpha, &managers.beta);
    Clock::time_point first;
    if (!WaitFor(
            [&] {
              first = Clock::now();
              return platform::GetCounter(
                         platform::Counter::kSyncBytesCompared) > compared_base;
            },
            std::chrono::seconds(60), std::chrono::microseconds(500))) {
      *error = "nothing compared in 60 s: " +
               beta.Get("resource-r0/actual-beta/msg-err-sync") + " " +
               beta.Peer().last_error;
      return -1;
    }
    const uint64_t compared_first =
        platform::GetCounter(platform::Counter::kSyncBytesCompared) -
        compared_base;
    const std::map<int, SchedNs> cpu_before = ThreadsSchedNs("mars_peer");
    Clock::time_point last;
    const std::string done = std::to_string(size);
    if (!WaitFor(
            [&] {
              last = Clock::now();
              return beta.Get("resource-r0/syncstatus-beta") == done;
            },
            std::chrono::seconds(300), std::chrono::microseconds(500))) {
      *error = "sync did not complete in 300 s";
      return -1;
    }
    *cpu = BusiestTwo(SchedUsed(cpu_before, ThreadsSchedNs("mars_peer")));
    *copied =
        platform::GetCounter(platform::Counter::kSyncBytesCopied) - copied_base;
    const double seconds = std::chrono::duration<double>(last - first).count();
    // The first window's digests were compared at `first`: not timed.
    mibs = MiBPerSecond(size - compared_first, seconds);
  }
  managers.Stop();
  if (!SameFiles(alpha_data, beta_data, size)) {
    *error = "beta's data file differs from alpha's after the sync";
    return -1;
  }
  return mibs;
}

}  // namespace

Measurement RunSyncBench(const SyncOptions& options) {
  Measurement m;
  char text[200];
  snprintf(text, sizeof(text), "sync, %s%s",
           options.identical ? "identical disks" : "every block differs",
           options.over_link ? "" : ", loopback");
  m.name = text;
  if (options.over_link) {
    snprintf(text, sizeof(text), ", %.0f ms link",
             2 * options.link.one_way_ns / 1e6);
    m.name += text;
  }
  m.reference =
      "the primary's data file -> TCP -> file copy, 256 KiB sends, 512 KiB "
      "writes, "
      "no fdatasync (sync flushes before syncstatus moves, at most once a "
      "second)";
  if (options.over_link) m.reference += ", through the same link";
  m.target_ratio = 0;  // no target in issue 7
  TempDir work("sync");
  const std::string alpha_data = work.path() + "/alpha-r0.img";
  MakeRandomFile(alpha_data, options.device_bytes);
  printf("%s: %.0f MiB data device, %d rounds (reference, mars)\n",
         m.name.c_str(), static_cast<double>(options.device_bytes) / kMiB,
         options.rounds);
  std::vector<double> mars, reference;
  uint64_t copied = 0;
  for (int round = 0; round < options.rounds; ++round) {
    CopyRound r;
    r.reference_mibs = SocketCopyOnce(
        alpha_data, options.device_bytes, work.path(),
        options.over_link ? &options.link : nullptr, &r.reference_cpu);
    r.mars_mibs = SyncOnce(options, alpha_data, work.path(), &r.mars_cpu,
                           &copied, &r.error);
    char extra[48];
    snprintf(extra, sizeof(extra), ", %.0f MiB copied",
             static_cast<double>(copied) / kMiB);
    r.extra = extra;
    if (!RecordCopyRound(round, "sync", r, &m, &reference, &mars)) return m;
  }
  m.mars_mibs = Median(mars);
  m.reference_mibs = Median(reference);
  snprintf(text, sizeof(text),
           "%.0f MiB device, %.0f MiB copied per sync, median of %d rounds",
           static_cast<double>(options.device_bytes) / kMiB,
           static_cast<double>(copied) / kMiB, options.rounds);
  m.note = text;
  return m;
}

}  // namespace bench
}  // namespace mars
