// Test-only helpers of the block-sync session tests (session_sync_test.cc,
// session_sync_close_test.cc): an in-memory device and the digests of its
// ranges, a serving side that answers every queued request from it (or
// "unavailable" for another resource), the check of an answer against its
// request, and the fixture of two sessions linked back to back, alpha asking
// and beta serving. Not part of mars.ko.
#ifndef MARS_CORE_PEER_SESSION_SYNC_TEST_UTIL_H_
#define MARS_CORE_PEER_SESSION_SYNC_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>

#include "core/base/crc32c.h"
#include "core/peer/session.h"
#include "core/peer/session_test_util.h"
#include "core/platform.h"
#include "core/wire/messages.h"

namespace mars {
namespace peer {
namespace test {

using Kind = SyncAsk::Kind;

constexpr uint64_t kSyncFeatures =
    wire::kFeaturePing | wire::kFeatureBlockSyncServe;
constexpr char kResource[] = "r0";
// A resource the serving side answers "unavailable" for.
constexpr char kDetached[] = "r9";

inline std::string ToString(const Bytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// A data device: deterministic pseudo-random bytes.
inline Raw MakeDevice(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Raw device(size);
  for (uint8_t& b : device) b = static_cast<uint8_t>(rng());
  return device;
}

// The digests of [offset, offset + length) in blocks of block_size, the
// last block possibly partial.
inline Raw Digests(const Raw& device, uint64_t offset, uint64_t length,
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
inline uint64_t BoundNumber(uint64_t offset) { return 1 + offset % 7; }
inline uint64_t BoundOffset(uint64_t offset) { return 4096 + offset * 3; }

// Serves every request `session` has queued: from `device` for kResource,
// unavailable for any other resource; block-data alternately copied and
// in place. Returns the number answered.
inline int ServeAll(Session* session, const Raw& device) {
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
      // Every other answer in place (the device outlives the output): the
      // requester must not see a difference.
      s = available && served % 2 == 0
              ? session->SendBlockDataInPlace(
                    data, crc32c::Value(data.data.data(), data.data.size()))
              : session->SendBlockData(data);
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
inline void ExpectAnswer(const SyncGot& got, const Asked& asked,
                         const Raw& device) {
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

}  // namespace test
}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_SESSION_SYNC_TEST_UTIL_H_
