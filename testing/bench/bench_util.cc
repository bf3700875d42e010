#include "bench_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/base/vector.h"
#include "core/engine/log_apply.h"
#include "core/log/log_writer.h"
#include "core/platform_io.h"
#include "core/tree/log_names.h"
#include "core/tree/version_link.h"

namespace mars {
namespace bench {

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double MiBPerSecond(uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / (1 << 20) / seconds : 0;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout,
             std::chrono::microseconds poll) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

TempDir::TempDir(const char* tag) {
  const char* base = getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
      "/mars-bench-" + tag + ".XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    perror("mkdtemp");
    abort();
  }
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code error;
  std::filesystem::remove_all(path_, error);
}

void MakeParents(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(),
                                      error);
}

void WriteLinkAt(const std::string& path, const std::string& value,
                 uint64_t stamp) {
  MakeParents(path);
  const Status s =
      platform::WriteLink(path.c_str(), value.data(), value.size(), stamp);
  if (!s.ok()) {
    fprintf(stderr, "cannot write link %s: %s\n", path.c_str(), s.message());
    abort();
  }
}

std::string ReadLinkAt(const std::string& path) {
  char value[4096];
  size_t size = 0;
  uint64_t stamp = 0;
  if (!platform::ReadLink(path.c_str(), value, sizeof(value), &size, &stamp)
           .ok()) {
    return "";
  }
  return std::string(value, size);
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

namespace {

bool ReadSchedStat(const std::filesystem::path& path, SchedNs* out) {
  std::ifstream in(path);
  return static_cast<bool>(in >> out->run >> out->wait);
}

}  // namespace

SchedNs ThisThreadSchedNs() {
  SchedNs ns;
  ReadSchedStat("/proc/thread-self/schedstat", &ns);
  return ns;
}

std::map<int, SchedNs> ThreadsSchedNs(const char* comm) {
  std::map<int, SchedNs> threads;
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/self/task", error)) {
    std::string name;
    std::getline(std::ifstream(task.path() / "comm"), name);
    if (name != comm) continue;
    SchedNs ns;
    if (ReadSchedStat(task.path() / "schedstat", &ns)) {
      threads[atoi(task.path().filename().c_str())] = ns;
    }
  }
  return threads;
}

SchedNs SchedSince(const SchedNs& before, const SchedNs& after) {
  SchedNs used;
  used.run = after.run > before.run ? after.run - before.run : 0;
  used.wait = after.wait > before.wait ? after.wait - before.wait : 0;
  return used;
}

std::vector<SchedNs> SchedUsed(const std::map<int, SchedNs>& before,
                               const std::map<int, SchedNs>& after) {
  std::vector<SchedNs> used;
  for (const auto& [tid, ns] : after) {
    const auto it = before.find(tid);
    used.push_back(SchedSince(it == before.end() ? SchedNs() : it->second, ns));
  }
  std::sort(used.begin(), used.end(),
            [](const SchedNs& a, const SchedNs& b) { return a.run > b.run; });
  return used;
}

namespace {

// Writes all of `data` at `offset`; aborts on error.
void WriteAll(int fd, const uint8_t* data, size_t size, uint64_t offset,
              const std::string& path) {
  while (size > 0) {
    const ssize_t n = pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n <= 0) {
      perror(path.c_str());
      abort();
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

}  // namespace

void MakeDataFile(const std::string& path, uint64_t bytes) {
  MakeParents(path);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    perror(path.c_str());
    abort();
  }
  const std::vector<uint8_t> zeros(1 << 20);
  for (uint64_t done = 0; done < bytes; done += zeros.size()) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(zeros.size(), bytes - done));
    WriteAll(fd, zeros.data(), n, done, path);
  }
  fdatasync(fd);
  close(fd);
}

std::string LogfileName(uint32_t number, const std::string& host) {
  char text[128];
  snprintf(text, sizeof(text), "log-%09u-%s", number, host.c_str());
  return text;
}

std::string VersionLinkName(uint32_t number, const std::string& host) {
  char text[128];
  snprintf(text, sizeof(text), "version-%09u-%s", number, host.c_str());
  return text;
}

std::string VersionLinkValue(uint32_t number, const std::string& origin,
                             uint64_t length) {
  tree::LogfileName log;
  log.number = number;
  if (!log.host.Assign(Slice::FromCString(origin.c_str())).ok()) abort();
  tree::VersionLink link;
  Bytes text;
  if (!tree::MakeVersionLink(nullptr, log, length, &link).ok() ||
      !tree::AppendVersionLink(link, &text).ok()) {
    abort();
  }
  return std::string(reinterpret_cast<const char*>(text.data()), text.size());
}

std::vector<uint8_t> PseudoRandomBytes(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& b : bytes) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    b = static_cast<uint8_t>(x >> 56);
  }
  return bytes;
}

uint64_t WriteLogfile(const std::string& path, uint32_t number,
                      uint64_t payload_bytes, size_t record_bytes,
                      uint64_t device_bytes,
                      const std::vector<uint8_t>& payload) {
  log::LogWriter writer;
  log::LogWriterOptions options;
  options.salt = 0xBE9C400000000000ull + number;
  options.logfile_number = number;
  options.chunk_bytes = 1 << 20;
  options.chunk_count = 4;
  // Large payloads aligned as the module's logger aligns them.
  options.payload_alignment = engine::LogApplier::kPayloadAlignment;
  options.aligned_payload_min = engine::LogApplier::kInPlaceMinPayload;
  if (!writer.Init(options).ok()) abort();
  MakeParents(path);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    perror(path.c_str());
    abort();
  }
  // Writes out what is appended and declares it durable, as the logger
  // does after a sync.
  auto flush = [&] {
    log::LogWrite write;
    while (writer.TakeWrite(log::TakePolicy::kAll, &write)) {
      WriteAll(fd, write.data, write.size, write.file_offset, path);
    }
    writer.NoteDurable(writer.TakenEnd());
    if (!writer.Release(writer.TakenEnd()).ok()) abort();
  };
  uint64_t device_offset = 0;
  size_t source = 0;
  for (uint64_t done = 0; done < payload_bytes; done += record_bytes) {
    if (source + record_bytes > payload.size()) source = 0;
    if (device_offset + record_bytes > device_bytes) device_offset = 0;
    log::RecordFields fields;
    fields.stamp_ns = done + 1;
    fields.device_offset = device_offset;
    const Slice piece(payload.data() + source, record_bytes);
    log::RecordPosition position;
    Status s = writer.Append(fields, piece, &position);
    if (s.code() == StatusCode::kUnavailable) {
      flush();
      s = writer.Append(fields, piece, &position);
    }
    if (!s.ok()) {
      fprintf(stderr, "log append failed: %s\n", s.message());
      abort();
    }
    source += record_bytes;
    device_offset += record_bytes;
  }
  flush();
  close(fd);
  return writer.TakenEnd();
}

namespace {

const char* Verdict(double value, double target, bool at_least) {
  const bool met = at_least ? value >= target : value < target;
  return met ? "met" : "NOT met";
}

}  // namespace

void PrintSummary(const std::vector<Measurement>& results,
                  const LagResult* lag) {
  printf(
      "\nReplication benchmarks: mars next to a reference measured in the "
      "same run\n(targets from issue 7, informational, not pass/fail)\n\n");
  printf("%-46s %11s %11s %7s  %s\n", "benchmark", "mars MiB/s", "ref MiB/s",
         "ratio", "target");
  for (const Measurement& m : results) {
    if (!m.ok) {
      printf("%-46s %11s %11s %7s  (failed: %s)\n", m.name.c_str(), "-", "-",
             "-", m.note.c_str());
      continue;
    }
    const double ratio =
        m.reference_mibs > 0 ? m.mars_mibs / m.reference_mibs : 0;
    if (m.target_ratio <= 0) {
      printf("%-46s %11.1f %11.1f %6.2fx  (no target)\n", m.name.c_str(),
             m.mars_mibs, m.reference_mibs, ratio);
      continue;
    }
    printf("%-46s %11.1f %11.1f %6.2fx  >= %.2fx: %s\n", m.name.c_str(),
           m.mars_mibs, m.reference_mibs, ratio, m.target_ratio,
           Verdict(ratio, m.target_ratio, true));
  }
  for (const Measurement& m : results) {
    printf("  %s: reference = %s", m.name.c_str(), m.reference.c_str());
    if (m.ok && !m.note.empty()) printf("; %s", m.note.c_str());
    printf("\n");
  }
  if (lag != nullptr) {
    if (!lag->ok) {
      printf("\nlag: failed: %s\n", lag->note.c_str());
    } else {
      printf(
          "\nlag at %.1f MiB/s (%.1f MiB/s acknowledged) for %.0f s: max "
          "%.0f ms / %.0f KiB, median %.0f ms; target < %.0f ms: %s\n",
          lag->load_mibs, lag->achieved_mibs, lag->seconds, lag->max_lag_ms,
          lag->max_lag_kib, lag->median_lag_ms, lag->target_ms,
          Verdict(lag->max_lag_ms, lag->target_ms, false));
      if (lag->catch_up_ms >= 0) {
        printf("  caught up %.0f ms after the load ended", lag->catch_up_ms);
      } else {
        printf("  did NOT catch up after the load ended");
      }
      if (!lag->note.empty()) printf("; %s", lag->note.c_str());
      printf("\n");
    }
  }
}

}  // namespace bench
}  // namespace mars
