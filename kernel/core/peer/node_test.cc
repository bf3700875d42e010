// Tests of Node: two hosts in one process, each with its /mars directory,
// over loopback TCP (127.0.0.1 and 127.0.0.2), replicating the tree.
#include "core/peer/node.h"

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

#include "core/engine/log_durability.h"
#include "core/peer/ip_address.h"
#include "core/peer/node_internal.h"
#include "core/peer/node_test_util.h"
#include "core/platform_io.h"
#include "core/tree/version_link.h"
#include "platform_user.h"

namespace mars {
namespace peer {
namespace {

class NodeTest : public TwoNodeTest {
 protected:
  // r0 with alpha its primary and beta a member that fetches alpha's
  // logfiles from logfile 1 on (its replay link).
  void AlphaServesR0ToBeta() {
    alpha_.Put("resource-r0/primary", "alpha");
    alpha_.Put("resource-r0/data-beta", "/dev/vdb");
    alpha_.Put("resource-r0/todo-beta/connect", "1");
    alpha_.Put("resource-r0/replay-beta", "log-000000001-alpha,0,0");
  }
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

std::string RandomBytes(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    s[i] = static_cast<char>(seed >> 16);
  }
  return s;
}

// beta, a secondary of r0, fetches alpha's finished logfile 1 whole and
// the growing logfile 2 only up to the durable end alpha's write path
// reports, following it as it grows.
TEST_F(NodeTest, SecondaryFetchesFinishedAndGrowingLogfilesUpToDurableEnd) {
  const std::string log1 = "resource-r0/log-000000001-alpha";
  const std::string log2 = "resource-r0/log-000000002-alpha";
  const std::string bytes1 = RandomBytes(300 * 1024 + 17, 1);
  const std::string bytes2 = RandomBytes(700 * 1024, 2);
  AlphaServesR0ToBeta();
  alpha_.Put("resource-r0/data-alpha", "/dev/vdb");
  alpha_.Put("resource-r0/replay-alpha", "log-000000002-alpha,0,0");
  alpha_.WriteFile(log1, bytes1);
  alpha_.Put("resource-r0/version-000000001-alpha",
             VersionLinkText(1, "alpha", bytes1.size()));
  alpha_.WriteFile(log2, bytes2.substr(0, 200 * 1024));
  const Slice log2_path(log2.data(), log2.size());
  ASSERT_TRUE(alpha_.durability_.Open(log2_path).ok());
  uint64_t durable = 100 * 1024 + 3;
  alpha_.durability_.Advance(log2_path, durable);
  StartBoth();

  // Never more than the durable end, at any time.
  bool beyond_durable = false;
  auto log2_size_is = [&](size_t want) {
    const size_t size = beta_.ReadFile(log2).size();
    if (size > durable) beyond_durable = true;
    return size == want;
  };
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log1) == bytes1; }))
      << beta_.Peer().last_error;
  // Finished: asked for with the whole window at once.
  EXPECT_GT(beta_.Peer().inflight_bytes_max, 64u << 10);
  ASSERT_TRUE(WaitFor([&] { return log2_size_is(durable); }))
      << beta_.ReadFile(log2).size();
  alpha_.AppendFile(log2, bytes2.substr(200 * 1024));
  durable = 650 * 1024;
  alpha_.durability_.Advance(log2_path, durable);
  ASSERT_TRUE(WaitFor([&] { return log2_size_is(durable); }))
      << beta_.ReadFile(log2).size();
  // Finished: the version link makes the whole file servable.
  alpha_.durability_.Close(log2_path);
  alpha_.Put("resource-r0/version-000000002-alpha",
             VersionLinkText(2, "alpha", bytes2.size()));
  alpha_.node_.Kick();
  durable = bytes2.size();
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log2) == bytes2; }));
  EXPECT_FALSE(beyond_durable);
  EXPECT_GE(beta_.Peer().counters.logfile_bytes_received,
            bytes1.size() + bytes2.size());
}

// A finished logfile is asked for with the whole window (fetch_window
// requests in flight, the test above); one that may still grow only up to
// what the primary
// said it can serve, plus one request past it that finds out whether it
// can serve more. Here: 100 KiB + 5 durable, 64 KiB requests: the first
// request (nothing known yet), then one for the rest, whose answer reaches
// the end and waits for the next poll (an hour away here), instead of a
// window of requests that would nearly all come back empty.
TEST_F(NodeTest, GrowingLogfileIsAskedForOnlyUpToWhatThePeerHas) {
  const std::string log = "resource-r0/log-000000001-alpha";
  const std::string bytes = RandomBytes(300 * 1024, 9);
  AlphaServesR0ToBeta();
  alpha_.Put("resource-r0/data-alpha", "/dev/vdb");
  alpha_.Put("resource-r0/replay-alpha", "log-000000001-alpha,0,0");
  alpha_.WriteFile(log, bytes);
  const Slice log_path(log.data(), log.size());
  ASSERT_TRUE(alpha_.durability_.Open(log_path).ok());
  const uint64_t durable = 100 * 1024 + 5;
  alpha_.durability_.Advance(log_path, durable);
  beta_.configure = [](NodeConfig* config) {
    ASSERT_GE(config->fetch_window, 4u);
    config->fetch_poll_ns = 3600 * kNsPerSecond;
  };
  StartBoth();
  ASSERT_TRUE(
      WaitFor([&] { return beta_.ReadFile(log).size() == durable; }))
      << beta_.ReadFile(log).size() << " " << beta_.Peer().last_error;
  ASSERT_TRUE(WaitFor([&] { return beta_.Peer().inflight_bytes == 0; }));
  const PeerReport report = beta_.Peer();
  EXPECT_EQ(report.counters.logfile_requests_sent, 2u);
  EXPECT_EQ(report.inflight_bytes_max, 64u << 10);
  EXPECT_EQ(beta_.ReadFile(log), bytes.substr(0, durable));
}

// The fetch window follows peer_inflight_bytes: as many requests as the
// tunable holds beside one block-request of 1 MiB, at least 8 and at most
// 64 (both nodes set kFeatureLogfileWindow). With 64 KiB requests (the
// test nodes' chunk) a finished logfile of 6 MiB is asked for with 16
// requests at once (1 MiB) at 2 MiB, with 64 (4 MiB) at the default 5 MiB;
// 8 (512 KiB) before the window followed the tunable.
class FetchWindowTest : public NodeTest {
 protected:
  uint64_t MostBytesInFlightFetchingWith(uint64_t tunable) {
    struct ResetTunables {
      ~ResetTunables() { platform::test::ResetTunablesForTest(); }
    } reset;
    platform::test::SetTunableForTest(platform::Tunable::kPeerInflightBytes,
                                      tunable);
    const std::string log = "resource-r0/log-000000001-alpha";
    const std::string bytes = RandomBytes(6u << 20, 11);
    AlphaServesR0ToBeta();
    alpha_.Put("resource-r0/data-alpha", "/dev/vdb");
    alpha_.Put("resource-r0/replay-alpha", "log-000000002-alpha,0,0");
    alpha_.WriteFile(log, bytes);
    alpha_.Put("resource-r0/version-000000001-alpha",
               VersionLinkText(1, "alpha", bytes.size()));
    StartBoth();
    EXPECT_TRUE(WaitFor([&] { return beta_.ReadFile(log) == bytes; }))
        << beta_.ReadFile(log).size() << " " << beta_.Peer().last_error;
    EXPECT_GE(beta_.Peer().counters.logfile_requests_sent, 96u);
    return beta_.Peer().inflight_bytes_max;
  }
};

TEST_F(FetchWindowTest, SixteenRequestsWith2MiB) {
  EXPECT_EQ(MostBytesInFlightFetchingWith(2u << 20), 1u << 20);
}

TEST_F(FetchWindowTest, SixtyFourRequestsWithTheDefault5MiB) {
  EXPECT_EQ(MostBytesInFlightFetchingWith(5u << 20), 4u << 20);
}

// With room for one request in flight (peer_inflight_bytes at 64 KiB, a
// quarter of the fetch chunk), the logfiles of two resources are fetched
// side by side: when either copy is complete, the other holds at least a
// quarter of its logfile. Asking in plan order would fetch r0's whole
// logfile before r1's first byte.
TEST_F(NodeTest, ResourcesShareASmallInflightLimitInTurn) {
  struct ResetTunables {
    ~ResetTunables() { platform::test::ResetTunablesForTest(); }
  } reset;
  platform::test::SetTunableForTest(platform::Tunable::kPeerInflightBytes,
                                    64u << 10);
  const std::string logs[2] = {"resource-r0/log-000000001-alpha",
                               "resource-r1/log-000000001-alpha"};
  const std::string bytes[2] = {RandomBytes(2u << 20, 5),
                                RandomBytes(2u << 20, 6)};
  AlphaServesR0ToBeta();
  alpha_.Put("resource-r1/primary", "alpha");
  alpha_.Put("resource-r1/data-beta", "/dev/vdc");
  alpha_.Put("resource-r1/todo-beta/connect", "1");
  alpha_.Put("resource-r1/replay-beta", "log-000000001-alpha,0,0");
  for (int r = 0; r < 2; ++r) {
    alpha_.WriteFile(logs[r], bytes[r]);
    alpha_.Put("resource-r" + std::to_string(r) + "/version-000000001-alpha",
               VersionLinkText(1, "alpha", bytes[r].size()));
  }
  auto copy_size = [&](int r) -> uint64_t {
    struct stat st;
    const std::string path = beta_.root_ + "/" + logs[r];
    return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size)
                                        : 0;
  };
  StartBoth();
  uint64_t other = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        const uint64_t sizes[2] = {copy_size(0), copy_size(1)};
        if (sizes[0] < bytes[0].size() && sizes[1] < bytes[1].size()) {
          return false;
        }
        other = sizes[0] < sizes[1] ? sizes[0] : sizes[1];
        return true;
      },
      60))
      << beta_.Peer().last_error;
  EXPECT_GE(other, bytes[0].size() / 4)
      << "one resource's logfile was fetched while the other waited";
  for (int r = 0; r < 2; ++r) {
    ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(logs[r]) == bytes[r]; }))
        << logs[r];
  }
  EXPECT_LE(beta_.Peer().inflight_bytes_max, 64u << 10);
}

// A damaged tail cut from the local copy (as the replayer does) is fetched
// again; a host that is not a member of the resource fetches nothing.
TEST_F(NodeTest, CutLocalCopyIsFetchedAgainAndNonMembersFetchNothing) {
  const std::string log1 = "resource-r0/log-000000001-alpha";
  const std::string bytes1 = RandomBytes(200 * 1024, 3);
  AlphaServesR0ToBeta();
  alpha_.Put("resource-r1/primary", "alpha");
  alpha_.Put("resource-r1/replay-beta", "log-000000001-alpha,0,0");
  alpha_.WriteFile(log1, bytes1);
  ASSERT_TRUE(platform::MakeDirectory((alpha_.root_ + "/resource-r1").c_str())
                  .ok());
  alpha_.WriteFile("resource-r1/log-000000001-alpha", bytes1);
  alpha_.Put("resource-r0/version-000000001-alpha",
             VersionLinkText(1, "alpha", bytes1.size()));
  alpha_.Put("resource-r1/version-000000001-alpha",
             VersionLinkText(1, "alpha", bytes1.size()));
  StartBoth();
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log1) == bytes1; }))
      << beta_.Peer().last_error;
  ASSERT_EQ(truncate((beta_.root_ + "/" + log1).c_str(), 1000), 0);
  beta_.node_.Kick();
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log1) == bytes1; }));
  EXPECT_EQ(beta_.ReadFile("resource-r1/log-000000001-alpha"), "");
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

// A logfile that grew while fetched is finished (version link) and the next
// one starts: beta completes the first and goes on with the second.
TEST_F(NodeTest, FetchMovesOnWhenAGrowingLogfileIsFinished) {
  const std::string log1 = "resource-r0/log-000000001-alpha";
  const std::string log2 = "resource-r0/log-000000002-alpha";
  const std::string bytes1 = RandomBytes(900 * 1024 + 8, 5);
  const std::string bytes2 = RandomBytes(300 * 1024, 6);
  AlphaServesR0ToBeta();
  alpha_.Put("resource-r0/replay-alpha", "log-000000001-alpha,0,0");
  alpha_.WriteFile(log1, bytes1.substr(0, 100 * 1024));
  const Slice log1_path(log1.data(), log1.size());
  ASSERT_TRUE(alpha_.durability_.Open(log1_path).ok());
  alpha_.durability_.Advance(log1_path, 100 * 1024);
  StartBoth();
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log1).size() == 100 * 1024; }))
      << beta_.Peer().last_error;
  // Log 1 grows; beta has all of it before the version link says it is
  // finished (the tree may come after the bytes).
  alpha_.AppendFile(log1, bytes1.substr(100 * 1024));
  alpha_.durability_.Advance(log1_path, bytes1.size());
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log1) == bytes1; }))
      << beta_.ReadFile(log1).size();
  alpha_.durability_.Close(log1_path);
  alpha_.Put("resource-r0/version-000000001-alpha",
             VersionLinkText(1, "alpha", bytes1.size()));
  alpha_.WriteFile(log2, bytes2);
  const Slice log2_path(log2.data(), log2.size());
  ASSERT_TRUE(alpha_.durability_.Open(log2_path).ok());
  alpha_.durability_.Advance(log2_path, bytes2.size());
  alpha_.Put("resource-r0/replay-alpha", "log-000000002-alpha,0,0");
  alpha_.node_.Kick();
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log1) == bytes1; }))
      << beta_.ReadFile(log1).size();
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log2) == bytes2; }))
      << beta_.ReadFile(log2).size();
}

// The copy of a finished logfile is made durable when it is complete, and
// otherwise at most once a second: not once per answer, which made a
// catching-up fetch sync every 64 KiB here (256 KiB in production) and run
// at a third of the speed of a socket copy.
TEST_F(NodeTest, CopyOfAFinishedLogfileIsNotSyncedPerAnswer) {
  const std::string log1 = "resource-r0/log-000000001-alpha";
  const std::string pos = "resource-r0/actual-beta/fetch-pos";
  const std::string bytes1 = RandomBytes(2 * 1024 * 1024 + 8, 9);
  AlphaServesR0ToBeta();
  alpha_.Put("resource-r0/replay-alpha", "log-000000001-alpha,0,0");
  alpha_.WriteFile(log1, bytes1);
  alpha_.Put("resource-r0/version-000000001-alpha",
             VersionLinkText(1, "alpha", bytes1.size()));
  const std::string copy = beta_.root_ + "/" + log1;
  const uint64_t syncs_before = platform::test::FileSyncsForTest(copy.c_str());
  const auto start = std::chrono::steady_clock::now();
  StartBoth();
  // Published after the round that wrote (and synced) the last bytes.
  const std::string at1 =
      "log-000000001-alpha," + std::to_string(bytes1.size());
  ASSERT_TRUE(WaitFor([&] { return beta_.Get(pos) == at1; }))
      << beta_.Get(pos) << " " << beta_.Peer().last_error;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_EQ(beta_.ReadFile(log1), bytes1);
  const uint64_t syncs =
      platform::test::FileSyncsForTest(copy.c_str()) - syncs_before;
  // 33 answers of 64 KiB; one a second, the last.
  EXPECT_GE(syncs, 1u);
  EXPECT_LE(static_cast<double>(syncs), 2 + seconds) << seconds << " s";
}

// A new fetch syncs its growing copy first a sync interval (1 s) after
// the fetch started, not with its first answer: that flush stalled the
// asking thread at the start of every fetch. The job starts after the
// nodes do, so no sync may come within a second of their start.
TEST_F(NodeTest, FirstSyncOfAGrowingCopyComesASyncIntervalAfterTheStart) {
  const std::string log1 = "resource-r0/log-000000001-alpha";
  const std::string bytes1 = RandomBytes(100 * 1024, 12);
  AlphaServesR0ToBeta();
  alpha_.Put("resource-r0/replay-alpha", "log-000000001-alpha,0,0");
  alpha_.WriteFile(log1, bytes1);
  const Slice log1_path(log1.data(), log1.size());
  ASSERT_TRUE(alpha_.durability_.Open(log1_path).ok());
  alpha_.durability_.Advance(log1_path, bytes1.size());
  const std::string copy = beta_.root_ + "/" + log1;
  const uint64_t syncs_before = platform::test::FileSyncsForTest(copy.c_str());
  const uint64_t start_ns = platform::MonotonicNs();
  StartBoth();
  // Growing (no version link): the copy is synced once its sync is due,
  // by the round of the next answer (beta keeps asking for more).
  uint64_t first_sync_ns = 0;
  ASSERT_TRUE(WaitFor([&] {
    if (platform::test::FileSyncsForTest(copy.c_str()) == syncs_before) {
      return false;
    }
    first_sync_ns = platform::MonotonicNs();
    return true;
  })) << beta_.Peer().last_error;
  EXPECT_EQ(beta_.ReadFile(log1), bytes1);
  EXPECT_GE(first_sync_ns - start_ns, kNsPerSecond)
      << (first_sync_ns - start_ns) / 1000000 << " ms";
  alpha_.durability_.Close(log1_path);
}

// A local copy that cannot be written is reported in msg-err-fetch (on
// every host, as the tree travels) and fetched once it can be.
TEST_F(NodeTest, LocalCopyThatCannotBeWrittenIsReportedUntilItCan) {
  const std::string log1 = "resource-r0/log-000000001-alpha";
  const std::string bytes1 = RandomBytes(100 * 1024, 4);
  AlphaServesR0ToBeta();
  alpha_.WriteFile(log1, bytes1);
  alpha_.Put("resource-r0/version-000000001-alpha",
             VersionLinkText(1, "alpha", bytes1.size()));
  // A directory where the copy should be: opening it for writing fails.
  ASSERT_TRUE(
      platform::MakeDirectory((beta_.root_ + "/resource-r0").c_str()).ok());
  ASSERT_TRUE(platform::MakeDirectory((beta_.root_ + "/" + log1).c_str()).ok());
  StartBoth();
  const std::string msg = "resource-r0/actual-beta/msg-err-fetch";
  ASSERT_TRUE(WaitFor([&] { return alpha_.Get(msg) != "<none>"; }))
      << beta_.Get(msg);
  EXPECT_NE(beta_.Get(msg).find("cannot write the local copy " + log1),
            std::string::npos)
      << beta_.Get(msg);
  ASSERT_EQ(rmdir((beta_.root_ + "/" + log1).c_str()), 0);
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log1) == bytes1; }));
  auto gone = [&](Host& h) {
    return h.Get(msg) == "<none>" || h.Get(msg) == ".deleted";
  };
  ASSERT_TRUE(WaitFor([&] { return gone(beta_) && gone(alpha_); }))
      << beta_.Get(msg);
}

// A local copy whose fdatasync fails (a disk that fails writeback: the
// appends themselves land in the page cache and succeed) is reported in
// msg-err-fetch, cut back to what is durable and fetched again; the report
// goes once the sync works.
TEST_F(NodeTest, LocalCopyThatCannotBeSyncedIsReportedAndFetchedAgain) {
  const std::string log1 = "resource-r0/log-000000001-alpha";
  const std::string bytes1 = RandomBytes(700 * 1024 + 3, 5);
  AlphaServesR0ToBeta();
  alpha_.WriteFile(log1, bytes1);
  alpha_.Put("resource-r0/version-000000001-alpha",
             VersionLinkText(1, "alpha", bytes1.size()));
  const std::string copy = beta_.root_ + "/" + log1;
  platform::test::FailFileSyncsForTest(copy.c_str(), 1000000);
  StartBoth();
  const std::string msg = "resource-r0/actual-beta/msg-err-fetch";
  ASSERT_TRUE(WaitFor([&] { return alpha_.Get(msg) != "<none>"; }))
      << beta_.Get(msg);
  EXPECT_NE(beta_.Get(msg).find("cannot sync the local copy " + log1 +
                                ": input/output error"),
            std::string::npos)
      << beta_.Get(msg);
  // Nothing is durable: the copy is cut back to empty after every try.
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log1).empty(); }));
  platform::test::FailFileSyncsForTest(copy.c_str(), 0);
  ASSERT_TRUE(WaitFor([&] { return beta_.ReadFile(log1) == bytes1; }));
  auto gone = [&](Host& h) {
    return h.Get(msg) == "<none>" || h.Get(msg) == ".deleted";
  };
  ASSERT_TRUE(WaitFor([&] { return gone(beta_) && gone(alpha_); }))
      << beta_.Get(msg);
}

// The cut-back after a failed sync of a local copy (CutBackLocalCopy) takes
// the copies lock and never undoes a cut the replayer made since the append:
// a copy cut below the durable end stays as it is (a truncate to the
// durable end would extend it with zeros); a longer one is cut to it.
TEST(CutBackLocalCopyTest, NeverUndoesACutOfTheReplayer) {
  char dir[] = "/tmp/mars-cutback-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/log-000000001-alpha";
  const std::string bytes = RandomBytes(1000, 9);
  std::ofstream(path, std::ios::binary) << bytes;
  auto content = [&] {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  };
  engine::LogDurability copies;
  ASSERT_TRUE(copies.Init(platform::Gfp::kKernel).ok());
  platform::File file;
  ASSERT_TRUE(file.Open(path.c_str(), platform::File::kWrite).ok());

  // 600 bytes are durable, the sync of the rest failed. The replayer holds
  // the lock and cuts a damaged tail at 300; the fetch's cut-back waits
  // for it and then leaves the copy alone.
  copies.LockCopies();
  uint64_t size = 0;
  bool cut = false;
  std::thread fetch(
      [&] { cut = CutBackLocalCopy(&copies, &file, 600, &size); });
  EXPECT_EQ(truncate(path.c_str(), 300), 0);
  copies.UnlockCopies();
  fetch.join();
  EXPECT_TRUE(cut);
  EXPECT_EQ(size, 300u);
  EXPECT_EQ(content(), bytes.substr(0, 300));

  // Longer than the durable end (no cut meanwhile): cut to it, with the
  // lock free again afterwards.
  std::ofstream(path, std::ios::binary | std::ios::app) << bytes.substr(300);
  ASSERT_TRUE(CutBackLocalCopy(&copies, &file, 600, &size));
  EXPECT_EQ(size, 600u);
  EXPECT_EQ(content(), bytes.substr(0, 600));
  copies.LockCopies();
  copies.UnlockCopies();
  // At the durable end already: nothing to cut.
  ASSERT_TRUE(CutBackLocalCopy(nullptr, &file, 600, &size));
  EXPECT_EQ(size, 600u);
  file.Close();
  EXPECT_EQ(system((std::string("rm -rf ") + dir).c_str()), 0);
}

// beta publishes how far its local copies go in actual-beta/fetch-pos: a
// finished logfile at once, then a growing one as it follows it; the link
// is not written again while nothing changes, and stays when beta stops
// fetching.
TEST_F(NodeTest, FetchPositionIsPublishedAndFollowsAGrowingLogfile) {
  const std::string log1 = "resource-r0/log-000000001-alpha";
  const std::string log2 = "resource-r0/log-000000002-alpha";
  const std::string pos = "resource-r0/actual-beta/fetch-pos";
  const std::string bytes1 = RandomBytes(300 * 1024 + 5, 7);
  const std::string bytes2 = RandomBytes(500 * 1024, 8);
  AlphaServesR0ToBeta();
  alpha_.Put("resource-r0/data-alpha", "/dev/vdb");
  alpha_.Put("resource-r0/replay-alpha", "log-000000001-alpha,0,0");
  alpha_.WriteFile(log1, bytes1);
  alpha_.Put("resource-r0/version-000000001-alpha",
             VersionLinkText(1, "alpha", bytes1.size()));
  StartBoth();
  const std::string at1 =
      "log-000000001-alpha," + std::to_string(bytes1.size());
  ASSERT_TRUE(WaitFor([&] { return alpha_.Get(pos) == at1; }))
      << beta_.Get(pos) << " " << beta_.Peer().last_error;
  // beta's tree thread writes its /mars soon after the link went out to
  // alpha, not before.
  EXPECT_TRUE(WaitFor([&] { return beta_.Get(pos) == at1; }))
      << beta_.Get(pos);
  EXPECT_EQ(alpha_.Get("resource-r0/actual-alpha/fetch-pos"), "<none>");

  // Logfile 2 grows: the position follows it.
  alpha_.WriteFile(log2, bytes2.substr(0, 100 * 1024));
  const Slice log2_path(log2.data(), log2.size());
  ASSERT_TRUE(alpha_.durability_.Open(log2_path).ok());
  alpha_.durability_.Advance(log2_path, 100 * 1024);
  alpha_.Put("resource-r0/replay-alpha", "log-000000002-alpha,0,0");
  alpha_.node_.Kick();
  ASSERT_TRUE(WaitFor([&] {
    return alpha_.Get(pos) ==
           "log-000000002-alpha," + std::to_string(100 * 1024);
  })) << beta_.Get(pos);
  alpha_.AppendFile(log2, bytes2.substr(100 * 1024));
  alpha_.durability_.Advance(log2_path, bytes2.size());
  const std::string at2 =
      "log-000000002-alpha," + std::to_string(bytes2.size());
  ASSERT_TRUE(WaitFor([&] { return alpha_.Get(pos) == at2; }))
      << beta_.Get(pos);

  // Nothing changes: the link keeps its stamp.
  auto stamp = [&] {
    char value[256];
    size_t size = 0;
    uint64_t stamp_ns = 0;
    EXPECT_TRUE(platform::ReadLink((beta_.root_ + "/" + pos).c_str(), value,
                                   sizeof(value), &size, &stamp_ns)
                    .ok());
    return stamp_ns;
  };
  const uint64_t published = stamp();
  const uint64_t passes = beta_.node_.tree_passes();
  ASSERT_TRUE(
      WaitFor([&] { return beta_.node_.tree_passes() >= passes + 10; }));
  EXPECT_EQ(stamp(), published);
  EXPECT_EQ(beta_.Get(pos), at2);

  // beta stops fetching: is-copying goes to 0, the position stays.
  alpha_.Put("resource-r0/todo-beta/connect", "0");
  alpha_.node_.Kick();
  ASSERT_TRUE(WaitFor(
      [&] { return alpha_.Get("resource-r0/actual-beta/is-copying") == "0"; }));
  EXPECT_EQ(alpha_.Get(pos), at2);
  EXPECT_EQ(stamp(), published);
}

}  // namespace
}  // namespace peer
}  // namespace mars
