// Replay throughput: engine::Replayer against a raw sequential write.
//
// mars: a secondary "b" holds a complete local copy of logfile 1 of its
// primary "a" (the version link gives its length; replay-b starts at 0).
// engine::Replayer, as the replay thread runs it (Pass() until nothing is
// left), verifies every record and writes its payload to the data file, then
// flushes it and publishes replay-b. Timed from the first Pass() to idle:
// payload bytes / time. The data file is a platform::BlockDevice in direct
// I/O mode: its I/O thread runs the replayer's requests (O_DIRECT pwritev,
// fdatasync) one at a time and completes them asynchronously, as the
// kernel's block layer and a real device would
// (userspace/lib/platform_block_user.cc).
//
// Reference: the same payload written to the same data file at the same
// offsets in 1 MiB O_DIRECT pwrite() calls, then fdatasync() (dd bs=1M
// oflag=direct conv=fdatasync,notrunc): a raw sequential write to the
// device, as in testing/vm/bench/replay-vs-dd. For information, the same
// through the page cache (dd bs=1M conv=fdatasync,notrunc).
//
// The data file is allocated (written with zeros) first, every measurement
// overwrites it whole and starts with none of it in the page cache, so all
// see the same file state; the logfile copy is in the page cache, as it is
// right after fetch.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "benches.h"
#include "core/engine/replayer.h"
#include "core/lamport_clock.h"
#include "core/platform_io.h"
#include "platform_user.h"

namespace mars {
namespace bench {
namespace {

struct Setup {
  std::string root;       // the /mars directory of "b"
  std::string data_path;  // its data device
  uint64_t device_bytes = 0;
  uint64_t payload_bytes = 0;
  std::vector<uint8_t> payload;        // cycled through, as WriteLogfile does
  uint8_t* aligned_payload = nullptr;  // the same bytes, 4 KiB aligned
  size_t record_bytes = 0;
};

// Writes back and drops what the page cache holds of `path` (untimed).
bool DropFromPageCache(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok =
      fdatasync(fd) == 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
  close(fd);
  return ok;
}

// One replay of the whole logfile; MiB/s of payload, or negative.
double ReplayOnce(const Setup& s, LamportClock* clock, std::string* error) {
  const std::string dir = s.root + "/resource-r0";
  WriteLinkAt(dir + "/replay-b", LogfileName(1, "a") + ",0,0", clock->Now());
  unlink((dir + "/" + VersionLinkName(1, "b")).c_str());
  if (!DropFromPageCache(s.data_path)) {
    *error = "cannot drop the data file from the page cache";
    return -1;
  }
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

// The reference: the payload written sequentially in 1 MiB pieces (with
// O_DIRECT when `direct`), then fdatasync; MiB/s or negative.
double RawWriteOnce(const Setup& s, bool direct) {
  const size_t piece_bytes = kMiB;
  if (!DropFromPageCache(s.data_path)) return -1;
  const int fd =
      open(s.data_path.c_str(), O_WRONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
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
    ok = pwrite(fd, s.aligned_payload + source, piece,
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
      "sequential O_DIRECT pwrite of the same payload, 1 MiB pieces, then "
      "fdatasync";
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
      s.device_bytes % s.record_bytes != 0 || s.device_bytes % kMiB != 0) {
    m.ok = false;
    m.note = "record size must divide 4 MiB and the device size (MiB)";
    return m;
  }
  s.aligned_payload =
      static_cast<uint8_t*>(aligned_alloc(4096, s.payload.size()));
  if (s.aligned_payload == nullptr) {
    m.ok = false;
    m.note = "out of memory for the reference's payload";
    return m;
  }
  memcpy(s.aligned_payload, s.payload.data(), s.payload.size());
  struct FreeAligned {
    uint8_t* p;
    ~FreeAligned() { free(p); }
  } free_aligned{s.aligned_payload};
  LamportClock clock;
  const std::string dir = s.root + "/resource-r0";
  const uint64_t length =
      WriteLogfile(dir + "/" + LogfileName(1, "a"), 1, s.payload_bytes,
                   s.record_bytes, s.device_bytes, s.payload);
  WriteLinkAt(dir + "/primary", "a", clock.Now());
  WriteLinkAt(dir + "/" + VersionLinkName(1, "a"),
              VersionLinkValue(1, "a", length), clock.Now());
  MakeDataFile(s.data_path, s.device_bytes);
  const int probe = open(s.data_path.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT);
  if (probe < 0) {
    m.ok = false;
    m.note =
        "the file system of $TMPDIR refuses O_DIRECT (tmpfs before Linux 6.6): "
        "set "
        "TMPDIR to a directory on a disk";
    return m;
  }
  close(probe);
  platform::test::SetBlockDeviceDirectIoForTest(s.data_path.c_str(), true);
  printf(
      "replay: logfile of %.1f MiB, %zu KiB records, %d rounds "
      "(reference, mars); load average %s\n",
      static_cast<double>(length) / kMiB, s.record_bytes >> 10, options.rounds,
      LoadAverage().c_str());
  // Besides the reference, the raw write through the page cache (one
  // fdatasync at the end writes it all). Informational.
  std::vector<double> mars, reference, buffered;
  for (int round = 0; round < options.rounds; ++round) {
    const double ref = RawWriteOnce(s, true);
    const double cached = RawWriteOnce(s, false);
    std::string error;
    const double got = ReplayOnce(s, &clock, &error);
    printf(
        "  round %d: raw write %8.1f MiB/s   (through the page cache "
        "%8.1f MiB/s)   mars replay %8.1f MiB/s%s%s\n",
        round + 1, ref, cached, got, error.empty() ? "" : "  ", error.c_str());
    fflush(stdout);
    if (ref < 0 || cached < 0 || got < 0) {
      m.ok = false;
      m.note = got < 0 ? error : "the raw write failed";
      return m;
    }
    reference.push_back(ref);
    buffered.push_back(cached);
    mars.push_back(got);
  }
  m.mars_mibs = Median(mars);
  m.reference_mibs = Median(reference);
  char note[256];
  snprintf(note, sizeof(note),
           "%.0f MiB of payload, median of %d rounds; raw write through the "
           "page cache %.1f MiB/s (mars %.2fx of that)",
           static_cast<double>(s.payload_bytes) / kMiB, options.rounds,
           Median(buffered), m.mars_mibs / Median(buffered));
  m.note = note;
  return m;
}

}  // namespace bench
}  // namespace mars
