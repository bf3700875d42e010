// The fixture of the session tests against a raw peer (session_test.cc,
// session_logfile_test.cc): RawPeer speaks the protocol frame by frame with
// the wire codecs directly and records what it receives; SessionTest
// connects a Session "alpha" (client) to it.
#ifndef MARS_CORE_PEER_SESSION_RAW_PEER_TEST_UTIL_H_
#define MARS_CORE_PEER_SESSION_RAW_PEER_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/peer/session.h"
#include "core/peer/session_test_util.h"
#include "core/wire/frame.h"
#include "core/wire/frame_decoder.h"
#include "core/wire/handshake.h"
#include "core/wire/messages.h"

namespace mars {
namespace peer {
namespace test {

using wire::MessageType;

struct ReceivedFrame {
  MessageType type;
  Raw payload;
};

template <class M>
inline Raw FrameOf(const M& message) {
  Bytes out;
  wire::FrameEncoder encoder(&out);
  EXPECT_TRUE(encoder.AppendMessage(message).ok());
  return Raw(out.data(), out.data() + out.size());
}

// A frame of any type number, with a correct CRC (the encoder refuses
// unknown must-understand types).
inline Raw RawFrame(uint16_t type, const Raw& payload) {
  Raw frame(wire::kFrameHeaderSize);
  EncodeFixed32(frame.data(), wire::kFrameMagic);
  frame[4] = wire::kFrameVersion;
  frame[5] = 0;
  EncodeFixed16(frame.data() + 6, type);
  EncodeFixed32(frame.data() + 8, static_cast<uint32_t>(payload.size()));
  EncodeFixed32(
      frame.data() + 12,
      wire::FrameCrc(frame.data(), Slice(payload.data(), payload.size())));
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

inline wire::TreeEntry EntryOf(const Version& v) {
  wire::TreeEntry e;
  e.path = S(v.path);
  e.value = S(v.value);
  e.owner = S(v.owner);
  e.stamp = v.stamp;
  e.tombstone = v.tombstone;
  return e;
}

// The other end, written with the wire codecs directly: a Handshake, then
// every frame recorded for the test to inspect.
class RawPeer {
 public:
  explicit RawPeer(uint64_t features = wire::kFeaturePing,
                   const char* host = "beta") {
    config_.role = wire::Role::kServer;
    config_.hello.features = features;
    host_ = host;
    config_.hello.host_name = S(host_);
    config_.hello.cluster_id = Slice::FromCString(kCluster);
    config_.secret = Slice::FromCString(kSecret);
    for (size_t i = 0; i < wire::kNonceSize; ++i) {
      config_.nonce[i] = static_cast<uint8_t>(0xA0 + i);
    }
    hs_ = std::make_unique<wire::Handshake>(config_);
    Bytes ignored;
    EXPECT_TRUE(hs_->Start(&ignored).ok());
  }

  // Takes bytes from the session; returns the handshake's answer.
  Raw Receive(Slice input) {
    Bytes out;
    while (true) {
      const auto event = decoder_.Feed(&input);
      if (event != wire::FrameDecoder::Event::kFrame) {
        EXPECT_EQ(event, wire::FrameDecoder::Event::kNeedMoreBytes)
            << decoder_.status().message();
        break;
      }
      const wire::Frame& f = decoder_.frame();
      if (!hs_->authenticated()) {
        EXPECT_TRUE(hs_->OnFrame(f, &out).ok()) << hs_->status().message();
        continue;
      }
      frames_.push_back(
          {f.type, Raw(f.payload.data(), f.payload.data() + f.payload.size())});
    }
    return Raw(out.data(), out.data() + out.size());
  }

  bool authenticated() const { return hs_->authenticated(); }
  std::vector<ReceivedFrame>& frames() { return frames_; }

  // The text of the Error frame received last (fails the test if none).
  std::string LastError() {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
      if (it->type != MessageType::kError) continue;
      wire::ErrorMessage error;
      EXPECT_TRUE(
          error.Decode(Slice(it->payload.data(), it->payload.size())).ok());
      return Str(error.text);
    }
    ADD_FAILURE() << "no error frame";
    return "";
  }

  int Count(MessageType type) const {
    int n = 0;
    for (const ReceivedFrame& f : frames_) n += f.type == type;
    return n;
  }

 private:
  std::string host_;
  wire::HandshakeConfig config_;
  std::unique_ptr<wire::Handshake> hs_;
  wire::FrameDecoder decoder_;
  std::vector<ReceivedFrame> frames_;
};

// Session "alpha" (client) connected to a RawPeer "beta" (server).
class SessionTest : public ::testing::Test {
 protected:
  SessionTest() : alpha_("alpha", nullptr) {}

  void Open(uint64_t features = wire::kFeaturePing,
            uint64_t peer_features = wire::kFeaturePing,
            const std::function<void(SessionConfig*)>& tweak = nullptr) {
    config_ = alpha_.Config(wire::Role::kClient, 1, features);
    if (tweak) tweak(&config_);
    peer_ = std::make_unique<RawPeer>(peer_features);
    session_ =
        std::make_unique<Session>(config_, &alpha_.tree(), &alpha_.clock());
    ASSERT_TRUE(session_->Start(g_mono_ns).ok());
    Flush();
    ASSERT_TRUE(session_->open()) << session_->status().message();
    ASSERT_TRUE(peer_->authenticated());
  }

  // Moves bytes both ways until neither side has anything to say.
  void Flush() {
    for (int round = 0; round < 100; ++round) {
      Bytes out;
      ASSERT_TRUE(session_->TakeOutput(&out).ok());
      if (out.empty()) return;
      const Raw answer = peer_->Receive(AsSlice(out));
      if (!answer.empty()) Send(answer);
    }
    FAIL() << "no quiet state";
  }

  // Delivers bytes from the peer to the session, then collects the answer.
  void Send(const Raw& bytes) {
    (void)session_->OnBytes(Slice(bytes.data(), bytes.size()), g_mono_ns);
    Flush();
  }
  template <class M>
  void SendMessage(const M& message) {
    Send(FrameOf(message));
  }

  // The peer answers the session's outstanding request with one final
  // batch of `entries` reaching `next`.
  void Answer(const std::vector<Version>& entries, tree::ChangeCursor next,
              bool final_batch = true) {
    wire::TreeUpdate update;
    update.final_batch = final_batch;
    update.next = next;
    for (const Version& v : entries) {
      ASSERT_TRUE(update.entries.PushBack(EntryOf(v)).ok());
    }
    SendMessage(update);
  }

  Version Remote(const std::string& path, const std::string& value,
                 uint64_t stamp_offset = 1) {
    Version v;
    v.path = path;
    v.value = value;
    v.owner = "beta";
    v.stamp = FakeWallNs() + stamp_offset;
    return v;
  }

  // Decodes every tree-update the peer received.
  std::vector<std::vector<Version>> Batches(std::vector<bool>* finals,
                                            tree::ChangeCursor* last_next) {
    std::vector<std::vector<Version>> batches;
    for (const ReceivedFrame& f : peer_->frames()) {
      if (f.type != MessageType::kTreeUpdate) continue;
      wire::TreeUpdate update;
      EXPECT_TRUE(
          update.Decode(Slice(f.payload.data(), f.payload.size())).ok());
      std::vector<Version> batch;
      for (const wire::TreeEntry& e : update.entries) {
        Version v;
        v.path = Str(e.path);
        v.value = Str(e.value);
        v.owner = Str(e.owner);
        v.stamp = e.stamp;
        v.tombstone = e.tombstone;
        batch.push_back(v);
      }
      batches.push_back(batch);
      finals->push_back(update.final_batch);
      *last_next = update.next;
    }
    return batches;
  }

  void ExpectClosed(const char* message, StatusCode code) {
    ASSERT_TRUE(session_->closed());
    EXPECT_STREQ(session_->status().message(), message);
    EXPECT_EQ(session_->status().code(), code);
    EXPECT_EQ(peer_->LastError(), message);  // told the peer before closing
  }

  Host alpha_;
  SessionConfig config_;
  std::unique_ptr<RawPeer> peer_;
  std::unique_ptr<Session> session_;
};

}  // namespace test
}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_SESSION_RAW_PEER_TEST_UTIL_H_
