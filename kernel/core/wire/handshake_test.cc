// Tests of the connection set-up state machine (docu/wire-protocol.md,
// "Connection set-up" and "Authentication"): success, wrong secrets, replayed
// and reflected proofs, and messages before authentication.
#include "core/wire/handshake.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/wire/frame_decoder.h"
#include "core/wire/messages.h"

namespace mars {
namespace wire {
namespace {

using Raw = std::vector<uint8_t>;

constexpr char kCluster[] = "alpha 2024-05-01";
constexpr char kSecret[] = "correct horse battery staple 42";
constexpr char kWrongSecret[] = "correct horse battery staple 43";

struct ReceivedFrame {
  MessageType type;
  Raw payload;
};

// Splits a byte stream into frames (asserting it is well formed).
std::vector<ReceivedFrame> Frames(const Raw& stream) {
  std::vector<ReceivedFrame> frames;
  FrameDecoder decoder;
  Slice input(stream.data(), stream.size());
  FrameDecoder::Event e;
  while ((e = decoder.Feed(&input)) == FrameDecoder::Event::kFrame) {
    const Frame& f = decoder.frame();
    frames.push_back(
        {f.type, Raw(f.payload.data(), f.payload.data() + f.payload.size())});
  }
  EXPECT_EQ(e, FrameDecoder::Event::kNeedMoreBytes);
  return frames;
}

std::vector<MessageType> Types(const Raw& stream) {
  std::vector<MessageType> types;
  for (const ReceivedFrame& f : Frames(stream)) types.push_back(f.type);
  return types;
}

template <class M>
Raw FrameOf(const M& message) {
  Bytes out;
  FrameEncoder encoder(&out);
  EXPECT_TRUE(encoder.AppendMessage(message).ok());
  return Raw(out.data(), out.data() + out.size());
}

// One end of a connection: a Handshake behind a FrameDecoder.
class Node {
 public:
  Node(Role role, const char* host, const char* secret, uint8_t nonce_seed,
       const char* cluster = kCluster)
      : host_(host), secret_(secret), cluster_(cluster) {
    config_.role = role;
    config_.hello.features = kFeaturesSupported;
    config_.hello.host_name = Slice(host_.data(), host_.size());
    config_.hello.cluster_id = Slice(cluster_.data(), cluster_.size());
    config_.hello.module_version = Slice::FromCString("test 1.0");
    config_.secret = Slice(secret_.data(), secret_.size());
    for (size_t i = 0; i < kNonceSize; ++i) {
      config_.nonce[i] = static_cast<uint8_t>(nonce_seed + i * 7);
    }
  }

  Handshake& hs() {
    if (!hs_) hs_ = std::make_unique<Handshake>(config_);
    return *hs_;
  }
  HandshakeConfig& config() { return config_; }

  Raw Start() {
    Bytes out;
    EXPECT_TRUE(hs().Start(&out).ok());
    return Raw(out.data(), out.data() + out.size());
  }

  // Feeds bytes from the peer (in `chunk`-sized pieces); returns the answer.
  Raw Receive(const Raw& bytes, size_t chunk = 1 << 20) {
    Bytes out;
    for (size_t pos = 0; pos < bytes.size(); pos += chunk) {
      Slice input(bytes.data() + pos, std::min(chunk, bytes.size() - pos));
      while (decoder_.Feed(&input) == FrameDecoder::Event::kFrame) {
        if (hs().failed() || hs().authenticated()) {
          ++frames_after_end_;
          continue;
        }
        last_ = hs().OnFrame(decoder_.frame(), &out);
      }
    }
    EXPECT_FALSE(decoder_.failed()) << decoder_.status().message();
    return Raw(out.data(), out.data() + out.size());
  }

  Status last() const { return last_; }
  int frames_after_end() const { return frames_after_end_; }

 private:
  std::string host_;
  std::string secret_;
  std::string cluster_;
  HandshakeConfig config_;
  std::unique_ptr<Handshake> hs_;
  FrameDecoder decoder_;
  Status last_;
  int frames_after_end_ = 0;
};

// Runs both ends until nothing is in flight. Records the client's and the
// server's outgoing bytes.
void Exchange(Node* client, Node* server, Raw* client_sent = nullptr,
              Raw* server_sent = nullptr, size_t chunk = 1 << 20) {
  Raw to_server = client->Start();
  Raw to_client = server->Start();
  for (int round = 0; round < 10; ++round) {
    if (to_server.empty() && to_client.empty()) break;
    if (client_sent)
      client_sent->insert(client_sent->end(), to_server.begin(),
                          to_server.end());
    if (server_sent)
      server_sent->insert(server_sent->end(), to_client.begin(),
                          to_client.end());
    Raw next_to_client = server->Receive(to_server, chunk);
    Raw next_to_server = client->Receive(to_client, chunk);
    to_server = next_to_server;
    to_client = next_to_client;
  }
}

TEST(HandshakeTest, Succeeds) {
  Node client(Role::kClient, "alpha", kSecret, 1);
  Node server(Role::kServer, "beta", kSecret, 101);
  server.config().hello.features = kFeaturePing | kFeatureBlockSyncServe;
  Raw client_sent;
  Raw server_sent;
  Exchange(&client, &server, &client_sent, &server_sent);
  ASSERT_TRUE(client.hs().authenticated()) << client.hs().status().message();
  ASSERT_TRUE(server.hs().authenticated()) << server.hs().status().message();
  EXPECT_EQ(client.hs().agreement().protocol_version, kProtocolVersion);
  EXPECT_EQ(server.hs().agreement().protocol_version, kProtocolVersion);
  EXPECT_EQ(client.hs().agreement().features,
            kFeaturePing | kFeatureBlockSyncServe);
  EXPECT_EQ(server.hs().agreement().features,
            kFeaturePing | kFeatureBlockSyncServe);
  EXPECT_EQ(client.hs().peer_host_name(), Slice::FromCString("beta"));
  EXPECT_EQ(server.hs().peer_host_name(), Slice::FromCString("alpha"));
  EXPECT_EQ(server.hs().peer_module_version(), Slice::FromCString("test 1.0"));
  // The exact exchange of docu/wire-protocol.md.
  EXPECT_EQ(Types(client_sent),
            (std::vector<MessageType>{
                MessageType::kHello, MessageType::kAuthChallenge,
                MessageType::kAuthResponse, MessageType::kAuthResult}));
  EXPECT_EQ(Types(server_sent),
            (std::vector<MessageType>{MessageType::kHello,
                                      MessageType::kAuthChallenge,
                                      MessageType::kAuthResponse}));
  AuthResult result;
  ASSERT_TRUE(result
                  .Decode(Slice(Frames(client_sent)[3].payload.data(),
                                Frames(client_sent)[3].payload.size()))
                  .ok());
  EXPECT_TRUE(result.accepted);
}

TEST(HandshakeTest, SucceedsWithOneByteDelivery) {
  Node client(Role::kClient, "alpha", kSecret, 1);
  Node server(Role::kServer, "beta", kSecret, 101);
  Exchange(&client, &server, nullptr, nullptr, 1);
  EXPECT_TRUE(client.hs().authenticated());
  EXPECT_TRUE(server.hs().authenticated());
}

TEST(HandshakeTest, ClientWithWrongSecretIsRefused) {
  Node client(Role::kClient, "alpha", kWrongSecret, 1);
  Node server(Role::kServer, "beta", kSecret, 101);
  Raw server_sent;
  Exchange(&client, &server, nullptr, &server_sent);
  EXPECT_TRUE(server.hs().failed());
  EXPECT_STREQ(server.hs().status().message(),
               "handshake: peer failed authentication");
  EXPECT_TRUE(client.hs().failed());
  EXPECT_STREQ(client.hs().status().message(),
               "handshake: peer refused our authentication");
  // The server never proved anything to a peer that did not prove itself.
  for (MessageType t : Types(server_sent)) {
    EXPECT_NE(t, MessageType::kAuthResponse);
  }
  EXPECT_EQ(Types(server_sent).back(), MessageType::kAuthResult);
}

TEST(HandshakeTest, ServerWithWrongSecretIsRefused) {
  Node client(Role::kClient, "alpha", kSecret, 1);
  Node server(Role::kServer, "beta", kWrongSecret, 101);
  Exchange(&client, &server);
  EXPECT_TRUE(server.hs().failed());
  EXPECT_TRUE(client.hs().failed());
  EXPECT_FALSE(client.hs().authenticated());
}

// A fake server that does not know the secret answers with a MAC under a
// wrong secret without checking the client: the client refuses it.
TEST(HandshakeTest, ClientRefusesServerWithoutTheSecret) {
  Node client(Role::kClient, "alpha", kSecret, 1);
  Node fake(Role::kServer, "beta", kWrongSecret, 101);
  const Raw hello = client.Start();
  fake.Start();
  const Raw answer = fake.Receive(hello);           // fake's Hello + Challenge
  const Raw client_proof = client.Receive(answer);  // Challenge + Response
  ASSERT_EQ(Types(client_proof),
            (std::vector<MessageType>{MessageType::kAuthChallenge,
                                      MessageType::kAuthResponse}));
  // The fake computes "its" proof with the wrong secret.
  AuthTranscript t;
  std::memcpy(t.client_nonce, client.config().nonce, kNonceSize);
  std::memcpy(t.server_nonce, fake.config().nonce, kNonceSize);
  const std::vector<ReceivedFrame> sent = Frames(hello);
  const std::vector<ReceivedFrame> got = Frames(answer);
  platform::Sha256(sent[0].payload.data(), sent[0].payload.size(),
                   t.client_hello_hash);
  platform::Sha256(got[0].payload.data(), got[0].payload.size(),
                   t.server_hello_hash);
  t.client_host = Slice::FromCString("alpha");
  t.server_host = Slice::FromCString("beta");
  AuthResponse forged;
  ASSERT_TRUE(ComputeAuthMac(Slice(kWrongSecret, sizeof(kWrongSecret) - 1),
                             Role::kServer, t, forged.mac)
                  .ok());
  const Raw verdict = client.Receive(FrameOf(forged));
  EXPECT_TRUE(client.hs().failed());
  EXPECT_STREQ(client.hs().status().message(),
               "handshake: peer failed authentication");
  ASSERT_EQ(Types(verdict), std::vector<MessageType>{MessageType::kAuthResult});
  AuthResult result;
  ASSERT_TRUE(result
                  .Decode(Slice(Frames(verdict)[0].payload.data(),
                                Frames(verdict)[0].payload.size()))
                  .ok());
  EXPECT_FALSE(result.accepted);
  // With the right secret the same transcript is accepted (control).
  Node client2(Role::kClient, "alpha", kSecret, 1);
  client2.Start();
  client2.Receive(answer);
  AuthResponse genuine;
  ASSERT_TRUE(ComputeAuthMac(Slice(kSecret, sizeof(kSecret) - 1), Role::kServer,
                             t, genuine.mac)
                  .ok());
  client2.Receive(FrameOf(genuine));
  EXPECT_TRUE(client2.hs().authenticated());
}

TEST(HandshakeTest, ReplayedClientResponseIsRefused) {
  // Session 1, recorded by an eavesdropper.
  Node client(Role::kClient, "alpha", kSecret, 1);
  Node server(Role::kServer, "beta", kSecret, 101);
  Raw client_sent;
  Exchange(&client, &server, &client_sent);
  ASSERT_TRUE(server.hs().authenticated());
  // Session 2: the attacker replays the client's bytes to a server that
  // picked a fresh nonce.
  Node server2(Role::kServer, "beta", kSecret, 202);
  server2.Start();
  server2.Receive(client_sent);
  EXPECT_TRUE(server2.hs().failed());
  EXPECT_STREQ(server2.hs().status().message(),
               "handshake: peer failed authentication");
  EXPECT_FALSE(server2.hs().authenticated());
}

TEST(HandshakeTest, ReplayedServerResponseIsRefused) {
  Node client(Role::kClient, "alpha", kSecret, 1);
  Node server(Role::kServer, "beta", kSecret, 101);
  Raw server_sent;
  Exchange(&client, &server, nullptr, &server_sent);
  ASSERT_TRUE(client.hs().authenticated());
  // A fake server replays the recorded server bytes to a client with a
  // fresh nonce.
  Node client2(Role::kClient, "alpha", kSecret, 77);
  client2.Start();
  client2.Receive(server_sent);
  EXPECT_TRUE(client2.hs().failed());
  EXPECT_STREQ(client2.hs().status().message(),
               "handshake: peer failed authentication");
}

TEST(HandshakeTest, ReflectedChallengeIsRefusedByTheServer) {
  Node server(Role::kServer, "beta", kSecret, 101);
  Node attacker(Role::kClient, "alpha", kSecret, 1);  // only for its Hello
  server.Start();
  const Raw answer = server.Receive(attacker.Start());
  const std::vector<ReceivedFrame> frames = Frames(answer);
  ASSERT_EQ(frames.size(), 2u);
  ASSERT_EQ(frames[1].type, MessageType::kAuthChallenge);
  // Send the server's own nonce back as ours.
  AuthChallenge reflected;
  std::memcpy(reflected.nonce, frames[1].payload.data(), kNonceSize);
  const Raw error = server.Receive(FrameOf(reflected));
  EXPECT_TRUE(server.hs().failed());
  EXPECT_STREQ(server.hs().status().message(),
               "handshake: peer reflected our nonce");
  EXPECT_EQ(Types(error), std::vector<MessageType>{MessageType::kError});
}

TEST(HandshakeTest, ReflectedChallengeIsRefusedByTheClient) {
  Node client(Role::kClient, "alpha", kSecret, 1);
  Node fake(Role::kServer, "beta", kSecret, 101);
  const Raw hello = client.Start();
  fake.Start();
  // The fake sends only its Hello, waits for the client's challenge and
  // sends that nonce back.
  const std::vector<ReceivedFrame> fake_out = Frames(fake.Receive(hello));
  Bytes hello_only;
  FrameEncoder encoder(&hello_only);
  ASSERT_TRUE(
      encoder
          .Append(static_cast<uint16_t>(MessageType::kHello),
                  Slice(fake_out[0].payload.data(), fake_out[0].payload.size()))
          .ok());
  const std::vector<ReceivedFrame> challenge = Frames(client.Receive(
      Raw(hello_only.data(), hello_only.data() + hello_only.size())));
  ASSERT_EQ(challenge.size(), 1u);
  AuthChallenge reflected;
  std::memcpy(reflected.nonce, challenge[0].payload.data(), kNonceSize);
  const Raw out = client.Receive(FrameOf(reflected));
  EXPECT_TRUE(client.hs().failed());
  EXPECT_STREQ(client.hs().status().message(),
               "handshake: peer reflected our nonce");
  // The client gave no proof for the reflected nonce.
  EXPECT_EQ(Types(out), std::vector<MessageType>{MessageType::kError});
}

TEST(HandshakeTest, ReflectedResponseIsRefused) {
  // A fake server sends the client's own proof back as the server's proof.
  Node client(Role::kClient, "alpha", kSecret, 1);
  Node fake(Role::kServer, "beta", kSecret, 101);
  const Raw hello = client.Start();
  fake.Start();
  const Raw proof = client.Receive(fake.Receive(hello));
  const std::vector<ReceivedFrame> frames = Frames(proof);
  ASSERT_EQ(frames.size(), 2u);
  ASSERT_EQ(frames[1].type, MessageType::kAuthResponse);
  AuthResponse reflected;
  std::memcpy(reflected.mac, frames[1].payload.data(), kMacSize);
  client.Receive(FrameOf(reflected));
  EXPECT_TRUE(client.hs().failed());
  EXPECT_STREQ(client.hs().status().message(),
               "handshake: peer failed authentication");
}

TEST(HandshakeTest, MessagesBeforeAuthenticationAreRefused) {
  TreeSinceRequest since;
  since.since = tree::ChangeCursor{1, 1};
  Ping ping;
  LogfileRequest logfile;
  logfile.name = Slice::FromCString("resource-r0/log-000000001-beta");
  logfile.max_length = 4096;
  const Raw early[] = {FrameOf(since), FrameOf(ping), FrameOf(logfile)};
  for (const Raw& frame : early) {
    // Before anything.
    Node server(Role::kServer, "beta", kSecret, 101);
    server.Start();
    const Raw out = server.Receive(frame);
    EXPECT_TRUE(server.hs().failed());
    EXPECT_STREQ(server.hs().status().message(),
                 "handshake: message before authentication");
    EXPECT_EQ(Types(out), std::vector<MessageType>{MessageType::kError});
    // After the Hello exchange, and after the challenges.
    for (int stage = 0; stage < 2; ++stage) {
      Node client(Role::kClient, "alpha", kSecret, 1);
      Node server2(Role::kServer, "beta", kSecret, 101);
      server2.Start();
      const Raw answer = server2.Receive(client.Start());  // Hello+Challenge
      const Raw sent = client.Receive(answer);  // Challenge + Response
      if (stage == 1) {
        const std::vector<ReceivedFrame> frames = Frames(sent);
        ASSERT_EQ(frames[0].type, MessageType::kAuthChallenge);
        AuthChallenge challenge;
        ASSERT_TRUE(challenge
                        .Decode(Slice(frames[0].payload.data(),
                                      frames[0].payload.size()))
                        .ok());
        server2.Receive(FrameOf(challenge));
        ASSERT_EQ(server2.hs().state(), Handshake::State::kWaitResponse);
      } else {
        ASSERT_EQ(server2.hs().state(), Handshake::State::kWaitChallenge);
      }
      server2.Receive(frame);
      EXPECT_TRUE(server2.hs().failed()) << stage;
      EXPECT_STREQ(server2.hs().status().message(),
                   "handshake: message before authentication");
      // The client refuses early session messages just the same.
      ASSERT_EQ(client.hs().state(), Handshake::State::kWaitResponse);
      client.Receive(frame);
      EXPECT_TRUE(client.hs().failed());
      EXPECT_STREQ(client.hs().status().message(),
                   "handshake: message before authentication");
    }
  }
}

TEST(HandshakeTest, ServerRefusesSessionMessagesUntilTheClientAccepts) {
  Node client(Role::kClient, "alpha", kSecret, 1);
  Node server(Role::kServer, "beta", kSecret, 101);
  Raw to_server = client.Start();
  server.Start();
  Raw to_client = server.Receive(to_server);  // Hello + Challenge
  to_server = client.Receive(to_client);      // Challenge + Response
  to_client = server.Receive(to_server);      // Response
  ASSERT_EQ(server.hs().state(), Handshake::State::kWaitResult);
  server.Receive(FrameOf(Ping()));
  EXPECT_TRUE(server.hs().failed());
  EXPECT_STREQ(server.hs().status().message(),
               "handshake: message before authentication");
}

TEST(HandshakeTest, OutOfOrderMessagesAreRefused) {
  Node server(Role::kServer, "beta", kSecret, 101);
  server.Start();
  server.Receive(FrameOf(AuthResponse()));
  EXPECT_TRUE(server.hs().failed());
  EXPECT_STREQ(server.hs().status().message(),
               "handshake: message out of order");

  // A client that is told "accepted" instead of getting a proof.
  Node client(Role::kClient, "alpha", kSecret, 1);
  Node server2(Role::kServer, "beta", kSecret, 101);
  server2.Start();
  client.Receive(server2.Receive(client.Start()));
  ASSERT_EQ(client.hs().state(), Handshake::State::kWaitResponse);
  AuthResult accepted;
  accepted.accepted = true;
  client.Receive(FrameOf(accepted));
  EXPECT_TRUE(client.hs().failed());
  EXPECT_STREQ(client.hs().status().message(),
               "handshake: message out of order");
}

TEST(HandshakeTest, NegotiationFailureIsReportedToThePeer) {
  Node client(Role::kClient, "alpha", kSecret, 1, "another cluster");
  Node server(Role::kServer, "beta", kSecret, 101);
  Raw server_sent;
  Exchange(&client, &server, nullptr, &server_sent);
  EXPECT_TRUE(server.hs().failed());
  EXPECT_STREQ(server.hs().status().message(),
               "hello: peer belongs to another cluster");
  EXPECT_EQ(Types(server_sent), std::vector<MessageType>{MessageType::kError});
  EXPECT_TRUE(client.hs().failed());
  EXPECT_STREQ(client.hs().status().message(),
               "handshake: peer reported an error");
  EXPECT_EQ(client.hs().peer_error_code(),
            static_cast<uint32_t>(StatusCode::kInvalidArgument));
}

TEST(HandshakeTest, MalformedHandshakePayloadIsRefused) {
  Node server(Role::kServer, "beta", kSecret, 101);
  server.Start();
  Bytes bad;
  FrameEncoder encoder(&bad);
  const uint8_t junk[3] = {1, 2, 3};
  ASSERT_TRUE(encoder
                  .Append(static_cast<uint16_t>(MessageType::kHello),
                          Slice(junk, sizeof(junk)))
                  .ok());
  const Raw out = server.Receive(Raw(bad.data(), bad.data() + bad.size()));
  EXPECT_TRUE(server.hs().failed());
  EXPECT_STREQ(server.hs().status().message(), "hello: payload truncated");
  EXPECT_EQ(Types(out), std::vector<MessageType>{MessageType::kError});
}

TEST(HandshakeTest, ConfigurationAndLifecycleErrors) {
  Node short_secret(Role::kClient, "alpha", "too short", 1);
  Bytes out;
  Status s = short_secret.hs().Start(&out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_STREQ(s.message(), "handshake: cluster secret size out of range");
  EXPECT_TRUE(short_secret.hs().failed());
  EXPECT_EQ(out.size(), 0u);

  Node bad_host(Role::kServer, "bad host", kSecret, 1);
  EXPECT_STREQ(bad_host.hs().Start(&out).message(),
               "hello: host name contains a character other than letters, "
               "digits, '_' and '-'");
  Node reserved_host(Role::kClient, "localhost", kSecret, 1);
  EXPECT_STREQ(reserved_host.hs().Start(&out).message(),
               "hello: host name is reserved");
  const std::string long_name(64, 'h');
  Node long_host(Role::kClient, long_name.c_str(), kSecret, 1);
  EXPECT_STREQ(long_host.hs().Start(&out).message(),
               "hello: host name is longer than 63 characters");

  Node idle(Role::kServer, "beta", kSecret, 1);
  Frame frame;
  EXPECT_EQ(idle.hs().OnFrame(frame, &out).code(), StatusCode::kInternal);

  Node client(Role::kClient, "alpha", kSecret, 1);
  Node server(Role::kServer, "beta", kSecret, 101);
  Exchange(&client, &server);
  ASSERT_TRUE(client.hs().authenticated());
  EXPECT_EQ(client.hs().Start(&out).code(), StatusCode::kInternal);
  frame.type = MessageType::kPing;
  EXPECT_EQ(client.hs().OnFrame(frame, &out).code(), StatusCode::kInternal);
  EXPECT_TRUE(client.hs().authenticated());  // unchanged
}

}  // namespace
}  // namespace wire
}  // namespace mars
