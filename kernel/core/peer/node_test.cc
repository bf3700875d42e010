// Tests of Node: two hosts in one process, each with its /mars directory,
// over loopback TCP (127.0.0.1 and 127.0.0.2), replicating the tree.
#include "core/peer/node.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "core/peer/ip_address.h"
#include "core/platform_io.h"
#include "platform_user.h"

namespace mars {
namespace peer {
namespace {

constexpr char kSecret[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr char kOtherSecret[] =
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

// Polls `condition` until it holds or `seconds` pass.
bool WaitFor(const std::function<bool()>& condition, int seconds = 30) {
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
    EXPECT_TRUE(ParseIpAddress(Slice(ip_.data(), ip_.size()), &config.listen)
                    .ok());
    config.port = port;
    config.clock = &clock_;
    config.scan_interval_ns = kNsPerSecond / 10;
    config.reconnect_min_ns = kNsPerSecond / 20;
    config.reconnect_max_ns = kNsPerSecond / 2;
    config.poll_interval_ns = kNsPerSecond / 10;
    return node_.Start(config);
  }
  PeerReport Peer() {
    PeerReport report;
    return node_.Peers(&report, 1) == 1 ? report : PeerReport();
  }

  Node node_;
  LamportClock clock_;
  std::string name_, ip_, root_;
};

class NodeTest : public ::testing::Test {
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

TEST_F(NodeTest, JoiningHostPullsTheTreeAndBothFollowChanges) {
  StartBoth();
  ASSERT_TRUE(WaitFor([&] {
    return beta_.Get("uuid") == "0123456789abcdef0123456789abcdef";
  })) << beta_.Peer().last_error;
  ASSERT_TRUE(WaitFor([&] { return alpha_.Get("ips/ip-beta") == "127.0.0.2"; }))
      << alpha_.Peer().last_error;
  ASSERT_TRUE(WaitFor([&] { return alpha_.Peer().connected; }));

  // A change on either side reaches the other.
  alpha_.Put("resource-r0/size", "1048576");
  alpha_.node_.Kick();
  ASSERT_TRUE(
      WaitFor([&] { return beta_.Get("resource-r0/size") == "1048576"; }));
  beta_.Put("resource-r0/data-beta", "/dev/vdb");
  beta_.Put("resource-r0/size", ".deleted");
  beta_.node_.Kick();
  ASSERT_TRUE(WaitFor([&] {
    return alpha_.Get("resource-r0/data-beta") == "/dev/vdb" &&
           alpha_.Get("resource-r0/size") == ".deleted";
  }));

  // An idle cluster exchanges no entries: once alpha's relay of beta's
  // changes has come back (a few polls), the polls carry nothing.
  auto polls_later = [&](uint64_t polls) {
    const uint64_t requests = beta_.Peer().counters.tree_requests_sent;
    return WaitFor([&] {
      return beta_.Peer().counters.tree_requests_sent >= requests + polls;
    });
  };
  ASSERT_TRUE(polls_later(3));
  const uint64_t received = beta_.Peer().counters.entries_received;
  ASSERT_TRUE(polls_later(5));
  EXPECT_EQ(beta_.Peer().counters.entries_received, received);
}

TEST_F(NodeTest, RestartedPeerIsReconnected) {
  StartBoth();
  ASSERT_TRUE(WaitFor([&] { return beta_.Peer().connected; }));
  alpha_.node_.Stop();
  ASSERT_TRUE(WaitFor([&] { return !beta_.Peer().connected; }));
  beta_.Put("resource-r1/size", "4096");
  ASSERT_TRUE(alpha_.Start(port_).ok());
  ASSERT_TRUE(WaitFor([&] { return alpha_.Get("resource-r1/size") == "4096"; }))
      << alpha_.Peer().last_error;
}

TEST_F(NodeTest, WrongSecretGetsNothing) {
  beta_.WriteSecret(kOtherSecret);
  alpha_.Put("ips/ip-beta", "127.0.0.2");  // both sides try
  StartBoth();
  // Both sides try and fail authentication, repeatedly.
  ASSERT_TRUE(WaitFor([&] {
    return beta_.Peer().attempts >= 2 && alpha_.Peer().attempts >= 2;
  })) << beta_.Peer().last_error;
  EXPECT_FALSE(beta_.Peer().connected);
  EXPECT_FALSE(alpha_.Peer().connected);
  EXPECT_EQ(beta_.Get("uuid"), "<none>");
  EXPECT_EQ(beta_.Get("resource-r0/size"), "<none>");
  EXPECT_NE(std::string(beta_.Peer().last_error), "");
}

// What the leak checks rely on: every allocation the node makes for a
// growing tree is counted in peer_allocations, so allocations minus
// peer_allocations does not move while /mars grows and shrinks.
TEST_F(NodeTest, PeerAllocationsAccountForTheGrowingTree) {
  ASSERT_TRUE(alpha_.Start(0).ok());
  auto stable_difference = [] {
    // Two equal samples: no scan pass between the two reads.
    for (;;) {
      const int64_t a = platform::test::LiveAllocations() -
                        static_cast<int64_t>(platform::GetCounter(
                            platform::Counter::kPeerAllocations));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      const int64_t b = platform::test::LiveAllocations() -
                        static_cast<int64_t>(platform::GetCounter(
                            platform::Counter::kPeerAllocations));
      if (a == b) return a;
    }
  };
  auto entries = [] {
    return platform::GetCounter(platform::Counter::kTreeEntries);
  };
  ASSERT_TRUE(WaitFor([&] { return entries() == 2; }));  // uuid, ips/ip-alpha
  const int64_t before = stable_difference();
  for (int i = 0; i < 40; ++i) {
    alpha_.Put("resource-r" + std::to_string(i % 4) + "/key" +
                   std::to_string(i),
               std::string(100 + i, 'x'));
  }
  alpha_.node_.Kick();
  ASSERT_TRUE(WaitFor([&] { return entries() == 42; }));
  EXPECT_EQ(stable_difference(), before);
  // Two passes after the deletions below: the first may have started
  // before them.
  auto two_passes_later = [&] {
    const uint64_t passes = alpha_.node_.tree_passes();
    return WaitFor([&] { return alpha_.node_.tree_passes() >= passes + 2; });
  };
  for (int i = 0; i < 40; i += 2) {
    alpha_.Put("resource-r" + std::to_string(i % 4) + "/key" +
                   std::to_string(i),
               ".deleted");
  }
  alpha_.node_.Kick();
  ASSERT_TRUE(two_passes_later());
  EXPECT_EQ(entries(), 42u);
  EXPECT_EQ(stable_difference(), before);
  alpha_.node_.Stop();
  EXPECT_EQ(platform::GetCounter(platform::Counter::kPeerAllocations), 0u);
}

}  // namespace
}  // namespace peer
}  // namespace mars
