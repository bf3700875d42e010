// Test-only fixture of the primary write path's tests (resource_test.cc:
// writes, reads, flushes and shared records; resource_recovery_test.cc:
// recovery after a crash; resource_log_test.cc: logfiles, rotation and
// log failures; resource_secondary_test.cc: a secondary's replay thread)
// on the userspace platform: requests through the test client of the
// exported device, a regular file as data device, a temp directory as
// /mars. Crash states are taken as copies of the files while writeback is
// held back (injected data-device failures). Not part of mars.ko.
#ifndef MARS_CORE_ENGINE_RESOURCE_TEST_UTIL_H_
#define MARS_CORE_ENGINE_RESOURCE_TEST_UTIL_H_

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/engine/log_apply.h"
#include "core/engine/log_durability.h"
#include "core/engine/manager.h"
#include "core/engine/recovery.h"
#include "core/engine/resource.h"
#include "core/log/log_reader.h"
#include "core/log/log_test_util.h"
#include "core/platform_io.h"
#include "core/tree/version_link.h"
#include "gtest/gtest.h"
#include "platform_user.h"

namespace mars {
namespace engine {
namespace resource_test {

namespace pt = platform::test;
inline constexpr uint64_t kBlock = 4096;
inline constexpr uint64_t kDataBytes = 8 << 20;

inline std::string MakeTempDir() {
  std::string pattern = (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  pattern += "/mars-resource-test.XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back(0);
  EXPECT_NE(mkdtemp(buf.data()), nullptr);
  return buf.data();
}

inline void WriteLinkOrDie(const std::string& path, const std::string& value) {
  ASSERT_TRUE(platform::WriteLink(path.c_str(), value.data(), value.size(),
                                  1700000000000000000ull)
                  .ok());
}

inline std::string ReadLinkValue(const std::string& path) {
  char value[4096];
  size_t size = 0;
  uint64_t stamp = 0;
  if (!platform::ReadLink(path.c_str(), value, sizeof(value), &size, &stamp)
           .ok()) {
    return "";
  }
  return std::string(value, size);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

inline void CopyTree(const std::string& from, const std::string& to) {
  std::string command = "cp -a '" + from + "' '" + to + "'";
  ASSERT_EQ(system(command.c_str()), 0);
}

// A block whose content says which block and version it is.
inline std::vector<uint8_t> Pattern(uint64_t block, uint32_t version) {
  std::vector<uint8_t> data(kBlock);
  uint64_t x = block * 1000003 + version * 7919 + 1;
  for (size_t i = 0; i < data.size(); ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    data[i] = static_cast<uint8_t>(x >> 56);
  }
  return data;
}

class ResourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pt::SetHostNameForTest("h1");
    pt::ResetTunablesForTest();
    pt::ResetCountersForTest();
    root_ = MakeTempDir();
    Layout(root_);
  }
  void TearDown() override {
    if (resource_ != nullptr) {
      ErrorText why;
      EXPECT_TRUE(kResourceHooks.detach(resource_, &why).ok()) << why.text;
      kResourceHooks.destroy(resource_);
    }
    pt::ResetTunablesForTest();
    pt::SetHostNameForTest(nullptr);
    std::string command = "rm -rf '" + root_ + "'";
    EXPECT_EQ(system(command.c_str()), 0);
  }

  // A resource as marsadm create-resource leaves it.
  void Layout(const std::string& root) {
    dir_ = root + "/resource-r0";
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
    data_path_ = root + "/data-r0.img";
    std::ofstream(data_path_).close();
    ASSERT_EQ(truncate(data_path_.c_str(), kDataBytes), 0);
    std::ofstream(dir_ + "/log-000000001-h1").close();
    WriteLinkOrDie(dir_ + "/replay-h1", "log-000000001-h1,0,0");
  }

  Status Create(const std::string& root, void** resource) {
    settings_root_ = root;
    settings_data_ = root + "/data-r0.img";
    ResourceSettings settings;
    settings.root = settings_root_.c_str();
    settings.name = "r0";
    settings.host = "h1";
    settings.data_path = settings_data_.c_str();
    settings.size_bytes = kDataBytes;
    settings.clock = &clock_;
    settings.durability = durability_;
    return kResourceHooks.create(settings, resource);
  }

  void StartPrimary() {
    ASSERT_TRUE(Create(root_, &resource_).ok());
    ErrorText why;
    ASSERT_TRUE(kResourceHooks.attach(resource_, &why).ok()) << why.text;
    ASSERT_TRUE(kResourceHooks.start_primary(resource_, "r0", &why).ok())
        << why.text;
  }

  // Starts the primary with writeback failing and writes blocks 0..31
  // (version 3, FUA: acknowledged and durable in the log); *crashed is a
  // copy of the tree in a new temp directory taken then: what a power cut
  // leaves, with none of the writes on the data device. Writeback stays
  // failing.
  void CrashAfterFuaWrites(std::string* crashed) {
    pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                  platform::BlockDevice::Op::kWrite, 1000000);
    StartPrimary();
    for (uint64_t b = 0; b < 32; ++b) {
      ASSERT_TRUE(Write(b, 3, platform::kFrontFua).ok());
    }
    *crashed = MakeTempDir() + "/crash";
    CopyTree(root_, *crashed);
  }

  Status Write(uint64_t block, uint32_t version, uint32_t flags = 0) {
    std::vector<uint8_t> data = Pattern(block, version);
    return pt::SubmitToFrontDisk("r0", platform::FrontOp::kWrite, flags,
                                 block * kBlock, data.data(), data.size());
  }

  std::vector<uint8_t> Read(uint64_t block, uint64_t blocks = 1) {
    std::vector<uint8_t> data(blocks * kBlock);
    EXPECT_TRUE(pt::SubmitToFrontDisk("r0", platform::FrontOp::kRead, 0,
                                      block * kBlock, data.data(), data.size())
                    .ok());
    return data;
  }

  // One block of the image at `path` (only that block is read).
  std::string DataBlock(const std::string& path, uint64_t block) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(block * kBlock));
    std::string data(kBlock, '\0');
    in.read(&data[0], static_cast<std::streamsize>(kBlock));
    data.resize(static_cast<size_t>(in.gcount()));
    return data;
  }

  LamportClock clock_;
  std::string root_, dir_, data_path_;
  std::string settings_root_, settings_data_;
  void* resource_ = nullptr;
  LogDurability* durability_ = nullptr;
};

// The records of a logfile's bytes that verify, which must end cleanly;
// -1 (and a test failure) when the reader fails.
inline int VerifiedRecords(const std::string& log) {
  log::LogReader reader;
  if (!reader.Init(log::LogReaderOptions()).ok()) {
    ADD_FAILURE() << "log reader init failed";
    return -1;
  }
  int records = 0;
  for (;;) {
    log::ReadResult result;
    if (!reader.Next(Slice(log.data(), log.size()), 0, true, &result).ok()) {
      ADD_FAILURE() << "log reader failed after " << records << " records";
      return -1;
    }
    if (result.outcome != log::ReadOutcome::kRecord) {
      EXPECT_EQ(result.outcome, log::ReadOutcome::kCleanEnd);
      return records;
    }
    ++records;
  }
}

inline std::string AsString(const std::vector<uint8_t>& v) {
  return std::string(v.begin(), v.end());
}

}  // namespace resource_test
}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_RESOURCE_TEST_UTIL_H_
