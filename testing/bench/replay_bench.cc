// Replay throughput: engine::Replayer against a raw sequential write.
//
// mars: a secondary "b" holds a complete local copy of logfile 1 of its
// primary "a" (the version link gives its length; replay-b starts at 0).
// engine::Replayer, as the replay thread runs it (Pass() until nothing is
// left), verifies every record and writes its payload to the data file, then
// flushes it and publishes replay-b. Timed from the first Pass() to idle:
// payload bytes / time. The data file is a platform::BlockDevice: its I/O
// thread runs the replayer's requests (pwritev, fdatasync) and completes
// them asynchronously, as the kernel's block layer would
// (userspace/lib/platform_block_user.cc).
//
// Reference: the same payload written to the same data file at the same
// offsets in 1 MiB pwrite() calls, then fdatasync() (dd bs=1M
// conv=fdatasync,notrunc).
//
// The data file is allocated (written with zeros) first, and every
// measurement overwrites it whole, so both see the same file state; the
// logfile copy is in the page cache, as it is right after fetch.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "benches.h"
#include "core/engine/replayer.h"
#include "core/lamport_clock.h"
#include "core/platform_io.h"

namespace mars {
namespace bench {
namespace {

struct Setup {
  std::string root;       // the /mars directory of "b"
  std::string data_path;  // its data device
  uint64_t device_bytes = 0;
  uint64_t payload_bytes = 0;
  std::vector<uint8_t> payload;  // cycled through, as WriteLogfile does
  size_t record_bytes = 0;
};

// One replay of the whole logfile; MiB/s of payload, or negative.
double ReplayOnce(const Setup& s, LamportClock* clock, std::string* error) {
  const std::string dir = s.root + "/resource-r0";
  WriteLinkAt(dir + "/replay-b", LogfileName(1, "a") + ",0,0", clock->Now());
  unlink((dir + "/" + VersionLinkName(1, "b")).c_str());
  platform::BlockDevice data;
  if (!data.Open(s.data_path.c_str()).ok()) {
    *error = "cannot open the data file";
    return -1;
  }
  engine::Replayer replayer;
  engine::ReplayerOptions options;
  options.root = s.root.c_str();
  options.name = "r0";
  options.host = "b";
  options.data = &data;
  options.device_size = s.device_bytes;
  options.clock = clock;
  if (!replayer.Init(options).ok()) {
    *error = "Replayer::Init failed";
    return -1;
  }
  const Clock::time_point start = Clock::now();
  engine::ReplayPass pass;
  const bool idle = WaitFor(
      [&] {
        do {
          pass = replayer.Pass();
        } while (pass.more);
        return pass.state == engine::ReplayState::kIdle ||
               engine::IsReplayStopped(pass.state);
      },
      std::chrono::seconds(120), std::chrono::microseconds(100));
  const double seconds = SecondsSince(start);
  engine::ReplayReport report;
  replayer.Report(&report);
  data.Close();
  if (!idle || pass.state != engine::ReplayState::kIdle ||
      report.bytes_applied != s.payload_bytes) {
    *error = std::string("replay ended in state ") +
             engine::ReplayStateName(pass.state) + " " + report.error.text;
    return -1;
  }
  return MiBPerSecond(s.payload_bytes, seconds);
}

// The 1-minute load average ("?" when unknown): the machine is shared.
std::string LoadAverage() {
  FILE* f = fopen("/proc/loadavg", "r");
  if (f == nullptr) return "?";
  char text[32] = "?";
  if (fscanf(f, "%31s", text) != 1) snprintf(text, sizeof(text), "?");
  fclose(f);
  return text;
}

// The reference: the payload written sequentially in pieces of up to
// `piece_bytes`, then fdatasync; MiB/s or negative.
double RawWriteOnce(const Setup& s, size_t piece_bytes) {
  const int fd = open(s.data_path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const Clock::time_point start = Clock::now();
  bool ok = true;
  uint64_t device_offset = 0;
  size_t source = 0;
  for (uint64_t done = 0; ok && done < s.payload_bytes;) {
    // The same bytes at the same offsets as the log's records, gathered
    // into pieces of up to piece_bytes.
    size_t piece = static_cast<size_t>(
        std::min<uint64_t>(piece_bytes, s.payload_bytes - done));
    if (source + piece > s.payload.size()) piece = s.payload.size() - source;
    if (device_offset + piece > s.device_bytes) {
      piece = static_cast<size_t>(s.device_bytes - device_offset);
    }
    ok = pwrite(fd, s.payload.data() + source, piece,
                static_cast<off_t>(device_offset)) ==
         static_cast<ssize_t>(piece);
    done += piece;
    source = source + piece == s.payload.size() ? 0 : source + piece;
    device_offset += piece;
    if (device_offset == s.device_bytes) device_offset = 0;
  }
  ok = ok && fdatasync(fd) == 0;
  const double seconds = SecondsSince(start);
  close(fd);
  return ok ? MiBPerSecond(s.payload_bytes, seconds) : -1;
}

}  // namespace

Measurement RunReplayBench(const ReplayOptions& options) {
  Measurement m;
  char name[64];
  snprintf(name, sizeof(name), "replay, %zu KiB records",
           options.record_bytes >> 10);
  m.name = name;
  m.reference =
      "sequential pwrite of the same payload, 1 MiB pieces, then fdatasync";
  m.target_ratio = 0.9;
  TempDir work("replay");
  Setup s;
  s.root = work.path() + "/mars";
  s.data_path = work.path() + "/data-r0.img";
  s.device_bytes = options.bytes;
  s.payload_bytes = options.bytes;
  s.record_bytes = options.record_bytes;
  s.payload = PseudoRandomBytes(4 * kMiB, 11);
  // Records never straddle the cycle of the payload buffer or the device.
  if (s.payload.size() % s.record_bytes != 0 ||
      s.device_bytes % s.record_bytes != 0) {
    m.ok = false;
    m.note = "record size must divide 4 MiB and the device size";
    return m;
  }
  LamportClock clock;
  const std::string dir = s.root + "/resource-r0";
  const uint64_t length =
      WriteLogfile(dir + "/" + LogfileName(1, "a"), 1, s.payload_bytes,
                   s.record_bytes, s.device_bytes, s.payload);
  WriteLinkAt(dir + "/primary", "a", clock.Now());
  WriteLinkAt(dir + "/" + VersionLinkName(1, "a"),
              VersionLinkValue(1, "a", length), clock.Now());
  MakeDataFile(s.data_path, s.device_bytes);
  printf(
      "replay: logfile of %.1f MiB, %zu KiB records, %d rounds "
      "(reference, mars); load average %s\n",
      static_cast<double>(length) / kMiB, s.record_bytes >> 10, options.rounds,
      LoadAverage().c_str());
  // Besides the reference, the raw write in record-sized pieces (one
  // pwrite per record, as replay does): how much of the gap is the size of
  // the writes alone. Informational.
  const bool small_records = s.record_bytes < kMiB;
  std::vector<double> mars, reference, record_sized;
  for (int round = 0; round < options.rounds; ++round) {
    const double ref = RawWriteOnce(s, kMiB);
    const double same = small_records ? RawWriteOnce(s, s.record_bytes) : ref;
    std::string error;
    const double got = ReplayOnce(s, &clock, &error);
    printf("  round %d: raw write %8.1f MiB/s", round + 1, ref);
    if (small_records) {
      printf("   (in %zu KiB pieces %8.1f MiB/s)", s.record_bytes >> 10, same);
    }
    printf("   mars replay %8.1f MiB/s%s%s\n", got, error.empty() ? "" : "  ",
           error.c_str());
    fflush(stdout);
    if (ref < 0 || same < 0 || got < 0) {
      m.ok = false;
      m.note = got < 0 ? error : "the raw write failed";
      return m;
    }
    reference.push_back(ref);
    record_sized.push_back(same);
    mars.push_back(got);
  }
  m.mars_mibs = Median(mars);
  m.reference_mibs = Median(reference);
  char note[256];
  snprintf(note, sizeof(note),
           "%.0f MiB of payload, median of %d rounds; raw write in %zu KiB "
           "pieces %.1f MiB/s (mars %.2fx of that)",
           static_cast<double>(s.payload_bytes) / kMiB, options.rounds,
           s.record_bytes >> 10, Median(record_sized),
           m.mars_mibs / Median(record_sized));
  m.note = note;
  return m;
}

}  // namespace bench
}  // namespace mars
