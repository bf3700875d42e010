// Test-only fixture of the Replayer tests (replayer_test.cc: logfiles,
// their links and the log chain; replayer_records_test.cc: records, damage
// and the data device): a temporary /mars tree with the links a secondary
// "b" sees from its primary "a", logfiles written as a primary's logger
// writes them and "fetched" by appending their bytes to the local copies,
// a regular file as data device, and a fake monotonic clock for the
// link-scan, publication and hole intervals. Not part of mars.ko.
#ifndef MARS_CORE_ENGINE_REPLAYER_TEST_UTIL_H_
#define MARS_CORE_ENGINE_REPLAYER_TEST_UTIL_H_

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/engine/replayer.h"
#include "core/engine/tree_links.h"
#include "core/log/log_test_util.h"
#include "core/platform_io.h"
#include "core/tree/version_link.h"
#include "gtest/gtest.h"
#include "platform_user.h"

namespace mars {
namespace engine {
namespace test {

namespace pt = platform::test;
inline constexpr uint64_t kBlock = 4096;
inline constexpr uint64_t kDevice = 1 << 20;  // 256 blocks
inline constexpr uint64_t kSecond = 1'000'000'000ull;

inline uint64_t g_now = 0;
inline uint64_t FakeNow() { return g_now; }

// A block whose content says which block and version it is.
inline std::string Pattern(uint64_t block, uint32_t version) {
  std::string data(kBlock, '\0');
  uint64_t x = block * 1000003 + version * 7919 + 1;
  for (char& c : data) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(x >> 56);
  }
  return data;
}

inline std::string LogName(uint32_t number, const std::string& host) {
  char text[128];
  snprintf(text, sizeof(text), "log-%09u-%s", number, host.c_str());
  return text;
}

inline std::string VersionName(uint32_t number, const std::string& host) {
  char text[128];
  snprintf(text, sizeof(text), "version-%09u-%s", number, host.c_str());
  return text;
}

inline tree::LogfileName Name(uint32_t number, const std::string& host) {
  tree::LogfileName name;
  name.number = number;
  EXPECT_TRUE(name.host.Assign(Slice::FromCString(host.c_str())).ok());
  return name;
}

// A logfile as a primary writes it: records synced one by one, so every
// record carries the end of the one before it as its durable end (damage
// before it is corruption, not a torn tail).
struct TestLog {
  uint32_t number = 0;
  std::string origin;
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> ends;  // record ends
  // (block, version) of every block written, in log order.
  std::vector<std::pair<uint64_t, uint32_t>> writes;
};

// A write of `blocks` blocks from `block` on, each block's content
// Pattern(block, version).
struct RangeWrite {
  uint64_t block;
  uint64_t blocks;
  uint32_t version;
};

// As a primary writes it, one record per range: records of any size up
// to the largest payload; with a payload_alignment, payloads of 32 KiB and
// more are aligned as the module's logger aligns them.
inline TestLog MakeRangeLog(uint32_t number, const std::string& origin,
                            const std::vector<RangeWrite>& ranges,
                            uint32_t payload_alignment = 0) {
  TestLog log;
  log.number = number;
  log.origin = origin;
  log::test::SyncedLog writer(0x5A17000000000000ull + number, number,
                              payload_alignment);
  for (const RangeWrite& range : ranges) {
    std::string payload;
    for (uint64_t b = range.block; b < range.block + range.blocks; ++b) {
      payload += Pattern(b, range.version);
      log.writes.emplace_back(b, range.version);
    }
    log.ends.push_back(writer.Append(range.block * kBlock, payload.data(),
                                     payload.size(), 1000 + log.ends.size()));
  }
  log.bytes = writer.bytes();
  return log;
}

// One 4096-byte record per write.
inline TestLog MakeLog(
    uint32_t number, const std::string& origin,
    const std::vector<std::pair<uint64_t, uint32_t>>& writes) {
  std::vector<RangeWrite> ranges;
  for (const auto& [block, version] : writes) {
    ranges.push_back({block, 1, version});
  }
  return MakeRangeLog(number, origin, ranges);
}

// Records of 4 KiB up to the largest payload (1 MiB, the whole device), so
// that windows of the local copy (LogApplier::kWindowBytes) end inside
// records of every size.
inline std::vector<RangeWrite> RecordsOfEverySize() {
  static_assert(log::kMaxPayloadBytes == kDevice, "one record fills it");
  return {{0, 1, 1}, {1, 64, 1},   {65, 65, 1},  {130, 126, 1}, {0, 256, 2},
          {5, 3, 3}, {200, 50, 3}, {10, 100, 4}, {120, 63, 4},  {0, 2, 5}};
}

// A 1 MiB record (the whole device, version 1), then the device again in
// records of 128 KiB for versions 2, 3 and 4: records large enough to be
// read into the stages in place (LogApplier::kInPlaceMinPayload).
inline std::vector<RangeWrite> LargeRecords() {
  std::vector<RangeWrite> ranges = {{0, 256, 1}};
  for (uint32_t version = 2; version <= 4; ++version) {
    for (uint64_t block = 0; block < 256; block += 32) {
      ranges.push_back({block, 32, version});
    }
  }
  return ranges;
}

class ReplayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pt::ResetTunablesForTest();
    pt::ResetCountersForTest();
    g_now = 1000 * kSecond;
    char pattern[] = "/tmp/replayer_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    dir_ = root_ + "/resource-r0";
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
    data_path_ = root_ + "/data-r0.img";
    std::ofstream(data_path_).close();
    ASSERT_EQ(truncate(data_path_.c_str(), kDevice), 0);
    pt::ResetBlockDeviceForTest(data_path_.c_str());
    ASSERT_TRUE(data_.Open(data_path_.c_str()).ok());
    Link("primary", "a");
    Link("replay-b", "log-000000001-a,0,0");
  }
  void TearDown() override {
    replayer_.reset();
    data_.Close();
    pt::ResetBlockDeviceForTest(data_path_.c_str());
    std::filesystem::remove_all(root_);
  }

  // A link in resource-r0/, written as the tree would bring it.
  void Link(const std::string& leaf, const std::string& value) {
    const std::string path = dir_ + "/" + leaf;
    ASSERT_TRUE(platform::WriteLink(path.c_str(), value.data(), value.size(),
                                    admin_clock_.Now())
                    .ok());
  }
  std::string Value(const std::string& leaf) {
    char value[platform::kMaxLinkValueBytes + 1];
    size_t size = 0;
    const std::string rel = "resource-r0/" + leaf;
    if (!ReadValue(root_.c_str(), rel.c_str(), value, sizeof(value), &size,
                   nullptr, nullptr)
             .ok()) {
      return "<absent>";
    }
    return std::string(value, size);
  }
  std::string ReplayLink(uint32_t number, const std::string& origin,
                         uint64_t position) {
    return LogName(number, origin) + "," + std::to_string(position) + ",0";
  }

  std::string LocalPath(const TestLog& log) {
    return dir_ + "/" + LogName(log.number, log.origin);
  }
  uint64_t LocalSize(const TestLog& log) {
    struct stat st;
    return stat(LocalPath(log).c_str(), &st) == 0
               ? static_cast<uint64_t>(st.st_size)
               : 0;
  }
  // Fetch: appends `bytes`[local size, upto) to the local copy.
  void FetchBytes(const TestLog& log, const std::vector<uint8_t>& bytes,
                  uint64_t upto) {
    const uint64_t have = LocalSize(log);
    ASSERT_LE(upto, bytes.size());
    std::ofstream out(LocalPath(log), std::ios::binary | std::ios::app);
    if (upto > have) {
      out.write(reinterpret_cast<const char*>(bytes.data() + have),
                static_cast<std::streamsize>(upto - have));
    }
  }
  void Fetch(const TestLog& log, uint64_t upto) {
    FetchBytes(log, log.bytes, upto);
  }
  void Fetch(const TestLog& log) { Fetch(log, log.bytes.size()); }

  // version-N-HOST for `log` at its full length, chained to `previous`.
  tree::VersionLink Finish(const TestLog& log, const std::string& host,
                           const tree::VersionLink* previous = nullptr,
                           uint64_t length = UINT64_MAX) {
    tree::VersionLink link;
    EXPECT_TRUE(tree::MakeVersionLink(
                    previous, Name(log.number, log.origin),
                    length == UINT64_MAX ? log.bytes.size() : length, &link)
                    .ok());
    Bytes value(platform::Gfp::kKernel);
    EXPECT_TRUE(tree::AppendVersionLink(link, &value).ok());
    Link(VersionName(log.number, host),
         std::string(value.data(), value.data() + value.size()));
    return link;
  }

  Replayer* Start() {
    replayer_ = std::make_unique<Replayer>();
    ReplayerOptions options;
    options.root = root_.c_str();
    options.name = "r0";
    options.host = "b";
    options.data = &data_;
    options.device_size = kDevice;
    options.clock = &clock_;
    options.monotonic_ns = FakeNow;
    EXPECT_TRUE(replayer_->Init(options).ok());
    return replayer_.get();
  }
  // Passes until there is nothing more to do at once.
  ReplayPass Drain() {
    ReplayPass pass;
    for (int i = 0; i < 10000; ++i) {
      pass = replayer_->Pass();
      if (!pass.more) return pass;
    }
    ADD_FAILURE() << "Pass() never ran out of work";
    return pass;
  }
  ReplayReport Report() {
    ReplayReport report;
    replayer_->Report(&report);
    return report;
  }

  std::string Block(uint64_t block) {
    std::string data(kBlock, '\0');
    std::ifstream in(data_path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(block * kBlock));
    in.read(&data[0], static_cast<std::streamsize>(kBlock));
    return data;
  }
  // Every write of `log` (in order, the last version of a block wins) is on
  // the data device.
  void ExpectApplied(const TestLog& log, size_t records = SIZE_MAX) {
    std::vector<std::pair<uint64_t, uint32_t>> writes(
        log.writes.begin(),
        log.writes.begin() + std::min(records, log.writes.size()));
    for (size_t i = 0; i < writes.size(); ++i) {
      bool later = false;
      for (size_t j = i + 1; j < writes.size(); ++j) {
        later = later || writes[j].first == writes[i].first;
      }
      if (!later) {
        EXPECT_EQ(Block(writes[i].first),
                  Pattern(writes[i].first, writes[i].second))
            << "block " << writes[i].first;
      }
    }
  }
  void ExpectZero(uint64_t block) {
    EXPECT_EQ(Block(block), std::string(kBlock, '\0')) << "block " << block;
  }

  std::string root_, dir_, data_path_;
  LamportClock clock_;
  LamportClock admin_clock_;
  platform::BlockDevice data_;
  std::unique_ptr<Replayer> replayer_;
};

// Ten one-block writes to blocks 10..19.
inline std::vector<std::pair<uint64_t, uint32_t>> TenWrites(uint32_t version) {
  std::vector<std::pair<uint64_t, uint32_t>> writes;
  for (uint64_t b = 10; b < 20; ++b) writes.emplace_back(b, version);
  return writes;
}

}  // namespace test
}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_REPLAYER_TEST_UTIL_H_
