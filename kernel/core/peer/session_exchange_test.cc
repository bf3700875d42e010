// Two sessions wired back to back (session_test_util.h), driven by a seeded
// random scheduler: handshake, convergence of both trees, incremental
// polling, restarts, cut connections, corruption on the wire, and purging
// (docu/wire-protocol.md "Sessions", docu/mars-tree.md §6, §7).
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/peer/session.h"
#include "core/peer/session_test_util.h"

namespace mars {
namespace peer {
namespace test {
namespace {

constexpr int kSeeds = 12;

std::string RandomPath(std::mt19937_64& rng, int spread) {
  return "resource-r" + std::to_string(rng() % 4) + "/k" +
         std::to_string(rng() % spread);
}

// A random live write or deletion on `host`.
void RandomChange(Host* host, std::mt19937_64& rng, int spread) {
  const std::string path = RandomPath(rng, spread);
  if (rng() % 4 == 0) {
    host->Remove(path);
  } else {
    host->Write(path, "v" + std::to_string(rng() % 1000));
  }
}

bool CaughtUp(tree::ChangeCursor cursor, const tree::Tree& tree) {
  return cursor.incarnation == tree.cursor().incarnation &&
         cursor.change == tree.cursor().change;
}

bool HasTombstone(const tree::Tree& tree) {
  for (size_t i = 0; i < tree.size(); ++i) {
    if (tree.at(i).tombstone()) return true;
  }
  return false;
}

// Runs until each side has sent two more requests and the link is quiet.
bool SettleEchoes(Pair* pair) {
  const uint64_t a = pair->client().counters().tree_requests_sent;
  const uint64_t b = pair->server().counters().tree_requests_sent;
  return pair->RunUntil(
      [&] {
        return pair->Quiet() &&
               pair->client().counters().tree_requests_sent >= a + 2 &&
               pair->server().counters().tree_requests_sent >= b + 2;
      },
      1000000);
}

TEST(SessionExchangeTest, HandshakeSucceedsUnderRandomChunking) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    Host alpha("alpha", nullptr), beta("beta", nullptr);
    Pair pair(&alpha, &beta, seed);
    ASSERT_TRUE(pair.Open()) << pair.client().status().message() << " / "
                             << pair.server().status().message();
    EXPECT_EQ(Str(pair.client().peer_host_name()), "beta");
    EXPECT_EQ(Str(pair.server().peer_host_name()), "alpha");
    EXPECT_EQ(pair.client().agreement().features, wire::kFeaturePing);
    EXPECT_EQ(pair.client().agreement().protocol_version,
              wire::kProtocolVersion);
    EXPECT_NE(pair.client().counters().connected_since_ns, 0u);
    // Each side asked for the other's tree at once and gets an empty answer.
    ASSERT_TRUE(pair.Converge(100000));
    for (Session* s : {&pair.client(), &pair.server()}) {
      EXPECT_GE(s->counters().tree_requests_sent, 1u);
      EXPECT_GE(s->counters().tree_requests_served, 1u);
      EXPECT_EQ(s->counters().entries_received, 0u);
      EXPECT_NE(s->counters().last_tree_exchange_ns, 0u);
      EXPECT_TRUE(s->status().ok());
    }
  }
}

TEST(SessionExchangeTest, WrongSecretClosesBothAndNothingCrosses) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    std::set<Version> written;
    Host alpha("alpha", &written), beta("beta", &written);
    alpha.Write("uuid", "secret-test");
    beta.Write("resource-r0/size", "4096");
    const auto alpha_before = Listing(alpha.tree());
    const auto beta_before = Listing(beta.tree());
    static const char kOther[] = "correct horse battery staple 43";
    // The wrong secret on either side: the server checks the client's proof
    // first in both cases.
    const bool client_wrong = seed % 2 == 0;
    int index = 0;
    Pair pair(&alpha, &beta, seed, [&](SessionConfig* c) {
      if ((index++ == 0) == client_wrong) {
        c->secret = Slice::FromCString(kOther);
      }
    });
    pair.RunUntil(
        [&] { return pair.client().closed() && pair.server().closed(); },
        100000);
    // Deliver what is still in flight: the refusal reaches the client.
    for (int i = 0; i < 1000 && !pair.client().closed(); ++i) pair.Step();
    ASSERT_TRUE(pair.server().closed());
    ASSERT_TRUE(pair.client().closed());
    EXPECT_STREQ(pair.server().status().message(),
                 "handshake: peer failed authentication");
    EXPECT_STREQ(pair.client().status().message(),
                 "handshake: peer refused our authentication");
    EXPECT_EQ(Listing(alpha.tree()), alpha_before);
    EXPECT_EQ(Listing(beta.tree()), beta_before);
    EXPECT_EQ(pair.client().counters().entries_received, 0u);
    EXPECT_EQ(pair.server().counters().entries_received, 0u);
    EXPECT_EQ(pair.client().counters().connected_since_ns, 0u);
  }
}

TEST(SessionExchangeTest, ForeignClusterRefused) {
  Host alpha("alpha", nullptr), beta("beta", nullptr);
  static const char kForeign[] = "another cluster";
  int index = 0;
  Pair pair(&alpha, &beta, 7, [&](SessionConfig* c) {
    if (index++ == 1) c->hello.cluster_id = Slice::FromCString(kForeign);
  });
  pair.RunUntil([&] { return pair.client().closed(); }, 100000);
  for (int i = 0; i < 1000 && !pair.client().closed(); ++i) pair.Step();
  ASSERT_TRUE(pair.server().closed());
  ASSERT_TRUE(pair.client().closed());
  EXPECT_STREQ(pair.server().status().message(),
               "hello: peer belongs to another cluster");
  EXPECT_STREQ(pair.client().status().message(),
               "handshake: peer reported an error");
  EXPECT_EQ(pair.client().peer_error_code(),
            static_cast<uint32_t>(StatusCode::kInvalidArgument));
  EXPECT_EQ(Str(pair.client().peer_error_text()),
            "hello: peer belongs to another cluster");
}

// Random writes and deletions on both sides, also while answers are in
// flight; both trees end with the same versions.
TEST(SessionExchangeTest, TreesConvergeBothWays) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    std::set<Version> written;
    Host alpha("alpha", &written), beta("beta", &written);
    std::mt19937_64 rng(seed * 1000);
    for (int i = 0; i < 300; ++i) RandomChange(&alpha, rng, 200);
    for (int i = 0; i < 300; ++i) RandomChange(&beta, rng, 200);
    Pair pair(&alpha, &beta, seed, [](SessionConfig* c) {
      c->max_batch_bytes = kMinBatchBytes;  // a few dozen entries a batch
      c->output_limit = 4096;
      c->ping_timeout_ns = 3600 * kSecond;  // the scheduler may starve a side
    });
    int changes = 0;
    const bool done = pair.RunUntil(
        [&] {
          if (changes < 400 && pair.rng()() % 8 == 0) {
            RandomChange(changes % 2 ? &alpha : &beta, rng, 200);
            ++changes;
            if (pair.rng()() % 4 == 0)
              pair.session(changes % 2).RequestTreeNow();
          }
          // Each side has applied every change of the other (cheap to
          // check); then the trees must be equal.
          return changes == 400 && pair.Quiet() &&
                 CaughtUp(pair.client().tree_cursor(), beta.tree()) &&
                 CaughtUp(pair.server().tree_cursor(), alpha.tree()) &&
                 Listing(alpha.tree()) == Listing(beta.tree());
        },
        2000000);
    ASSERT_TRUE(done) << pair.client().status().message() << " / "
                      << pair.server().status().message();
    EXPECT_GT(pair.client().counters().entries_applied, 0u);
    EXPECT_GT(pair.server().counters().entries_applied, 0u);
    EXPECT_GT(pair.client().counters().tree_batches_received,
              pair.client().counters().tree_requests_sent);
    EXPECT_TRUE(HasTombstone(alpha.tree()));
    // Every version held was written by a host, never altered on the way.
    for (const Version& v : Listing(alpha.tree())) {
      EXPECT_EQ(written.count(v), 1u) << v;
    }
  }
}

// More entries than one batch may carry (4096) and more bytes than one
// batch budget: many batches, output held within its bound.
TEST(SessionExchangeTest, LargeTreeNeedsManyBatches) {
  std::set<Version> written;
  Host alpha("alpha", &written), beta("beta", &written);
  std::mt19937_64 rng(99);
  constexpr int kEntries = 10000;
  for (int i = 0; i < kEntries; ++i) {
    const size_t size = 1 + rng() % (i % 100 == 0 ? 4000 : 40);
    beta.Write("resource-big/k" + std::to_string(i), std::string(size, 'x'));
  }
  Pair pair(&alpha, &beta, 3, [](SessionConfig* c) {
    c->max_batch_bytes = 64 << 10;
    c->output_limit = 128 << 10;
  });
  ASSERT_TRUE(pair.Converge(2000000)) << pair.client().status().message();
  const SessionCounters& a = pair.client().counters();
  const SessionCounters& b = pair.server().counters();
  EXPECT_EQ(a.entries_received, static_cast<uint64_t>(kEntries));
  EXPECT_EQ(a.entries_applied, static_cast<uint64_t>(kEntries));
  EXPECT_EQ(b.entries_sent, static_cast<uint64_t>(kEntries));
  EXPECT_EQ(a.tree_batches_received, b.tree_batches_sent);
  // The byte budget, not only the 4096-entry limit, cut the batches.
  EXPECT_GT(a.tree_batches_received, 10u);
  EXPECT_LE(pair.max_output(), (128u << 10) + (64u << 10) + 2048);
  EXPECT_EQ(Listing(alpha.tree()), Listing(beta.tree()));
}

TEST(SessionExchangeTest, EntryLimitSplitsSmallEntries) {
  Host alpha("alpha", nullptr), beta("beta", nullptr);
  constexpr int kEntries = 9000;
  for (int i = 0; i < kEntries; ++i) {
    beta.Write("resource-s/k" + std::to_string(i), "1");
  }
  Pair pair(&alpha, &beta, 4, [](SessionConfig* c) {
    c->max_batch_bytes = wire::kMaxPayloadSize;
    c->output_limit = 4 << 20;
  });
  ASSERT_TRUE(pair.Converge(2000000)) << pair.client().status().message();
  // 9000 small entries: batches of 4096, 4096 and 808.
  EXPECT_EQ(pair.client().counters().tree_batches_received, 3u);
  EXPECT_EQ(pair.client().counters().entries_received,
            static_cast<uint64_t>(kEntries));
}

// Once converged, a poll costs one request and one empty final batch.
TEST(SessionExchangeTest, IdlePollTransfersNoEntries) {
  Host alpha("alpha", nullptr), beta("beta", nullptr);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100; ++i) RandomChange(&alpha, rng, 50);
  for (int i = 0; i < 100; ++i) RandomChange(&beta, rng, 50);
  Pair pair(&alpha, &beta, 5);
  ASSERT_TRUE(pair.Converge(1000000));
  // Each side gets back once what it sent (the peer applied it: a change of
  // the peer's tree); after that the trees are quiet.
  ASSERT_TRUE(SettleEchoes(&pair));
  const SessionCounters a0 = pair.client().counters();
  const SessionCounters b0 = pair.server().counters();
  // Three more polls of the client.
  const uint64_t start = g_mono_ns;
  ASSERT_TRUE(pair.RunUntil(
      [&] {
        return pair.client().counters().tree_requests_sent >=
                   a0.tree_requests_sent + 3 &&
               pair.Quiet();
      },
      1000000));
  EXPECT_GE(g_mono_ns - start, 3 * kSecond);  // polls wait their interval
  const SessionCounters& a1 = pair.client().counters();
  const SessionCounters& b1 = pair.server().counters();
  EXPECT_EQ(a1.tree_batches_received - a0.tree_batches_received,
            a1.tree_requests_sent - a0.tree_requests_sent);
  EXPECT_EQ(a1.entries_received, a0.entries_received);
  EXPECT_EQ(b1.entries_received, b0.entries_received);
  EXPECT_EQ(a1.entries_sent, a0.entries_sent);
  EXPECT_EQ(b1.entries_sent, b0.entries_sent);
  EXPECT_GT(a1.last_tree_exchange_ns, a0.last_tree_exchange_ns);
  EXPECT_TRUE(pair.client().open());
}

// A local change is picked up at once with RequestTreeNow(), without
// waiting for the poll interval; only the changed entry travels.
TEST(SessionExchangeTest, RequestTreeNowFetchesOnlyTheChange) {
  Host alpha("alpha", nullptr), beta("beta", nullptr);
  for (int i = 0; i < 50; ++i) beta.Write("k" + std::to_string(i), "1");
  Pair pair(&alpha, &beta, 6, [](SessionConfig* c) {
    c->poll_interval_ns = 3600 * kSecond;
    c->ping_interval_ns = 3600 * kSecond;
    c->ping_timeout_ns = 3600 * kSecond;
  });
  ASSERT_TRUE(pair.Converge(1000000));
  const uint64_t received = pair.client().counters().entries_received;
  beta.Write("k7", "2");
  pair.client().RequestTreeNow();
  ASSERT_TRUE(pair.Converge(1000000));
  EXPECT_EQ(pair.client().counters().entries_received, received + 1);
  Slice value;
  ASSERT_TRUE(alpha.tree().Lookup(Slice::FromCString("k7"), &value));
  EXPECT_EQ(Str(value), "2");
}

// The serving host restarts (new tree incarnation): the cursor the
// requester kept is of the old tree, so it gets the whole tree.
TEST(SessionExchangeTest, PeerRestartSendsWholeTree) {
  Host alpha("alpha", nullptr), beta("beta", nullptr);
  for (int i = 0; i < 500; ++i) beta.Write("k" + std::to_string(i), "1");
  {
    Pair pair(&alpha, &beta, 8);
    ASSERT_TRUE(pair.Converge(1000000));
  }
  ASSERT_EQ(alpha.cursors().count("beta"), 1u);
  EXPECT_EQ(alpha.cursors()["beta"].incarnation, beta.tree().incarnation());
  {
    // Reconnect without a restart: nothing is sent again.
    Pair pair(&alpha, &beta, 9);
    ASSERT_TRUE(pair.Converge(1000000));
    EXPECT_EQ(pair.client().counters().entries_received, 0u);
  }
  beta.Restart();
  {
    Pair pair(&alpha, &beta, 10);
    ASSERT_TRUE(pair.Converge(1000000));
    EXPECT_EQ(pair.client().counters().entries_received, 500u);
    EXPECT_EQ(pair.client().counters().entries_applied, 0u);  // duplicates
    EXPECT_EQ(pair.client().tree_cursor().incarnation,
              beta.tree().incarnation());
  }
}

// The connection breaks in the middle of a many-batch answer; the next
// connection asks from the cursor kept after the last batch applied and
// gets the rest, and changes made meanwhile, without loss.
TEST(SessionExchangeTest, CutMidAnswerResumesFromKeptCursor) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    std::set<Version> written;
    Host alpha("alpha", &written), beta("beta", &written);
    std::mt19937_64 rng(seed);
    constexpr int kEntries = 3000;
    for (int i = 0; i < kEntries; ++i) {
      beta.Write(
          "resource-r" + std::to_string(i % 3) + "/k" + std::to_string(i),
          std::string(1 + rng() % 100, 'v'));
    }
    auto small = [](SessionConfig* c) {
      c->max_batch_bytes = kMinBatchBytes;
      c->output_limit = 8192;
    };
    uint64_t first_received = 0;
    {
      Pair pair(&alpha, &beta, seed * 10, small);
      ASSERT_TRUE(pair.RunUntil(
          [&] {
            return pair.client().counters().tree_batches_received >= 5 + seed;
          },
          1000000));
      EXPECT_TRUE(pair.client().tree_request_outstanding());
      first_received = pair.client().counters().entries_received;
      // The pair goes away here: the connection is cut, bytes in flight are
      // lost, alpha keeps its cursor.
    }
    ASSERT_GT(first_received, 0u);
    ASSERT_LT(first_received, static_cast<uint64_t>(kEntries));
    // Changes while disconnected, on both sides.
    for (int i = 0; i < 50; ++i) RandomChange(&beta, rng, 3000);
    for (int i = 0; i < 20; ++i) RandomChange(&alpha, rng, 3000);
    {
      Pair pair(&alpha, &beta, seed * 10 + 1, small);
      ASSERT_TRUE(pair.Converge(2000000)) << pair.client().status().message();
      // Resumed: the second answer carried less than the whole tree.
      EXPECT_LT(pair.client().counters().entries_received,
                static_cast<uint64_t>(beta.tree().size()));
      EXPECT_GE(first_received + pair.client().counters().entries_received,
                static_cast<uint64_t>(kEntries));
    }
    EXPECT_EQ(Listing(alpha.tree()), Listing(beta.tree()));
    for (const Version& v : Listing(alpha.tree())) {
      EXPECT_EQ(written.count(v), 1u) << v;
    }
  }
}

// A peer that stops answering: after ping_interval of silence a Ping goes
// out; after ping_timeout without any frame the session closes.
TEST(SessionExchangeTest, PingTimeoutCloses) {
  Host alpha("alpha", nullptr), beta("beta", nullptr);
  Pair pair(&alpha, &beta, 11);
  ASSERT_TRUE(pair.Converge(100000));
  // Nothing from beta reaches alpha any more.
  Session& a = pair.client();
  const uint64_t start = g_mono_ns;
  while (!a.closed() && g_mono_ns < start + 60 * kSecond) {
    const uint64_t next = a.NextDeadlineNs();
    ASSERT_NE(next, UINT64_MAX);
    g_mono_ns = std::max(g_mono_ns, next);
    (void)a.OnTick(g_mono_ns);
  }
  ASSERT_TRUE(a.closed());
  EXPECT_STREQ(a.status().message(), "session: peer did not answer ping");
  EXPECT_EQ(a.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(a.counters().pings_sent, 1u);
  // The ping went out a ping interval (5 s) after the last frame, the close
  // a ping timeout (10 s) after the ping.
  EXPECT_LE(g_mono_ns - start, 15 * kSecond);
  EXPECT_GE(g_mono_ns - start, 14 * kSecond);
}

// With long poll intervals the link is idle, so pings flow and are answered.
TEST(SessionExchangeTest, PingsAnsweredKeepTheLinkOpen) {
  Host alpha("alpha", nullptr), beta("beta", nullptr);
  Pair pair(&alpha, &beta, 12, [](SessionConfig* c) {
    c->poll_interval_ns = 3600 * kSecond;
    c->ping_interval_ns = 200 * kMs;
    c->ping_timeout_ns = 60 * kSecond;
  });
  ASSERT_TRUE(pair.Converge(100000));
  ASSERT_TRUE(pair.RunUntil(
      [&] {
        return pair.client().counters().pongs_received >= 3 &&
               pair.server().counters().pongs_received >= 3;
      },
      1000000));
  EXPECT_TRUE(pair.client().open());
  EXPECT_TRUE(pair.server().open());
}

// Flips one bit of the byte stream of one side: in odd runs at a random
// stream offset (mostly payload bytes), in even runs in the header of a
// random frame. Frame boundaries are followed on an undamaged copy.
class BitFlipper {
 public:
  BitFlipper(uint64_t seed, int side)
      : rng_(seed), side_(side), in_header_(seed % 2 == 0) {
    target_ = in_header_ ? rng_() % 40 : rng_() % 6000;
  }

  bool flipped() const { return flipped_; }

  void OnWire(int side, Raw* bytes, size_t first_new) {
    if (side != side_ || flipped_) return;
    const uint64_t chunk_start = stream_.size();
    stream_.insert(stream_.end(), bytes->begin() + first_new, bytes->end());
    if (!in_header_) {
      if (target_ < stream_.size())
        Flip(bytes, first_new, target_ - chunk_start);
      return;
    }
    // Walk the headers that are complete now.
    while (next_header_ + wire::kFrameHeaderSize <= stream_.size()) {
      const uint64_t header = next_header_;
      next_header_ +=
          wire::kFrameHeaderSize + DecodeFixed32(stream_.data() + header + 8);
      if (frames_++ != target_) continue;
      if (header < chunk_start) {
        ++target_;  // partly sent already: take the next frame
        continue;
      }
      Flip(bytes, first_new,
           header - chunk_start + rng_() % wire::kFrameHeaderSize);
      return;
    }
  }

 private:
  void Flip(Raw* bytes, size_t first_new, uint64_t offset_in_chunk) {
    (*bytes)[first_new + offset_in_chunk] ^=
        static_cast<uint8_t>(1u << (rng_() % 8));
    flipped_ = true;
  }

  std::mt19937_64 rng_;
  int side_;
  bool in_header_;
  uint64_t target_;
  Raw stream_;
  uint64_t next_header_ = 0;
  uint64_t frames_ = 0;
  bool flipped_ = false;
};

// One bit flipped in the stream of one side: the receiving session closes
// with a clear status, and no damaged entry is ever applied.
TEST(SessionExchangeTest, BitFlipsCloseAndNeverApplyDamage) {
  std::map<std::string, int> reasons;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(seed);
    std::set<Version> written;
    Host alpha("alpha", &written), beta("beta", &written);
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 200; ++i) RandomChange(&alpha, rng, 300);
    for (int i = 0; i < 200; ++i) RandomChange(&beta, rng, 300);
    Pair pair(&alpha, &beta, seed,
              [](SessionConfig* c) { c->max_batch_bytes = kMinBatchBytes; });
    const int from = static_cast<int>(seed / 2 % 2);
    BitFlipper flipper(seed, from);
    pair.on_wire = [&](int side, Raw* bytes, size_t first_new) {
      flipper.OnWire(side, bytes, first_new);
    };
    Session& victim = pair.session(1 - from);
    // Polls keep the stream growing, so the flip happens at some point.
    ASSERT_TRUE(pair.RunUntil([&] { return victim.closed(); }, 3000000))
        << pair.session(from).status().message();
    ASSERT_TRUE(flipper.flipped());
    const std::string why = victim.status().message();
    ++reasons[why];
    EXPECT_TRUE(why.rfind("frame: ", 0) == 0 ||
                why == "session: peer did not answer ping" ||
                why == "session: handshake did not complete in time")
        << why;
    for (Host* h : {&alpha, &beta}) {
      for (const Version& v : Listing(h->tree())) {
        EXPECT_EQ(written.count(v), 1u) << v;
      }
    }
  }
  // Both kinds of damage occurred: payload (CRC) and header.
  EXPECT_GT(reasons["frame: CRC mismatch"], 0);
  EXPECT_GT(reasons.size(), 3u);
}

// Acknowledgements travel with the requests: once both sides have asked
// again after applying a deletion, each may purge the tombstones, and
// further exchange brings nothing back.
TEST(SessionExchangeTest, PeerSeenLetsBothSidesPurgeTombstones) {
  Host alpha("alpha", nullptr), beta("beta", nullptr);
  for (int i = 0; i < 40; ++i) alpha.Write("k" + std::to_string(i), "1");
  for (int i = 0; i < 40; ++i) beta.Write("j" + std::to_string(i), "1");
  Pair pair(&alpha, &beta, 13);
  ASSERT_TRUE(pair.Converge(1000000));
  for (int i = 0; i < 40; i += 2) alpha.Remove("k" + std::to_string(i));
  for (int i = 0; i < 40; i += 3) beta.Remove("j" + std::to_string(i));
  ASSERT_TRUE(pair.Converge(1000000));
  // Two more requests each way: the first fetches the echoes, the second
  // acknowledges every change.
  ASSERT_TRUE(SettleEchoes(&pair));
  EXPECT_EQ(alpha.tree().PeerAcked(Slice::FromCString("beta")),
            alpha.tree().cursor().change);
  EXPECT_EQ(beta.tree().PeerAcked(Slice::FromCString("alpha")),
            beta.tree().cursor().change);
  tree::HostName peer_of_alpha, peer_of_beta;
  ASSERT_TRUE(peer_of_alpha.Assign(Slice::FromCString("beta")).ok());
  ASSERT_TRUE(peer_of_beta.Assign(Slice::FromCString("alpha")).ok());
  EXPECT_EQ(alpha.tree().PurgeTombstones(&peer_of_alpha, 1), 20u + 14u);
  EXPECT_EQ(beta.tree().PurgeTombstones(&peer_of_beta, 1), 20u + 14u);
  EXPECT_FALSE(HasTombstone(alpha.tree()));
  EXPECT_EQ(alpha.tree().size(), 20u + 26u);
  // Later polls resurrect nothing.
  const uint64_t until = g_mono_ns + 3 * kSecond;
  ASSERT_TRUE(pair.RunUntil([&] { return g_mono_ns >= until && pair.Quiet(); },
                            1000000));
  EXPECT_EQ(Listing(alpha.tree()), Listing(beta.tree()));
  EXPECT_EQ(alpha.tree().size(), 20u + 26u);
  EXPECT_FALSE(HasTombstone(beta.tree()));
}

}  // namespace
}  // namespace test
}  // namespace peer
}  // namespace mars
