// A Session serving and asking for logfiles against a raw peer
// (docu/wire-protocol.md, "Logfiles"): requests and answers in order, answers
// sent in place, the limits and the feature they need.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/base/crc32c.h"
#include "core/peer/session.h"
#include "core/peer/session_raw_peer_test_util.h"

namespace mars {
namespace peer {
namespace test {
namespace {

TEST_F(SessionTest, LogfileRequestWithoutTheFeatureCloses) {
  Open();
  wire::LogfileRequest request;
  request.name = Slice::FromCString("resource-r0/log-000000001-beta");
  request.max_length = 4096;
  SendMessage(request);
  ExpectClosed("session: request for a service whose feature was not agreed",
               StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, ServesLogfileRequestsInOrderThroughTheCaller) {
  const uint64_t logs = wire::kFeaturePing | wire::kFeatureLogfileServe;
  Open(logs, logs, [](SessionConfig* c) { c->serve_logfiles = true; });
  wire::LogfileRequest request;
  request.name = Slice::FromCString("resource-r0/log-000000001-alpha");
  request.offset = 0;
  request.max_length = 8;
  SendMessage(request);
  request.offset = 8;
  SendMessage(request);
  ASSERT_TRUE(session_->open());
  LogfileAsk first;
  LogfileAsk second;
  ASSERT_TRUE(session_->TakeLogfileRequest(&first));
  ASSERT_TRUE(session_->TakeLogfileRequest(&second));
  EXPECT_FALSE(session_->TakeLogfileRequest(&second));
  EXPECT_EQ(Str(Slice(first.name.data(), first.name.size())),
            "resource-r0/log-000000001-alpha");
  EXPECT_EQ(second.offset, 8u);
  wire::LogfileData data;
  data.name = request.name;
  data.offset = 0;
  data.file_size = 12;
  data.data = Slice::FromCString("abcdefgh");
  ASSERT_TRUE(session_->SendLogfileData(data).ok());
  data.offset = 8;
  data.data = Slice::FromCString("ijkl");
  data.end_of_file = true;
  ASSERT_TRUE(session_->SendLogfileData(data).ok());
  Flush();
  EXPECT_EQ(peer_->Count(MessageType::kLogfileData), 2);
  EXPECT_EQ(session_->counters().logfile_bytes_sent, 12u);
  // An answer to nothing taken is a bug of the caller.
  EXPECT_FALSE(session_->SendLogfileData(data).ok());
  EXPECT_STREQ(session_->status().message(),
               "session: logfile answer does not match the request taken");
}

// An answer sent in place goes out as the same bytes as one copied into
// the output, its data straight from the caller's buffer: output() hands
// out the caller's bytes themselves, in whatever pieces the socket takes;
// TakeOutputPieces() refers to them, TakeOutput() copies them.
TEST_F(SessionTest, LogfileAnswersSentInPlaceAreTheSameBytesUncopied) {
  const uint64_t logs = wire::kFeaturePing | wire::kFeatureLogfileServe;
  Open(logs, logs, [](SessionConfig* c) { c->serve_logfiles = true; });
  std::string bytes(300000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>(i * 7 + (i >> 11));
  }
  const Slice name = Slice::FromCString("resource-r0/log-000000001-alpha");
  // Requests for [0, 150000), [150000, 300000), [300000, +8): answered in
  // place, copied, and in place with no data.
  wire::LogfileRequest request;
  request.name = name;
  for (uint64_t offset : {0u, 150000u, 300000u}) {
    request.offset = offset;
    request.max_length = offset < 300000 ? 150000 : 8;
    SendMessage(request);
  }
  std::vector<wire::LogfileData> answers(3);
  Bytes expected;
  for (size_t i = 0; i < answers.size(); ++i) {
    LogfileAsk ask;
    ASSERT_TRUE(session_->TakeLogfileRequest(&ask));
    wire::LogfileData& a = answers[i];
    a.name = name;
    a.offset = ask.offset;
    a.file_size = bytes.size();
    const size_t n = i < 2 ? 150000 : 0;
    a.data = Slice(bytes.data() + ask.offset, n);
    a.end_of_file = ask.offset + n == bytes.size();
    ASSERT_TRUE(wire::FrameEncoder(&expected).AppendMessage(a).ok());
  }
  const auto crc = [](const wire::LogfileData& a) {
    return crc32c::Value(a.data.data(), a.data.size());
  };
  ASSERT_TRUE(
      session_->SendLogfileDataInPlace(answers[0], crc(answers[0])).ok());
  ASSERT_TRUE(session_->SendLogfileData(answers[1]).ok());
  ASSERT_TRUE(
      session_->SendLogfileDataInPlace(answers[2], crc(answers[2])).ok());
  const uint64_t out_before = session_->counters().bytes_out;
  Raw sent;
  bool callers_bytes = false;
  for (Slice piece = session_->output(); !piece.empty();
       piece = session_->output()) {
    const size_t n = std::min<size_t>(piece.size(), 1000);
    callers_bytes =
        callers_bytes || (piece.chars() >= bytes.data() &&
                          piece.chars() < bytes.data() + bytes.size());
    sent.insert(sent.end(), piece.data(), piece.data() + n);
    session_->ConsumeOutput(n);
  }
  EXPECT_EQ(sent, wire::test::ToRaw(expected));
  EXPECT_TRUE(callers_bytes);
  EXPECT_EQ(session_->counters().bytes_out - out_before, expected.size());
  EXPECT_EQ(session_->counters().logfile_bytes_sent, 300000u);
  EXPECT_EQ(peer_->Receive(Slice(sent.data(), sent.size())), Raw());
  EXPECT_EQ(peer_->Count(MessageType::kLogfileData), 3);

  // Taken whole, also after the socket took part of the head or of the
  // data: the pieces refer to the data; TakeOutput() copies it.
  Bytes one;
  ASSERT_TRUE(wire::FrameEncoder(&one).AppendMessage(answers[0]).ok());
  const Raw frame = wire::test::ToRaw(one);
  const size_t head = one.size() - answers[0].data.size();
  struct Case {
    bool pieces;
    size_t sent_before;  // bytes the socket took before
  };
  for (const Case& c : {Case{true, 0}, Case{true, 10}, Case{true, head + 100},
                        Case{false, 0}}) {
    request.offset = 0;
    request.max_length = 150000;
    SendMessage(request);
    LogfileAsk ask;
    ASSERT_TRUE(session_->TakeLogfileRequest(&ask));
    ASSERT_TRUE(
        session_->SendLogfileDataInPlace(answers[0], crc(answers[0])).ok());
    for (size_t done = 0; done < c.sent_before;) {
      const size_t n =
          std::min(session_->output().size(), c.sent_before - done);
      session_->ConsumeOutput(n);
      done += n;
    }
    const Raw rest(frame.begin() + c.sent_before, frame.end());
    if (c.pieces) {
      OutputPieces out(platform::Gfp::kKernel);
      ASSERT_TRUE(session_->TakeOutputPieces(&out).ok());
      ASSERT_EQ(out.refs.size(), 1u);
      EXPECT_EQ(out.refs[0].data.chars() + out.refs[0].data.size(),
                bytes.data() + answers[0].data.size());
      Raw joined(out.bytes.data(), out.bytes.data() + out.refs[0].at);
      joined.insert(joined.end(), out.refs[0].data.data(),
                    out.refs[0].data.data() + out.refs[0].data.size());
      joined.insert(joined.end(), out.bytes.data() + out.refs[0].at,
                    out.bytes.data() + out.bytes.size());
      EXPECT_EQ(joined, rest) << c.sent_before;
      EXPECT_EQ(out.size(), rest.size());
    } else {
      Bytes out;
      ASSERT_TRUE(session_->TakeOutput(&out).ok());
      EXPECT_EQ(wire::test::ToRaw(out), rest);
    }
    EXPECT_TRUE(session_->output().empty());
  }
}

TEST_F(SessionTest, TooManyLogfileRequestsClose) {
  const uint64_t logs = wire::kFeaturePing | wire::kFeatureLogfileServe;
  Open(logs, logs, [](SessionConfig* c) { c->serve_logfiles = true; });
  wire::LogfileRequest request;
  request.name = Slice::FromCString("resource-r0/log-000000001-alpha");
  request.max_length = 4096;
  for (size_t i = 0; i <= kMaxLogfileRequests; ++i) SendMessage(request);
  ExpectClosed("session: more logfile requests outstanding than allowed",
               StatusCode::kInvalidArgument);
}

// With kFeatureLogfileWindow agreed both ways allow 64 requests
// outstanding: the 65th of the peer closes, RequestLogfile refuses a 65th
// of ours. One side without it: 8 (the test above).
TEST_F(SessionTest, TheWideWindowFeatureAllows64LogfileRequests) {
  const uint64_t wide = wire::kFeaturePing | wire::kFeatureLogfileServe |
                        wire::kFeatureLogfileWindow;
  Open(wide, wide, [](SessionConfig* c) { c->serve_logfiles = true; });
  EXPECT_EQ(session_->LogfileRequestLimit(), kMaxLogfileRequestsWide);
  const Slice ours = Slice::FromCString("resource-r0/log-000000001-beta");
  for (size_t i = 0; i < kMaxLogfileRequestsWide; ++i) {
    ASSERT_TRUE(session_->RequestLogfile(ours, i * 4096, 4096).ok()) << i;
  }
  EXPECT_EQ(session_->RequestLogfile(ours, 0, 4096).code(),
            StatusCode::kUnavailable);
  Flush();
  EXPECT_EQ(peer_->Count(MessageType::kLogfileRequest),
            static_cast<int>(kMaxLogfileRequestsWide));
  wire::LogfileRequest request;
  request.name = Slice::FromCString("resource-r0/log-000000001-alpha");
  request.max_length = 4096;
  for (size_t i = 0; i < kMaxLogfileRequestsWide; ++i) SendMessage(request);
  ASSERT_TRUE(session_->open()) << session_->status().message();
  SendMessage(request);
  ExpectClosed("session: more logfile requests outstanding than allowed",
               StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, OneSideWithoutTheWideWindowFeatureKeeps8) {
  const uint64_t logs = wire::kFeaturePing | wire::kFeatureLogfileServe;
  Open(logs | wire::kFeatureLogfileWindow, logs);
  EXPECT_EQ(session_->LogfileRequestLimit(), kMaxLogfileRequests);
  const Slice ours = Slice::FromCString("resource-r0/log-000000001-beta");
  for (size_t i = 0; i < kMaxLogfileRequests; ++i) {
    ASSERT_TRUE(session_->RequestLogfile(ours, i * 4096, 4096).ok()) << i;
  }
  EXPECT_EQ(session_->RequestLogfile(ours, 0, 4096).code(),
            StatusCode::kUnavailable);
}

TEST_F(SessionTest, RequestsLogfilesAndChecksTheAnswers) {
  const uint64_t logs = wire::kFeaturePing | wire::kFeatureLogfileServe;
  Open(logs, logs);
  const Slice name = Slice::FromCString("resource-r0/log-000000001-beta");
  ASSERT_TRUE(session_->RequestLogfile(name, 0, 4).ok());
  ASSERT_TRUE(session_->RequestLogfile(name, 4, 4).ok());
  Flush();
  EXPECT_EQ(peer_->Count(MessageType::kLogfileRequest), 2);
  EXPECT_EQ(session_->logfile_requests_outstanding(), 2u);
  wire::LogfileData data;
  data.name = name;
  data.offset = 0;
  data.file_size = 6;
  data.data = Slice::FromCString("wxyz");
  SendMessage(data);
  LogfileGot got;
  ASSERT_TRUE(session_->TakeLogfileData(&got));
  EXPECT_EQ(Str(Slice(got.data.data(), got.data.size())), "wxyz");
  EXPECT_EQ(got.file_size, 6u);
  EXPECT_FALSE(session_->TakeLogfileData(&got));
  // The second answer must start where the second request did.
  data.offset = 5;
  data.data = Slice::FromCString("z");
  SendMessage(data);
  ExpectClosed("session: logfile data does not answer the request outstanding",
               StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, LogfileRequestsNeedTheAgreedFeature) {
  Open();  // ping only
  EXPECT_EQ(session_
                ->RequestLogfile(
                    Slice::FromCString("resource-r0/log-000000001-beta"), 0, 4)
                .code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace test
}  // namespace peer
}  // namespace mars
