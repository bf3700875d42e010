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
#include "core/log/log_reader.h"
#include "core/log/log_writer.h"
#include "platform_user.h"

namespace {

// Every benchmark moves kTotalBytes per iteration through a working set of
// kRingBytes (a log writer ring of 64 x 1 MiB chunks, larger than the last
// level cache), so that all of them see the same memory behaviour as the
// reference memcpy: what is compared is streaming bandwidth, not L2 copies.
constexpr size_t kTotalBytes = 256 << 20;
constexpr size_t kRingBytes = 64 << 20;
constexpr size_t kRingChunkBytes = 1 << 20;

std::vector<uint8_t> RandomBytes(size_t n) {
  std::vector<uint8_t> v(n);
  uint32_t x = 12345;
  for (auto& b : v) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  return v;
}

// Record slots laid out like log records (a 64-byte header before each
// payload) in a kRingBytes buffer, wrapping around.
size_t NextSlot(size_t pos, size_t record) {
  pos += record + 64;
  return pos + record > kRingBytes ? 64 : pos;
}

// memcpy of `record` sized pieces into the ring: the reference.
void BM_Memcpy(benchmark::State& state) {
  const size_t record = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> src = RandomBytes(record);
  std::vector<uint8_t> dst(kRingBytes);
  size_t pos = 64;
  for (auto _ : state) {
    for (size_t done = 0; done + record <= kTotalBytes; done += record) {
      std::memcpy(dst.data() + pos, src.data(), record);
      pos = NextSlot(pos, record);
    }
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * (kTotalBytes / record) * record);
}

// CRC-32C on `path`; the fastest one is what crc32c::Value() takes.
void BM_Crc32cOn(benchmark::State& state, mars::platform::Crc32cPath path) {
  if (path > mars::platform::Crc32cFastestPath()) {
    state.SkipWithError("this CPU lacks the instructions");
    return;
  }
  const size_t record = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> data = RandomBytes(kRingBytes);
  uint32_t crc = 0;
  size_t pos = 64;
  for (auto _ : state) {
    for (size_t done = 0; done + record <= kTotalBytes; done += record) {
      crc ^=
          mars::platform::Crc32cExtendWith(path, 0, data.data() + pos, record);
      pos = NextSlot(pos, record);
    }
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(state.iterations() * (kTotalBytes / record) * record);
  state.SetLabel(mars::platform::Crc32cPathName(path));
}

void BM_Crc32c(benchmark::State& state) {
  BM_Crc32cOn(state, mars::platform::Crc32cFastestPath());
}

// Initialises `writer` for logfile 1 with a ring of `chunk_count` chunks of
// `chunk_bytes`; on failure marks the benchmark skipped and returns false.
bool InitBenchWriter(benchmark::State& state, mars::log::LogWriter* writer,
                     uint64_t chunk_bytes, size_t chunk_count) {
  mars::log::LogWriterOptions options;
  options.salt = 0x5EED;
  options.logfile_number = 1;
  options.chunk_bytes = chunk_bytes;
  options.chunk_count = chunk_count;
  if (!writer->Init(options).ok()) {
    state.SkipWithError("LogWriter::Init failed");
    return false;
  }
  return true;
}

// Appends kTotalBytes of payload as records of `record` bytes to a LogWriter
// with the default ring; full chunks are taken and released at once (the
// file write itself is not part of this measurement).
void BM_LogAppend(benchmark::State& state) {
  const size_t record = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> payload = RandomBytes(record);
  mars::log::LogWriter writer;
  if (!InitBenchWriter(state, &writer, kRingChunkBytes,
                       kRingBytes / kRingChunkBytes)) {
    return;
  }
  mars::log::RecordFields fields;
  mars::log::RecordPosition position;
  mars::log::LogWrite write;
  // Appends `bytes` of payload; false (the benchmark skipped) on an error.
  auto append = [&](size_t bytes) {
    for (size_t done = 0; done + record <= bytes; done += record) {
      fields.device_offset = done;
      fields.stamp_ns = done;
      mars::Status s = writer.Append(
          fields, mars::Slice(payload.data(), payload.size()), &position);
      if (s.code() == mars::StatusCode::kUnavailable) {
        while (writer.TakeWrite(mars::log::TakePolicy::kAll, &write)) {
        }
        (void)writer.Release(writer.TakenEnd());
        s = writer.Append(fields, mars::Slice(payload.data(), payload.size()),
                          &position);
      }
      if (!s.ok()) {
        state.SkipWithError(s.message());
        return false;
      }
    }
    return true;
  };
  // Once around the ring untimed: its pages are touched, as memcpy's
  // destination is before BM_Memcpy times it.
  if (!append(kRingBytes)) return;
  for (auto _ : state) {
    if (!append(kTotalBytes)) return;
  }
  state.SetBytesProcessed(state.iterations() * (kTotalBytes / record) * record);
}

// Scans (verifies every CRC of) a kRingBytes logfile of `record`-byte
// records, repeatedly, until kTotalBytes of payload were verified.
void BM_LogScan(benchmark::State& state) {
  const size_t record = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> payload = RandomBytes(record);
  mars::log::LogWriter writer;
  if (!InitBenchWriter(state, &writer, kRingBytes, 2)) return;
  std::vector<uint8_t> file;
  mars::log::RecordFields fields;
  mars::log::RecordPosition position;
  while (writer.AppendedEnd() + record + 64 <= kRingBytes &&
         writer.Append(fields, mars::Slice(payload.data(), payload.size()),
                       &position).ok()) {
  }
  mars::log::LogWrite write;
  while (writer.TakeWrite(mars::log::TakePolicy::kAll, &write)) {
    file.insert(file.end(), write.data, write.data + write.size);
  }
  uint64_t payload_bytes = 0;
  for (auto _ : state) {
    uint64_t scanned = 0;
    while (scanned < kTotalBytes) {
      mars::log::LogReaderOptions read_options;
      read_options.salt = 0x5EED;
      read_options.logfile_number = 1;
      mars::log::ScanSummary summary;
      if (!mars::log::ScanLog(mars::Slice(file.data(), file.size()),
                              read_options, true, nullptr, nullptr, &summary)
               .ok() ||
          summary.records == 0) {
        state.SkipWithError("scan failed");
        return;
      }
      scanned += summary.records * record;
    }
    payload_bytes += scanned;
  }
  state.SetBytesProcessed(static_cast<int64_t>(payload_bytes));
}

BENCHMARK(BM_Memcpy)->Arg(512)->Arg(4096)->Arg(65536)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Crc32c)->Arg(512)->Arg(4096)->Arg(65536)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Crc32cOn, sse42, mars::platform::Crc32cPath::kSse42)
    ->Arg(4096)
    ->Arg(65536)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Crc32cOn, portable, mars::platform::Crc32cPath::kPortable)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogAppend)->Arg(512)->Arg(4096)->Arg(65536)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogScan)->Arg(512)->Arg(4096)->Arg(65536)->Unit(benchmark::kMillisecond);

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
    const bool log_4k =
        name.rfind("BM_Log", 0) == 0 && size.rfind("/4096", 0) == 0;
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
