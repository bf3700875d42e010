// Test helpers for Node: a host with its /mars directory and node in one
// process, reached over a loopback address; two of them (TwoNodeTest), and
// the two with real engine resources of one resource (ResourcePairTest).
#ifndef MARS_CORE_PEER_NODE_TEST_UTIL_H_
#define MARS_CORE_PEER_NODE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>

#include "core/engine/data_access.h"
#include "core/engine/log_durability.h"
#include "core/engine/resource.h"
#include "core/peer/ip_address.h"
#include "core/peer/node.h"
#include "core/platform_io.h"
#include "core/tree/version_link.h"
#include "platform_user.h"

namespace mars {
namespace peer {

inline constexpr char kSecret[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
inline constexpr char kOtherSecret[] =
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

// Polls `condition` until it holds or `seconds` pass.
inline bool WaitFor(const std::function<bool()>& condition, int seconds = 30) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

class Host {
 public:
  Host(const std::string& name, const std::string& ip) : name_(name), ip_(ip) {
    char pattern[] = "/tmp/mars-node-XXXXXX";
    EXPECT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    EXPECT_TRUE(durability_.Init(platform::Gfp::kKernel).ok());
    EXPECT_TRUE(access_.Init(platform::Gfp::kKernel).ok());
  }
  ~Host() {
    node_.Stop();
    EXPECT_EQ(system(("rm -rf " + root_).c_str()), 0);
  }
  void Put(const std::string& rel, const std::string& value) {
    for (size_t i = rel.find('/'); i != std::string::npos;
         i = rel.find('/', i + 1)) {
      ASSERT_TRUE(
          platform::MakeDirectory((root_ + "/" + rel.substr(0, i)).c_str())
              .ok());
    }
    ASSERT_TRUE(platform::WriteLink((root_ + "/" + rel).c_str(), value.data(),
                                    value.size(), clock_.Now())
                    .ok());
  }
  std::string Get(const std::string& rel) {
    char value[4096];
    size_t size = 0;
    uint64_t stamp = 0;
    if (!platform::ReadLink((root_ + "/" + rel).c_str(), value, sizeof(value),
                            &size, &stamp)
             .ok()) {
      return "<none>";
    }
    return std::string(value, size);
  }
  void WriteSecret(const char* hex) {
    std::ofstream(root_ + "/secret") << hex << "\n";
  }
  Status Start(uint16_t port) {
    NodeConfig config;
    config.root = root_.c_str();
    config.host = Slice(name_.data(), name_.size());
    EXPECT_TRUE(
        ParseIpAddress(Slice(ip_.data(), ip_.size()), &config.listen).ok());
    config.port = port;
    config.clock = &clock_;
    config.scan_interval_ns = kNsPerSecond / 10;
    config.reconnect_min_ns = kNsPerSecond / 20;
    config.reconnect_max_ns = kNsPerSecond / 2;
    config.poll_interval_ns = kNsPerSecond / 10;
    config.durability = &durability_;
    config.data_access = &access_;
    config.fetch_chunk_bytes = 64u << 10;
    config.fetch_poll_ns = kNsPerSecond / 20;
    if (configure) configure(&config);
    return node_.Start(config);
  }
  // Changes what Start() passes to the node (other timers, sync windows).
  std::function<void(NodeConfig*)> configure;
  PeerReport Peer() {
    PeerReport report;
    return node_.Peers(&report, 1) == 1 ? report : PeerReport();
  }

  // The regular file root/rel: written whole, or read ("" when absent).
  void WriteFile(const std::string& rel, const std::string& bytes) {
    std::ofstream(root_ + "/" + rel, std::ios::binary | std::ios::trunc)
        << bytes;
  }
  void AppendFile(const std::string& rel, const std::string& bytes) {
    std::ofstream(root_ + "/" + rel, std::ios::binary | std::ios::app) << bytes;
  }
  std::string ReadFile(const std::string& rel) {
    std::ifstream in(root_ + "/" + rel, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }

  engine::LogDurability durability_;
  engine::DataAccess access_;
  Node node_;
  LamportClock clock_;
  std::string name_, ip_, root_;
};

// alpha (127.0.0.1) with a cluster, beta (127.0.0.2) after `marsadm
// join-cluster alpha 127.0.0.1`, both with the same secret.
class TwoNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alpha_.WriteSecret(kSecret);
    alpha_.Put("uuid", "0123456789abcdef0123456789abcdef");
    alpha_.Put("ips/ip-alpha", "127.0.0.1");
    // beta after `marsadm join-cluster alpha 127.0.0.1`.
    beta_.WriteSecret(kSecret);
    beta_.Put("ips/ip-beta", "127.0.0.2");
    beta_.Put("ips/ip-alpha", "127.0.0.1");
  }
  // Starts both on one port that is free on both addresses.
  void StartBoth() {
    for (uint16_t port = 17000 + static_cast<uint16_t>(getpid() % 2000);
         port_ == 0; ++port) {
      if (!alpha_.Start(port).ok()) continue;
      if (!beta_.Start(port).ok()) {
        alpha_.node_.Stop();
        continue;
      }
      port_ = port;
    }
  }

  Host alpha_{"alpha", "127.0.0.1"};
  Host beta_{"beta", "127.0.0.2"};
  uint16_t port_ = 0;
};

// The value of version link number `number` of a logfile of `origin` that
// is `length` bytes long, the first of its chain.
inline std::string VersionLinkText(uint32_t number, const char* origin,
                                   uint64_t length) {
  tree::LogfileName log;
  log.number = number;
  EXPECT_TRUE(log.host.Assign(Slice::FromCString(origin)).ok());
  tree::VersionLink link;
  EXPECT_TRUE(tree::MakeVersionLink(nullptr, log, length, &link).ok());
  Bytes text;
  EXPECT_TRUE(tree::AppendVersionLink(link, &text).ok());
  return std::string(reinterpret_cast<const char*>(text.data()), text.size());
}

// The contents of 4 KiB block `block` in version `version` of a test image.
inline std::string TestBlock(uint64_t block, uint32_t version) {
  std::string data(4096, '\0');
  uint64_t x = block * 1000003 + version * 7919 + 1;
  for (size_t i = 0; i < data.size(); ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    data[i] = static_cast<char>(x >> 56);
  }
  return data;
}

// Resource r0 of kSize bytes with real engine resources, as create-resource
// on alpha and join-resource on beta leave it: alpha its designated primary
// with its data image, beta a member that syncs its image from alpha's
// (todo-beta/sync 1, syncstatus-beta 0). Both images are zeros at first;
// nothing is attached until a test says so. Counters are reset before and
// tunables after each test.
class ResourcePairTest : public TwoNodeTest {
 protected:
  static constexpr uint64_t kSize = 4u << 20;  // 64 digest blocks of 64 KiB
  static constexpr size_t kBlock = 4096;
  static constexpr char kLog[] = "resource-r0/log-000000001-alpha";

  void SetUp() override {
    TwoNodeTest::SetUp();
    platform::test::ResetCountersForTest();
    alpha_data_ = alpha_.root_ + "/data.img";
    beta_data_ = beta_.root_ + "/data.img";
    for (const std::string* path : {&alpha_data_, &beta_data_}) {
      std::ofstream(*path).close();
      ASSERT_EQ(truncate(path->c_str(), kSize), 0);
    }
    const std::string size = std::to_string(kSize);
    alpha_.Put("resource-r0/size", size);
    alpha_.Put("resource-r0/primary", "alpha");
    alpha_.Put("resource-r0/data-alpha", alpha_data_);
    alpha_.Put("resource-r0/syncstatus-alpha", size);
    alpha_.Put("resource-r0/replay-alpha", "log-000000001-alpha,0,0");
    alpha_.WriteFile(kLog, "");
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
    platform::test::ResetTunablesForTest();
  }

  // Creates r0 on `host` with the image `data` and attaches it.
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
  // alpha attached (if it is not yet) and the actual primary of r0.
  void StartPrimary() {
    if (alpha_resource_ == nullptr) {
      alpha_resource_ = Attach(&alpha_, alpha_data_);
    }
    engine::ErrorText why;
    ASSERT_TRUE(
        engine::kResourceHooks.start_primary(alpha_resource_, "r0", &why).ok())
        << why.text;
  }
  // A FUA write of TestBlock(block, version) to alpha's r0 device.
  Status WriteOnAlpha(uint64_t block, uint32_t version) {
    std::string data = TestBlock(block, version);
    return platform::test::SubmitToFrontDisk(
        "r0", platform::FrontOp::kWrite, platform::kFrontFua, block * kBlock,
        &data[0], data.size());
  }
  // Every write on alpha is on its data image (none is buffered).
  static bool WrittenBack() {
    return platform::GetCounter(platform::Counter::kBytesBuffered) == 0;
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

  std::string alpha_data_, beta_data_;
  void* alpha_resource_ = nullptr;
  void* beta_resource_ = nullptr;
};

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_NODE_TEST_UTIL_H_
