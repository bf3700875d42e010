// Tests of the platform's TCP sockets (core/platform_net.h) on the userspace
// platform, over loopback only: 127.0.0.1 and, when it can be bound, ::1.
#include "core/platform_net.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/base/errno_status.h"
#include "core/base/status.h"

namespace mars {
namespace platform {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kMs = 1000000ull;
constexpr uint64_t kSecond = 1000 * kMs;
// Generous: loaded CI machines and sanitizers.
constexpr uint64_t kLongTimeout = 60 * kSecond;
constexpr auto kWakeDeadline = std::chrono::seconds(10);

NetAddress Loopback(NetAddress::Family family, uint16_t port = 0) {
  NetAddress address;
  address.family = family;
  address.port = port;
  if (family == NetAddress::kIpv4) {
    const uint8_t ip[4] = {127, 0, 0, 1};
    memcpy(address.bytes, ip, sizeof(ip));
  } else {
    address.bytes[15] = 1;
  }
  return address;
}

// Whether ::1 can be bound here (containers may lack IPv6 loopback).
bool Ipv6LoopbackAvailable() {
  const int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  struct sockaddr_in6 sa = {};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  const bool ok =
      bind(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof(sa)) == 0;
  close(fd);
  return ok;
}

bool IsStatus(const Status& status, StatusCode code, const char* message) {
  return status.code() == code && strcmp(status.message(), message) == 0;
}

#define EXPECT_TIMED_OUT(expr) \
  EXPECT_PRED3(IsStatus, (expr), StatusCode::kUnavailable, "timed out")
#define EXPECT_SHUT_DOWN(expr) \
  EXPECT_PRED3(IsStatus, (expr), StatusCode::kUnavailable, "socket shut down")

// Whether thread `tid` of this process sleeps in ppoll(), where the POSIX
// platform waits for every socket.
bool BlockedInPoll(pid_t tid) {
  std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string number;
  file >> number;
  return number == std::to_string(SYS_ppoll);
}

// Waits (up to kWakeDeadline) until the thread whose id `tid` will publish
// sleeps in ppoll().
bool WaitUntilBlocked(const std::atomic<pid_t>& tid) {
  const auto deadline = Clock::now() + kWakeDeadline;
  while (Clock::now() < deadline) {
    const pid_t id = tid.load();
    if (id != 0 && BlockedInPoll(id)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

class PlatformNetTest : public ::testing::TestWithParam<NetAddress::Family> {
 protected:
  void SetUp() override {
    if (GetParam() == NetAddress::kIpv6 && !Ipv6LoopbackAvailable()) {
      GTEST_SKIP() << "::1 cannot be bound on this machine";
    }
  }

  NetAddress Address(uint16_t port = 0) const {
    return Loopback(GetParam(), port);
  }

  // Listens on loopback, any port; `*bound` gets the address.
  void ListenAny(Socket* listener, NetAddress* bound) {
    ASSERT_TRUE(listener->Listen(Address(), 16).ok());
    ASSERT_TRUE(listener->LocalAddress(bound).ok());
    ASSERT_EQ(bound->family, GetParam());
    ASSERT_NE(bound->port, 0);
  }

  // A connected pair through a fresh listener.
  void ConnectPair(Socket* client, Socket* server) {
    Socket listener;
    NetAddress bound;
    ASSERT_NO_FATAL_FAILURE(ListenAny(&listener, &bound));
    ASSERT_TRUE(client->Connect(bound, kLongTimeout).ok());
    ASSERT_TRUE(listener.Accept(server, nullptr, kLongTimeout).ok());
  }
};

TEST_P(PlatformNetTest, ListenConnectAcceptReportAddresses) {
  Socket listener;
  NetAddress bound;
  ASSERT_NO_FATAL_FAILURE(ListenAny(&listener, &bound));
  EXPECT_EQ(memcmp(bound.bytes, Address().bytes, 16), 0);

  Socket client;
  ASSERT_TRUE(client.Connect(bound, kLongTimeout).ok());
  EXPECT_TRUE(client.is_open());
  Socket server;
  NetAddress peer;
  ASSERT_TRUE(listener.Accept(&server, &peer, kLongTimeout).ok());
  EXPECT_TRUE(server.is_open());

  NetAddress client_local;
  ASSERT_TRUE(client.LocalAddress(&client_local).ok());
  EXPECT_EQ(peer.family, GetParam());
  EXPECT_EQ(memcmp(peer.bytes, Address().bytes, 16), 0);
  EXPECT_EQ(peer.port, client_local.port);
  NetAddress server_local;
  ASSERT_TRUE(server.LocalAddress(&server_local).ok());
  EXPECT_EQ(server_local.port, bound.port);

  // A few bytes each way.
  ASSERT_TRUE(client.SendAll("ping", 4, kLongTimeout).ok());
  char buffer[8];
  size_t done = 0;
  ASSERT_TRUE(server.Receive(buffer, sizeof(buffer), &done, kLongTimeout).ok());
  ASSERT_EQ(done, 4u);
  EXPECT_EQ(memcmp(buffer, "ping", 4), 0);
  ASSERT_TRUE(server.SendAll("pong", 4, kLongTimeout).ok());
  ASSERT_TRUE(client.Receive(buffer, sizeof(buffer), &done, kLongTimeout).ok());
  ASSERT_EQ(done, 4u);
  EXPECT_EQ(memcmp(buffer, "pong", 4), 0);
}

// A deterministic byte stream per seed (xorshift64*).
std::vector<uint8_t> Pattern(size_t size, uint64_t seed) {
  std::vector<uint8_t> bytes(size);
  uint64_t x = seed;
  for (size_t i = 0; i < size; i += 8) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    const uint64_t v = x * 0x2545F4914F6CDD1Dull;
    memcpy(&bytes[i], &v, size - i < 8 ? size - i : 8);
  }
  return bytes;
}

// Sends `data` as one huge SendAll and then in pieces of varying size.
Status SendPattern(Socket* socket, const std::vector<uint8_t>& data) {
  const size_t half = data.size() / 2;
  Status status = socket->SendAll(data.data(), half, kLongTimeout);
  size_t offset = half;
  size_t piece = 1;
  while (status.ok() && offset < data.size()) {
    const size_t n = std::min(piece, data.size() - offset);
    status = socket->SendAll(data.data() + offset, n, kLongTimeout);
    offset += n;
    piece = piece * 7 % 1000003 + 1;  // 1 B .. ~1 MB
  }
  return status;
}

// Receives exactly `out->size()` bytes with reads of varying size.
Status ReceiveExactly(Socket* socket, std::vector<uint8_t>* out) {
  size_t offset = 0;
  size_t want = 3;
  while (offset < out->size()) {
    const size_t n = std::min(want, out->size() - offset);
    size_t done = 0;
    const Status status =
        socket->Receive(out->data() + offset, n, &done, kLongTimeout);
    if (!status.ok()) return status;
    if (done == 0) return Status(StatusCode::kIoError, "stream ended early");
    offset += done;
    want = want * 5 % 2000003 + 1;  // 1 B .. ~2 MB
  }
  return Status::Ok();
}

TEST_P(PlatformNetTest, BulkTransferBothDirectionsAtOnce) {
  constexpr size_t kBytes = size_t{64} << 20;
  Socket a;
  Socket b;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&a, &b));
  const std::vector<uint8_t> a_to_b = Pattern(kBytes, 0x1234567);
  const std::vector<uint8_t> b_to_a = Pattern(kBytes, 0x89abcdef);
  std::vector<uint8_t> at_a(kBytes);
  std::vector<uint8_t> at_b(kBytes);
  Status sent_a, sent_b, received_a, received_b;
  // A sender and a receiver on each socket, all four at once.
  std::thread send_a([&] { sent_a = SendPattern(&a, a_to_b); });
  std::thread send_b([&] { sent_b = SendPattern(&b, b_to_a); });
  std::thread receive_a([&] { received_a = ReceiveExactly(&a, &at_a); });
  std::thread receive_b([&] { received_b = ReceiveExactly(&b, &at_b); });
  send_a.join();
  send_b.join();
  receive_a.join();
  receive_b.join();
  EXPECT_TRUE(sent_a.ok()) << sent_a.message();
  EXPECT_TRUE(sent_b.ok()) << sent_b.message();
  ASSERT_TRUE(received_a.ok()) << received_a.message();
  ASSERT_TRUE(received_b.ok()) << received_b.message();
  EXPECT_TRUE(at_a == b_to_a);
  EXPECT_TRUE(at_b == a_to_b);

  // Nothing beyond: closing `a` is the end of b's stream.
  a.Close();
  uint8_t extra;
  size_t done = 1;
  ASSERT_TRUE(b.Receive(&extra, 1, &done, kLongTimeout).ok());
  EXPECT_EQ(done, 0u);
}

// A gathered send of 40 pieces (more than one system call takes), empty
// ones among them and some larger than the socket buffers (so sendmsg
// returns in the middle of a piece), arrives as one stream in order.
TEST_P(PlatformNetTest, GatheredSendArrivesInOrderAcrossPartialSends) {
  constexpr size_t kBytes = size_t{24} << 20;
  Socket a;
  Socket b;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&a, &b));
  const std::vector<uint8_t> data = Pattern(kBytes, 0x5eed);
  std::vector<SendPiece> pieces;
  size_t offset = 0;
  for (size_t i = 0; offset < kBytes; ++i) {
    size_t size = i % 5 == 0   ? 0
                  : i % 7 == 0 ? size_t{3} << 20
                  : i % 3 == 0 ? 1
                               : (i * 40503) % 300000;
    if (i == 39 || size > kBytes - offset) size = kBytes - offset;
    pieces.push_back(SendPiece{data.data() + offset, size});
    offset += size;
  }
  ASSERT_GE(pieces.size(), 40u);
  std::vector<uint8_t> got(kBytes);
  Status sent;
  Status received;
  std::thread sender(
      [&] { sent = a.SendAll(pieces.data(), pieces.size(), kLongTimeout); });
  std::thread receiver([&] { received = ReceiveExactly(&b, &got); });
  sender.join();
  receiver.join();
  ASSERT_TRUE(sent.ok()) << sent.message();
  ASSERT_TRUE(received.ok()) << received.message();
  EXPECT_TRUE(got == data);
  // An empty gathered send sends nothing and succeeds.
  EXPECT_TRUE(a.SendAll(pieces.data(), 0, kLongTimeout).ok());
}

TEST_P(PlatformNetTest, ReceiveAfterPeerCloseGivesZero) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  ASSERT_TRUE(client.SendAll("bye", 3, kLongTimeout).ok());
  client.Close();
  char buffer[16];
  size_t done = 0;
  ASSERT_TRUE(server.Receive(buffer, sizeof(buffer), &done, kLongTimeout).ok());
  ASSERT_EQ(done, 3u);
  EXPECT_EQ(memcmp(buffer, "bye", 3), 0);
  // The end of the stream, and it stays the end.
  for (int i = 0; i < 2; ++i) {
    done = 1;
    ASSERT_TRUE(
        server.Receive(buffer, sizeof(buffer), &done, kLongTimeout).ok());
    EXPECT_EQ(done, 0u);
  }
}

TEST_P(PlatformNetTest, PeerShutdownEndsTheStream) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  client.Shutdown();
  char buffer[4];
  size_t done = 1;
  ASSERT_TRUE(server.Receive(buffer, sizeof(buffer), &done, kLongTimeout).ok());
  EXPECT_EQ(done, 0u);
}

TEST_P(PlatformNetTest, ReceiveTimesOut) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  char buffer[4];
  size_t done = 1;
  EXPECT_TIMED_OUT(server.Receive(buffer, sizeof(buffer), &done, 0));
  EXPECT_EQ(done, 0u);
  const auto start = Clock::now();
  EXPECT_TIMED_OUT(server.Receive(buffer, sizeof(buffer), &done, 50 * kMs));
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(50));
  // The connection is still usable.
  ASSERT_TRUE(client.SendAll("x", 1, kLongTimeout).ok());
  ASSERT_TRUE(server.Receive(buffer, sizeof(buffer), &done, kLongTimeout).ok());
  EXPECT_EQ(done, 1u);
}

TEST_P(PlatformNetTest, ReceiveOfNothingIsRefused) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  char buffer[1];
  size_t done = 1;
  EXPECT_EQ(server.Receive(buffer, 0, &done, kLongTimeout).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(done, 0u);
  EXPECT_TRUE(client.SendAll(buffer, 0, 0).ok());
}

// Sends 1 MiB pieces until a SendAll fails (the peer does not read, so
// the socket buffers fill up); gives up after 1 GiB, far more than any
// socket buffer limit.
Status SendUntilFailure(Socket* socket, uint64_t timeout_ns) {
  const std::vector<uint8_t> piece(size_t{1} << 20, 0x5a);
  for (int i = 0; i < 1024; ++i) {
    const Status status =
        socket->SendAll(piece.data(), piece.size(), timeout_ns);
    if (!status.ok()) return status;
  }
  return Status(StatusCode::kInternal, "1 GiB sent to a peer that never read");
}

TEST_P(PlatformNetTest, SendTimesOutWhenThePeerDoesNotRead) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  EXPECT_TIMED_OUT(SendUntilFailure(&client, 200 * kMs));
}

TEST_P(PlatformNetTest, AcceptTimesOut) {
  Socket listener;
  NetAddress bound;
  ASSERT_NO_FATAL_FAILURE(ListenAny(&listener, &bound));
  Socket server;
  EXPECT_TIMED_OUT(listener.Accept(&server, nullptr, 0));
  const auto start = Clock::now();
  EXPECT_TIMED_OUT(listener.Accept(&server, nullptr, 50 * kMs));
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_FALSE(server.is_open());
}

TEST_P(PlatformNetTest, ConnectToClosedPortIsRefusedAtOnce) {
  NetAddress closed;
  {
    Socket listener;
    ASSERT_NO_FATAL_FAILURE(ListenAny(&listener, &closed));
  }  // closed: nothing listens on the port any more
  Socket client;
  const auto start = Clock::now();
  const Status status = client.Connect(closed, kLongTimeout);
  EXPECT_PRED3(IsStatus, status, StatusCode::kIoError,
               StatusFromErrno(ECONNREFUSED).message());
  EXPECT_LT(Clock::now() - start, kWakeDeadline);
  EXPECT_FALSE(client.is_open());
}

TEST_P(PlatformNetTest, ConnectTimesOutWhenTheBacklogIsFull) {
  // Linux drops SYNs to a listener whose accept queue is full (backlog 1
  // holds two connections), so a connect beyond that waits in vain.
  Socket listener;
  ASSERT_TRUE(listener.Listen(Address(), 1).ok());
  NetAddress bound;
  ASSERT_TRUE(listener.LocalAddress(&bound).ok());
  std::vector<Socket> clients(16);
  Status status;
  size_t connected = 0;
  while (connected < clients.size()) {
    status = clients[connected].Connect(bound, 200 * kMs);
    if (!status.ok()) break;
    ++connected;
  }
  EXPECT_TIMED_OUT(status);
  EXPECT_GE(connected, 1u);
  EXPECT_LT(connected, clients.size());
  if (connected < clients.size()) {
    EXPECT_FALSE(clients[connected].is_open());
  }
}

TEST_P(PlatformNetTest, ListenOnAPortInUseFails) {
  Socket first;
  NetAddress bound;
  ASSERT_NO_FATAL_FAILURE(ListenAny(&first, &bound));
  Socket second;
  const Status status = second.Listen(bound, 16);
  EXPECT_PRED3(IsStatus, status, StatusFromErrno(EADDRINUSE).code(),
               StatusFromErrno(EADDRINUSE).message());
  EXPECT_FALSE(second.is_open());
}

TEST_P(PlatformNetTest, UnspecifiedFamilyIsRefused) {
  NetAddress address;  // kUnspecified
  Socket socket;
  EXPECT_EQ(socket.Listen(address, 16).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(socket.Connect(address, kLongTimeout).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(socket.is_open());
}

TEST_P(PlatformNetTest, ShutdownWakesBlockedReceive) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  std::atomic<pid_t> tid{0};
  Status status;
  std::thread receiver([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    char buffer[4];
    size_t done = 0;
    status = server.Receive(buffer, sizeof(buffer), &done, kLongTimeout);
  });
  ASSERT_TRUE(WaitUntilBlocked(tid));
  const auto start = Clock::now();
  server.Shutdown();
  receiver.join();
  EXPECT_LT(Clock::now() - start, kWakeDeadline);
  EXPECT_SHUT_DOWN(status);
}

// A receive blocked with a low water of 100 bytes is not woken by 10 of
// them: it returns all 100 once the other 90 came. Back at 1, a receive
// returns as soon as a byte is there.
TEST_P(PlatformNetTest, ReceiveWaitsForTheLowWater) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  server.SetReceiveLowWater(100);
  std::atomic<pid_t> tid{0};
  Status status;
  char buffer[200];
  size_t done = 0;
  std::thread receiver([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    status = server.Receive(buffer, sizeof(buffer), &done, kLongTimeout);
  });
  ASSERT_TRUE(WaitUntilBlocked(tid));
  const std::vector<uint8_t> bytes = Pattern(100, 0x10);
  ASSERT_TRUE(client.SendAll(bytes.data(), 10, kLongTimeout).ok());
  // Time for a wake-up that should not come (it would return 10 bytes).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(client.SendAll(bytes.data() + 10, 90, kLongTimeout).ok());
  receiver.join();
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(done, 100u);
  EXPECT_EQ(memcmp(buffer, bytes.data(), 100), 0);

  server.SetReceiveLowWater(0);  // counts as 1
  ASSERT_TRUE(client.SendAll("x", 1, kLongTimeout).ok());
  ASSERT_TRUE(server.Receive(buffer, sizeof(buffer), &done, kLongTimeout).ok());
  EXPECT_EQ(done, 1u);
}

TEST_P(PlatformNetTest, ShutdownWakesBlockedSend) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  std::atomic<pid_t> tid{0};
  Status status;
  std::thread sender([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    status = SendUntilFailure(&client, kLongTimeout);
  });
  ASSERT_TRUE(WaitUntilBlocked(tid));
  const auto start = Clock::now();
  client.Shutdown();
  sender.join();
  EXPECT_LT(Clock::now() - start, kWakeDeadline);
  EXPECT_SHUT_DOWN(status);
}

TEST_P(PlatformNetTest, ShutdownWakesBlockedAccept) {
  Socket listener;
  NetAddress bound;
  ASSERT_NO_FATAL_FAILURE(ListenAny(&listener, &bound));
  std::atomic<pid_t> tid{0};
  Status status;
  Socket server;
  std::thread acceptor([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    status = listener.Accept(&server, nullptr, kLongTimeout);
  });
  ASSERT_TRUE(WaitUntilBlocked(tid));
  const auto start = Clock::now();
  listener.Shutdown();
  acceptor.join();
  EXPECT_LT(Clock::now() - start, kWakeDeadline);
  EXPECT_SHUT_DOWN(status);
  EXPECT_FALSE(server.is_open());
  // The port is free again once the listener is closed.
  listener.Close();
  Socket again;
  EXPECT_TRUE(again.Listen(bound, 16).ok());
}

TEST_P(PlatformNetTest, EveryCallAfterShutdownFails) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  // Bytes already received do not make a Receive succeed after Shutdown.
  ASSERT_TRUE(client.SendAll("data", 4, kLongTimeout).ok());
  server.Shutdown();
  server.Shutdown();  // idempotent
  EXPECT_TRUE(server.is_open());
  char buffer[4];
  size_t done = 1;
  EXPECT_SHUT_DOWN(server.Receive(buffer, sizeof(buffer), &done, 0));
  EXPECT_EQ(done, 0u);
  EXPECT_SHUT_DOWN(server.SendAll("x", 1, kLongTimeout));
  EXPECT_SHUT_DOWN(server.SendAll("x", 0, kLongTimeout));

  Socket listener;
  NetAddress bound;
  ASSERT_NO_FATAL_FAILURE(ListenAny(&listener, &bound));
  listener.Shutdown();
  Socket accepted;
  EXPECT_SHUT_DOWN(listener.Accept(&accepted, nullptr, kLongTimeout));
  // The peer of the shut-down socket reads the end of the stream.
  ASSERT_TRUE(client.Receive(buffer, sizeof(buffer), &done, kLongTimeout).ok());
  EXPECT_EQ(done, 0u);
}

TEST_P(PlatformNetTest, CloseIsIdempotent) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  server.Close();
  EXPECT_FALSE(server.is_open());
  server.Close();
  server.Shutdown();  // nothing to do on a closed socket
  EXPECT_FALSE(server.is_open());
  // A closed socket can be used again.
  Socket listener;
  NetAddress bound;
  ASSERT_NO_FATAL_FAILURE(ListenAny(&listener, &bound));
  ASSERT_TRUE(server.Connect(bound, kLongTimeout).ok());
  EXPECT_TRUE(server.is_open());
}

TEST_P(PlatformNetTest, SwapExchangesSockets) {
  Socket client;
  Socket server;
  ASSERT_NO_FATAL_FAILURE(ConnectPair(&client, &server));
  Socket other;
  other.Swap(server);
  EXPECT_FALSE(server.is_open());
  ASSERT_TRUE(other.is_open());
  ASSERT_TRUE(client.SendAll("s", 1, kLongTimeout).ok());
  char c = 0;
  size_t done = 0;
  ASSERT_TRUE(other.Receive(&c, 1, &done, kLongTimeout).ok());
  EXPECT_EQ(done, 1u);
  EXPECT_EQ(c, 's');
}

std::string FamilyName(
    const ::testing::TestParamInfo<NetAddress::Family>& param) {
  return param.param == NetAddress::kIpv4 ? "Ipv4" : "Ipv6";
}

INSTANTIATE_TEST_SUITE_P(Families, PlatformNetTest,
                         ::testing::Values(NetAddress::kIpv4,
                                           NetAddress::kIpv6),
                         FamilyName);

}  // namespace
}  // namespace platform
}  // namespace mars
