// The block-sync service of Session (docu/wire-protocol.md, "Sessions" and
// "Sync messages"), working: two sessions back to back, one asking for
// digests and blocks, the other serving them from an in-memory device
// through the caller's queue; answers matched in order across both kinds;
// what RequestDigests / RequestBlocks refuse on our side; random requests
// both ways under random chunking beside the tree exchange. The close
// reasons of the service are in session_sync_close_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/peer/session.h"
#include "core/peer/session_sync_test_util.h"
#include "core/peer/session_test_util.h"
#include "core/wire/messages.h"

namespace mars {
namespace peer {
namespace test {
namespace {

TEST_F(SessionSyncTest, DigestsAndBlocksRoundTrip) {
  Connect();
  const Slice r0 = Slice::FromCString(kResource);
  // The whole device in 64 KiB blocks, the last one partial (1536 bytes).
  ASSERT_TRUE(alpha().RequestDigests(r0, 0, device_.size(), 65536).ok());
  ASSERT_TRUE(alpha().RequestBlocks(r0, 8192, 8192).ok());
  // The largest block request, ending at the device's end.
  ASSERT_TRUE(alpha()
                  .RequestBlocks(r0, device_.size() - wire::kMaxDataChunk,
                                 wire::kMaxDataChunk)
                  .ok());
  EXPECT_EQ(alpha().sync_requests_outstanding(), 3u);
  EXPECT_EQ(alpha().counters().sync_requests_sent, 3u);
  link_->Flush();

  SyncAsk ask;
  SyncGot got;
  EXPECT_FALSE(alpha().TakeSyncReply(&got));  // nothing answered yet
  EXPECT_EQ(ServeAll(&beta(), device_), 3);
  EXPECT_FALSE(beta().TakeSyncRequest(&ask));
  link_->Flush();
  ASSERT_TRUE(alpha().open()) << alpha().status().message();
  ASSERT_TRUE(beta().open()) << beta().status().message();
  EXPECT_EQ(alpha().sync_requests_outstanding(), 0u);

  ASSERT_TRUE(alpha().TakeSyncReply(&got));
  ExpectAnswer(got, {Kind::kDigests, kResource, 0, device_.size(), 65536},
               device_);
  EXPECT_EQ(got.payload.size(), 17u * 32);
  ASSERT_TRUE(alpha().TakeSyncReply(&got));
  ExpectAnswer(got, {Kind::kBlocks, kResource, 8192, 8192, 0}, device_);
  ASSERT_TRUE(alpha().TakeSyncReply(&got));
  ExpectAnswer(got,
               {Kind::kBlocks, kResource, device_.size() - wire::kMaxDataChunk,
                wire::kMaxDataChunk, 0},
               device_);
  EXPECT_FALSE(alpha().TakeSyncReply(&got));

  EXPECT_EQ(alpha().counters().sync_digests_received, 17u);
  EXPECT_EQ(alpha().counters().sync_bytes_received,
            8192u + wire::kMaxDataChunk);
  EXPECT_EQ(beta().counters().sync_requests_served, 3u);
  EXPECT_EQ(beta().counters().sync_bytes_sent, 8192u + wire::kMaxDataChunk);
  EXPECT_EQ(beta().counters().sync_requests_sent, 0u);
}

TEST_F(SessionSyncTest, BothSidesServeOnOneConnection) {
  link_ = std::make_unique<Link>(&alpha_, &beta_, 3, [](int, SessionConfig* c) {
    c->hello.features = kSyncFeatures;
    c->serve_sync = true;
  });
  const Slice r0 = Slice::FromCString(kResource);
  ASSERT_TRUE(alpha().RequestBlocks(r0, 0, 4096).ok());
  ASSERT_TRUE(beta().RequestDigests(r0, 4096, 4096, 512).ok());
  link_->Flush();
  EXPECT_EQ(ServeAll(&alpha(), device_), 1);
  EXPECT_EQ(ServeAll(&beta(), device_), 1);
  link_->Flush();
  SyncGot got;
  ASSERT_TRUE(alpha().TakeSyncReply(&got));
  ExpectAnswer(got, {Kind::kBlocks, kResource, 0, 4096, 0}, device_);
  ASSERT_TRUE(beta().TakeSyncReply(&got));
  ExpectAnswer(got, {Kind::kDigests, kResource, 4096, 4096, 512}, device_);
  EXPECT_EQ(beta().counters().sync_digests_received, 8u);
}

TEST_F(SessionSyncTest, UnavailableAnswers) {
  Connect();
  const Slice detached = Slice::FromCString(kDetached);
  ASSERT_TRUE(alpha().RequestDigests(detached, 65536, 65536, 4096).ok());
  ASSERT_TRUE(alpha().RequestBlocks(detached, 512, 1024).ok());
  link_->Flush();
  EXPECT_EQ(ServeAll(&beta(), device_), 2);
  link_->Flush();
  SyncGot got;
  ASSERT_TRUE(alpha().TakeSyncReply(&got));
  ExpectAnswer(got, {Kind::kDigests, kDetached, 65536, 65536, 4096}, device_);
  ASSERT_TRUE(alpha().TakeSyncReply(&got));
  // The request's length, though no data came.
  ExpectAnswer(got, {Kind::kBlocks, kDetached, 512, 1024, 0}, device_);
  EXPECT_EQ(alpha().counters().sync_digests_received, 0u);
  EXPECT_EQ(alpha().counters().sync_bytes_received, 0u);
  EXPECT_EQ(beta().counters().sync_requests_served, 2u);
  EXPECT_EQ(beta().counters().sync_bytes_sent, 0u);
  EXPECT_TRUE(alpha().open());
}

TEST_F(SessionSyncTest, AnswersKeepTheOrderAcrossKinds) {
  Connect();
  const std::vector<Asked> asked = {
      {Kind::kDigests, kResource, 0, 4096, 512},
      {Kind::kBlocks, kResource, 0, 4096, 0},
      {Kind::kBlocks, kResource, 4096, 512, 0},
      {Kind::kDigests, kResource, 8192, 16384, 8192},
      {Kind::kBlocks, kDetached, 0, 512, 0},
      {Kind::kDigests, kDetached, 0, 512, 512},
  };
  for (const Asked& a : asked) {
    const Slice resource = S(a.resource);
    const Status s =
        a.kind == Kind::kDigests
            ? alpha().RequestDigests(resource, a.offset, a.length, a.block_size)
            : alpha().RequestBlocks(resource, a.offset,
                                    static_cast<uint32_t>(a.length));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  link_->Flush();
  // The server takes them in the order sent ...
  std::vector<SyncAsk> taken;
  SyncAsk ask;
  while (beta().TakeSyncRequest(&ask)) taken.push_back(std::move(ask));
  ASSERT_EQ(taken.size(), asked.size());
  for (size_t i = 0; i < asked.size(); ++i) {
    EXPECT_EQ(taken[i].kind, asked[i].kind) << i;
    EXPECT_EQ(ToString(taken[i].resource), asked[i].resource) << i;
    EXPECT_EQ(taken[i].offset, asked[i].offset) << i;
    EXPECT_EQ(taken[i].length, asked[i].length) << i;
    EXPECT_EQ(taken[i].block_size, asked[i].block_size) << i;
  }
  // ... and answers them in that order, flushing between answers so each
  // arrives on its own.
  for (const SyncAsk& t : taken) {
    const Slice resource(t.resource.data(), t.resource.size());
    const bool available = Str(resource) == kResource;
    Status s;
    if (t.kind == Kind::kDigests) {
      const Raw digests =
          available ? Digests(device_, t.offset, t.length, t.block_size)
                    : Raw();
      wire::DigestReply reply;
      reply.resource = resource;
      reply.offset = t.offset;
      reply.length = t.length;
      reply.block_size = t.block_size;
      reply.flags = available ? 0 : wire::kSyncUnavailable;
      reply.log_number = available ? BoundNumber(t.offset) : 0;
      reply.log_offset = available ? BoundOffset(t.offset) : 0;
      reply.digests = Slice(digests.data(), digests.size());
      s = beta().SendDigestReply(reply);
    } else {
      wire::BlockData data;
      data.resource = resource;
      data.offset = t.offset;
      data.flags = available ? 0 : wire::kSyncUnavailable;
      data.log_number = available ? BoundNumber(t.offset) : 0;
      data.log_offset = available ? BoundOffset(t.offset) : 0;
      if (available) data.data = Slice(device_.data() + t.offset, t.length);
      s = beta().SendBlockData(data);
    }
    ASSERT_TRUE(s.ok()) << s.message();
    link_->Flush();
  }
  SyncGot got;
  for (const Asked& a : asked) {
    ASSERT_TRUE(alpha().TakeSyncReply(&got));
    ExpectAnswer(got, a, device_);
  }
  EXPECT_FALSE(alpha().TakeSyncReply(&got));
  EXPECT_TRUE(alpha().open());
}

// ---- Our side: what RequestDigests / RequestBlocks refuse ----

TEST_F(SessionSyncTest, RequestLimitOnOurSide) {
  Connect();
  const Slice r0 = Slice::FromCString(kResource);
  for (size_t i = 0; i < kMaxSyncRequests; ++i) {
    const Status s = i % 2 == 0 ? alpha().RequestDigests(r0, 0, 4096, 4096)
                                : alpha().RequestBlocks(r0, 0, 4096);
    ASSERT_TRUE(s.ok()) << i << ": " << s.message();
  }
  EXPECT_EQ(alpha().sync_requests_outstanding(), kMaxSyncRequests);
  EXPECT_EQ(alpha().RequestBlocks(r0, 0, 4096).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(alpha().RequestDigests(r0, 0, 4096, 4096).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(alpha().counters().sync_requests_sent, kMaxSyncRequests);
  link_->Flush();
  // One answer frees one slot.
  SyncAsk ask;
  ASSERT_TRUE(beta().TakeSyncRequest(&ask));
  const Raw digests = Digests(device_, 0, 4096, 4096);
  wire::DigestReply reply;
  reply.resource = r0;
  reply.length = 4096;
  reply.block_size = 4096;
  reply.digests = Slice(digests.data(), digests.size());
  ASSERT_TRUE(beta().SendDigestReply(reply).ok());
  link_->Flush();
  EXPECT_EQ(alpha().sync_requests_outstanding(), kMaxSyncRequests - 1);
  EXPECT_TRUE(alpha().RequestBlocks(r0, 0, 4096).ok());
  EXPECT_EQ(alpha().RequestBlocks(r0, 0, 4096).code(),
            StatusCode::kUnavailable);
  link_->Flush();
  EXPECT_TRUE(alpha().open());
  EXPECT_TRUE(beta().open());
}

TEST_F(SessionSyncTest, BadRequestsAreRefusedAndTheSessionStaysOpen) {
  Connect();
  const Slice r0 = Slice::FromCString(kResource);
  const std::string long_name(wire::kMaxResourceNameSize + 1, 'r');
  struct Case {
    Status status;
    const char* message;
  };
  const Case cases[] = {
      {alpha().RequestDigests(Slice(), 0, 4096, 4096),
       "sync: resource name empty or too long"},
      {alpha().RequestBlocks(S(long_name), 0, 4096),
       "sync: resource name empty or too long"},
      {alpha().RequestDigests(r0, 0, 4096, 3000),
       "digests: block size not a power of two in range"},
      {alpha().RequestDigests(r0, 512, 4096, 4096),
       "digests: offset not a multiple of the block size"},
      {alpha().RequestDigests(r0, 0, 0, 4096), "digests: length out of range"},
      {alpha().RequestDigests(r0, 0, 4096ull * wire::kMaxDigestsPerReply + 512,
                              4096),
       "digests: length out of range"},
      {alpha().RequestDigests(r0, UINT64_MAX - 4095, 8192, 4096),
       "digests: range overflows 64 bits"},
      {alpha().RequestBlocks(r0, 100, 512),
       "blocks: offset not sector aligned"},
      {alpha().RequestBlocks(r0, 0, 0),
       "blocks: length not a sector multiple in range"},
      {alpha().RequestBlocks(r0, 0, 1000),
       "blocks: length not a sector multiple in range"},
      {alpha().RequestBlocks(r0, 0, wire::kMaxDataChunk + 512),
       "blocks: length not a sector multiple in range"},
      {alpha().RequestBlocks(r0, UINT64_MAX - 511, 1024),
       "blocks: range overflows 64 bits"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_STREQ(c.status.message(), c.message);
  }
  EXPECT_EQ(alpha().sync_requests_outstanding(), 0u);
  EXPECT_EQ(alpha().counters().sync_requests_sent, 0u);
  // The largest digest request is fine.
  EXPECT_TRUE(
      alpha()
          .RequestDigests(r0, 0, 4096ull * wire::kMaxDigestsPerReply, 4096)
          .ok());
  link_->Flush();
  EXPECT_TRUE(alpha().open());
  EXPECT_TRUE(beta().open());
}

TEST_F(SessionSyncTest, RequestsNeedAnOpenSessionAndTheAgreedFeature) {
  const Slice r0 = Slice::FromCString(kResource);
  // Only alpha sets the feature: not agreed.
  Connect(kSyncFeatures, wire::kFeaturePing);
  EXPECT_EQ(alpha().agreement().features & wire::kFeatureBlockSyncServe, 0u);
  EXPECT_EQ(alpha().RequestDigests(r0, 0, 4096, 4096).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(alpha().RequestBlocks(r0, 0, 4096).code(),
            StatusCode::kUnavailable);
  // Closed.
  alpha().Close(Status::Ok());
  Connect();
  alpha().Close(Status::Ok());
  EXPECT_EQ(alpha().RequestBlocks(r0, 0, 4096).code(),
            StatusCode::kUnavailable);
  // Before authentication.
  Session fresh(alpha_.Config(wire::Role::kClient, 9, kSyncFeatures),
                &alpha_.tree(), &alpha_.clock());
  ASSERT_TRUE(fresh.Start(g_mono_ns).ok());
  EXPECT_EQ(fresh.RequestDigests(r0, 0, 4096, 4096).code(),
            StatusCode::kUnavailable);
}

// ---- Random chunking, both directions, against the tree exchange ----

// Both hosts serve and ask at once; bytes move in random chunks with random
// timer runs (Pair). Every answer arrives intact and in order.
TEST(SessionSyncExchangeTest, RandomRequestsBothWays) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed);
    std::set<Version> written;
    Host alpha("alpha", &written);
    Host beta("beta", &written);
    alpha.Write("resource-r0/data-alpha", "a");
    beta.Write("resource-r0/data-beta", "b");
    Pair pair(&alpha, &beta, seed, [](SessionConfig* c) {
      c->hello.features = kSyncFeatures;
      c->serve_sync = true;
    });
    ASSERT_TRUE(pair.Open());
    const Raw devices[2] = {MakeDevice(256 * 1024 + 512, seed * 10),
                            MakeDevice(256 * 1024 + 512, seed * 10 + 1)};
    std::deque<Asked> asked[2];
    int sent[2] = {0, 0};
    int received[2] = {0, 0};
    constexpr int kPerSide = 40;
    std::mt19937_64& rng = pair.rng();
    auto ask_some = [&](int side) {
      Session& s = pair.session(side);
      const uint64_t size = devices[1 - side].size();
      while (sent[side] < kPerSide &&
             s.sync_requests_outstanding() < kMaxSyncRequests &&
             rng() % 3 != 0) {
        Asked a;
        a.resource = rng() % 5 == 0 ? kDetached : kResource;
        Status st;
        if (rng() % 2 == 0) {
          a.kind = Kind::kDigests;
          a.block_size = 512u << (rng() % 8);  // 512 .. 64 KiB
          const uint64_t blocks = (size + a.block_size - 1) / a.block_size;
          a.offset = (rng() % blocks) * a.block_size;
          a.length = std::min<uint64_t>(size - a.offset,
                                        (1 + rng() % 16) * a.block_size);
          st =
              s.RequestDigests(S(a.resource), a.offset, a.length, a.block_size);
        } else {
          a.kind = Kind::kBlocks;
          a.block_size = 0;
          const uint64_t sectors = size / 512;
          a.offset = (rng() % sectors) * 512;
          a.length =
              std::min<uint64_t>(size - a.offset, (1 + rng() % 128) * 512);
          st = s.RequestBlocks(S(a.resource), a.offset,
                               static_cast<uint32_t>(a.length));
        }
        ASSERT_TRUE(st.ok()) << st.message();
        asked[side].push_back(a);
        ++sent[side];
      }
    };
    auto take_answers = [&](int side) {
      SyncGot got;
      while (pair.session(side).TakeSyncReply(&got)) {
        ASSERT_FALSE(asked[side].empty());
        ExpectAnswer(got, asked[side].front(), devices[1 - side]);
        asked[side].pop_front();
        ++received[side];
      }
    };
    for (int step = 0; step < 400000; ++step) {
      if (received[0] == kPerSide && received[1] == kPerSide) break;
      ASSERT_TRUE(pair.client().open()) << pair.client().status().message();
      ASSERT_TRUE(pair.server().open()) << pair.server().status().message();
      const int side = static_cast<int>(rng() % 2);
      switch (rng() % 4) {
        case 0:
          ask_some(side);
          break;
        case 1:
          // Serve some or all of what is queued (answers in order taken).
          if (rng() % 2 == 0) {
            ServeAll(&pair.session(side), devices[side]);
          }
          break;
        case 2:
          take_answers(side);
          break;
        default:
          pair.Step();
      }
    }
    EXPECT_EQ(received[0], kPerSide);
    EXPECT_EQ(received[1], kPerSide);
    // The tree exchange went on alongside.
    EXPECT_TRUE(pair.Converge(100000));
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(pair.session(i).counters().sync_requests_sent,
                static_cast<uint64_t>(kPerSide));
      EXPECT_EQ(pair.session(i).counters().sync_requests_served,
                static_cast<uint64_t>(kPerSide));
      EXPECT_EQ(pair.session(i).sync_requests_outstanding(), 0u);
    }
  }
}

}  // namespace
}  // namespace test
}  // namespace peer
}  // namespace mars
