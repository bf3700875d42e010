// Core throughput benchmarks (make bench-core): CRC-32C, log append and log
// scan, in bytes per second, each printed next to memcpy bandwidth measured
// in the same run on the same buffer sizes. Not a pass/fail test; the
// summary prints the ratio and the target from the issue (>= 0.5x memcpy for
// 4 KiB log records).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/base/crc32c.h"
#include "platform_user.h"

namespace {

constexpr size_t kTotalBytes = 64 << 20;  // working set per iteration

std::vector<uint8_t> RandomBytes(size_t n) {
  std::vector<uint8_t> v(n);
  uint32_t x = 12345;
  for (auto& b : v) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  return v;
}

// memcpy of `record` sized pieces into a 64 MiB destination: the reference.
void BM_Memcpy(benchmark::State& state) {
  const size_t record = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> src = RandomBytes(record);
  std::vector<uint8_t> dst(kTotalBytes);
  for (auto _ : state) {
    for (size_t off = 0; off + record <= dst.size(); off += record) {
      std::memcpy(dst.data() + off, src.data(), record);
    }
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * (kTotalBytes / record) * record);
}

void BM_Crc32c(benchmark::State& state) {
  const size_t record = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> data = RandomBytes(kTotalBytes);
  uint32_t crc = 0;
  for (auto _ : state) {
    for (size_t off = 0; off + record <= data.size(); off += record) {
      crc ^= mars::crc32c::Value(data.data() + off, record);
    }
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(state.iterations() * (kTotalBytes / record) * record);
  state.SetLabel(mars::platform::Crc32cUsesSse42() ? "sse4.2" : "portable");
}

void BM_Crc32cPortable(benchmark::State& state) {
  const size_t record = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> data = RandomBytes(kTotalBytes);
  uint32_t crc = 0;
  for (auto _ : state) {
    for (size_t off = 0; off + record <= data.size(); off += record) {
      crc ^= mars::crc32c::ExtendPortable(0, data.data() + off, record);
    }
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(state.iterations() * (kTotalBytes / record) * record);
}

BENCHMARK(BM_Memcpy)->Arg(512)->Arg(4096)->Arg(65536)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Crc32c)->Arg(512)->Arg(4096)->Arg(65536)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Crc32cPortable)->Arg(4096)->Unit(benchmark::kMillisecond);

// Collects bytes/second per benchmark name while printing the usual table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto it = run.counters.find("bytes_per_second");
      if (it != run.counters.end()) rates_[run.benchmark_name()] = it->second;
    }
  }
  const std::map<std::string, double>& rates() const { return rates_; }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  printf("\nThroughput relative to memcpy of the same record size (same run):\n");
  printf("%-36s %12s %12s %8s\n", "benchmark", "MiB/s", "memcpy MiB/s", "ratio");
  int below_target = 0;
  for (const auto& [name, rate] : reporter.rates()) {
    if (name.rfind("BM_Memcpy", 0) == 0) continue;
    const std::string size = name.substr(name.find('/'));
    auto ref = reporter.rates().find("BM_Memcpy" + size.substr(0, size.find('/', 1)));
    if (ref == reporter.rates().end()) continue;
    const double ratio = rate / ref->second;
    const bool log_4k = name.rfind("BM_Log", 0) == 0 && size.rfind("/4096", 0) == 0;
    printf("%-36s %12.0f %12.0f %7.2fx%s\n", name.c_str(), rate / (1 << 20),
           ref->second / (1 << 20), ratio,
           log_4k ? (ratio >= 0.5 ? "  (target >= 0.5x: met)"
                                  : "  (target >= 0.5x: NOT met)")
                  : "");
    if (log_4k && ratio < 0.5) ++below_target;
  }
  if (below_target > 0) {
    printf("\n%d log benchmark(s) below the 0.5x memcpy target\n", below_target);
  }
  return 0;
}
