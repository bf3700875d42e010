// A Session against a raw peer that speaks the protocol frame by frame
// (docu/wire-protocol.md, "Sessions" and "Errors"): what the session sends
// and how it answers well-formed, out-of-protocol and malformed input.
#include "core/peer/session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/peer/session_raw_peer_test_util.h"
#include "core/peer/session_test_util.h"
#include "core/wire/frame.h"
#include "core/wire/frame_decoder.h"
#include "core/wire/handshake.h"
#include "core/wire/messages.h"

namespace mars {
namespace peer {
namespace test {
namespace {

TEST_F(SessionTest, AsksForTheWholeTreeAfterAuthentication) {
  Open();
  ASSERT_EQ(peer_->frames().size(), 1u);
  ASSERT_EQ(peer_->frames()[0].type, MessageType::kTreeSinceRequest);
  wire::TreeSinceRequest request;
  const Raw& p = peer_->frames()[0].payload;
  ASSERT_TRUE(request.Decode(Slice(p.data(), p.size())).ok());
  EXPECT_EQ(request.since.incarnation, 0u);
  EXPECT_EQ(request.since.change, 0u);
  EXPECT_TRUE(session_->tree_request_outstanding());
  EXPECT_EQ(session_->counters().tree_requests_sent, 1u);
  EXPECT_EQ(session_->counters().frames_in, 3u);   // Hello, challenge, response
  EXPECT_EQ(session_->counters().frames_out, 5u);  // + challenge, response,
                                                   // result, request
  EXPECT_GT(session_->counters().bytes_in, 0u);
  EXPECT_GT(session_->counters().bytes_out, 0u);
  EXPECT_TRUE(session_->output().empty());
}

TEST_F(SessionTest, StartsFromTheCursorTheCallerKept) {
  alpha_.cursors()["beta"] = tree::ChangeCursor{0x1234, 77};
  Open();
  ASSERT_EQ(peer_->frames().size(), 1u);
  wire::TreeSinceRequest request;
  const Raw& p = peer_->frames()[0].payload;
  ASSERT_TRUE(request.Decode(Slice(p.data(), p.size())).ok());
  EXPECT_EQ(request.since.incarnation, 0x1234u);
  EXPECT_EQ(request.since.change, 77u);
  EXPECT_EQ(session_->tree_cursor().change, 77u);
}

TEST_F(SessionTest, AppliesBatchesAndAdvancesTheCursorPerBatch) {
  Open();
  const Version a = Remote("resource-r0/size", "4096", 5);
  const Version b = Remote("resource-r0/primary", "beta", 9);
  Answer({a}, tree::ChangeCursor{42, 3}, false);
  EXPECT_EQ(session_->tree_cursor().incarnation, 42u);
  EXPECT_EQ(session_->tree_cursor().change, 3u);
  EXPECT_TRUE(session_->tree_request_outstanding());
  EXPECT_EQ(session_->counters().last_tree_exchange_ns, 0u);
  Answer({b}, tree::ChangeCursor{42, 5});
  EXPECT_EQ(session_->tree_cursor().change, 5u);
  EXPECT_FALSE(session_->tree_request_outstanding());
  EXPECT_EQ(session_->counters().last_tree_exchange_ns, g_mono_ns);
  EXPECT_EQ(session_->counters().entries_applied, 2u);
  EXPECT_EQ(session_->counters().tree_batches_received, 2u);
  EXPECT_EQ(Listing(alpha_.tree()), (std::vector<Version>{b, a}));
  // Every stamp was observed: the next local stamp is above them.
  EXPECT_GT(alpha_.clock().Now(), b.stamp);
  // The next request goes out after the poll interval, from the new cursor.
  EXPECT_EQ(session_->NextDeadlineNs(), g_mono_ns + config_.poll_interval_ns);
  g_mono_ns += config_.poll_interval_ns;
  ASSERT_TRUE(session_->OnTick(g_mono_ns).ok());
  Flush();
  ASSERT_EQ(peer_->Count(MessageType::kTreeSinceRequest), 2);
  wire::TreeSinceRequest request;
  const Raw& p = peer_->frames().back().payload;
  ASSERT_TRUE(request.Decode(Slice(p.data(), p.size())).ok());
  EXPECT_EQ(request.since.incarnation, 42u);
  EXPECT_EQ(request.since.change, 5u);
}

TEST_F(SessionTest, RequestTreeNowWaitsForTheAnswerInProgress) {
  Open();
  session_->RequestTreeNow();  // a request is outstanding: deferred
  Flush();
  EXPECT_EQ(peer_->Count(MessageType::kTreeSinceRequest), 1);
  Answer({}, tree::ChangeCursor{42, 0});
  EXPECT_EQ(peer_->Count(MessageType::kTreeSinceRequest), 2);
  EXPECT_TRUE(session_->tree_request_outstanding());
}

TEST_F(SessionTest, UnaskedTreeUpdateCloses) {
  Open();
  Answer({}, tree::ChangeCursor{42, 0});
  Answer({Remote("x", "1")}, tree::ChangeCursor{42, 1});
  ExpectClosed("session: tree-update nobody asked for",
               StatusCode::kInvalidArgument);
  EXPECT_EQ(alpha_.tree().size(), 0u);
}

TEST_F(SessionTest, InvalidEntryClosesAndAppliesNothingOfItsBatch) {
  Open();
  Version bad = Remote("resource-r0//size", "1");
  Answer({Remote("resource-r0/a", "1"), bad}, tree::ChangeCursor{42, 2});
  ExpectClosed("path has an empty component", StatusCode::kInvalidArgument);
  EXPECT_EQ(alpha_.tree().size(), 0u);
  EXPECT_EQ(session_->tree_cursor().change, 0u);
  EXPECT_EQ(session_->counters().entries_applied, 0u);
}

TEST_F(SessionTest, ZeroStampCloses) {
  Open();
  Version bad = Remote("resource-r0/a", "1");
  bad.stamp = 0;
  Answer({bad}, tree::ChangeCursor{42, 1});
  ExpectClosed("entry stamp is zero", StatusCode::kInvalidArgument);
  EXPECT_EQ(alpha_.tree().size(), 0u);
}

TEST_F(SessionTest, StampTooFarInTheFutureIsDropped) {
  Open();
  const Version wild =
      Remote("resource-r0/a", "1", LamportClock::kDefaultMaxFutureNs + kSecond);
  const Version fine = Remote("resource-r0/b", "2");
  Answer({wild, fine}, tree::ChangeCursor{42, 2});
  EXPECT_TRUE(session_->open());
  EXPECT_EQ(session_->counters().entries_received, 2u);
  EXPECT_EQ(session_->counters().entries_refused, 1u);
  EXPECT_EQ(Listing(alpha_.tree()), (std::vector<Version>{fine}));
  EXPECT_EQ(session_->tree_cursor().change, 2u);
  EXPECT_LT(alpha_.clock().Latest(), wild.stamp);
}

TEST_F(SessionTest, AnswersInBatchesAndRecordsTheAcknowledgement) {
  for (int i = 0; i < 300; ++i) {
    alpha_.Write(
        "resource-r" + std::to_string(i % 7) + "/k" + std::to_string(i),
        std::string(10 + i, 'v'));
  }
  alpha_.Remove("resource-r0/k0");
  Open(wire::kFeaturePing, wire::kFeaturePing,
       [](SessionConfig* c) { c->max_batch_bytes = 16 << 10; });
  wire::TreeSinceRequest request;  // the zero cursor: the whole tree
  SendMessage(request);
  std::vector<bool> finals;
  tree::ChangeCursor next;
  auto batches = Batches(&finals, &next);
  ASSERT_GT(batches.size(), 3u);
  std::vector<Version> all;
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_EQ(finals[i], i + 1 == batches.size());
    all.insert(all.end(), batches[i].begin(), batches[i].end());
    // Each batch fits its budget.
    size_t bytes = kTreeUpdateHeaderSize;
    for (const Version& v : batches[i]) {
      bytes += 15 + v.path.size() + v.owner.size() + v.value.size();
    }
    EXPECT_LE(bytes, 16u << 10);
  }
  std::sort(all.begin(), all.end(),
            [](const Version& x, const Version& y) { return x.path < y.path; });
  EXPECT_EQ(all, Listing(alpha_.tree()));
  EXPECT_EQ(next.incarnation, alpha_.tree().incarnation());
  EXPECT_EQ(next.change, alpha_.tree().cursor().change);
  EXPECT_EQ(session_->counters().entries_sent, 300u);
  EXPECT_FALSE(session_->answering());
  EXPECT_EQ(alpha_.tree().PeerAcked(Slice::FromCString("beta")), 0u);

  // The next request acknowledges everything; nothing has changed since.
  peer_->frames().clear();
  request.since = next;
  SendMessage(request);
  EXPECT_EQ(alpha_.tree().PeerAcked(Slice::FromCString("beta")), next.change);
  batches = Batches(&finals, &next);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_TRUE(batches[0].empty());
  EXPECT_EQ(next.change, alpha_.tree().cursor().change);

  // An acknowledgement beyond our last change is ignored, the request
  // answered all the same.
  peer_->frames().clear();
  request.since.change += 1000;
  SendMessage(request);
  EXPECT_TRUE(session_->open());
  EXPECT_EQ(alpha_.tree().PeerAcked(Slice::FromCString("beta")),
            alpha_.tree().cursor().change);
  EXPECT_EQ(peer_->Count(MessageType::kTreeUpdate), 1);
}

// While output is above its limit no new batch is produced; each drain lets
// the answer continue, and the whole answer arrives in order.
TEST_F(SessionTest, BackpressureHoldsTheAnswerUntilOutputDrains) {
  for (int i = 0; i < 2000; ++i) {
    alpha_.Write("k" + std::to_string(i), std::string(50, 'v'));
  }
  Open(wire::kFeaturePing, wire::kFeaturePing, [](SessionConfig* c) {
    c->max_batch_bytes = kMinBatchBytes;
    c->output_limit = 1;
  });
  wire::TreeSinceRequest request;
  const Raw frame = FrameOf(request);
  (void)session_->OnBytes(Slice(frame.data(), frame.size()), g_mono_ns);
  // One batch is queued and nothing more while nobody drains.
  const size_t first = session_->output().size();
  EXPECT_GT(first, 0u);
  EXPECT_LE(first, OutputBound(config_));
  EXPECT_EQ(session_->counters().tree_batches_sent, 1u);
  g_mono_ns += kMs;
  ASSERT_TRUE(session_->OnTick(g_mono_ns).ok());
  EXPECT_EQ(session_->counters().tree_batches_sent, 1u);
  EXPECT_TRUE(session_->answering());
  // Each drain to empty lets exactly one more batch out.
  size_t batches = 1;
  while (session_->answering()) {
    Raw taken(session_->output().data(),
              session_->output().data() + session_->output().size());
    const size_t n = taken.size();
    session_->ConsumeOutput(n / 2);
    EXPECT_EQ(session_->counters().tree_batches_sent, batches);
    session_->ConsumeOutput(n - n / 2);
    (void)peer_->Receive(Slice(taken.data(), taken.size()));
    EXPECT_EQ(session_->counters().tree_batches_sent, ++batches);
  }
  Flush();
  std::vector<bool> finals;
  tree::ChangeCursor next;
  size_t entries = 0;
  for (const auto& b : Batches(&finals, &next)) entries += b.size();
  EXPECT_EQ(entries, 2000u);
  EXPECT_TRUE(finals.back());
  EXPECT_GT(batches, 10u);
}

TEST_F(SessionTest, RequestBeforeTheAnswerIsCompleteCloses) {
  for (int i = 0; i < 500; ++i) {
    alpha_.Write("k" + std::to_string(i), std::string(50, 'v'));
  }
  Open(wire::kFeaturePing, wire::kFeaturePing, [](SessionConfig* c) {
    c->max_batch_bytes = kMinBatchBytes;
    c->output_limit = 1;
  });
  wire::TreeSinceRequest request;
  Raw frames = FrameOf(request);
  const Raw again = FrameOf(request);
  frames.insert(frames.end(), again.begin(), again.end());
  Send(frames);
  ExpectClosed(
      "session: tree-since-request before the previous answer was complete",
      StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, PingIsAnsweredWithPong) {
  Open();
  wire::Ping ping;
  ping.token = 0xfeedu;
  SendMessage(ping);
  ASSERT_EQ(peer_->frames().back().type, MessageType::kPong);
  wire::Pong pong;
  const Raw& p = peer_->frames().back().payload;
  ASSERT_TRUE(pong.Decode(Slice(p.data(), p.size())).ok());
  EXPECT_EQ(pong.token, 0xfeedu);
}

TEST_F(SessionTest, SendsPingWhenIdleAndAcceptsThePong) {
  Open();
  Answer({}, tree::ChangeCursor{42, 0});
  // Polls go out every second; the peer answers, so pings are not needed.
  // Make the peer silent: no frame for the ping interval.
  const uint64_t last_frame = g_mono_ns;
  for (int i = 0; i < 100 && peer_->Count(MessageType::kPing) == 0; ++i) {
    g_mono_ns = session_->NextDeadlineNs();
    ASSERT_TRUE(session_->OnTick(g_mono_ns).ok());
    Flush();
  }
  ASSERT_EQ(peer_->Count(MessageType::kPing), 1);
  EXPECT_EQ(g_mono_ns, last_frame + config_.ping_interval_ns);
  wire::Ping ping;
  const Raw& p = peer_->frames().back().payload;
  ASSERT_TRUE(ping.Decode(Slice(p.data(), p.size())).ok());
  wire::Pong pong;
  pong.token = ping.token;
  SendMessage(pong);
  EXPECT_TRUE(session_->open());
  EXPECT_EQ(session_->counters().pongs_received, 1u);
  // A second pong answers nothing.
  SendMessage(pong);
  ExpectClosed("session: pong that answers no ping of ours",
               StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, PingWithoutTheFeatureCloses) {
  Open(0, wire::kFeaturePing);
  EXPECT_EQ(session_->agreement().features, 0u);
  wire::Ping ping;
  SendMessage(ping);
  ExpectClosed("session: ping without the agreed ping feature",
               StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, AgreedServicesAreNotServedYet) {
  const uint64_t all = wire::kFeaturesSupported;
  Open(all, all);
  wire::BlockRequest request;
  request.resource = Slice::FromCString("r0");
  request.offset = 0;
  request.length = 4096;
  SendMessage(request);
  ExpectClosed("session: this side does not serve such requests",
               StatusCode::kUnavailable);
}

TEST_F(SessionTest, UnaskedReplyCloses) {
  Open();
  wire::LogfileData data;
  data.name = Slice::FromCString("resource-r0/log-000000001-beta");
  data.file_size = 0;
  SendMessage(data);
  ExpectClosed("session: logfile or sync reply nobody asked for",
               StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, SetupMessageAfterAuthenticationCloses) {
  Open();
  wire::AuthChallenge challenge;
  SendMessage(challenge);
  ExpectClosed("session: set-up message after authentication",
               StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, UnknownMustUnderstandTypeCloses) {
  Open();
  Send(RawFrame(0x0150, Raw{1, 2, 3}));
  ExpectClosed("frame: unknown message type that must be understood",
               StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, UnknownIgnorableTypeIsSkipped) {
  Open();
  Send(RawFrame(0x8150, Raw{1, 2, 3}));
  EXPECT_TRUE(session_->open());
  wire::Ping ping;
  SendMessage(ping);
  EXPECT_EQ(peer_->frames().back().type, MessageType::kPong);
}

TEST_F(SessionTest, CrcMismatchCloses) {
  Open();
  wire::Ping ping;
  Raw frame = FrameOf(ping);
  frame.back() ^= 0x10;
  Send(frame);
  ExpectClosed("frame: CRC mismatch", StatusCode::kCorruption);
}

TEST_F(SessionTest, MalformedPayloadCloses) {
  Open();
  Send(RawFrame(static_cast<uint16_t>(MessageType::kTreeSinceRequest),
                Raw(15, 0)));
  ExpectClosed("tree-since-request: payload truncated",
               StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, PeerErrorClosesWithoutAnswer) {
  Open();
  wire::ErrorMessage error;
  error.code = static_cast<uint32_t>(StatusCode::kUnavailable);
  error.text = Slice::FromCString("shutting down");
  const Raw frame = FrameOf(error);
  (void)session_->OnBytes(Slice(frame.data(), frame.size()), g_mono_ns);
  ASSERT_TRUE(session_->closed());
  EXPECT_STREQ(session_->status().message(), "session: peer reported an error");
  EXPECT_EQ(session_->peer_error_code(),
            static_cast<uint32_t>(StatusCode::kUnavailable));
  EXPECT_EQ(Str(session_->peer_error_text()), "shutting down");
  EXPECT_TRUE(session_->output().empty());
  // Nothing happens after the close.
  EXPECT_FALSE(session_->OnTick(g_mono_ns + 100 * kSecond).ok());
  EXPECT_TRUE(session_->output().empty());
  EXPECT_EQ(session_->NextDeadlineNs(), UINT64_MAX);
}

TEST_F(SessionTest, LocalCloseTellsThePeer) {
  Open();
  session_->Close(Status(StatusCode::kUnavailable, "module unloading"));
  Flush();
  ExpectClosed("module unloading", StatusCode::kUnavailable);
  session_->Close(Status(StatusCode::kInternal, "again"));
  EXPECT_STREQ(session_->status().message(), "module unloading");
}

TEST(SessionStartTest, HandshakeTimeoutCloses) {
  Host alpha("alpha", nullptr);
  const SessionConfig config = alpha.Config(wire::Role::kClient, 3);
  Session session(config, &alpha.tree(), &alpha.clock());
  ASSERT_TRUE(session.Start(g_mono_ns).ok());
  EXPECT_EQ(session.state(), Session::State::kHandshaking);
  EXPECT_EQ(session.NextDeadlineNs(), g_mono_ns + config.handshake_timeout_ns);
  ASSERT_TRUE(session.OnTick(g_mono_ns + config.handshake_timeout_ns - 1).ok());
  EXPECT_FALSE(session.OnTick(g_mono_ns + config.handshake_timeout_ns).ok());
  EXPECT_STREQ(session.status().message(),
               "session: handshake did not complete in time");
  // Output: our Hello, then the Error.
  std::vector<MessageType> types;
  wire::FrameDecoder decoder;
  Slice input = session.output();
  while (decoder.Feed(&input) == wire::FrameDecoder::Event::kFrame) {
    types.push_back(decoder.frame().type);
  }
  EXPECT_EQ(types, (std::vector<MessageType>{MessageType::kHello,
                                             MessageType::kError}));
}

TEST(SessionStartTest, ServerWaitsForTheClientsHello) {
  Host beta("beta", nullptr);
  Session session(beta.Config(wire::Role::kServer, 3), &beta.tree(),
                  &beta.clock());
  ASSERT_TRUE(session.Start(g_mono_ns).ok());
  EXPECT_TRUE(session.output().empty());
  // Set-up rules still hold: a ping before authentication fails the set-up.
  const Raw ping = FrameOf(wire::Ping());
  EXPECT_FALSE(
      session.OnBytes(Slice(ping.data(), ping.size()), g_mono_ns).ok());
  EXPECT_STREQ(session.status().message(),
               "handshake: message before authentication");
}

TEST(SessionStartTest, BadConfigurationIsRefused) {
  Host alpha("alpha", nullptr);
  SessionConfig config = alpha.Config(wire::Role::kClient, 3);
  config.max_batch_bytes = kMinBatchBytes - 1;
  Session small(config, &alpha.tree(), &alpha.clock());
  EXPECT_EQ(small.Start(g_mono_ns).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(small.closed());
  EXPECT_TRUE(small.output().empty());

  config = alpha.Config(wire::Role::kClient, 3);
  config.secret = Slice::FromCString("short");
  Session weak(config, &alpha.tree(), &alpha.clock());
  EXPECT_STREQ(weak.Start(g_mono_ns).message(),
               "handshake: cluster secret size out of range");
  EXPECT_TRUE(weak.closed());

  Session twice(alpha.Config(wire::Role::kClient, 4), &alpha.tree(),
                &alpha.clock());
  EXPECT_TRUE(twice.Start(g_mono_ns).ok());
  EXPECT_EQ(twice.Start(g_mono_ns).code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace test
}  // namespace peer
}  // namespace mars
