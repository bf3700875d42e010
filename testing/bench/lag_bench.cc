// Replication lag under a steady load: a whole primary and a whole
// secondary in one process.
//
// Each host has its /mars directory, a peer::Node on its loopback address
// (alpha 127.0.0.1, beta 127.0.0.2) and an engine::Manager driving the real
// engine (kResourceHooks). The Managers run without their own thread: one
// driver thread scans both every second (Manager::kScanIntervalNs), as
// mars_main does, switching the process-wide host name before each scan
// (the only thing the Manager reads it for). alpha is primary of r0 and
// exports the userspace /dev/mars/r0; beta is attached as secondary with
// replay allowed, so its Node fetches and its replay thread replays with
// the production settings.
//
// A writer thread writes 256 KiB plain writes (acknowledged when logged,
// write-path.md §2) sequentially over the device at a fixed rate. Every
// sample the bench reads:
//   acked     payload bytes the primary acknowledged (the writer's count),
//   replayed  payload bytes beta's replay applied (counter bytes_replayed;
//             nothing else replays in this process),
// lag = acked - replayed, and in time: how long ago the primary had
// acknowledged as much as beta has replayed now.
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "benches.h"
#include "cluster_host.h"
#include "core/engine/manager.h"
#include "core/engine/resource.h"
#include "core/platform_io.h"
#include "manager_driver.h"
#include "platform_user.h"

namespace mars {
namespace bench {
namespace {

namespace pt = platform::test;

// Writes at a fixed rate to /dev/mars/r0 and keeps the history of the
// acknowledged bytes.
class Writer {
 public:
  Writer(double rate_mibs, size_t write_bytes, uint64_t device_bytes)
      : rate_(rate_mibs * kMiB),
        write_bytes_(write_bytes),
        device_bytes_(device_bytes),
        payload_(PseudoRandomBytes(4 * kMiB, 3)) {}

  // Writes until `end`; false when a write failed.
  bool Run(Clock::time_point start, Clock::time_point end) {
    pt::FrontDiskHandle* disk = pt::OpenFrontDisk("r0");
    if (disk == nullptr) return false;
    uint64_t submitted = 0, offset = 0;
    size_t source = 0;
    bool ok = true;
    while (ok) {
      const Clock::time_point now = Clock::now();
      if (now >= end) break;
      const double due =
          rate_ * std::chrono::duration<double>(now - start).count();
      if (static_cast<double>(submitted + write_bytes_) > due) {
        // Pacing: the next write is due when the rate allows it.
        const double wait_s = (submitted + write_bytes_ - due) / rate_;
        std::this_thread::sleep_until(
            std::min(end, now + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(wait_s))));
        continue;
      }
      if (offset + write_bytes_ > device_bytes_) offset = 0;
      if (source + write_bytes_ > payload_.size()) source = 0;
      const Status s =
          pt::SubmitToFrontDisk(disk, platform::FrontOp::kWrite, 0, offset,
                                payload_.data() + source, write_bytes_);
      ok = s.ok();
      if (!ok) {
        fprintf(stderr, "lag: write failed: %s\n", s.message());
        break;
      }
      submitted += write_bytes_;
      offset += write_bytes_;
      source += write_bytes_;
      std::lock_guard<std::mutex> guard(mutex_);
      history_.push_back({Clock::now(), submitted});
      acked_ = submitted;
    }
    pt::CloseFrontDisk(disk);
    return ok;
  }

  uint64_t acked() {
    std::lock_guard<std::mutex> guard(mutex_);
    return acked_;
  }

  // How long before `now` the primary had acknowledged `bytes` (0 when it
  // has not acknowledged more than that yet).
  double AgeOf(uint64_t bytes, Clock::time_point now) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (bytes >= acked_) return 0;
    // The first point that acknowledged more than `bytes`: the oldest
    // write not yet replayed.
    auto it = std::upper_bound(
        history_.begin(), history_.end(), bytes,
        [](uint64_t b, const Point& p) { return b < p.acked; });
    return std::chrono::duration<double, std::milli>(now - it->time).count();
  }

 private:
  struct Point {
    Clock::time_point time;
    uint64_t acked;
  };
  const double rate_;
  const size_t write_bytes_;
  const uint64_t device_bytes_;
  std::vector<uint8_t> payload_;
  std::mutex mutex_;
  std::deque<Point> history_;
  uint64_t acked_ = 0;
};

// Sum of the sizes of the logfiles log-*-alpha in `dir`.
uint64_t LogBytes(const std::string& dir) {
  struct Sum {
    std::string dir;
    uint64_t bytes = 0;
  } sum{dir};
  auto visit = [](void* context, const char* name, size_t size,
                  platform::EntryType type) {
    auto* s = static_cast<Sum*>(context);
    const std::string entry(name, size);
    if (type == platform::EntryType::kFile && entry.rfind("log-", 0) == 0 &&
        entry.size() > 6 && entry.compare(entry.size() - 6, 6, "-alpha") == 0) {
      s->bytes += FileSize(s->dir + "/" + entry);
    }
    return true;
  };
  (void)platform::ListDirectory(dir.c_str(), visit, &sum);
  return sum.bytes;
}

// Writes the links of r0 as create-resource on alpha and join-resource on
// beta (with fake-sync: both data files start equal) would.
void WriteResourceLinks(ClusterHost* alpha, ClusterHost* beta,
                        const std::string& alpha_data,
                        const std::string& beta_data, uint64_t device_bytes) {
  const std::string log1 = LogfileName(1, "alpha");
  alpha->Put("resource-r0/size", std::to_string(device_bytes));
  alpha->Put("resource-r0/primary", "alpha");
  alpha->Put("resource-r0/data-alpha", alpha_data);
  alpha->Put("resource-r0/todo-alpha/attach", "1");
  alpha->Put("resource-r0/replay-alpha", log1 + ",0,0");
  MakeParents(alpha->Path("resource-r0/" + log1));
  FILE* f = fopen(alpha->Path("resource-r0/" + log1).c_str(), "w");
  if (f != nullptr) fclose(f);
  beta->Put("resource-r0/data-beta", beta_data);
  beta->Put("resource-r0/todo-beta/attach", "1");
  beta->Put("resource-r0/todo-beta/connect", "1");
  beta->Put("resource-r0/todo-beta/allow-replay", "1");
  beta->Put("resource-r0/replay-beta", log1 + ",0,0");
  beta->Put("resource-r0/syncstatus-beta", std::to_string(device_bytes));
}

}  // namespace

LagResult RunLagBench(const LagOptions& options) {
  LagResult result;
  result.load_mibs = options.rate_mibs;
  result.target_ms = 2000;
  auto fail = [&](const std::string& why) {
    result.ok = false;
    result.note = why;
    return result;
  };
  TempDir work("lag");
  const std::string alpha_data = work.path() + "/alpha-r0.img";
  const std::string beta_data = work.path() + "/beta-r0.img";
  MakeDataFile(alpha_data, options.device_bytes);
  MakeDataFile(beta_data, options.device_bytes);

  ClusterHost alpha("alpha", "127.0.0.1");
  ClusterHost beta("beta", "127.0.0.2");
  WriteClusterLinks(&alpha, beta, /*created=*/true);
  WriteClusterLinks(&beta, alpha, /*created=*/false);
  WriteResourceLinks(&alpha, &beta, alpha_data, beta_data,
                     options.device_bytes);
  // Production timers: the tree thread scans and polls every second.
  if (StartPair(&alpha, &beta, kNsPerSecond) == 0) {
    return fail("no free port on 127.0.0.1 and 127.0.0.2");
  }
  // Both trees complete before the Managers start.
  if (!WaitFor(
          [&] {
            return beta.Get("resource-r0/size") ==
                       std::to_string(options.device_bytes) &&
                   alpha.Get("resource-r0/replay-beta") != "" &&
                   beta.Get("uuid") == kClusterUuid;
          },
          std::chrono::seconds(30))) {
    return fail("the trees did not converge: " +
                std::string(beta.Peer().last_error));
  }

  ManagerPair managers;  // stopped on every way out, after the driver
  if (!managers.Init(&alpha, &beta)) return fail("Manager::Init failed");
  const std::string beta_dir = beta.Path("resource-r0");
  const std::string alpha_dir = alpha.Path("resource-r0");
  Writer writer(options.rate_mibs, options.write_bytes, options.device_bytes);
  {
    ManagerDriver driver(&managers.alpha, &managers.beta);
    if (!WaitFor(
            [&] {
              return pt::FrontDiskSizeForTest("r0") == options.device_bytes &&
                     beta.Get("resource-r0/actual-beta/is-replaying") == "1";
            },
            std::chrono::seconds(30))) {
      return fail("primary or secondary did not come up: " +
                  alpha.Get("resource-r0/actual-alpha/msg-err-attach") +
                  alpha.Get("resource-r0/actual-alpha/msg-err-primary") +
                  beta.Get("resource-r0/actual-beta/msg-err-attach") +
                  beta.Get("resource-r0/actual-beta/msg-err-replay"));
    }
    const uint64_t replayed_base =
        platform::GetCounter(platform::Counter::kBytesReplayed);
    printf(
        "lag: primary writes %.1f MiB/s (%zu KiB plain writes) for %.0f s; "
        "samples every %d ms\n"
        "     lag = acknowledged on alpha - replayed on beta (payload); "
        "ms = age of the oldest write not yet replayed\n",
        options.rate_mibs, options.write_bytes >> 10, options.seconds,
        options.sample_ms);
    const Clock::time_point start = Clock::now();
    const Clock::time_point end =
        start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(options.seconds));
    std::atomic<bool> writer_ok{true};
    std::thread writer_thread([&] { writer_ok = writer.Run(start, end); });

    std::vector<double> lags_ms;
    Clock::time_point load_end;
    bool load_over = false;
    for (int sample = 1;; ++sample) {
      std::this_thread::sleep_until(
          start + std::chrono::milliseconds(options.sample_ms * sample));
      const Clock::time_point now = Clock::now();
      const uint64_t acked = writer.acked();
      const uint64_t replayed =
          platform::GetCounter(platform::Counter::kBytesReplayed) -
          replayed_base;
      const uint64_t lag = acked > replayed ? acked - replayed : 0;
      const double lag_ms = writer.AgeOf(replayed, now);
      const uint64_t primary_log = LogBytes(alpha_dir);
      const uint64_t fetched = LogBytes(beta_dir);
      const double t = std::chrono::duration<double>(now - start).count();
      printf(
          "t=%.2fs lag=%.0fKiB %.0fms  (acked %.1f MiB, fetch behind "
          "%.0f KiB)%s\n",
          t, static_cast<double>(lag) / 1024, lag_ms,
          static_cast<double>(acked) / kMiB,
          primary_log > fetched
              ? static_cast<double>(primary_log - fetched) / 1024
              : 0.0,
          load_over ? " [load ended]" : "");
      fflush(stdout);
      if (!load_over) {
        lags_ms.push_back(lag_ms);
        result.max_lag_kib =
            std::max(result.max_lag_kib, static_cast<double>(lag) / 1024);
        if (now >= end) {
          load_over = true;
          load_end = now;
          writer_thread.join();
          result.achieved_mibs = MiBPerSecond(
              writer.acked(),
              std::chrono::duration<double>(load_end - start).count());
        }
        continue;
      }
      if (lag == 0) {
        result.catch_up_ms =
            std::chrono::duration<double, std::milli>(now - load_end).count();
        break;
      }
      if (now - load_end > std::chrono::seconds(30)) break;
    }
    if (!writer_ok) return fail("a write to /dev/mars/r0 failed");
    result.seconds = options.seconds;
    result.max_lag_ms = *std::max_element(lags_ms.begin(), lags_ms.end());
    result.median_lag_ms = Median(lags_ms);
    char note[160];
    snprintf(note, sizeof(note),
             "%zu KiB plain writes over a %.0f MiB device, production fetch "
             "and replay settings",
             options.write_bytes >> 10,
             static_cast<double>(options.device_bytes) / kMiB);
    result.note = note;
  }  // the driver stops
  managers.Stop();
  StopPair(&alpha, &beta);
  return result;
}

}  // namespace bench
}  // namespace mars
