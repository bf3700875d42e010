// The crash-consistency checker (crash_checker.h).
#include "crash_checker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/engine/resource.h"
#include "core/engine/resource_hooks.h"
#include "core/lamport_clock.h"
#include "core/platform_io.h"
#include "platform_user.h"

namespace mars {
namespace crash {

namespace {

namespace pt = platform::test;
using Kind = RecordedEvent::Kind;

constexpr uint64_t kBlock = 4096;
constexpr size_t kNever = SIZE_MAX;
constexpr size_t kMaxBlockReports = 4;

bool ReadWhole(const std::string& path, std::vector<uint8_t>* out) {
  out->clear();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return false;
  }
  out->resize(static_cast<size_t>(st.st_size));  // keeps its capacity
  size_t done = 0;
  while (done < out->size()) {
    const ssize_t n = pread(fd, out->data() + done, out->size() - done,
                            static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  out->resize(done);
  return true;
}

std::string FlagsText(uint32_t flags) {
  std::string text;
  if ((flags & platform::kFrontFua) != 0) text += "FUA";
  if ((flags & platform::kFrontPreflush) != 0) {
    text += text.empty() ? "PREFLUSH" : "|PREFLUSH";
  }
  return text.empty() ? "plain" : text;
}

// First sector of `found` that differs from `want`, as text.
std::string FirstDifference(const uint8_t* found, const uint8_t* want) {
  for (uint64_t s = 0; s < kBlock / kSectorBytes; ++s) {
    const uint8_t* a = found + s * kSectorBytes;
    const uint8_t* b = want + s * kSectorBytes;
    if (memcmp(a, b, kSectorBytes) == 0) continue;
    bool zero = true;
    for (uint64_t i = 0; i < kSectorBytes && zero; ++i) zero = a[i] == 0;
    return "sector " + std::to_string(s) + " differs" +
           (zero ? " (holds zeroes)" : "");
  }
  return "no sector differs";
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// Adds the time since construction to *total.
class PhaseTimer {
 public:
  explicit PhaseTimer(double* total)
      : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~PhaseTimer() { *total_ += SecondsSince(start_); }

 private:
  double* total_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

struct Checker::FrontWrite {
  uint32_t id = 0;
  size_t submit = 0;
  size_t complete = kNever;
  bool ok = false;
  uint32_t flags = 0;
  uint64_t offset = 0;
  const std::vector<uint8_t>* data = nullptr;
};

// What the data device may hold after recovery from a crash at `cut`: for
// block b the versions block_versions_[b][first[b] .. count[b]) and, when
// initial[b], its initial content.
struct Checker::Expectation {
  size_t cut = 0;
  std::vector<uint32_t> first;
  std::vector<uint32_t> count;
  std::vector<uint8_t> initial;
};

struct Checker::Recovery {
  bool attached = false;
  StatusCode code = StatusCode::kOk;
  std::string why;
  std::string error;  // the harness failed (not the engine)
  std::unique_ptr<Recording> recording;
};

Checker::Checker(const Recording& workload, CheckConfig config)
    : workload_(workload),
      config_(std::move(config)),
      states_(workload, config_.seed),
      state_writer_(config_.work_dir + "/state"),
      recovery_writer_(config_.work_dir + "/recovery-state") {
  std::map<uint32_t, size_t> write_of_id;
  std::map<uint32_t, size_t> flush_of_id;
  const auto& events = workload.events;
  for (size_t i = 0; i < events.size(); ++i) {
    const RecordedEvent& e = events[i];
    if (e.kind == Kind::kFrontSubmit) {
      const bool write =
          e.front_op == static_cast<uint8_t>(platform::FrontOp::kWrite);
      const bool flush =
          e.front_op == static_cast<uint8_t>(platform::FrontOp::kFlush) ||
          (write && (e.front_flags & platform::kFrontPreflush) != 0);
      if (write && !e.data.empty()) {
        FrontWrite w;
        w.id = e.object;
        w.submit = i;
        w.flags = e.front_flags;
        w.offset = e.offset;
        w.data = &e.data;
        write_of_id[e.object] = writes_.size();
        writes_.push_back(w);
      }
      if (flush) {
        flush_of_id[e.object] = flush_submits_.size();
        flush_submits_.push_back(i);
        flush_completes_.push_back(kNever);
      }
    } else if (e.kind == Kind::kFrontComplete) {
      const auto w = write_of_id.find(e.object);
      if (w != write_of_id.end()) {
        writes_[w->second].complete = i;
        writes_[w->second].ok = e.ok;
      }
      const auto f = flush_of_id.find(e.object);
      if (f != flush_of_id.end() && e.ok) flush_completes_[f->second] = i;
    }
  }
  block_versions_.resize(config_.device_bytes / kBlock);
  for (size_t w = 0; w < writes_.size(); ++w) {
    const uint64_t first = writes_[w].offset / kBlock;
    const uint64_t blocks = writes_[w].data->size() / kBlock;
    for (uint64_t b = 0; b < blocks && first + b < block_versions_.size();
         ++b) {
      block_versions_[first + b].emplace_back(static_cast<uint32_t>(w),
                                              static_cast<uint32_t>(b));
    }
  }
}

Checker::~Checker() {
  RemoveTree(config_.work_dir + "/state");
  RemoveTree(config_.work_dir + "/recovery-state");
}

void Checker::BuildExpectation(size_t cut, Expectation* expect) const {
  expect->cut = cut;
  // A flush covers the writes completed before it was submitted.
  size_t flush_cover = 0;
  for (size_t k = 0; k < flush_submits_.size(); ++k) {
    if (flush_completes_[k] < cut) {
      flush_cover = std::max(flush_cover, flush_submits_[k]);
    }
  }
  const size_t blocks = block_versions_.size();
  expect->first.assign(blocks, 0);
  expect->count.assign(blocks, 0);
  expect->initial.assign(blocks, 1);
  for (size_t b = 0; b < blocks; ++b) {
    const auto& versions = block_versions_[b];
    uint32_t count = 0;
    while (count < versions.size() &&
           writes_[versions[count].first].submit < cut) {
      count++;
    }
    for (uint32_t j = 0; j < count; ++j) {
      const FrontWrite& w = writes_[versions[j].first];
      const bool acked = w.complete < cut && w.ok;
      if (acked &&
          ((w.flags & platform::kFrontFua) != 0 || w.complete < flush_cover)) {
        expect->first[b] = j;
        expect->initial[b] = 0;
      }
    }
    expect->count[b] = count;
  }
}

Checker::Recovery Checker::Recover(StateWriter* writer) const {
  Recovery result;
  const std::string tree = TreeDir(writer->dir());
  const std::string device = DevicePath(writer->dir(), 0);
  // Recorded without reading contents: the writer knows them.
  if (!pt::StartRecordingForTest(tree.c_str(), false)) {
    result.error = "cannot start recording the recovery of " + tree;
    writer->Forget();
    return result;
  }
  LamportClock clock;
  engine::ResourceSettings settings;
  settings.root = tree.c_str();
  settings.name = config_.resource.c_str();
  settings.host = config_.host.c_str();
  settings.data_path = device.c_str();
  settings.size_bytes = config_.device_bytes;
  settings.clock = &clock;
  void* resource = nullptr;
  Status status = engine::kResourceHooks.create(settings, &resource);
  if (!status.ok()) {
    result.error =
        std::string("cannot create the resource: ") + status.message();
  } else {
    engine::ErrorText why;
    status = engine::kResourceHooks.attach(resource, &why);
    result.attached = status.ok();
    result.code = status.code();
    result.why = status.ok() ? "" : std::string(why.text);
    if (result.attached) {
      status = engine::kResourceHooks.detach(resource, &why);
      if (!status.ok()) result.error = std::string("detach: ") + why.text;
    }
    engine::kResourceHooks.destroy(resource);
  }
  result.recording = pt::StopRecordingForTest();
  std::string error;
  if (result.recording == nullptr ||
      !writer->Absorb(result.recording.get(), &error)) {
    result.error += (result.error.empty() ? "" : "; ") +
                    ("cannot follow what recovery changed: " + error);
    result.recording.reset();
  }
  return result;
}

void Checker::CheckAttach(const Recovery& recovery, const StateFacts& facts,
                          const std::string& dir, const std::string& what,
                          std::vector<std::string>* out) {
  if (!recovery.error.empty()) {
    out->push_back(what + ": harness: " + recovery.error);
    return;
  }
  if (recovery.attached) return;
  // "logfile PATH has a corrupt record at byte offset N (...)"
  if (recovery.code == StatusCode::kCorruption) {
    const std::string prefix = "logfile " + TreeDir(dir) + "/";
    const std::string middle = " has a corrupt record at byte offset ";
    const size_t at = recovery.why.find(middle);
    if (recovery.why.compare(0, prefix.size(), prefix) == 0 &&
        at != std::string::npos && at > prefix.size()) {
      const std::string rel =
          recovery.why.substr(prefix.size(), at - prefix.size());
      const uint64_t offset =
          strtoull(recovery.why.c_str() + at + middle.size(), nullptr, 10);
      const auto durable = facts.durable_end.find(rel);
      if (durable != facts.durable_end.end() && offset >= durable->second) {
        out->push_back(what + ": attach refused for damage in the part of " +
                       rel + " that was never synced (durable up to " +
                       std::to_string(durable->second) + "): " + recovery.why);
        return;
      }
    }
  }
  out->push_back(what + ": attach refused: " + recovery.why);
}

void Checker::CheckData(const Expectation& expect, const StateWriter& writer,
                        bool read_file, const std::string& what,
                        std::vector<std::string>* out) {
  // The writer's mirror is the device as written plus the recorded writes
  // of recovery; the file itself is read when asked or when the mirror is
  // not known, and then must equal the mirror.
  const std::string device_path = DevicePath(writer.dir(), 0);
  const std::vector<uint8_t>* mirror = writer.Device(0);
  const std::vector<uint8_t>* data = mirror;
  if (read_file || mirror == nullptr) {
    if (!ReadWhole(device_path, &device_buffer_)) {
      out->push_back(what + ": cannot read the data device " + device_path);
      return;
    }
    if (mirror != nullptr && *mirror != device_buffer_) {
      out->push_back(what + ": harness: the state writer's mirror of " +
                     device_path + " differs from the file");
    }
    data = &device_buffer_;
  }
  if (data->size() < config_.device_bytes) {
    out->push_back(what + ": the data device " + device_path + " is too small");
    return;
  }
  const std::vector<uint8_t>& device = *data;
  const std::vector<uint8_t>& initial = workload_.devices[0].initial;
  size_t bad = 0;
  for (size_t b = 0; b < block_versions_.size(); ++b) {
    const uint8_t* found = device.data() + b * kBlock;
    const uint8_t* initial_block = initial.data() + b * kBlock;
    const auto& versions = block_versions_[b];
    auto version_data = [&](uint32_t j) {
      const FrontWrite& w = writes_[versions[j].first];
      return w.data->data() + uint64_t{versions[j].second} * kBlock;
    };
    bool ok = expect.initial[b] && memcmp(found, initial_block, kBlock) == 0;
    for (uint32_t j = expect.first[b]; !ok && j < expect.count[b]; ++j) {
      ok = memcmp(found, version_data(j), kBlock) == 0;
    }
    if (ok) continue;
    if (++bad > kMaxBlockReports) continue;
    // What it holds instead, and what it should hold.
    std::string holds = "data no write produced";
    if (memcmp(found, initial_block, kBlock) == 0)
      holds = "its initial content";
    for (uint32_t j = 0; j < versions.size(); ++j) {
      if (memcmp(found, version_data(j), kBlock) != 0) continue;
      const FrontWrite& w = writes_[versions[j].first];
      holds = "front write id " + std::to_string(w.id) + " (version " +
              std::to_string(j) + ", submitted at event " +
              std::to_string(w.submit) + ")";
    }
    std::string expected;
    const uint8_t* reference = initial_block;
    if (expect.initial[b]) {
      expected = "its initial content";
    } else {
      const FrontWrite& w = writes_[versions[expect.first[b]].first];
      reference = version_data(expect.first[b]);
      expected = "durable front write id " + std::to_string(w.id) + " (" +
                 FlagsText(w.flags) + ", version " +
                 std::to_string(expect.first[b]) + ", submitted at event " +
                 std::to_string(w.submit) + ", acknowledged at event " +
                 std::to_string(w.complete) + ")";
    }
    const uint32_t later =
        expect.count[b] - expect.first[b] - (expect.initial[b] ? 0 : 1);
    expected += " or one of " + std::to_string(later) + " later versions";
    out->push_back(what + ": block " + std::to_string(b) + " holds " + holds +
                   "; expected " + expected + "; " +
                   FirstDifference(found, reference));
  }
  if (bad > kMaxBlockReports) {
    out->push_back(what + ": ... and " +
                   std::to_string(bad - kMaxBlockReports) + " more blocks");
  }
}

void Checker::KeepFailed(const Recording& recording, const CrashState& state,
                         const std::string& name) {
  if (kept_ >= config_.keep_failed_states) return;
  // Recovery changed the state's files: write it out once more, as it was.
  const std::string to = config_.work_dir + "/" + name;
  StateFacts facts;
  std::string error;
  if (Materialize(recording, state, to, &facts, &error)) {
    kept_++;
    fprintf(stderr, "crash checker: kept the failed state as %s\n", to.c_str());
  }
}

std::vector<std::string> Checker::Check(uint64_t index) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> out;
  mkdir(config_.work_dir.c_str(), 0755);
  const CrashState state = states_.State(index);
  const std::string what =
      config_.label + " " + Describe(state, workload_.events.size());
  const std::string& dir = state_writer_.dir();
  StateFacts facts;
  std::string error;
  if (workload_.devices.size() != 1) {
    out.push_back(what + ": the recording has " +
                  std::to_string(workload_.devices.size()) +
                  " backing devices, the checker needs exactly one");
    return out;
  }
  bool materialized;
  {
    PhaseTimer timer(&stats_.materialize_seconds);
    materialized = state_writer_.Write(workload_, state, &facts, &error);
  }
  if (!materialized) {
    out.push_back(what + ": " + error);
    return out;
  }
  stats_.states++;
  stats_.writes_torn += facts.writes_torn;
  stats_.writes_lost += facts.writes_lost;
  Expectation expect;
  BuildExpectation(state.cut, &expect);

  const bool idempotence =
      config_.idempotence_every != 0 && index % config_.idempotence_every == 0;
  const bool read_file = config_.read_device_every != 0 &&
                         stats_.states % config_.read_device_every == 1;
  Recovery first;
  {
    PhaseTimer timer(&stats_.recover_seconds);
    first = Recover(&state_writer_);
  }
  if (first.attached) stats_.attached++;
  CheckAttach(first, facts, dir, what, &out);
  {
    PhaseTimer timer(&stats_.compare_seconds);
    CheckData(expect, state_writer_, read_file, what, &out);
  }

  if (!out.empty()) {
    KeepFailed(workload_, state,
               "failed-" + config_.label + "-" + std::to_string(index));
  }
  if (idempotence && first.attached && first.recording != nullptr) {
    // A crash during recovery, at a random point of its own writes.
    const Recording& recovery = *first.recording;
    CrashState crash;
    crash.index = index;
    crash.fate = Fate::kRandom;
    crash.seed = MixSeed(state.seed, 0x1de4);
    Random random(crash.seed);
    crash.cut = random.Below(recovery.events.size() + 1);
    const std::string what2 = what + ", crash during its recovery: " +
                              Describe(crash, recovery.events.size());
    const std::string& dir2 = recovery_writer_.dir();
    StateFacts facts2;
    const size_t before = out.size();
    {
      PhaseTimer timer(&stats_.materialize_seconds);
      materialized = recovery.devices.size() == 1 &&
                     recovery_writer_.Write(recovery, crash, &facts2, &error);
    }
    if (!materialized) {
      out.push_back(what2 + ": cannot materialise: " + error);
    } else {
      stats_.recovery_states++;
      Recovery second;
      {
        PhaseTimer timer(&stats_.recover_seconds);
        second = Recover(&recovery_writer_);
      }
      if (second.attached) stats_.attached++;
      CheckAttach(second, facts2, dir2, what2, &out);
      PhaseTimer timer(&stats_.compare_seconds);
      CheckData(expect, recovery_writer_, read_file, what2, &out);
    }
    if (out.size() > before) {
      KeepFailed(recovery, crash,
                 "failed-" + config_.label + "-" + std::to_string(index) +
                     "-recovery");
    }
  }
  if (!out.empty()) stats_.violations++;
  stats_.seconds += SecondsSince(start);
  return out;
}

}  // namespace crash
}  // namespace mars
