// Tests of every message payload codec: round trips, every truncation, trailing
// bytes, and the field checks of docu/wire-protocol.md ("Messages").
#include "core/wire/messages.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/wire/frame.h"
#include "core/wire/wire_test_util.h"

namespace mars {
namespace wire {
namespace {

using namespace ::mars::wire::test;  // NOLINT(build/namespaces)

// ---- Hello ----

Hello SampleHello() {
  Hello h;
  h.protocol_min = 1;
  h.protocol_max = 3;
  h.features = kFeaturePing | kFeatureLogfileServe | (1ull << 63);
  h.host_name = Slice::FromCString("node-a_example");
  h.cluster_id = Slice::FromCString("node-a 2024-05-01 12:00:00");
  h.module_version = Slice::FromCString("mars 0.1.0");
  return h;
}

TEST(HelloTest, RoundTripAndLayout) {
  const Raw payload = EncodeOk(SampleHello());
  ASSERT_EQ(payload.size(), 2 + 2 + 8 + 2 + 14 + 2 + 26 + 2 + 10u);
  EXPECT_EQ(DecodeFixed16(&payload[0]), 1);
  EXPECT_EQ(DecodeFixed16(&payload[2]), 3);
  EXPECT_EQ(DecodeFixed64(&payload[4]), SampleHello().features);
  EXPECT_EQ(DecodeFixed16(&payload[12]), 14);
  Hello h;
  ASSERT_TRUE(DecodeRaw(payload, &h).ok());
  EXPECT_EQ(h.protocol_min, 1);
  EXPECT_EQ(h.protocol_max, 3);
  EXPECT_EQ(h.features, SampleHello().features);
  EXPECT_EQ(Str(h.host_name), "node-a_example");
  EXPECT_EQ(Str(h.cluster_id), "node-a 2024-05-01 12:00:00");
  EXPECT_EQ(Str(h.module_version), "mars 0.1.0");
  CheckCodecProperties<Hello>(payload);
  Hello no_version = SampleHello();
  no_version.module_version = Slice();
  CheckCodecProperties<Hello>(EncodeOk(no_version));
}

TEST(HelloTest, FieldChecks) {
  const std::string long_host(tree::kMaxNameChars + 1, 'h');  // 64
  const std::string max_host(tree::kMaxNameChars, 'h');       // 63
  const std::string long_cluster(kMaxClusterIdSize + 1, 'c');
  const std::string long_version(kMaxModuleVersionSize + 1, 'v');
  Hello h = SampleHello();
  h.host_name = S(max_host);
  CheckCodecProperties<Hello>(EncodeOk(h));

  struct Case {
    void (*mutate)(Hello*, const std::string&);
    const std::string* arg;
    const char* message;
  };
  const char* const kBadChar =
      "hello: host name contains a character other than letters, digits, "
      "'_' and '-'";
  const std::string bad_chars = "a/b";
  const std::string dot = ".hidden";
  const std::string fqdn = "node-a.example";
  const std::string dash = "-a";
  const std::string localhost = "localhost";
  const std::string none = "none";
  const std::string empty;
  auto set_host = [](Hello* x, const std::string& a) { x->host_name = S(a); };
  const Case cases[] = {
      {[](Hello* x, const std::string&) { x->protocol_min = 0; }, &empty,
       "hello: invalid protocol version range"},
      {[](Hello* x, const std::string&) { x->protocol_min = 4; }, &empty,
       "hello: invalid protocol version range"},
      {set_host, &empty, "hello: host name is empty"},
      {set_host, &long_host, "hello: host name is longer than 63 characters"},
      {set_host, &bad_chars, kBadChar},
      {set_host, &dot, kBadChar},
      {set_host, &fqdn, kBadChar},
      {set_host, &dash, "hello: host name starts with '-'"},
      {set_host, &localhost, "hello: host name is reserved"},
      {set_host, &none, "hello: host name is reserved"},
      {[](Hello* x, const std::string& a) { x->cluster_id = S(a); }, &empty,
       "hello: cluster id empty or too long"},
      {[](Hello* x, const std::string& a) { x->cluster_id = S(a); },
       &long_cluster, "hello: cluster id empty or too long"},
      {[](Hello* x, const std::string& a) { x->module_version = S(a); },
       &long_version, "hello: module version too long"},
  };
  for (const Case& c : cases) {
    Hello bad = SampleHello();
    c.mutate(&bad, *c.arg);
    ExpectEncodeError(bad, c.message);
  }
  // Host names a peer sends that the encoder would refuse: each is refused
  // by Decode with the same message (the payload is built by hand).
  for (const Case& c : cases) {
    if (c.mutate != +set_host) continue;
    SCOPED_TRACE(*c.arg);
    const Raw good = EncodeOk(SampleHello());
    const size_t old_size = DecodeFixed16(&good[12]);
    Raw p(good.begin(), good.begin() + 12);
    p.push_back(static_cast<uint8_t>(c.arg->size()));
    p.push_back(static_cast<uint8_t>(c.arg->size() >> 8));
    p.insert(p.end(), c.arg->begin(), c.arg->end());
    p.insert(p.end(), good.begin() + 14 + old_size, good.end());
    ExpectDecodeError<Hello>(p, c.message);
  }
  // The same checks on decode, from hand-made payloads.
  Raw payload = EncodeOk(SampleHello());
  Raw p = payload;
  EncodeFixed16(&p[0], 0);
  ExpectDecodeError<Hello>(p, "hello: invalid protocol version range");
  p = payload;
  EncodeFixed16(&p[0], 5);
  ExpectDecodeError<Hello>(p, "hello: invalid protocol version range");
  p = payload;
  p[14] = '/';
  ExpectDecodeError<Hello>(p, kBadChar);
  p = payload;
  EncodeFixed16(&p[12], kMaxHostNameSize + 1);  // refused before the bytes
  ExpectDecodeError<Hello>(p, "hello: host name is longer than 63 characters");
  p = payload;
  EncodeFixed16(&p[28], 0);  // cluster id length
  ExpectDecodeError<Hello>(p, "hello: cluster id empty or too long");
  p = payload;
  EncodeFixed16(&p[p.size() - 12], kMaxModuleVersionSize + 1);
  ExpectDecodeError<Hello>(p, "hello: module version too long");
}

TEST(NegotiateTest, PicksHighestCommonVersionAndCommonFeatures) {
  Hello local = SampleHello();
  Hello remote = SampleHello();
  remote.host_name = Slice::FromCString("node-b");
  remote.protocol_min = 2;
  remote.protocol_max = 7;
  remote.features = kFeaturePing | kFeatureBlockSyncServe | (1ull << 40);
  Result<Agreement> a = Negotiate(local, remote);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->protocol_version, 3);
  EXPECT_EQ(a->features, kFeaturePing);
  remote.protocol_min = remote.protocol_max = 1;
  Result<Agreement> b = Negotiate(local, remote);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->protocol_version, 1);
  EXPECT_EQ(Negotiate(remote, local)->protocol_version, 1);
}

TEST(NegotiateTest, RefusesWithClearErrors) {
  Hello local = SampleHello();
  Hello remote = SampleHello();
  remote.host_name = Slice::FromCString("node-b");
  remote.protocol_min = 4;
  remote.protocol_max = 9;
  Result<Agreement> a = Negotiate(local, remote);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kOutOfRange);
  EXPECT_STREQ(a.status().message(), "hello: no common protocol version");

  remote.protocol_min = 1;
  remote.cluster_id = Slice::FromCString("another cluster");
  Result<Agreement> b = Negotiate(local, remote);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_STREQ(b.status().message(), "hello: peer belongs to another cluster");

  // A joining host (no uuid yet) may talk to a member, either way round;
  // the secret decides. Two joining hosts may not.
  remote.cluster_id = Slice::FromCString(kJoiningClusterId);
  EXPECT_TRUE(Negotiate(local, remote).ok());
  EXPECT_TRUE(Negotiate(remote, local).ok());
  Hello joiner = remote;
  joiner.host_name = Slice::FromCString("node-c");
  Result<Agreement> j = Negotiate(joiner, remote);
  ASSERT_FALSE(j.ok());
  EXPECT_STREQ(j.status().message(), "hello: neither host is a cluster member");

  remote.cluster_id = local.cluster_id;
  remote.host_name = local.host_name;
  Result<Agreement> c = Negotiate(local, remote);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_STREQ(c.status().message(), "hello: peer uses our own host name");
}

// ---- Authentication and control messages ----

TEST(ControlMessagesTest, AuthChallengeAndResponse) {
  AuthChallenge c;
  for (size_t i = 0; i < kNonceSize; ++i) c.nonce[i] = static_cast<uint8_t>(i);
  const Raw payload = EncodeOk(c);
  ASSERT_EQ(payload, Raw(c.nonce, c.nonce + kNonceSize));
  CheckCodecProperties<AuthChallenge>(payload);
  AuthResponse r;
  for (size_t i = 0; i < kMacSize; ++i) r.mac[i] = static_cast<uint8_t>(~i);
  const Raw mac = EncodeOk(r);
  ASSERT_EQ(mac, Raw(r.mac, r.mac + kMacSize));
  CheckCodecProperties<AuthResponse>(mac);
  AuthResponse back;
  ASSERT_TRUE(DecodeRaw(mac, &back).ok());
  EXPECT_EQ(std::memcmp(back.mac, r.mac, kMacSize), 0);
}

TEST(ControlMessagesTest, AuthResult) {
  AuthResult r;
  r.accepted = true;
  EXPECT_EQ(EncodeOk(r), Raw{1});
  CheckCodecProperties<AuthResult>(EncodeOk(r));
  r.accepted = false;
  EXPECT_EQ(EncodeOk(r), Raw{2});
  CheckCodecProperties<AuthResult>(EncodeOk(r));
  ExpectDecodeError<AuthResult>(Raw{0}, "auth-result: unknown verdict");
  ExpectDecodeError<AuthResult>(Raw{3}, "auth-result: unknown verdict");
}

TEST(ControlMessagesTest, ErrorMessage) {
  ErrorMessage e;
  e.code = static_cast<uint32_t>(StatusCode::kCorruption);
  e.text = Slice::FromCString("frame: CRC mismatch");
  const Raw payload = EncodeOk(e);
  CheckCodecProperties<ErrorMessage>(payload);
  ErrorMessage back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_EQ(back.code, 3u);
  EXPECT_EQ(Str(back.text), "frame: CRC mismatch");
  e.text = Slice();
  CheckCodecProperties<ErrorMessage>(EncodeOk(e));
  const std::string max_text(kMaxErrorTextSize, 't');
  e.text = S(max_text);
  CheckCodecProperties<ErrorMessage>(EncodeOk(e));

  const std::string long_text(kMaxErrorTextSize + 1, 't');
  e.text = S(long_text);
  ExpectEncodeError(e, "error: text too long");
  e.text = Slice();
  e.code = 0;
  ExpectEncodeError(e, "error: code 0 is not an error");
  Raw p = payload;
  EncodeFixed32(&p[0], 0);
  ExpectDecodeError<ErrorMessage>(p, "error: code 0 is not an error");
  p = payload;
  EncodeFixed16(&p[4], kMaxErrorTextSize + 1);
  ExpectDecodeError<ErrorMessage>(p, "error: text too long");
}

TEST(ControlMessagesTest, PingAndPong) {
  Ping ping;
  ping.token = 0xFEDCBA9876543210ull;
  const Raw payload = EncodeOk(ping);
  EXPECT_EQ(payload.size(), 8u);
  CheckCodecProperties<Ping>(payload);
  Pong pong;
  ASSERT_TRUE(DecodeRaw(payload, &pong).ok());
  EXPECT_EQ(pong.token, ping.token);
  CheckCodecProperties<Pong>(EncodeOk(pong));
}

}  // namespace
}  // namespace wire
}  // namespace mars
