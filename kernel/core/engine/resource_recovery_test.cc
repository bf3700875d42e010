// Recovery of a primary after a crash (resource_test_util.h): acknowledged
// writes are replayed, a torn record is not, and a failing data device or
// a corrupt log stops recovery with an error that names the logfile.
#include "core/engine/resource_test_util.h"

namespace mars {
namespace engine {
namespace resource_test {
namespace {

TEST_F(ResourceTest, RecoveryReplaysAcknowledgedWritesAfterACrash) {
  // Writeback fails, so the data device never sees the writes; the copy of
  // the files taken then is the disk state a power cut would leave.
  std::string crashed;
  ASSERT_NO_FATAL_FAILURE(CrashAfterFuaWrites(&crashed));
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
  std::string crashed;
  ASSERT_NO_FATAL_FAILURE(CrashAfterFuaWrites(&crashed));
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

}  // namespace
}  // namespace resource_test
}  // namespace engine
}  // namespace mars
