// Every close reason of the block-sync service of Session
// (docu/wire-protocol.md, "Sessions" and "Sync messages"): on the requesting
// side, replies nobody asked for, replies to another request and replies the
// codec refuses; on the serving side, requests without the agreed feature or
// not served, too many requests from the peer, and the caller's wrong
// answers (kInternal) or answers the codec refuses.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/peer/session.h"
#include "core/peer/session_sync_test_util.h"
#include "core/peer/session_test_util.h"
#include "core/wire/frame.h"
#include "core/wire/messages.h"

namespace mars {
namespace peer {
namespace test {
namespace {

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

}  // namespace
}  // namespace test
}  // namespace peer
}  // namespace mars
