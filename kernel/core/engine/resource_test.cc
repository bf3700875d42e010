// The primary write path (resource_test_util.h): writes read back and
// reach the data device, FUA writes and flushes are durable in the log,
// contiguous writes share a record, the buffer limit throttles, and stop
// and attach refuse what they must.
#include "core/engine/resource_test_util.h"

namespace mars {
namespace engine {
namespace resource_test {
namespace {

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
  EXPECT_EQ(VerifiedRecords(ReadFile(dir_ + "/log-000000001-h1")), 2);
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

TEST_F(ResourceTest, AttachRefusesAMissingDataDevice) {
  ASSERT_EQ(unlink(data_path_.c_str()), 0);
  ASSERT_TRUE(Create(root_, &resource_).ok());
  ErrorText why;
  EXPECT_EQ(kResourceHooks.attach(resource_, &why).code(),
            StatusCode::kNotFound);
  EXPECT_NE(std::string(why.text).find(data_path_), std::string::npos)
      << why.text;
}

}  // namespace
}  // namespace resource_test
}  // namespace engine
}  // namespace mars
