// Block sync between two nodes in one process (docu/replication.md §6):
// alpha is the primary of r0 with a real engine resource; beta, a secondary
// after `marsadm join-resource` (syncstatus-beta 0), syncs its data image
// from alpha's over loopback.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/engine/resource.h"
#include "core/peer/node_test_util.h"
#include "platform_user.h"

namespace mars {
namespace peer {
namespace {

namespace pt = platform::test;

constexpr uint64_t kSize = 4u << 20;  // 64 digest blocks of 64 KiB
constexpr uint64_t kDigestBlock = 64u << 10;
constexpr size_t kBlock = 4096;

std::string Block(uint64_t block, uint32_t version) {
  std::string data(kBlock, '\0');
  uint64_t x = block * 1000003 + version * 7919 + 1;
  for (size_t i = 0; i < data.size(); ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    data[i] = static_cast<char>(x >> 56);
  }
  return data;
}

class SyncTest : public TwoNodeTest {
 protected:
  void SetUp() override {
    TwoNodeTest::SetUp();
    pt::ResetCountersForTest();
    alpha_data_ = alpha_.root_ + "/data.img";
    beta_data_ = beta_.root_ + "/data.img";
    for (const std::string* path : {&alpha_data_, &beta_data_}) {
      std::ofstream(*path).close();
      ASSERT_EQ(truncate(path->c_str(), kSize), 0);
    }
    // As create-resource on alpha and join-resource on beta leave it.
    const std::string size = std::to_string(kSize);
    alpha_.Put("resource-r0/size", size);
    alpha_.Put("resource-r0/primary", "alpha");
    alpha_.Put("resource-r0/data-alpha", alpha_data_);
    alpha_.Put("resource-r0/syncstatus-alpha", size);
    alpha_.Put("resource-r0/replay-alpha", "log-000000001-alpha,0,0");
    alpha_.WriteFile("resource-r0/log-000000001-alpha", "");
    beta_.Put("resource-r0/size", size);
    beta_.Put("resource-r0/data-beta", beta_data_);
    beta_.Put("resource-r0/todo-beta/sync", "1");
    beta_.Put("resource-r0/syncstatus-beta", "0");
    beta_.Put("resource-r0/replay-beta", "log-000000001-alpha,0,0");
  }
  void TearDown() override {
    alpha_.node_.Stop();
    beta_.node_.Stop();
    for (void* r : {alpha_resource_, beta_resource_}) {
      if (r == nullptr) continue;
      engine::ErrorText why;
      EXPECT_TRUE(engine::kResourceHooks.detach(r, &why).ok()) << why.text;
      engine::kResourceHooks.destroy(r);
    }
  }

  void* Attach(Host* host, const std::string& data) {
    engine::ResourceSettings settings;
    settings.root = host->root_.c_str();
    settings.name = "r0";
    settings.host = host->name_.c_str();
    settings.data_path = data.c_str();
    settings.size_bytes = kSize;
    settings.clock = &host->clock_;
    settings.durability = &host->durability_;
    settings.data_access = &host->access_;
    void* resource = nullptr;
    EXPECT_TRUE(engine::kResourceHooks.create(settings, &resource).ok());
    engine::ErrorText why;
    EXPECT_TRUE(engine::kResourceHooks.attach(resource, &why).ok()) << why.text;
    return resource;
  }
  void StartPrimary() {
    engine::ErrorText why;
    ASSERT_TRUE(
        engine::kResourceHooks.start_primary(alpha_resource_, "r0", &why).ok())
        << why.text;
  }
  void WriteOnAlpha(uint64_t block, uint32_t version) {
    std::string data = Block(block, version);
    ASSERT_TRUE(pt::SubmitToFrontDisk("r0", platform::FrontOp::kWrite,
                                      platform::kFrontFua, block * kBlock,
                                      &data[0], data.size())
                    .ok());
  }
  static std::string ReadImage(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }
  static void WriteImageBlock(const std::string& path, uint64_t block,
                              const std::string& data) {
    std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(block * kBlock));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  bool WrittenBack() {
    return platform::GetCounter(platform::Counter::kBytesBuffered) == 0;
  }

  std::string alpha_data_, beta_data_;
  void* alpha_resource_ = nullptr;
  void* beta_resource_ = nullptr;
};

// beta's image equals alpha's but in three digest blocks: exactly those
// are copied; the replica then equals alpha's data, syncstatus-beta
// reaches the size and syncpos-beta records alpha's log end.
TEST_F(SyncTest, CopiesOnlyTheBlocksThatDiffer) {
  alpha_resource_ = Attach(&alpha_, alpha_data_);
  StartPrimary();
  for (uint64_t b = 0; b < kSize / kBlock; b += 3) WriteOnAlpha(b, 1);
  ASSERT_TRUE(WaitFor([&] { return WrittenBack(); }));
  std::ofstream(beta_data_, std::ios::binary | std::ios::trunc)
      << ReadImage(alpha_data_);
  const std::vector<uint64_t> changed = {5, 300, kSize / kBlock - 1};
  for (uint64_t b : changed) WriteImageBlock(beta_data_, b, Block(b, 9));
  beta_resource_ = Attach(&beta_, beta_data_);
  StartBoth();

  const std::string size = std::to_string(kSize);
  ASSERT_TRUE(WaitFor([&] {
    return beta_.Get("resource-r0/syncstatus-beta") == size;
  })) << beta_.Get("resource-r0/syncstatus-beta");
  EXPECT_EQ(ReadImage(beta_data_), ReadImage(alpha_data_));
  EXPECT_EQ(platform::GetCounter(platform::Counter::kSyncBytesCompared), kSize);
  EXPECT_EQ(platform::GetCounter(platform::Counter::kSyncBytesCopied),
            changed.size() * kDigestBlock);
  const uint64_t log_end =
      ReadImage(alpha_.root_ + "/resource-r0/log-000000001-alpha").size();
  EXPECT_EQ(beta_.Get("resource-r0/syncpos-beta"),
            "log-000000001-alpha," + std::to_string(log_end) + ",0");
  // Published on both hosts: is-syncing is back to 0 once done.
  ASSERT_TRUE(WaitFor([&] {
    return alpha_.Get("resource-r0/syncstatus-beta") == size &&
           beta_.Get("resource-r0/actual-beta/is-syncing") == "0";
  }));
}

// While alpha is attached but not primary it serves no sync (no bound is
// known): beta waits and says it is syncing. Once alpha is primary and
// writes during the sync, the sync finishes and its bound covers them.
TEST_F(SyncTest, WaitsForAnActualPrimaryAndBoundsConcurrentWrites) {
  alpha_resource_ = Attach(&alpha_, alpha_data_);
  WriteImageBlock(alpha_data_, 17, Block(17, 1));
  beta_resource_ = Attach(&beta_, beta_data_);
  StartBoth();
  ASSERT_TRUE(WaitFor(
      [&] { return beta_.Get("resource-r0/actual-beta/is-syncing") == "1"; }));
  ASSERT_TRUE(WaitFor([&] { return beta_.Peer().connected; }));
  // A few scan passes later nothing was synced.
  const uint64_t passes = beta_.node_.tree_passes();
  ASSERT_TRUE(WaitFor([&] { return beta_.node_.tree_passes() >= passes + 5; }));
  EXPECT_EQ(beta_.Get("resource-r0/syncstatus-beta"), "0");
  EXPECT_EQ(platform::GetCounter(platform::Counter::kSyncBytesCopied), 0u);

  StartPrimary();
  for (uint64_t b = 0; b < kSize / kBlock; b += 64) WriteOnAlpha(b, 2);
  const std::string size = std::to_string(kSize);
  ASSERT_TRUE(WaitFor([&] {
    return beta_.Get("resource-r0/syncstatus-beta") == size;
  })) << beta_.Get("resource-r0/syncstatus-beta");
  // Every byte beta holds is alpha's as of a log position up to syncpos.
  tree::ReplayLink syncpos;
  const std::string text = beta_.Get("resource-r0/syncpos-beta");
  ASSERT_TRUE(
      tree::ParseReplayLink(Slice(text.data(), text.size()), &syncpos).ok())
      << text;
  EXPECT_EQ(syncpos.log.host.slice(), Slice::FromCString("alpha"));
  EXPECT_GE(syncpos.log.number, 1u);
  const std::string image = ReadImage(beta_data_);
  EXPECT_EQ(image.substr(17 * kBlock, kBlock), Block(17, 1));
}

// A local device that fails the sync's writes: msg-err-sync says so (also
// on alpha, as the tree travels), the window is tried again, and once the
// device works the sync finishes and the message goes.
TEST_F(SyncTest, DeviceErrorsAreReportedAndRetried) {
  alpha_resource_ = Attach(&alpha_, alpha_data_);
  StartPrimary();
  for (uint64_t b = 0; b < 64; ++b) WriteOnAlpha(b, 3);
  ASSERT_TRUE(WaitFor([&] { return WrittenBack(); }));
  beta_resource_ = Attach(&beta_, beta_data_);
  pt::FailBlockDeviceOpsForTest(beta_data_.c_str(),
                                platform::BlockDevice::Op::kWrite, 2);
  StartBoth();
  const std::string msg = "resource-r0/actual-beta/msg-err-sync";
  ASSERT_TRUE(WaitFor([&] {
    return alpha_.Get(msg).find("sync cannot write the data device") !=
           std::string::npos;
  })) << beta_.Get(msg) << " syncstatus "
      << beta_.Get("resource-r0/syncstatus-beta");
  const std::string size = std::to_string(kSize);
  ASSERT_TRUE(WaitFor([&] {
    return beta_.Get("resource-r0/syncstatus-beta") == size;
  })) << beta_.Get(msg);
  auto gone = [&](Host& h) {
    return h.Get(msg) == "<none>" || h.Get(msg) == ".deleted";
  };
  ASSERT_TRUE(WaitFor([&] { return gone(beta_) && gone(alpha_); }));
  EXPECT_EQ(ReadImage(beta_data_), ReadImage(alpha_data_));
  pt::ResetBlockDeviceForTest(beta_data_.c_str());
}

}  // namespace
}  // namespace peer
}  // namespace mars
