// Memory in flight per peer (docu/replication.md "Memory per peer"): the
// tunable peer_inflight_bytes bounds the logfile and block bytes a host has
// asked of one peer and not yet written, and the answers a host holds for a
// peer per round. alpha is the primary of r0 with a real engine resource;
// beta fetches its logfile and syncs its data image over loopback.
#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/peer/node_test_util.h"
#include "core/peer/session.h"
#include "platform_user.h"

namespace mars {
namespace peer {
namespace {

namespace pt = platform::test;

// gamma (127.0.0.3): a client session of its own over a raw socket with a
// small receive buffer, authenticated to alpha on `port`. It reads only
// when the test says so, so alpha's sending blocks as soon as it stops.
class GammaClient {
 public:
  ~GammaClient() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  // Connects and completes the handshake (a fatal test failure if it
  // could not in 30 s). Connects again when alpha closes the connection
  // before the handshake is done, as a node's client does.
  void Open(uint16_t port) {
    ParseSecret();
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string why;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::seconds>(
          deadline - std::chrono::steady_clock::now());
      if (TryOpen(port, static_cast<int>(left.count()) + 1, &why)) return;
      Close();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "gamma could not open a session with alpha: " << why;
  }
  // One connection, no second one: a fatal test failure if alpha drops it
  // or the handshake does not complete in 30 s.
  void OpenOnce(uint16_t port) {
    ParseSecret();
    std::string why;
    if (!TryOpen(port, 30, &why)) FAIL() << "gamma's session: " << why;
  }
  Session& session() { return *session_; }
  // Asks for `count` consecutive pieces of `chunk` bytes of the logfile
  // `name` from its start, all in one write; false when that failed.
  bool AskForLogfile(const char* name, size_t count, uint32_t chunk) {
    for (size_t i = 0; i < count; ++i) {
      if (!session_->RequestLogfile(Slice::FromCString(name), i * chunk, chunk)
               .ok()) {
        return false;
      }
    }
    return Flush();
  }
  // Sends what the session has to send; false when the socket failed.
  bool Flush() {
    Bytes out;
    if (!session_->TakeOutput(&out).ok()) return false;
    return out.empty() || send(fd_, out.data(), out.size(), 0) ==
                              static_cast<ssize_t>(out.size());
  }
  // Feeds the session what the socket has (up to 4 KiB, waiting up to
  // 100 ms); false once alpha closed the connection.
  bool Receive() {
    uint8_t buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n > 0) {
      (void)session_->OnBytes(Slice(buffer, static_cast<size_t>(n)),
                              platform::MonotonicNs());
    }
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                               errno == EINTR));
  }

 private:
  void ParseSecret() {
    for (size_t i = 0; i < sizeof(secret_); ++i) {
      secret_[i] = static_cast<uint8_t>(
          std::stoi(std::string(kSecret + 2 * i, 2), nullptr, 16));
    }
  }
  // One connection and a handshake of up to `seconds`; false (with the
  // reason in *why) when it failed or alpha closed the connection first.
  bool TryOpen(uint16_t port, int seconds, std::string* why) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    sockaddr_in local = {};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(0x7f000003);
    sockaddr_in remote = {};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(port);
    remote.sin_addr.s_addr = htonl(0x7f000001);
    timeval timeout = {0, 100 * 1000};
    if (fd_ < 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) != 0 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) !=
            0 ||
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) !=
            0) {
      *why = std::string("socket: ") + strerror(errno);
      return false;
    }
    SessionConfig config;
    config.role = wire::Role::kClient;
    config.hello.features = wire::kFeaturePing | wire::kFeatureLogfileServe;
    config.hello.host_name = Slice::FromCString("gamma");
    config.hello.cluster_id =
        Slice::FromCString("0123456789abcdef0123456789abcdef");
    config.hello.module_version = Slice::FromCString("mars");
    config.secret = Slice(secret_, sizeof(secret_));
    config.nonce[0] = 7;
    config.ping_interval_ns = 1000 * kNsPerSecond;  // gamma pings nobody
    config.ping_timeout_ns = 1000 * kNsPerSecond;
    config.poll_interval_ns = 1000 * kNsPerSecond;
    session_.reset(new Session(config, &tree_, &clock_));
    if (!session_->Start(platform::MonotonicNs()).ok()) {
      *why = "session start";
      return false;
    }
    bool alive = true;
    WaitFor(
        [&] {
          alive = Flush() && Receive();
          return !alive || session_->open() || session_->closed();
        },
        seconds);
    if (session_->open()) return true;
    *why = !alive               ? "alpha closed the connection"
           : session_->closed() ? session_->status().message()
                                : "no handshake";
    return false;
  }

  int fd_ = -1;
  uint8_t secret_[32] = {};
  LamportClock clock_;
  tree::Tree tree_{clock_.Now()};
  std::unique_ptr<Session> session_;
};

// `node`'s report on `host` (connected or not).
PeerReport ReportOn(Host& node, const char* host) {
  PeerReport reports[4];
  const size_t n = node.node_.Peers(reports, 4);
  for (size_t i = 0; i < n && i < 4; ++i) {
    if (reports[i].host.slice() == Slice::FromCString(host)) {
      return reports[i];
    }
  }
  return PeerReport();
}

// As ResourcePairTest, and beta fetches alpha's logfiles of r0 too.
class InflightTest : public ResourcePairTest {
 protected:
  void SetUp() override {
    ResourcePairTest::SetUp();
    beta_.Put("resource-r0/todo-beta/connect", "1");
  }
  // beta's copy of alpha's logfile holds what alpha's does (every write was
  // FUA, so all of it is durable and served).
  bool LogFetched() {
    const std::string log = alpha_.ReadFile(kLog);
    return !log.empty() && beta_.ReadFile(kLog) == log;
  }
  PeerReport AlphaPeer(const char* host) { return ReportOn(alpha_, host); }
};

// With peer_inflight_bytes at 16 KiB (below the fetch chunk of 64 KiB and
// the digest block of 64 KiB) beta still fetches alpha's logfile and syncs
// every differing block, and never has more than 16 KiB asked of alpha and
// not yet written: the requests are cut to it and wait for room.
TEST_F(InflightTest, SmallTunableBoundsTheBytesInFlightAndStillCompletes) {
  constexpr uint64_t kLimit = 16u << 10;
  pt::SetTunableForTest(platform::Tunable::kPeerInflightBytes, kLimit);
  StartPrimary();
  // 1 MiB in the log, and the first 16 digest blocks of alpha's image
  // differ from beta's zeros.
  for (uint64_t b = 0; b < 256; ++b) ASSERT_TRUE(WriteOnAlpha(b, 1).ok());
  beta_resource_ = Attach(&beta_, beta_data_);
  StartBoth();

  const std::string size = std::to_string(kSize);
  ASSERT_TRUE(WaitFor([&] {
    return beta_.Get("resource-r0/syncstatus-beta") == size;
  })) << beta_.Get("resource-r0/syncstatus-beta");
  ASSERT_TRUE(WaitFor([&] { return LogFetched(); }))
      << beta_.ReadFile(kLog).size() << " of " << alpha_.ReadFile(kLog).size();
  const PeerReport report = beta_.Peer();
  ASSERT_TRUE(report.connected);
  EXPECT_GT(report.inflight_bytes_max, 0u);
  EXPECT_LE(report.inflight_bytes_max, kLimit);
  // The requests were cut to the tunable: at least one per 16 KiB.
  const uint64_t log_size = alpha_.ReadFile(kLog).size();
  EXPECT_GE(report.counters.logfile_requests_sent, log_size / kLimit);
  const uint64_t copied =
      platform::GetCounter(platform::Counter::kSyncBytesCopied);
  EXPECT_EQ(copied, 16u * (64u << 10));  // the 16 differing digest blocks
  EXPECT_GE(report.counters.sync_requests_sent, copied / kLimit);
  // Nothing is left in flight once everything is written.
  ASSERT_TRUE(WaitFor([&] { return beta_.Peer().inflight_bytes == 0; }))
      << beta_.Peer().inflight_bytes;

  // A new value counts for the next requests at once: with 1 MiB the next
  // megabyte of log travels in requests of 64 KiB (the fetch chunk), four
  // in flight.
  pt::SetTunableForTest(platform::Tunable::kPeerInflightBytes, 1u << 20);
  const uint64_t sent = beta_.Peer().counters.logfile_requests_sent;
  for (uint64_t b = 0; b < 256; ++b) ASSERT_TRUE(WriteOnAlpha(b * 4, 2).ok());
  ASSERT_TRUE(WaitFor([&] { return LogFetched(); }));
  const PeerReport after = beta_.Peer();
  EXPECT_GT(after.counters.logfile_requests_sent, sent);
  EXPECT_GT(after.inflight_bytes_max, kLimit);
  EXPECT_LE(after.inflight_bytes_max, 1u << 20);
}

// A peer that authenticates, asks for logfile bytes and then reads nothing
// (gamma, a raw socket with a tiny receive buffer): alpha holds at most one
// round of answers for it, and alpha's writes and beta's fetch go on.
TEST_F(InflightTest, PeerThatStopsReadingDoesNotGrowMemoryOrBlockWrites) {
  constexpr uint64_t kLimit = 64u << 10;
  pt::SetTunableForTest(platform::Tunable::kPeerInflightBytes, kLimit);
  alpha_.Put("ips/ip-gamma", "127.0.0.3");  // listed: alpha reports on it
  StartPrimary();
  for (uint64_t b = 0; b < 1024; ++b) ASSERT_TRUE(WriteOnAlpha(b, 1).ok());
  beta_resource_ = Attach(&beta_, beta_data_);
  StartBoth();
  ASSERT_TRUE(WaitFor([&] { return LogFetched(); }));

  GammaClient gamma_client;
  gamma_client.Open(port_);
  if (HasFatalFailure()) return;
  Session& gamma = gamma_client.session();
  // Every request the protocol allows, each for a megabyte; then gamma
  // reads nothing more.
  for (size_t i = 0; i < kMaxLogfileRequests; ++i) {
    ASSERT_TRUE(
        gamma.RequestLogfile(Slice::FromCString(kLog), 0, 1u << 20).ok());
  }
  ASSERT_TRUE(gamma_client.Flush());
  ASSERT_TRUE(WaitFor([&] {
    const PeerReport r = AlphaPeer("gamma");
    return r.connected && r.counters.logfile_requests_served > 0;
  }));

  // alpha goes on writing, beta goes on fetching, while gamma is stuck.
  for (uint64_t b = 0; b < 256; ++b) ASSERT_TRUE(WriteOnAlpha(b, 2).ok());
  const PeerReport stuck = AlphaPeer("gamma");
  ASSERT_TRUE(WaitFor([&] { return LogFetched(); }))
      << beta_.ReadFile(kLog).size() << " of " << alpha_.ReadFile(kLog).size();
  ASSERT_TRUE(stuck.connected);
  // Not every answer was sent: alpha's connection thread waits in its send.
  EXPECT_LT(stuck.counters.logfile_requests_served, kMaxLogfileRequests);
  // At most one round of answers (one request of 1 MiB: the first is
  // always taken) and the small frames of the tree exchange.
  EXPECT_GT(stuck.output_bytes_max, 1u << 20);
  EXPECT_LE(stuck.output_bytes_max, wire::kMaxPayloadSize + (64u << 10));
  gamma_client.Close();
  ASSERT_TRUE(WaitFor([&] { return !AlphaPeer("gamma").connected; }));
}

// A serving round holds at most 1 MiB of answers (Connection::
// kServeRoundBytes) whatever the tunable allows: gamma asks for 8 x 512 KiB
// at once and reads nothing; with the default peer_inflight_bytes (5 MiB)
// alpha would have read and queued all 4 MiB in one round before
// 2026-12-05.
TEST_F(InflightTest, ServingRoundsHoldAtMostOneMebibyteOfAnswers) {
  alpha_.Put("ips/ip-gamma", "127.0.0.3");  // listed: alpha reports on it
  StartPrimary();
  for (uint64_t b = 0; b < 1024 + 128; ++b) {
    ASSERT_TRUE(
        WriteOnAlpha(b % 1024, 1 + static_cast<uint32_t>(b / 1024)).ok());
  }
  constexpr uint32_t kChunk = 512u << 10;
  ASSERT_GE(alpha_.ReadFile(kLog).size(), kMaxLogfileRequests * kChunk);
  StartBoth();
  GammaClient gamma_client;
  gamma_client.Open(port_);
  if (HasFatalFailure()) return;
  ASSERT_TRUE(gamma_client.AskForLogfile(kLog, kMaxLogfileRequests, kChunk));
  ASSERT_TRUE(WaitFor([&] {
    const PeerReport r = AlphaPeer("gamma");
    return r.connected && r.counters.logfile_requests_served > 0;
  }));
  // However much of it the socket took (gamma's receive window is tiny,
  // alpha's send buffer may hold a few rounds), each round held 2 answers.
  const PeerReport report = AlphaPeer("gamma");
  EXPECT_GE(report.output_bytes_max, kChunk);
  EXPECT_LE(report.output_bytes_max, (1u << 20) + (64u << 10));
  gamma_client.Close();
  ASSERT_TRUE(WaitFor([&] { return !AlphaPeer("gamma").connected; }));
}

// A node reads the cluster secret before it listens (Node::Start): a peer
// that connects the moment the node started is answered. The accept loop
// drops connections while the node has no secret; when the tree thread
// read it first, a peer connecting before that thread's first pass was
// dropped (2 of 30 runs of ServingRoundOpensALogfileOnceForAllItsRequests
// under CPU load).
TEST_F(ResourcePairTest, PeerConnectingRightAfterTheStartIsAnswered) {
  alpha_.Put("ips/ip-gamma", "127.0.0.3");
  StartBoth();
  GammaClient gamma_client;
  gamma_client.OpenOnce(port_);
}

// A serving round reads all of its requests for one logfile through one
// open of the file (Node::DoFetchIo), not one per request: gamma asks for
// 8 x 64 KiB of alpha's logfile in one write, which arrives as one and
// fits one round (512 KiB of answers, Connection::kServeRoundBytes is
// 1 MiB). beta fetches nothing (no todo-beta/connect), so only gamma's
// requests open the logfile meanwhile.
TEST_F(ResourcePairTest, ServingRoundOpensALogfileOnceForAllItsRequests) {
  alpha_.Put("ips/ip-gamma", "127.0.0.3");  // listed: alpha reports on it
  StartPrimary();
  constexpr uint32_t kChunk = 64u << 10;
  constexpr size_t kRequests = 8;
  for (uint64_t b = 0; b < 160; ++b) ASSERT_TRUE(WriteOnAlpha(b, 1).ok());
  ASSERT_GE(alpha_.ReadFile(kLog).size(), kRequests * kChunk);
  StartBoth();
  GammaClient gamma_client;
  gamma_client.Open(port_);
  if (HasFatalFailure()) return;
  const std::string log_path = alpha_.root_ + "/" + kLog;
  const uint64_t opens_before = pt::FileOpensForTest(log_path.c_str());
  ASSERT_TRUE(gamma_client.AskForLogfile(kLog, kRequests, kChunk));
  auto served = [&] {
    return ReportOn(alpha_, "gamma").counters.logfile_requests_served;
  };
  ASSERT_TRUE(WaitFor([&] { return served() >= kRequests; })) << served();
  EXPECT_EQ(pt::FileOpensForTest(log_path.c_str()) - opens_before, 1u);
  gamma_client.Close();
}

}  // namespace
}  // namespace peer
}  // namespace mars
