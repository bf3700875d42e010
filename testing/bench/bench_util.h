// Helpers of the replication benchmarks (replication_bench, make bench):
// scratch directories, clocks, waiting on conditions, /mars links, test
// logfiles, and the result lines every benchmark prints.
#ifndef MARS_TESTING_BENCH_BENCH_UTIL_H_
#define MARS_TESTING_BENCH_BENCH_UTIL_H_

#include <stddef.h>
#include <stdint.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mars {
namespace bench {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kNsPerSecond = 1000ull * 1000 * 1000;
constexpr uint64_t kMiB = 1ull << 20;

// Seconds since `start`.
double SecondsSince(Clock::time_point start);

// MiB per second of `bytes` moved in `seconds`.
double MiBPerSecond(uint64_t bytes, double seconds);

// The median of `values` (not empty).
double Median(std::vector<double> values);

// Polls `condition` every `poll` until it holds or `timeout` passes;
// returns whether it held.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout,
             std::chrono::microseconds poll = std::chrono::milliseconds(5));

// How long a thread ran and how long it waited in a run queue, runnable
// but not running (a CPU busy with other threads), in ns
// (/proc/.../schedstat).
struct SchedNs {
  uint64_t run = 0;
  uint64_t wait = 0;
};

// The calling thread's, so far.
SchedNs ThisThreadSchedNs();

// Those of each thread of this process whose name is `comm`, by thread id.
std::map<int, SchedNs> ThreadsSchedNs(const char* comm);

// What each thread in `after` ran and waited since `before` (a thread not in
// `before` counts from 0), the longest run first.
std::vector<SchedNs> SchedUsed(const std::map<int, SchedNs>& before,
                               const std::map<int, SchedNs>& after);

// after - before, field by field.
SchedNs SchedSince(const SchedNs& before, const SchedNs& after);

// A scratch directory under $TMPDIR (default /tmp), removed with everything
// in it when destroyed.
class TempDir {
 public:
  explicit TempDir(const char* tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Creates the directories of `path` up to its last '/'.
void MakeParents(const std::string& path);
// Writes the /mars link `path` -> `value` with `stamp` (parents created).
void WriteLinkAt(const std::string& path, const std::string& value,
                 uint64_t stamp);
// The value of the link `path`, or "" when it cannot be read.
std::string ReadLinkAt(const std::string& path);
// Size of the file `path` in bytes, 0 when it does not exist.
uint64_t FileSize(const std::string& path);
// Creates (or truncates) `path` as a file of `bytes` zero bytes that are
// really written (allocated), then synced: a "data device".
void MakeDataFile(const std::string& path, uint64_t bytes);

// "log-NNNNNNNNN-HOST" and "version-NNNNNNNNN-HOST".
std::string LogfileName(uint32_t number, const std::string& host);
std::string VersionLinkName(uint32_t number, const std::string& host);
// The value of a version link declaring log-NUMBER-ORIGIN final at
// `length` bytes (a chain start).
std::string VersionLinkValue(uint32_t number, const std::string& origin,
                             uint64_t length);

// Deterministic pseudo-random bytes.
std::vector<uint8_t> PseudoRandomBytes(size_t size, uint32_t seed);

// Writes a logfile (log-format.md) to `path` as a primary's logger would:
// write records of `record_bytes` payload each (taken from `payload`,
// cycling) at sequential device offsets that wrap at `device_bytes`, until
// `payload_bytes` of payload are logged. Returns the file's length.
uint64_t WriteLogfile(const std::string& path, uint32_t number,
                      uint64_t payload_bytes, size_t record_bytes,
                      uint64_t device_bytes,
                      const std::vector<uint8_t>& payload);

// One benchmark's outcome: mars next to the reference measured in the same
// run, and the target ratio (informational, never pass/fail).
struct Measurement {
  std::string name;
  std::string reference;  // what the reference is
  double mars_mibs = 0;
  double reference_mibs = 0;
  double target_ratio = 0;  // mars / reference should be >= this; 0: none
  std::string note;         // extra facts (sizes, repetitions)
  bool ok = true;           // false: the run failed (see note)
};

// The lag benchmark's outcome: the replication lag under a steady load.
struct LagResult {
  double load_mibs = 0;      // the primary's write rate asked for
  double achieved_mibs = 0;  // what the primary acknowledged
  double seconds = 0;        // of steady load
  double max_lag_ms = 0;     // over every sample under load
  double median_lag_ms = 0;
  double max_lag_kib = 0;
  double catch_up_ms = -1;  // from the end of the load to lag 0; -1: never
  double target_ms = 0;     // the lag should stay under this
  std::string note;
  bool ok = true;  // false: the run failed (see note)
};

// Prints the summary table of `results` and `lag` (when given).
void PrintSummary(const std::vector<Measurement>& results,
                  const LagResult* lag);

}  // namespace bench
}  // namespace mars

#endif  // MARS_TESTING_BENCH_BENCH_UTIL_H_
