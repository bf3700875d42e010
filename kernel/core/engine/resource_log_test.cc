// The primary's logfiles (resource_test_util.h): rotation by size and on
// request with version links, a log that fails, and the durable ends the
// write path registers for fetch.
#include "core/engine/resource_test_util.h"

namespace mars {
namespace engine {
namespace resource_test {
namespace {

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
  EXPECT_EQ(VerifiedRecords(ReadFile(log_path)), 10);
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

}  // namespace
}  // namespace resource_test
}  // namespace engine
}  // namespace mars
