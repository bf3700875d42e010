// The block-sync service of Session (docu/wire-protocol.md, "Sessions" and
// "Sync messages"): two sessions back to back, one asking for digests and
// blocks, the other serving them from an in-memory device through the
// caller's queue; answers matched in order across both kinds; every close
// reason of the service; the limits on both sides.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/peer/session.h"
#include "core/peer/session_test_util.h"
#include "core/platform.h"
#include "core/wire/messages.h"

namespace mars {
namespace peer {
namespace test {
namespace {

using Kind = SyncAsk::Kind;

constexpr uint64_t kSyncFeatures =
    wire::kFeaturePing | wire::kFeatureBlockSyncServe;
constexpr char kResource[] = "r0";
// A resource the serving side answers "unavailable" for.
constexpr char kDetached[] = "r9";

std::string ToString(const Bytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// A data device: deterministic pseudo-random bytes.
Raw MakeDevice(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Raw device(size);
  for (uint8_t& b : device) b = static_cast<uint8_t>(rng());
  return device;
}

// The digests of [offset, offset + length) in blocks of block_size, the
// last block possibly partial.
Raw Digests(const Raw& device, uint64_t offset, uint64_t length,
            uint32_t block_size) {
  Raw out;
  for (uint64_t at = offset; at < offset + length; at += block_size) {
    const uint64_t size = std::min<uint64_t>(block_size, offset + length - at);
    uint8_t digest[platform::kSha256Bytes];
    platform::Sha256(device.data() + at, size, digest);
    out.insert(out.end(), digest, digest + sizeof(digest));
  }
  return out;
}

// The log bound the test server reports for a range: any deterministic
// function of the request, so the requester can check it arrived intact.
uint64_t BoundNumber(uint64_t offset) { return 1 + offset % 7; }
uint64_t BoundOffset(uint64_t offset) { return 4096 + offset * 3; }

// Serves every request `session` has queued: from `device` for kResource,
// unavailable for any other resource. Returns the number answered.
int ServeAll(Session* session, const Raw& device) {
  int served = 0;
  SyncAsk ask;
  while (session->TakeSyncRequest(&ask)) {
    const Slice resource(ask.resource.data(), ask.resource.size());
    const bool available = Str(resource) == kResource;
    EXPECT_LE(ask.offset + ask.length, device.size());
    Status s;
    if (ask.kind == Kind::kDigests) {
      const Raw digests =
          available ? Digests(device, ask.offset, ask.length, ask.block_size)
                    : Raw();
      wire::DigestReply reply;
      reply.resource = resource;
      reply.offset = ask.offset;
      reply.length = ask.length;
      reply.block_size = ask.block_size;
      if (available) {
        reply.log_number = BoundNumber(ask.offset);
        reply.log_offset = BoundOffset(ask.offset);
      } else {
        reply.flags = wire::kSyncUnavailable;
      }
      reply.digests = Slice(digests.data(), digests.size());
      s = session->SendDigestReply(reply);
    } else {
      EXPECT_EQ(ask.block_size, 0u);
      wire::BlockData data;
      data.resource = resource;
      data.offset = ask.offset;
      if (available) {
        data.log_number = BoundNumber(ask.offset);
        data.log_offset = BoundOffset(ask.offset);
        data.data = Slice(device.data() + ask.offset, ask.length);
      } else {
        data.flags = wire::kSyncUnavailable;
      }
      s = session->SendBlockData(data);
    }
    EXPECT_TRUE(s.ok()) << s.message();
    ++served;
  }
  return served;
}

// What a requester asked, to check the answer against.
struct Asked {
  Kind kind;
  std::string resource;
  uint64_t offset, length;
  uint32_t block_size;
};

// Checks one answer against the request and the server's device.
void ExpectAnswer(const SyncGot& got, const Asked& asked, const Raw& device) {
  EXPECT_EQ(got.kind, asked.kind);
  EXPECT_EQ(ToString(got.resource), asked.resource);
  EXPECT_EQ(got.offset, asked.offset);
  EXPECT_EQ(got.length, asked.length);
  EXPECT_EQ(got.block_size, asked.block_size);
  if (asked.resource != kResource) {
    EXPECT_TRUE(got.unavailable);
    EXPECT_EQ(got.log_number, 0u);
    EXPECT_EQ(got.log_offset, 0u);
    EXPECT_EQ(got.payload.size(), 0u);
    return;
  }
  EXPECT_FALSE(got.unavailable);
  EXPECT_EQ(got.log_number, BoundNumber(asked.offset));
  EXPECT_EQ(got.log_offset, BoundOffset(asked.offset));
  const Raw expected =
      asked.kind == Kind::kDigests
          ? Digests(device, asked.offset, asked.length, asked.block_size)
          : Raw(device.begin() + asked.offset,
                device.begin() + asked.offset + asked.length);
  EXPECT_TRUE(Raw(got.payload.data(),
                  got.payload.data() + got.payload.size()) == expected)
      << "payload of " << got.payload.size() << " bytes differs";
}

// alpha (client, side 0) and beta (server, side 1), both speaking the sync
// feature; beta serves sync unless told otherwise.
class SessionSyncTest : public ::testing::Test {
 protected:
  SessionSyncTest() : alpha_("alpha", nullptr), beta_("beta", nullptr) {}

  void Connect(uint64_t alpha_features = kSyncFeatures,
               uint64_t beta_features = kSyncFeatures,
               bool beta_serves = true) {
    link_ = std::make_unique<Link>(
        &alpha_, &beta_, 1, [&](int side, SessionConfig* c) {
          c->hello.features = side == 0 ? alpha_features : beta_features;
          c->serve_sync = side == 1 && beta_serves;
        });
    ASSERT_TRUE(alpha().open()) << alpha().status().message();
    ASSERT_TRUE(beta().open()) << beta().status().message();
  }

  Session& alpha() { return link_->client(); }
  Session& beta() { return link_->server(); }

  // `closed` closed with `message` and `code`, and told `other`, which
  // closed on receiving the Error.
  void ExpectClosed(Session& closed, Session& other, const char* message,
                    StatusCode code) {
    ASSERT_TRUE(closed.closed());
    EXPECT_STREQ(closed.status().message(), message);
    EXPECT_EQ(closed.status().code(), code);
    ASSERT_TRUE(other.closed());
    EXPECT_STREQ(other.status().message(), "session: peer reported an error");
    EXPECT_EQ(Str(other.peer_error_text()), message);
    EXPECT_EQ(other.peer_error_code(), static_cast<uint32_t>(code));
  }

  // alpha asks beta for digests of [0, 8192) in 4096-byte blocks; beta
  // takes the request. Returns it.
  SyncAsk AskAndTakeDigests() {
    EXPECT_TRUE(
        alpha()
            .RequestDigests(Slice::FromCString(kResource), 0, 8192, 4096)
            .ok());
    link_->Flush();
    SyncAsk ask;
    EXPECT_TRUE(beta().TakeSyncRequest(&ask));
    return ask;
  }

  Host alpha_;
  Host beta_;
  std::unique_ptr<Link> link_;
  const Raw device_ = MakeDevice((1u << 20) + 3 * 512, 7);
};

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

// ---- Close reasons on the requesting side ----

TEST_F(SessionSyncTest, UnsolicitedRepliesClose) {
  const std::string block(512, 'u');
  for (int kind = 0; kind < 2; ++kind) {
    SCOPED_TRACE(kind);
    Connect();
    if (kind == 0) {
      const Raw digests = Digests(device_, 0, 512, 512);
      wire::DigestReply reply;
      reply.resource = Slice::FromCString(kResource);
      reply.length = 512;
      reply.block_size = 512;
      reply.digests = Slice(digests.data(), digests.size());
      link_->Inject(0, reply);
    } else {
      wire::BlockData data;
      data.resource = Slice::FromCString(kResource);
      data.data = S(block);
      link_->Inject(0, data);
    }
    ExpectClosed(alpha(), beta(),
                 "session: logfile or sync reply nobody asked for",
                 StatusCode::kInvalidArgument);
  }
}

TEST_F(SessionSyncTest, AnswerToAnotherRequestCloses) {
  // alpha asks for digests of [0, 8192) in 4096-byte blocks, then blocks
  // [4096, 5120) of r0; each case answers the oldest with something else.
  const Raw two = Digests(device_, 0, 8192, 4096);
  const Raw four = Digests(device_, 0, 8192, 2048);
  const Raw one = Digests(device_, 0, 4096, 4096);
  const std::string bytes(1024, 'b');
  const std::string fewer(512, 'b');
  auto reply = [&](const char* resource, uint64_t offset, uint64_t length,
                   uint32_t block_size, const Raw& digests) {
    wire::DigestReply r;
    r.resource = Slice::FromCString(resource);
    r.offset = offset;
    r.length = length;
    r.block_size = block_size;
    r.digests = Slice(digests.data(), digests.size());
    return EncodeFrame(r);
  };
  auto data = [&](const char* resource, uint64_t offset,
                  const std::string& payload, bool unavailable = false) {
    wire::BlockData d;
    d.resource = Slice::FromCString(resource);
    d.offset = offset;
    if (unavailable) {
      d.flags = wire::kSyncUnavailable;
    } else {
      d.data = S(payload);
    }
    return EncodeFrame(d);
  };
  struct Case {
    const char* name;
    bool answer_first;  // answer the digest request correctly first
    Raw frame;
  };
  const Case cases[] = {
      {"other resource", false, reply("r1", 0, 8192, 4096, two)},
      {"other offset", false, reply(kResource, 8192, 8192, 4096, two)},
      {"other length", false, reply(kResource, 0, 4096, 4096, one)},
      {"other block size", false, reply(kResource, 0, 8192, 2048, four)},
      {"block-data for a digest request", false, data(kResource, 0, bytes)},
      {"unavailable block-data for a digest request", false,
       data(kResource, 0, bytes, true)},
      {"digest-reply for a block request", true,
       reply(kResource, 4096, 1024, 1024, one)},
      {"block-data of another resource", true, data("r1", 4096, bytes)},
      {"block-data at another offset", true, data(kResource, 4608, bytes)},
      {"block-data shorter than asked", true, data(kResource, 4096, fewer)},
      {"unavailable block-data of another resource", true,
       data("r1", 4096, bytes, true)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Connect();
    const Slice r0 = Slice::FromCString(kResource);
    ASSERT_TRUE(alpha().RequestDigests(r0, 0, 8192, 4096).ok());
    ASSERT_TRUE(alpha().RequestBlocks(r0, 4096, 1024).ok());
    link_->Flush();
    if (c.answer_first) {
      link_->Inject(0, [&] {
        wire::DigestReply r;
        r.resource = r0;
        r.length = 8192;
        r.block_size = 4096;
        r.digests = Slice(two.data(), two.size());
        return r;
      }());
      ASSERT_TRUE(alpha().open()) << alpha().status().message();
      EXPECT_EQ(alpha().sync_requests_outstanding(), 1u);
    }
    (void)alpha().OnBytes(Slice(c.frame.data(), c.frame.size()), g_mono_ns);
    link_->Flush();
    ExpectClosed(alpha(), beta(),
                 "session: sync reply does not answer the request outstanding",
                 StatusCode::kInvalidArgument);
  }
}

TEST_F(SessionSyncTest, MalformedReplyCloses) {
  Connect();
  ASSERT_TRUE(
      alpha().RequestBlocks(Slice::FromCString(kResource), 0, 512).ok());
  link_->Flush();
  // An unavailable block-data with a log bound: the codec refuses it.
  wire::BlockData d;
  d.resource = Slice::FromCString(kResource);
  d.flags = wire::kSyncUnavailable;
  Raw frame = EncodeFrame(d);
  Raw payload(frame.begin() + wire::kFrameHeaderSize, frame.end());
  payload[13] = 1;  // log_number, after "r0", offset and flags
  Bytes rebuilt;
  wire::FrameEncoder encoder(&rebuilt);
  ASSERT_TRUE(encoder
                  .Append(static_cast<uint16_t>(wire::MessageType::kBlockData),
                          Slice(payload.data(), payload.size()))
                  .ok());
  (void)alpha().OnBytes(AsSlice(rebuilt), g_mono_ns);
  link_->Flush();
  ExpectClosed(alpha(), beta(),
               "block-data: unavailable answer with a log bound",
               StatusCode::kInvalidArgument);
}

// ---- Close reasons on the serving side ----

TEST_F(SessionSyncTest, RequestWithoutTheAgreedFeatureCloses) {
  for (int kind = 0; kind < 2; ++kind) {
    SCOPED_TRACE(kind);
    // beta would serve, but alpha does not speak the feature.
    Connect(wire::kFeaturePing, kSyncFeatures);
    if (kind == 0) {
      wire::DigestRequest request;
      request.resource = Slice::FromCString(kResource);
      request.length = 4096;
      request.block_size = 4096;
      link_->Inject(1, request);
    } else {
      wire::BlockRequest request;
      request.resource = Slice::FromCString(kResource);
      request.length = 4096;
      link_->Inject(1, request);
    }
    ExpectClosed(beta(), alpha(),
                 "session: request for a service whose feature was not agreed",
                 StatusCode::kInvalidArgument);
  }
}

TEST_F(SessionSyncTest, RequestNotServedCloses) {
  for (int kind = 0; kind < 2; ++kind) {
    SCOPED_TRACE(kind);
    Connect(kSyncFeatures, kSyncFeatures, /*beta_serves=*/false);
    const Slice r0 = Slice::FromCString(kResource);
    // The feature is agreed, so alpha may ask; beta does not serve.
    ASSERT_TRUE((kind == 0 ? alpha().RequestDigests(r0, 0, 4096, 4096)
                           : alpha().RequestBlocks(r0, 0, 4096))
                    .ok());
    link_->Flush();
    ExpectClosed(beta(), alpha(),
                 "session: this side does not serve such requests",
                 StatusCode::kUnavailable);
    SyncAsk ask;
    EXPECT_FALSE(beta().TakeSyncRequest(&ask));
  }
}

TEST_F(SessionSyncTest, TooManyRequestsFromThePeerClose) {
  // Queued and taken-but-unanswered requests count together.
  Connect();
  const Slice r0 = Slice::FromCString(kResource);
  for (size_t i = 0; i < kMaxSyncRequests; ++i) {
    ASSERT_TRUE(alpha().RequestBlocks(r0, i * 512, 512).ok());
  }
  link_->Flush();
  // beta takes three and answers two: six outstanding (five queued, one
  // taken), so alpha may ask twice more.
  SyncAsk ask;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(beta().TakeSyncRequest(&ask));
  for (int i = 0; i < 2; ++i) {
    wire::BlockData data;
    data.resource = r0;
    data.offset = i * 512;
    data.data = Slice(device_.data() + i * 512, 512);
    ASSERT_TRUE(beta().SendBlockData(data).ok());
  }
  link_->Flush();
  EXPECT_EQ(alpha().sync_requests_outstanding(), kMaxSyncRequests - 2);
  ASSERT_TRUE(alpha().RequestDigests(r0, 0, 4096, 4096).ok());
  ASSERT_TRUE(alpha().RequestBlocks(r0, 4096, 512).ok());
  link_->Flush();
  ASSERT_TRUE(beta().open()) << beta().status().message();
  // A ninth from alpha's side (which its own limit would refuse).
  wire::DigestRequest request;
  request.resource = r0;
  request.length = 4096;
  request.block_size = 4096;
  link_->Inject(1, request);
  ExpectClosed(beta(), alpha(),
               "session: more sync requests outstanding than allowed",
               StatusCode::kInvalidArgument);
}

TEST_F(SessionSyncTest, WrongAnswersOfTheCallerAreInternalErrors) {
  const Raw two = Digests(device_, 0, 8192, 4096);
  const Raw one = Digests(device_, 0, 4096, 4096);
  const std::string bytes(8192, 'b');
  struct Case {
    const char* name;
    std::function<Status(Session&)> send;
  };
  auto reply = [](Session& s, const char* resource, uint64_t offset,
                  uint64_t length, uint32_t block_size, const Raw& digests) {
    wire::DigestReply r;
    r.resource = Slice::FromCString(resource);
    r.offset = offset;
    r.length = length;
    r.block_size = block_size;
    r.digests = Slice(digests.data(), digests.size());
    return s.SendDigestReply(r);
  };
  const Case cases[] = {
      {"other resource",
       [&](Session& s) { return reply(s, "r1", 0, 8192, 4096, two); }},
      {"other offset",
       [&](Session& s) { return reply(s, kResource, 8192, 8192, 4096, two); }},
      {"other length",
       [&](Session& s) { return reply(s, kResource, 0, 4096, 4096, one); }},
      {"other block size",
       [&](Session& s) { return reply(s, kResource, 0, 8192, 8192, one); }},
      {"block-data for a digest request",
       [&](Session& s) {
         wire::BlockData d;
         d.resource = Slice::FromCString(kResource);
         d.data = S(bytes);
         return s.SendBlockData(d);
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Connect();
    AskAndTakeDigests();
    EXPECT_EQ(c.send(beta()).code(), StatusCode::kInternal);
    link_->Flush();
    ExpectClosed(beta(), alpha(),
                 "session: sync answer does not match the request taken",
                 StatusCode::kInternal);
    EXPECT_EQ(beta().counters().sync_requests_served, 0u);
  }
}

TEST_F(SessionSyncTest, BlockAnswersOfTheWrongSizeAreInternalErrors) {
  const std::string shorter(512, 'b');
  const std::string longer(2048, 'b');
  const Raw digests = Digests(device_, 0, 1024, 1024);
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    Connect();
    ASSERT_TRUE(
        alpha().RequestBlocks(Slice::FromCString(kResource), 0, 1024).ok());
    link_->Flush();
    SyncAsk ask;
    ASSERT_TRUE(beta().TakeSyncRequest(&ask));
    Status s;
    if (variant < 2) {
      wire::BlockData d;
      d.resource = Slice::FromCString(kResource);
      d.data = S(variant == 0 ? shorter : longer);
      s = beta().SendBlockData(d);
    } else {
      wire::DigestReply r;  // a digest-reply for a block request
      r.resource = Slice::FromCString(kResource);
      r.length = 1024;
      r.block_size = 1024;
      r.digests = Slice(digests.data(), digests.size());
      s = beta().SendDigestReply(r);
    }
    EXPECT_EQ(s.code(), StatusCode::kInternal);
    EXPECT_STREQ(s.message(),
                 "session: sync answer does not match the request taken");
  }
}

TEST_F(SessionSyncTest, AnswersNeedARequestTaken) {
  Connect();
  const Raw one = Digests(device_, 0, 4096, 4096);
  wire::DigestReply r;
  r.resource = Slice::FromCString(kResource);
  r.length = 4096;
  r.block_size = 4096;
  r.digests = Slice(one.data(), one.size());
  // A request that arrived but was not taken cannot be answered yet.
  ASSERT_TRUE(alpha()
                  .RequestDigests(Slice::FromCString(kResource), 0, 4096, 4096)
                  .ok());
  link_->Flush();
  EXPECT_EQ(beta().SendDigestReply(r).code(), StatusCode::kInternal);
  EXPECT_TRUE(beta().closed());
  // Nothing at all outstanding.
  Connect();
  EXPECT_EQ(beta().SendDigestReply(r).code(), StatusCode::kInternal);
  link_->Flush();
  ExpectClosed(beta(), alpha(),
               "session: sync answer does not match the request taken",
               StatusCode::kInternal);
}

TEST_F(SessionSyncTest, AnAnswerTheCodecRefusesClosesWithItsStatus) {
  Connect();
  SyncAsk ask = AskAndTakeDigests();
  const Raw one = Digests(device_, 0, 4096, 4096);  // one digest, two asked
  wire::DigestReply r;
  r.resource = Slice(ask.resource.data(), ask.resource.size());
  r.length = ask.length;
  r.block_size = ask.block_size;
  r.digests = Slice(one.data(), one.size());
  const Status s = beta().SendDigestReply(r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_STREQ(s.message(),
               "digest-reply: digest count does not match the range");
  EXPECT_TRUE(beta().closed());
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
