// Test helpers for Node: a host with its /mars directory and node in one
// process, reached over a loopback address.
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
#include "core/peer/ip_address.h"
#include "core/peer/node.h"
#include "core/platform_io.h"

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
    return node_.Start(config);
  }
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

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_NODE_TEST_UTIL_H_
