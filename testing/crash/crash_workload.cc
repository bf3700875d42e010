// Recorded workloads for the crash checker (crash_workload.h).
#include "crash_workload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "core/engine/resource.h"
#include "core/engine/resource_hooks.h"
#include "core/lamport_clock.h"
#include "core/platform_io.h"
#include "crash_state.h"
#include "platform_user.h"

namespace mars {
namespace crash {

namespace {

namespace pt = platform::test;
constexpr uint64_t kBlock = 4096;

// Restores the tunables and the data device's test state on every exit.
struct Cleanup {
  std::string data_path;
  void* resource = nullptr;
  ~Cleanup() {
    std::unique_ptr<platform::test::Recording> dropped =
        pt::StopRecordingForTest();
    if (resource != nullptr) {
      engine::ErrorText why;
      (void)engine::kResourceHooks.detach(resource, &why);
      engine::kResourceHooks.destroy(resource);
    }
    pt::ResetTunablesForTest();
    pt::ResetBlockDeviceForTest(data_path.c_str());
  }
};

bool WriteFileBytes(const std::string& path, const std::vector<uint8_t>& data) {
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = data.empty() || fwrite(data.data(), data.size(), 1, f) == 1;
  return fclose(f) == 0 && ok;
}

std::vector<uint8_t> RandomBytes(uint64_t seed, size_t size) {
  Random random(seed);
  std::vector<uint8_t> data(size);
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t v = random.Next();
    memcpy(data.data() + i, &v, std::min<size_t>(8, size - i));
  }
  return data;
}

std::string LogfileName(uint64_t number) {
  char name[64];
  snprintf(name, sizeof(name), "log-%09llu-h1",
           static_cast<unsigned long long>(number));
  return name;
}

}  // namespace

std::vector<WorkloadSpec> StandardWorkloads() {
  std::vector<WorkloadSpec> specs;
  WorkloadSpec random;
  random.name = "random";
  random.seed = 11;
  random.requests = 250;
  random.max_request_blocks = 4;
  random.flush_percent = 10;
  random.fua_percent = 25;
  random.preflush_percent = 5;
  random.max_in_flight = 4;
  specs.push_back(random);

  WorkloadSpec overwrite;
  overwrite.name = "overwrite";
  overwrite.seed = 12;
  overwrite.requests = 250;
  overwrite.hot_blocks = 8;
  overwrite.max_request_blocks = 2;
  overwrite.flush_percent = 10;
  overwrite.fua_percent = 20;
  overwrite.preflush_percent = 5;
  specs.push_back(overwrite);

  WorkloadSpec rotation;
  rotation.name = "rotation";
  rotation.seed = 13;
  rotation.requests = 250;
  rotation.max_request_blocks = 3;
  rotation.logrotate_bytes = 48 << 10;
  rotation.rotate_every = 60;
  rotation.flush_percent = 10;
  rotation.fua_percent = 30;
  specs.push_back(rotation);

  WorkloadSpec writeback;
  writeback.name = "writeback";
  writeback.seed = 14;
  writeback.requests = 300;
  writeback.max_request_blocks = 4;
  writeback.buffer_limit_bytes = 64 << 10;
  writeback.log_sync_interval_ms = 2;
  writeback.async_device = true;
  writeback.max_in_flight = 2;
  writeback.flush_percent = 5;
  writeback.fua_percent = 20;
  writeback.stop_at_end = true;
  specs.push_back(writeback);

  WorkloadSpec sequential;
  sequential.name = "sequential";
  sequential.seed = 15;
  sequential.requests = 300;
  sequential.max_request_blocks = 4;
  sequential.sequential_percent = 85;
  sequential.flush_percent = 4;
  sequential.fua_percent = 8;
  sequential.preflush_percent = 3;
  specs.push_back(sequential);
  return specs;
}

const WorkloadSpec* FindWorkload(const std::string& name) {
  static const std::vector<WorkloadSpec>* specs =
      new std::vector<WorkloadSpec>(StandardWorkloads());
  for (const WorkloadSpec& spec : *specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool RecordWorkload(const WorkloadSpec& spec, const std::string& dir,
                    std::unique_ptr<platform::test::Recording>* recording,
                    std::string* error) {
  const std::string root = dir + "/mars";
  const std::string resource_dir = root + "/resource-r0";
  const std::string data_path = dir + "/data.img";
  const std::string device = "crash-" + spec.name;
  // The clock outlives the resource: Cleanup's destructor stops the
  // resource's threads, which read the clock until they end.
  LamportClock clock;
  Cleanup cleanup;
  cleanup.data_path = data_path;

  // A resource as marsadm create-resource leaves it; the data device holds
  // seeded random data, so that every initial block is recognisable.
  if (!RemoveTree(dir) || mkdir(dir.c_str(), 0755) != 0 ||
      mkdir(root.c_str(), 0755) != 0 ||
      mkdir(resource_dir.c_str(), 0755) != 0 ||
      !WriteFileBytes(resource_dir + "/" + LogfileName(1), {}) ||
      !WriteFileBytes(data_path, RandomBytes(MixSeed(spec.seed, 0xda7a),
                                             spec.device_bytes))) {
    *error = "cannot lay out " + dir + ": " + strerror(errno);
    return false;
  }
  const std::string replay = "log-000000001-h1,0,0";
  if (!platform::WriteLink((resource_dir + "/replay-h1").c_str(), replay.data(),
                           replay.size(), 1700000000000000000ull)
           .ok()) {
    *error = "cannot write the replay link";
    return false;
  }
  pt::ResetTunablesForTest();
  if (spec.logrotate_bytes != 0) {
    pt::SetTunableForTest(platform::Tunable::kLogRotateBytes,
                          spec.logrotate_bytes);
  }
  if (spec.buffer_limit_bytes != 0) {
    pt::SetTunableForTest(platform::Tunable::kBufferLimitBytes,
                          spec.buffer_limit_bytes);
  }
  if (spec.log_sync_interval_ms != 0) {
    pt::SetTunableForTest(platform::Tunable::kLogSyncIntervalMs,
                          spec.log_sync_interval_ms);
  }
  pt::SetTunableForTest(platform::Tunable::kReplayLinkIntervalMs,
                        spec.replay_link_interval_ms);
  pt::ResetBlockDeviceForTest(data_path.c_str());
  pt::SetBlockDeviceAsyncForTest(data_path.c_str(), spec.async_device);

  if (!pt::StartRecordingForTest(root.c_str())) {
    *error = "cannot start recording " + root;
    return false;
  }
  engine::ResourceSettings settings;
  settings.root = root.c_str();
  settings.name = "r0";
  settings.host = "h1";
  settings.data_path = data_path.c_str();
  settings.size_bytes = spec.device_bytes;
  settings.clock = &clock;
  engine::ErrorText why;
  Status status = engine::kResourceHooks.create(settings, &cleanup.resource);
  if (status.ok())
    status = engine::kResourceHooks.attach(cleanup.resource, &why);
  if (status.ok()) {
    status = engine::kResourceHooks.start_primary(cleanup.resource,
                                                  device.c_str(), &why);
  }
  if (!status.ok()) {
    *error = std::string("cannot start the resource: ") + status.message() +
             ": " + why.text;
    return false;
  }

  Random random(spec.seed);
  const uint64_t device_blocks = spec.device_bytes / kBlock;
  const uint64_t hot = spec.hot_blocks != 0
                           ? std::min(spec.hot_blocks, device_blocks)
                           : device_blocks;
  int request = 0;
  uint64_t stream_end = 0;  // block after the previous write
  while (request < spec.requests) {
    if (spec.rotate_every != 0 && request > 0 &&
        request % spec.rotate_every == 0) {
      // marsadm log-rotate: the next logfile appears, the engine switches.
      engine::ResourceReport report;
      engine::kResourceHooks.report(cleanup.resource, &report);
      platform::File next;
      const std::string path =
          resource_dir + "/" + LogfileName(report.logfile + 1);
      status = next.Open(path.c_str(),
                         platform::File::kWrite | platform::File::kCreate);
      if (!status.ok()) {
        *error = "cannot create " + path + ": " + status.message();
        return false;
      }
      next.Close();
      engine::kResourceHooks.request_logfile(cleanup.resource,
                                             report.logfile + 1);
    }
    if (random.Percent(spec.flush_percent)) {
      status = pt::SubmitToFrontDisk(device.c_str(), platform::FrontOp::kFlush,
                                     0, 0, nullptr, 0);
      if (!status.ok()) {
        *error = std::string("flush failed: ") + status.message();
        return false;
      }
      request++;
      continue;
    }
    // A group of writes in flight together, to different blocks.
    const uint64_t group = 1 + random.Below(spec.max_in_flight);
    std::vector<std::vector<uint8_t>> buffers;
    std::vector<std::unique_ptr<pt::FrontIo>> ios;
    std::set<uint64_t> used;
    for (uint64_t g = 0; g < group && request < spec.requests; ++g) {
      const uint64_t blocks =
          std::min<uint64_t>(hot, 1 + random.Below(spec.max_request_blocks));
      uint64_t first = random.Below(hot - blocks + 1);
      if (spec.sequential_percent > 0 &&
          random.Percent(spec.sequential_percent) &&
          stream_end + blocks <= hot) {
        first = stream_end;
      }
      stream_end = first + blocks;
      bool overlaps = false;
      for (uint64_t b = first; b < first + blocks; ++b) {
        overlaps = overlaps || used.count(b) != 0;
      }
      if (overlaps) break;
      for (uint64_t b = first; b < first + blocks; ++b) used.insert(b);
      uint32_t flags = 0;
      if (random.Percent(spec.fua_percent)) flags |= platform::kFrontFua;
      if (random.Percent(spec.preflush_percent)) {
        flags |= platform::kFrontPreflush;
      }
      buffers.push_back(
          RandomBytes(MixSeed(spec.seed, 1000 + request), blocks * kBlock));
      ios.push_back(pt::StartFrontIo(
          device.c_str(), platform::FrontOp::kWrite, flags, first * kBlock,
          buffers.back().data(), buffers.back().size()));
      request++;
    }
    for (auto& io : ios) {
      status = io->Wait();
      if (!status.ok()) {
        *error = std::string("write failed: ") + status.message();
        return false;
      }
    }
  }
  if (spec.stop_at_end) {
    status = engine::kResourceHooks.stop_primary(cleanup.resource, &why);
    if (!status.ok()) {
      *error = std::string("stop_primary failed: ") + why.text;
      return false;
    }
  }
  *recording = pt::StopRecordingForTest();
  return *recording != nullptr;
}

}  // namespace crash
}  // namespace mars
