// The primary write path on the userspace platform: requests through the
// test client of the exported device, a regular file as data device, a temp
// directory as /mars. Crash states are taken as copies of the files while
// writeback is held back (injected data-device failures).
#include "core/engine/resource.h"

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
#include "core/log/log_reader.h"
#include "core/log/log_test_util.h"
#include "core/platform_io.h"
#include "core/tree/version_link.h"
#include "gtest/gtest.h"
#include "platform_user.h"

namespace mars {
namespace engine {
namespace {

namespace pt = platform::test;
constexpr uint64_t kBlock = 4096;
constexpr uint64_t kDataBytes = 8 << 20;

std::string MakeTempDir() {
  std::string pattern = (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  pattern += "/mars-resource-test.XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back(0);
  EXPECT_NE(mkdtemp(buf.data()), nullptr);
  return buf.data();
}

void WriteLinkOrDie(const std::string& path, const std::string& value) {
  ASSERT_TRUE(platform::WriteLink(path.c_str(), value.data(), value.size(),
                                  1700000000000000000ull)
                  .ok());
}

std::string ReadLinkValue(const std::string& path) {
  char value[4096];
  size_t size = 0;
  uint64_t stamp = 0;
  if (!platform::ReadLink(path.c_str(), value, sizeof(value), &size, &stamp)
           .ok()) {
    return "";
  }
  return std::string(value, size);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

void CopyTree(const std::string& from, const std::string& to) {
  std::string command = "cp -a '" + from + "' '" + to + "'";
  ASSERT_EQ(system(command.c_str()), 0);
}

// A block whose content says which block and version it is.
std::vector<uint8_t> Pattern(uint64_t block, uint32_t version) {
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

std::string AsString(const std::vector<uint8_t>& v) {
  return std::string(v.begin(), v.end());
}

TEST_F(ResourceTest, WritesReadBackAndReachTheDataDeviceOnStop) {
  StartPrimary();
  EXPECT_EQ(pt::FrontDiskSizeForTest("r0"), kDataBytes);
  for (uint64_t b = 0; b < 64; ++b) ASSERT_TRUE(Write(b, 1).ok());
  ASSERT_TRUE(Write(5, 2).ok());
  EXPECT_EQ(Read(5), Pattern(5, 2));
  EXPECT_EQ(Read(63), Pattern(63, 1));
  std::vector<uint8_t> many = Read(0, 16);
  EXPECT_EQ(std::vector<uint8_t>(many.begin() + 3 * kBlock,
                                 many.begin() + 4 * kBlock),
            Pattern(3, 1));
  ErrorText why;
  ASSERT_TRUE(kResourceHooks.stop_primary(resource_, &why).ok()) << why.text;
  EXPECT_EQ(pt::FrontDiskSizeForTest("r0"), 0u);
  EXPECT_EQ(DataBlock(data_path_, 5), AsString(Pattern(5, 2)));
  EXPECT_EQ(DataBlock(data_path_, 63), AsString(Pattern(63, 1)));
  // Logfile 1 is finished at the next start: the replay link points at its
  // end now.
  const std::string replay = ReadLinkValue(dir_ + "/replay-h1");
  EXPECT_EQ(replay.rfind("log-000000001-h1,", 0), 0u) << replay;
  EXPECT_NE(replay, "log-000000001-h1,0,0");
  EXPECT_GT(platform::GetCounter(platform::Counter::kBytesWrittenBack), 0u);
}

TEST_F(ResourceTest, FuaWriteAndFlushAreDurableInTheLog) {
  StartPrimary();
  ASSERT_TRUE(Write(1, 1, platform::kFrontFua).ok());
  const uint64_t flushes = platform::GetCounter(platform::Counter::kLogFlushes);
  EXPECT_GE(flushes, 1u);
  ASSERT_TRUE(Write(2, 1).ok());
  ASSERT_TRUE(
      pt::SubmitToFrontDisk("r0", platform::FrontOp::kFlush, 0, 0, nullptr, 0)
          .ok());
  // Both records are in the file and verify.
  const std::string log = ReadFile(dir_ + "/log-000000001-h1");
  log::LogReader reader;
  ASSERT_TRUE(reader.Init(log::LogReaderOptions()).ok());
  int records = 0;
  for (;;) {
    log::ReadResult result;
    ASSERT_TRUE(
        reader.Next(Slice(log.data(), log.size()), 0, true, &result).ok());
    if (result.outcome != log::ReadOutcome::kRecord) {
      EXPECT_EQ(result.outcome, log::ReadOutcome::kCleanEnd);
      break;
    }
    records++;
  }
  EXPECT_EQ(records, 2);
}

TEST_F(ResourceTest, RecoveryReplaysAcknowledgedWritesAfterACrash) {
  // Writeback fails, so the data device never sees the writes; the copy of
  // the files taken then is the disk state a power cut would leave.
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1000000);
  StartPrimary();
  for (uint64_t b = 0; b < 32; ++b) {
    ASSERT_TRUE(Write(b, 3, platform::kFrontFua).ok());
  }
  const std::string crashed = MakeTempDir() + "/crash";
  CopyTree(root_, crashed);
  EXPECT_EQ(DataBlock(crashed + "/data-r0.img", 7), std::string(kBlock, '\0'));
  pt::ResetBlockDeviceForTest(data_path_.c_str());

  void* recovered = nullptr;
  ASSERT_TRUE(Create(crashed, &recovered).ok());
  ErrorText why;
  ASSERT_TRUE(kResourceHooks.attach(recovered, &why).ok()) << why.text;
  for (uint64_t b = 0; b < 32; ++b) {
    EXPECT_EQ(DataBlock(crashed + "/data-r0.img", b), AsString(Pattern(b, 3)))
        << b;
  }
  // Replay is idempotent: attach again from the same replay position.
  ASSERT_TRUE(kResourceHooks.detach(recovered, &why).ok());
  ASSERT_TRUE(kResourceHooks.attach(recovered, &why).ok()) << why.text;
  EXPECT_EQ(DataBlock(crashed + "/data-r0.img", 31), AsString(Pattern(31, 3)));
  ASSERT_TRUE(kResourceHooks.detach(recovered, &why).ok());
  kResourceHooks.destroy(recovered);
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 0);
}

// Contiguous plain writes share one record until something waits for the
// log to be durable (write-path.md, "Contiguous writes share a record"); a
// shared record that reaches 32 KiB gets its payload aligned; after a crash
// recovery applies shared records like any other.
TEST_F(ResourceTest, ContiguousWritesShareARecordUntilAFlush) {
  // The logger takes nothing by itself meanwhile; writeback never writes,
  // so the files are what a power cut would leave.
  pt::SetTunableForTest(platform::Tunable::kLogSyncIntervalMs, 10000);
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1000000);
  StartPrimary();
  for (uint64_t b = 0; b < 16; ++b) ASSERT_TRUE(Write(b, 1).ok());
  ASSERT_TRUE(Write(100, 1).ok());
  ASSERT_TRUE(Write(101, 1, platform::kFrontFua).ok());  // joins, then closes
  ASSERT_TRUE(Write(102, 1).ok());                       // a record of its own
  ASSERT_TRUE(Write(7, 2).ok());
  ASSERT_TRUE(
      pt::SubmitToFrontDisk("r0", platform::FrontOp::kFlush, 0, 0, nullptr, 0)
          .ok());
  EXPECT_EQ(platform::GetCounter(platform::Counter::kWritesMerged), 16u);
  std::vector<uint8_t> image;
  for (uint64_t b = 0; b < 16; ++b) {
    const std::vector<uint8_t> block = Pattern(b, b == 7 ? 2 : 1);
    image.insert(image.end(), block.begin(), block.end());
  }
  EXPECT_EQ(Read(0, 16), image);
  EXPECT_EQ(Read(101), Pattern(101, 1));

  const std::string log = ReadFile(dir_ + "/log-000000001-h1");
  EXPECT_EQ(platform::GetCounter(platform::Counter::kBytesLogged), log.size());
  log::LogReader reader;
  ASSERT_TRUE(reader.Init(log::LogReaderOptions()).ok());
  struct Expected {
    uint64_t block;
    uint64_t blocks;
  };
  const Expected expected[] = {{0, 16}, {100, 2}, {102, 1}, {7, 1}};
  for (const Expected& e : expected) {
    log::ReadResult result;
    ASSERT_TRUE(
        reader.Next(Slice(log.data(), log.size()), 0, true, &result).ok());
    ASSERT_EQ(result.outcome, log::ReadOutcome::kRecord) << e.block;
    EXPECT_EQ(result.record.device_offset, e.block * kBlock);
    ASSERT_EQ(result.record.payload.size(), e.blocks * kBlock) << e.block;
    for (uint64_t b = 0; b < e.blocks; ++b) {
      EXPECT_EQ(std::memcmp(result.record.payload.data() + b * kBlock,
                            Pattern(e.block + b, e.block == 7 ? 2 : 1).data(),
                            kBlock),
                0)
          << e.block + b;
    }
  }
  // The 64 KiB record's payload starts aligned, behind a padding record.
  EXPECT_EQ(reader.padding_records(), 1u);
  log::ReadResult end;
  ASSERT_TRUE(reader.Next(Slice(log.data(), log.size()), 0, true, &end).ok());
  EXPECT_EQ(end.outcome, log::ReadOutcome::kCleanEnd);

  const std::string crashed = MakeTempDir() + "/crash";
  CopyTree(root_, crashed);
  pt::ResetBlockDeviceForTest(data_path_.c_str());
  void* recovered = nullptr;
  ASSERT_TRUE(Create(crashed, &recovered).ok());
  ErrorText why;
  ASSERT_TRUE(kResourceHooks.attach(recovered, &why).ok()) << why.text;
  for (uint64_t b = 0; b < 16; ++b) {
    EXPECT_EQ(DataBlock(crashed + "/data-r0.img", b),
              AsString(Pattern(b, b == 7 ? 2 : 1)))
        << b;
  }
  for (uint64_t b = 100; b < 103; ++b) {
    EXPECT_EQ(DataBlock(crashed + "/data-r0.img", b), AsString(Pattern(b, 1)))
        << b;
  }
  ASSERT_TRUE(kResourceHooks.detach(recovered, &why).ok());
  kResourceHooks.destroy(recovered);
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 0);
}

// Recovery of a log of 256 KiB records, six times the reader's window: past
// the first window they are read into the stages in place (LogApplier). A
// crash in the middle of the last append left that record torn: it is not
// applied, its blocks keep the version before it, and every other record
// is.
TEST_F(ResourceTest, RecoveryOfLargeRecordsStopsAtATornOne) {
  static_assert(64 * kBlock >= LogApplier::kInPlaceMinPayload, "in place");
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1000000);
  StartPrimary();
  constexpr uint64_t kRecords = 48;  // 12 MiB of payload over 3 MiB
  for (uint64_t i = 0; i < kRecords; ++i) {
    std::vector<uint8_t> data;
    const uint64_t first = (i % 12) * 64;
    for (uint64_t b = first; b < first + 64; ++b) {
      const std::vector<uint8_t> block = Pattern(b, i / 12 + 1);
      data.insert(data.end(), block.begin(), block.end());
    }
    ASSERT_TRUE(pt::SubmitToFrontDisk("r0", platform::FrontOp::kWrite,
                                      platform::kFrontFua, first * kBlock,
                                      data.data(), data.size())
                    .ok());
  }
  const std::string crashed = MakeTempDir() + "/crash";
  CopyTree(root_, crashed);
  pt::ResetBlockDeviceForTest(data_path_.c_str());
  const std::string log_path = crashed + "/resource-r0/log-000000001-h1";
  std::string log = ReadFile(log_path);
  // Each payload starts at a multiple of 512 (docu/log-format.md,
  // "Padding"): a padding record and a header take 512 bytes before it.
  ASSERT_EQ(log.size(), kRecords * (64 * kBlock + 512));
  log.resize(log.size() - 100000);
  std::ofstream(log_path, std::ios::binary | std::ios::trunc) << log;

  void* recovered = nullptr;
  ASSERT_TRUE(Create(crashed, &recovered).ok());
  ErrorText why;
  ASSERT_TRUE(kResourceHooks.attach(recovered, &why).ok()) << why.text;
  for (uint64_t b = 0; b < 12 * 64; ++b) {
    const uint32_t version = b >= 11 * 64 ? 3 : 4;
    EXPECT_EQ(DataBlock(crashed + "/data-r0.img", b),
              AsString(Pattern(b, version)))
        << b;
  }
  ASSERT_TRUE(kResourceHooks.detach(recovered, &why).ok());
  kResourceHooks.destroy(recovered);
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 0);
}

// A data device that fails writes during recovery: attach fails and the
// error names the logfile whose records could not be replayed, whichever
// request of the replay saw the error.
TEST_F(ResourceTest, DataDeviceErrorDuringRecoveryNamesTheLogfile) {
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 1000000);
  StartPrimary();
  for (uint64_t b = 0; b < 32; ++b) {
    ASSERT_TRUE(Write(b, 3, platform::kFrontFua).ok());
  }
  const std::string crashed = MakeTempDir() + "/crash";
  CopyTree(root_, crashed);
  const std::string crashed_data = crashed + "/data-r0.img";
  pt::FailBlockDeviceOpsForTest(crashed_data.c_str(),
                                platform::BlockDevice::Op::kWrite, 1000000);

  void* recovered = nullptr;
  ASSERT_TRUE(Create(crashed, &recovered).ok());
  ErrorText why;
  EXPECT_FALSE(kResourceHooks.attach(recovered, &why).ok());
  const std::string text = why.text;
  EXPECT_NE(text.find("cannot replay a record of"), std::string::npos) << text;
  EXPECT_NE(text.find("log-000000001-h1"), std::string::npos) << text;
  kResourceHooks.destroy(recovered);
  pt::FailBlockDeviceOpsForTest(crashed_data.c_str(),
                                platform::BlockDevice::Op::kWrite, 0);
  pt::FailBlockDeviceOpsForTest(data_path_.c_str(),
                                platform::BlockDevice::Op::kWrite, 0);
}

TEST_F(ResourceTest, CorruptLogStopsRecoveryWithAClearError) {
  StartPrimary();
  // FUA writes: each record is durable before the next is appended, so the
  // records behind a damaged one show it durable (log-format.md).
  for (uint64_t b = 0; b < 8; ++b) {
    ASSERT_TRUE(Write(b, 1, platform::kFrontFua).ok());
  }
  ErrorText why;
  ASSERT_TRUE(kResourceHooks.detach(resource_, &why).ok());
  kResourceHooks.destroy(resource_);
  resource_ = nullptr;
  // Damage record 3's payload; replay everything from the start.
  const std::string log_path = dir_ + "/log-000000001-h1";
  std::string log = ReadFile(log_path);
  const size_t record_bytes = kBlock + log::kWrittenHeaderBytes;
  ASSERT_GT(log.size(), 3 * record_bytes);
  log[2 * record_bytes + 100] ^= 0x55;
  std::ofstream(log_path, std::ios::binary) << log;
  WriteLinkOrDie(dir_ + "/replay-h1", "log-000000001-h1,0,0");
  ASSERT_TRUE(Create(root_, &resource_).ok());
  Status status = kResourceHooks.attach(resource_, &why);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(std::string(why.text).find("log-000000001-h1"), std::string::npos)
      << why.text;
  EXPECT_NE(std::string(why.text).find("corrupt"), std::string::npos)
      << why.text;
}

TEST_F(ResourceTest, LogRotatesBySizeAndOnRequestWithVersionLinks) {
  pt::SetTunableForTest(platform::Tunable::kLogRotateBytes, 1 << 20);
  StartPrimary();
  std::vector<uint8_t> big(256 * kBlock);
  for (int round = 0; round < 5; ++round) {
    for (size_t i = 0; i < big.size(); ++i) big[i] = round + i;
    ASSERT_TRUE(pt::SubmitToFrontDisk("r0", platform::FrontOp::kWrite,
                                      platform::kFrontFua, 0, big.data(),
                                      big.size())
                    .ok());
  }
  // marsadm log-rotate: an empty next logfile appears.
  ResourceReport report;
  kResourceHooks.report(resource_, &report);
  const uint64_t current = report.logfile;
  EXPECT_GE(current, 3u);
  char name[64];
  snprintf(name, sizeof(name), "/log-%09llu-h1",
           static_cast<unsigned long long>(current + 1));
  ASSERT_TRUE(Write(301, 9, platform::kFrontFua).ok());
  std::ofstream(dir_ + name).close();
  kResourceHooks.request_logfile(resource_, current + 1);
  ASSERT_TRUE(Write(302, 9, platform::kFrontFua).ok());
  kResourceHooks.report(resource_, &report);
  EXPECT_EQ(report.logfile, current + 1);
  EXPECT_EQ(Read(0, 256), big);
  EXPECT_EQ(Read(302), Pattern(302, 9));
  for (uint64_t n = 1; n <= current; ++n) {
    snprintf(name, sizeof(name), "/version-%09llu-h1",
             static_cast<unsigned long long>(n));
    EXPECT_FALSE(ReadLinkValue(dir_ + name).empty()) << name;
  }
}

TEST_F(ResourceTest, SizeRotationEndsEachLogfileWithinOneRecordOfTheLimit) {
  // Unsynced writes are acknowledged at once, so they pile up in the write
  // buffer faster than the logger drains it: no logfile may take them all.
  constexpr uint64_t kLimit = 256 * 1024;
  constexpr uint64_t kRecord = log::kWrittenHeaderBytes + kBlock;
  pt::SetTunableForTest(platform::Tunable::kLogRotateBytes, kLimit);
  StartPrimary();
  for (uint64_t i = 0; i < 512; ++i) {
    ASSERT_TRUE(Write(i * 7 % 300, i, 0).ok());
  }
  ASSERT_TRUE(Write(400, 1, platform::kFrontFua).ok());
  ResourceReport report;
  kResourceHooks.report(resource_, &report);
  // 513 records of kRecord bytes: at least 513 * kRecord / (kLimit + kRecord)
  // finished logfiles.
  EXPECT_GE(report.logfile, 1 + 513 * kRecord / (kLimit + kRecord));
  for (uint64_t n = 1; n < report.logfile; ++n) {
    char name[64];
    snprintf(name, sizeof(name), "/log-%09llu-h1",
             static_cast<unsigned long long>(n));
    struct stat st;
    ASSERT_EQ(stat((dir_ + name).c_str(), &st), 0) << name;
    EXPECT_GE(static_cast<uint64_t>(st.st_size), kLimit) << name;
    EXPECT_LT(static_cast<uint64_t>(st.st_size), kLimit + kRecord) << name;
  }
  EXPECT_EQ(Read(400), Pattern(400, 1));
}

TEST_F(ResourceTest, BufferLimitThrottlesWritesWithoutFailing) {
  pt::SetTunableForTest(platform::Tunable::kBufferLimitBytes, 1 << 20);
  pt::SetBlockDeviceAsyncForTest(data_path_.c_str(), true);
  StartPrimary();
  std::vector<uint8_t> chunk(64 * kBlock);
  uint64_t peak = 0;
  for (int i = 0; i < 64; ++i) {
    for (size_t j = 0; j < chunk.size(); j += kBlock) chunk[j] = i;
    ASSERT_TRUE(pt::SubmitToFrontDisk("r0", platform::FrontOp::kWrite, 0,
                                      (i % 32) * chunk.size(), chunk.data(),
                                      chunk.size())
                    .ok());
    peak =
        std::max(peak, platform::GetCounter(platform::Counter::kBytesBuffered));
  }
  EXPECT_LE(peak, (1u << 20) + chunk.size());
  EXPECT_GT(platform::GetCounter(platform::Counter::kWritesThrottled), 0u);
  EXPECT_EQ(Read(31 * 64)[0], 63);
  pt::ResetBlockDeviceForTest(data_path_.c_str());
}

TEST_F(ResourceTest, StopPrimaryRefusedWhileOpen) {
  StartPrimary();
  pt::FrontDiskHandle* handle = pt::OpenFrontDisk("r0");
  ASSERT_NE(handle, nullptr);
  ErrorText why;
  EXPECT_EQ(kResourceHooks.stop_primary(resource_, &why).code(),
            StatusCode::kUnavailable);
  EXPECT_NE(std::string(why.text).find("open"), std::string::npos);
  ASSERT_TRUE(Write(3, 1).ok());
  pt::CloseFrontDisk(handle);
  EXPECT_TRUE(kResourceHooks.stop_primary(resource_, &why).ok()) << why.text;
}

// The logfile may not grow beyond `bytes` while alive (RLIMIT_FSIZE: a write
// beyond it fails with EFBIG after a short write, as a full or failing /mars
// would fail it). Only the log grows in the test: the data image has its size.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(uint64_t bytes) {
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    EXPECT_EQ(getrlimit(RLIMIT_FSIZE, &old_), 0);
    struct rlimit limit = old_;
    limit.rlim_cur = bytes;
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  }
  ~FileSizeLimit() {
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &old_), 0);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  struct rlimit old_ = {};
  void (*old_handler_)(int) = nullptr;
};

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

TEST_F(ResourceTest, LogFailureFailsFuaAndLaterWritesAndStopCutsTheTail) {
  // No periodic sync: only the FUA writes make the log durable.
  pt::SetTunableForTest(platform::Tunable::kLogSyncIntervalMs, 100000);
  StartPrimary();
  for (uint64_t b = 0; b < 10; ++b) {
    ASSERT_TRUE(Write(b, 1, platform::kFrontFua).ok());
  }
  const std::string log_path = dir_ + "/log-000000001-h1";
  const uint64_t durable = FileSize(log_path);
  ASSERT_GT(durable, 10 * kBlock);
  {
    // Room for one more record and part of a second.
    FileSizeLimit limit(durable + kBlock + kBlock / 2);
    EXPECT_TRUE(Write(20, 1).ok());  // plain: buffered, not yet durable
    EXPECT_TRUE(Write(21, 1).ok());
    // Its record cannot be written completely: the log fails, the FUA write
    // is not acknowledged, and every later request fails.
    EXPECT_EQ(Write(22, 1, platform::kFrontFua).code(), StatusCode::kIoError);
    EXPECT_EQ(Write(23, 1).code(), StatusCode::kIoError);
    EXPECT_EQ(
        pt::SubmitToFrontDisk("r0", platform::FrontOp::kFlush, 0, 0, nullptr, 0)
            .code(),
        StatusCode::kIoError);
  }
  ResourceReport report;
  kResourceHooks.report(resource_, &report);
  EXPECT_TRUE(report.io_error);
  EXPECT_NE(std::string(report.error.text).find("logfile"), std::string::npos)
      << report.error.text;
  // Reads still work, from the buffer and from the data device.
  EXPECT_EQ(Read(3), Pattern(3, 1));
  EXPECT_GT(FileSize(log_path), durable);  // the partial record is there
  ErrorText why;
  ASSERT_TRUE(kResourceHooks.stop_primary(resource_, &why).ok()) << why.text;
  // Stop cut what was never durable: the log ends cleanly at the last sync.
  EXPECT_EQ(FileSize(log_path), durable);
  const std::string log = ReadFile(log_path);
  log::LogReader reader;
  ASSERT_TRUE(reader.Init(log::LogReaderOptions()).ok());
  int records = 0;
  for (;;) {
    log::ReadResult result;
    ASSERT_TRUE(
        reader.Next(Slice(log.data(), log.size()), 0, true, &result).ok());
    if (result.outcome != log::ReadOutcome::kRecord) {
      EXPECT_EQ(result.outcome, log::ReadOutcome::kCleanEnd);
      break;
    }
    records++;
  }
  EXPECT_EQ(records, 10);
  // The documented way back: detach, attach (replays what is durable), up.
  ASSERT_TRUE(kResourceHooks.detach(resource_, &why).ok()) << why.text;
  ASSERT_TRUE(kResourceHooks.attach(resource_, &why).ok()) << why.text;
  ASSERT_TRUE(kResourceHooks.start_primary(resource_, "r0", &why).ok())
      << why.text;
  kResourceHooks.report(resource_, &report);
  EXPECT_FALSE(report.io_error);
  for (uint64_t b = 0; b < 10; ++b) EXPECT_EQ(Read(b), Pattern(b, 1)) << b;
  ASSERT_TRUE(Write(24, 1, platform::kFrontFua).ok());
  EXPECT_EQ(Read(24), Pattern(24, 1));
}

TEST_F(ResourceTest, AttachRefusesAMissingDataDevice) {
  ASSERT_EQ(unlink(data_path_.c_str()), 0);
  ASSERT_TRUE(Create(root_, &resource_).ok());
  ErrorText why;
  EXPECT_EQ(kResourceHooks.attach(resource_, &why).code(),
            StatusCode::kNotFound);
  EXPECT_NE(std::string(why.text).find(data_path_), std::string::npos)
      << why.text;
}

TEST_F(ResourceTest, PrimaryRegistersTheDurableEndsOfItsLogfiles) {
  LogDurability durability;
  ASSERT_TRUE(durability.Init(platform::Gfp::kKernel).ok());
  durability_ = &durability;
  StartPrimary();
  const Slice log1 = Slice::FromCString("resource-r0/log-000000001-h1");
  const Slice log2 = Slice::FromCString("resource-r0/log-000000002-h1");
  uint64_t end = 0;
  ASSERT_TRUE(durability.DurableEnd(log1, &end));
  EXPECT_EQ(end, 0u);
  ASSERT_TRUE(Write(1, 1, platform::kFrontFua).ok());
  ASSERT_TRUE(durability.DurableEnd(log1, &end));
  EXPECT_EQ(end, FileSize(dir_ + "/log-000000001-h1"));
  EXPECT_GT(end, kBlock);

  // Rotation: the finished logfile is unregistered (its version link says
  // how long it is), the next one registered.
  std::ofstream(dir_ + "/log-000000002-h1").close();
  kResourceHooks.request_logfile(resource_, 2);
  ResourceReport report;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    ASSERT_TRUE(Write(2, 1, platform::kFrontFua).ok());
    kResourceHooks.report(resource_, &report);
  } while (report.logfile != 2 && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(report.logfile, 2u);
  ASSERT_TRUE(Write(3, 1, platform::kFrontFua).ok());
  EXPECT_FALSE(durability.DurableEnd(log1, &end));
  EXPECT_FALSE(ReadLinkValue(dir_ + "/version-000000001-h1").empty());
  ASSERT_TRUE(durability.DurableEnd(log2, &end));
  EXPECT_EQ(end, FileSize(dir_ + "/log-000000002-h1"));

  ErrorText why;
  ASSERT_TRUE(kResourceHooks.stop_primary(resource_, &why).ok()) << why.text;
  EXPECT_FALSE(durability.DurableEnd(log2, &end));
  ASSERT_TRUE(kResourceHooks.detach(resource_, &why).ok()) << why.text;
  kResourceHooks.destroy(resource_);
  resource_ = nullptr;
}

// Logfile `number` of host h0 (the primary of a secondary h1) with one write
// of Pattern(block, version) per entry, and its version link, as fetch and
// the tree would bring them. Returns the logfile's length.
uint64_t WritePrimaryLog(const std::string& dir, uint32_t number,
                         const std::vector<uint64_t>& blocks,
                         uint32_t version) {
  log::test::SyncedLog writer(0xAB00 + number, number);
  for (uint64_t block : blocks) {
    const std::vector<uint8_t> payload = Pattern(block, version);
    writer.Append(block * kBlock, payload.data(), payload.size());
  }
  const log::test::File& bytes = writer.bytes();
  char name[64];
  snprintf(name, sizeof(name), "/log-%09u-h0", number);
  log::test::WriteFile(dir + name, bytes);
  tree::LogfileName log;
  log.number = number;
  EXPECT_TRUE(log.host.Assign(Slice::FromCString("h0")).ok());
  tree::VersionLink link;
  EXPECT_TRUE(tree::MakeVersionLink(nullptr, log, bytes.size(), &link).ok());
  Bytes value(platform::Gfp::kKernel);
  EXPECT_TRUE(tree::AppendVersionLink(link, &value).ok());
  snprintf(name, sizeof(name), "/version-%09u-h0", number);
  WriteLinkOrDie(dir + name,
                 std::string(value.data(), value.data() + value.size()));
  return bytes.size();
}

TEST_F(ResourceTest, SecondaryAttachesAndItsReplayThreadAppliesTheLog) {
  WriteLinkOrDie(dir_ + "/primary", "h0");
  WriteLinkOrDie(dir_ + "/replay-h1", "log-000000001-h0,0,0");
  const std::vector<uint64_t> blocks = {0, 1, 2, 7, 100, 2047};
  const uint64_t length = WritePrimaryLog(dir_, 1, blocks, 4);
  ASSERT_TRUE(Create(root_, &resource_).ok());
  ErrorText why;
  // No crash recovery of another host's log: the link stays as it was.
  ASSERT_TRUE(kResourceHooks.attach(resource_, &why).ok()) << why.text;
  EXPECT_EQ(ReadLinkValue(dir_ + "/replay-h1"), "log-000000001-h0,0,0");
  ResourceReport report;
  kResourceHooks.report(resource_, &report);
  EXPECT_TRUE(report.attached);
  EXPECT_FALSE(report.replaying);

  kResourceHooks.set_replay(resource_, true);
  // Replaying from set_replay on, also while the first pass runs.
  kResourceHooks.report(resource_, &report);
  EXPECT_TRUE(report.replaying);
  const std::string done = "log-000000001-h0," + std::to_string(length) + ",0";
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ReadLinkValue(dir_ + "/replay-h1") != done &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(ReadLinkValue(dir_ + "/replay-h1"), done);
  for (uint64_t block : blocks) {
    EXPECT_EQ(DataBlock(data_path_, block), AsString(Pattern(block, 4)))
        << block;
  }
  kResourceHooks.report(resource_, &report);
  EXPECT_TRUE(report.replaying);
  EXPECT_EQ(report.replay_code, 0);

  // Becoming primary on another primary's logfile is refused; replay goes
  // on.
  Status status = kResourceHooks.start_primary(resource_, "r0", &why);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_STREQ(why.text,
               "this host replays logfile log-000000001-h0 of another "
               "primary; handover is not supported yet");
  EXPECT_EQ(pt::FrontDiskSizeForTest("r0"), 0u);
  kResourceHooks.report(resource_, &report);
  EXPECT_TRUE(report.replaying);

  kResourceHooks.set_replay(resource_, false);
  kResourceHooks.report(resource_, &report);
  EXPECT_FALSE(report.replaying);
  // Detach with replay running stops it too.
  kResourceHooks.set_replay(resource_, true);
  ASSERT_TRUE(kResourceHooks.detach(resource_, &why).ok()) << why.text;
  kResourceHooks.report(resource_, &report);
  EXPECT_FALSE(report.replaying);
  EXPECT_FALSE(report.attached);
}

TEST_F(ResourceTest, ManagerRunsTheReplayThreadOfASecondary) {
  const std::string root = root_;
  auto link = [&](const std::string& rel, const std::string& value) {
    std::string path = root + "/" + rel;
    std::string dir = path.substr(0, path.rfind('/'));
    ASSERT_EQ(system(("mkdir -p '" + dir + "'").c_str()), 0);
    WriteLinkOrDie(path, value);
  };
  link("uuid", "cluster");
  link("resource-r0/size", std::to_string(kDataBytes));
  link("resource-r0/primary", "h0");
  link("resource-r0/data-h1", data_path_);
  link("resource-r0/todo-h1/attach", "1");
  link("resource-r0/todo-h1/allow-replay", "1");
  link("resource-r0/syncstatus-h1", std::to_string(kDataBytes));
  link("resource-r0/replay-h1", "log-000000001-h0,0,0");
  const uint64_t length = WritePrimaryLog(dir_, 1, {3, 4, 5}, 6);
  link("resource-r0/replay-h0", "log-000000002-h0,0,0");  // h0 writes log 2

  Manager manager;
  ASSERT_TRUE(manager.Init(root_.c_str(), &kResourceHooks, &clock_).ok());
  const std::string done = "log-000000002-h0,0,0";
  auto actual = [&](const char* leaf) {
    return ReadLinkValue(dir_ + "/actual-h1/" + leaf);
  };
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    manager.Scan();
    if (ReadLinkValue(dir_ + "/replay-h1") == done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  manager.Scan();
  EXPECT_EQ(ReadLinkValue(dir_ + "/replay-h1"), done);
  EXPECT_FALSE(ReadLinkValue(dir_ + "/version-000000001-h1").empty());
  EXPECT_EQ(ReadLinkValue(dir_ + "/version-000000001-h1"),
            ReadLinkValue(dir_ + "/version-000000001-h0"));
  EXPECT_EQ(actual("is-attached"), "1");
  EXPECT_EQ(actual("is-primary"), "0");
  EXPECT_EQ(actual("is-replaying"), "1");
  EXPECT_EQ(actual("replay-code"), "0");
  EXPECT_EQ(actual("msg-err-replay"), "");
  for (uint64_t block : {3, 4, 5}) {
    EXPECT_EQ(DataBlock(data_path_, block), AsString(Pattern(block, 6)));
  }
  EXPECT_GT(length, 0u);

  link("resource-r0/todo-h1/allow-replay", "0");
  manager.Scan();
  EXPECT_EQ(actual("is-replaying"), "0");
  manager.Stop();
  EXPECT_EQ(actual("is-attached"), "0");
}

}  // namespace
}  // namespace engine
}  // namespace mars
