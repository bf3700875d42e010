// Builds the seed corpus of the wire_decoder fuzz target
// (testing/fuzz/wire_decoder_fuzz.cc describes the input format) and checks
// it. With MARS_WIRE_CORPUS_DIR=DIR set, also writes the seeds into DIR:
//   MARS_WIRE_CORPUS_DIR=testing/fuzz/corpus/wire_decoder
//     mars_core_test --gtest_filter=WireCorpusTest.*
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/wire/frame.h"
#include "core/wire/frame_decoder.h"
#include "core/wire/handshake.h"
#include "core/wire/messages.h"

namespace mars {
namespace wire {
namespace {

using Raw = std::vector<uint8_t>;

template <class M>
Raw Payload(const M& m) {
  Bytes out;
  EXPECT_TRUE(m.Encode(&out).ok());
  return Raw(out.data(), out.data() + out.size());
}

template <class M>
Raw FrameOf(const M& m) {
  Bytes out;
  FrameEncoder encoder(&out);
  EXPECT_TRUE(encoder.AppendMessage(m).ok());
  return Raw(out.data(), out.data() + out.size());
}

Raw Concat(std::initializer_list<Raw> parts) {
  Raw out;
  for (const Raw& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Raw mode: byte 0 < 0x80 selects the chunking.
Raw RawSeed(uint8_t chunking, const Raw& stream) {
  // Sized first: gcc 12 -O3 misjudges an insert after a one-byte vector
  // (-Warray-bounds).
  Raw seed(stream.size() + 1);
  seed[0] = static_cast<uint8_t>(chunking & 0x7F);
  std::copy(stream.begin(), stream.end(), seed.begin() + 1);
  return seed;
}

// Framed mode: records [u16 type][u16 size][payload].
Raw FramedSeed(uint8_t chunking,
               const std::vector<std::pair<uint16_t, Raw>>& records) {
  Raw seed{static_cast<uint8_t>(0x80 | (chunking & 0x7F))};
  for (const auto& [type, payload] : records) {
    uint8_t head[4];
    EncodeFixed16(head, type);
    EncodeFixed16(head + 2, static_cast<uint16_t>(payload.size()));
    seed.insert(seed.end(), head, head + 4);
    seed.insert(seed.end(), payload.begin(), payload.end());
  }
  return seed;
}

uint16_t T(MessageType t) { return static_cast<uint16_t>(t); }

std::map<std::string, Raw> BuildSeeds() {
  Hello hello;
  hello.features = kFeaturesSupported;
  hello.host_name = Slice::FromCString("alpha");
  hello.cluster_id = Slice::FromCString("fuzz cluster");
  hello.module_version = Slice::FromCString("0.1");
  AuthChallenge challenge;
  for (size_t i = 0; i < kNonceSize; ++i) challenge.nonce[i] = uint8_t(i);
  AuthResponse response;
  for (size_t i = 0; i < kMacSize; ++i) response.mac[i] = uint8_t(~i);
  AuthResult accepted;
  accepted.accepted = true;
  ErrorMessage error;
  error.code = 3;
  error.text = Slice::FromCString("frame: CRC mismatch");
  Ping ping;
  ping.token = 0x0123456789ABCDEFull;
  Pong pong;
  pong.token = 9;
  TreeSinceRequest since;
  since.since = tree::ChangeCursor{1700000000000000000ull, 12};
  TreeUpdate update;
  update.next = tree::ChangeCursor{1700000000000000000ull, 14};
  TreeEntry e1;
  e1.path = Slice::FromCString("resource-r0/primary");
  e1.value = Slice::FromCString("alpha");
  e1.owner = Slice::FromCString("alpha");
  e1.stamp = 1000;
  TreeEntry e2;
  e2.path = Slice::FromCString("resource-r0/todo-beta/sync");
  e2.owner = Slice::FromCString("beta");
  e2.stamp = 1001;
  e2.tombstone = true;
  EXPECT_TRUE(update.entries.PushBack(e1).ok());
  EXPECT_TRUE(update.entries.PushBack(e2).ok());
  LogfileRequest logfile_request;
  logfile_request.name = Slice::FromCString("resource-r0/log-000000001-alpha");
  logfile_request.offset = 4096;
  logfile_request.max_length = 65536;
  const std::string bytes(200, 'L');
  LogfileData logfile_data;
  logfile_data.name = logfile_request.name;
  logfile_data.offset = 4096;
  logfile_data.file_size = 4096 + bytes.size();
  logfile_data.end_of_file = true;
  logfile_data.data = Slice(bytes.data(), bytes.size());
  DigestRequest digest_request;
  digest_request.resource = Slice::FromCString("r0");
  digest_request.offset = 0;
  digest_request.length = 3 * 4096 + 512;
  digest_request.block_size = 4096;
  Raw digests(4 * kDigestSize, 0xD1);
  DigestReply digest_reply;
  digest_reply.resource = digest_request.resource;
  digest_reply.offset = 0;
  digest_reply.length = digest_request.length;
  digest_reply.block_size = 4096;
  digest_reply.log_number = 3;
  digest_reply.log_offset = 65536;
  digest_reply.digests = Slice(digests.data(), digests.size());
  DigestReply digest_unavailable;
  digest_unavailable.resource = digest_request.resource;
  digest_unavailable.length = digest_request.length;
  digest_unavailable.block_size = 4096;
  digest_unavailable.flags = kSyncUnavailable;
  BlockRequest block_request;
  block_request.resource = digest_request.resource;
  block_request.offset = 8192;
  block_request.length = 1024;
  const std::string block(1024, 'B');
  BlockData block_data;
  block_data.resource = digest_request.resource;
  block_data.offset = 8192;
  block_data.log_number = 3;
  block_data.log_offset = 65536;
  block_data.data = Slice(block.data(), block.size());
  BlockData block_unavailable;
  block_unavailable.resource = digest_request.resource;
  block_unavailable.offset = 8192;
  block_unavailable.flags = kSyncUnavailable;

  const Raw all_frames = Concat(
      {FrameOf(hello), FrameOf(challenge), FrameOf(response),
       FrameOf(accepted), FrameOf(ping), FrameOf(pong), FrameOf(since),
       FrameOf(update), FrameOf(logfile_request), FrameOf(logfile_data),
       FrameOf(digest_request), FrameOf(digest_reply), FrameOf(block_request),
       FrameOf(block_data), FrameOf(error)});

  std::map<std::string, Raw> seeds;
  seeds["raw-all-types-whole"] = RawSeed(0, all_frames);
  seeds["raw-all-types-bytewise"] = RawSeed(12, all_frames);  // 1-byte max
  seeds["raw-all-types-chunks"] = RawSeed(7, all_frames);
  seeds["raw-handshake-client"] =
      RawSeed(3, Concat({FrameOf(hello), FrameOf(challenge),
                         FrameOf(response), FrameOf(accepted)}));
  Raw truncated = all_frames;
  truncated.resize(truncated.size() - 5);
  seeds["raw-truncated"] = RawSeed(1, truncated);
  Raw bad_crc = FrameOf(ping);
  bad_crc[kFrameHeaderSize] ^= 1;
  seeds["raw-bad-crc"] = RawSeed(2, Concat({FrameOf(pong), bad_crc}));
  Raw oversized = FrameOf(ping);
  EncodeFixed32(oversized.data() + 8, kMaxPayloadSize + 1);
  seeds["raw-oversized-length"] = RawSeed(0, oversized);
  Raw bad_magic = FrameOf(ping);
  bad_magic[0] = 'X';
  seeds["raw-bad-magic"] = RawSeed(0, bad_magic);
  Bytes ignorable;
  FrameEncoder encoder(&ignorable);
  EXPECT_TRUE(encoder.Append(0x8042, Slice("advisory", 8)).ok());
  seeds["raw-ignorable-then-ping"] = RawSeed(
      5, Concat({Raw(ignorable.data(), ignorable.data() + ignorable.size()),
                 FrameOf(ping)}));
  seeds["raw-garbage"] = RawSeed(4, Raw{'G', 'E', 'T', ' ', '/', ' ', 'H'});

  seeds["framed-valid-payloads"] = FramedSeed(
      9, {{T(MessageType::kHello), Payload(hello)},
          {T(MessageType::kTreeUpdate), Payload(update)},
          {T(MessageType::kLogfileData), Payload(logfile_data)},
          {T(MessageType::kDigestReply), Payload(digest_reply)},
          {T(MessageType::kBlockData), Payload(block_data)},
          {T(MessageType::kDigestReply), Payload(digest_unavailable)},
          {T(MessageType::kBlockData), Payload(block_unavailable)},
          {T(MessageType::kError), Payload(error)}});
  seeds["framed-small-payloads"] = FramedSeed(
      0, {{T(MessageType::kAuthChallenge), Payload(challenge)},
          {T(MessageType::kAuthResponse), Payload(response)},
          {T(MessageType::kAuthResult), Payload(accepted)},
          {T(MessageType::kPing), Payload(ping)},
          {T(MessageType::kPong), Payload(pong)},
          {T(MessageType::kTreeSinceRequest), Payload(since)},
          {T(MessageType::kLogfileRequest), Payload(logfile_request)},
          {T(MessageType::kDigestRequest), Payload(digest_request)},
          {T(MessageType::kBlockRequest), Payload(block_request)}});
  Raw bad_update = Payload(update);
  EncodeFixed32(bad_update.data() + 17, 4000);  // count the payload lacks
  Raw bad_hello = Payload(hello);
  EncodeFixed16(bad_hello.data(), 0);  // protocol_min 0
  Hello reserved_hello;  // host "beta", then rewritten to reserved "local"
  reserved_hello.host_name = Slice::FromCString("beta");
  reserved_hello.cluster_id = hello.cluster_id;
  Raw reserved_host = Payload(reserved_hello);
  const Raw local = {'l', 'o', 'c', 'a', 'l'};
  reserved_host.erase(reserved_host.begin() + 14, reserved_host.begin() + 18);
  reserved_host.insert(reserved_host.begin() + 14, local.begin(), local.end());
  EncodeFixed16(reserved_host.data() + 12, 5);
  Raw long_owner = Payload(update);  // owner "alpha" -> 64 characters
  const size_t owner_at = 21 + 8 + 1 + 2 + e1.path.size();
  EncodeFixed16(long_owner.data() + owner_at, 64);
  long_owner.insert(long_owner.begin() + owner_at + 2, 59, 'o');
  // digest-reply and block-data: a reserved flag bit; unavailable with a
  // log bound; unavailable with data.
  Raw reply_reserved = Payload(digest_reply);
  reply_reserved[24] = 0x02;  // flags after "r0", offset, length, block size
  Raw block_bound = Payload(block_unavailable);
  EncodeFixed64(block_bound.data() + 13, 1);  // log_number after the flags
  Raw block_with_data = Payload(block_unavailable);
  EncodeFixed32(block_with_data.data() + 29, 512);  // data size
  block_with_data.insert(block_with_data.end(), 512, 'U');
  seeds["framed-invalid-payloads"] = FramedSeed(
      6, {{T(MessageType::kTreeUpdate), bad_update},
          {T(MessageType::kHello), bad_hello},
          {T(MessageType::kHello), reserved_host},
          {T(MessageType::kTreeUpdate), long_owner},
          {T(MessageType::kAuthResult), Raw{7}},
          {T(MessageType::kPing), Raw{1, 2, 3}},
          {T(MessageType::kDigestReply), reply_reserved},
          {T(MessageType::kBlockData), block_bound},
          {T(MessageType::kBlockData), block_with_data},
          {0x8001, Raw{1, 2}}});
  return seeds;
}

TEST(WireCorpusTest, SeedsAreSmallAndDecode) {
  const std::map<std::string, Raw> seeds = BuildSeeds();
  EXPECT_GE(seeds.size(), 12u);
  for (const auto& [name, seed] : seeds) {
    EXPECT_LT(seed.size(), 4096u) << name;
  }
  // The all-types stream holds one frame of every type, all decodable.
  const Raw& all = seeds.at("raw-all-types-whole");
  FrameDecoder decoder;
  Slice input(all.data() + 1, all.size() - 1);
  int frames = 0;
  while (decoder.Feed(&input) == FrameDecoder::Event::kFrame) ++frames;
  EXPECT_FALSE(decoder.failed());
  EXPECT_EQ(frames, 15);

  const char* dir = std::getenv("MARS_WIRE_CORPUS_DIR");
  if (dir == nullptr) return;
  for (const auto& [name, seed] : seeds) {
    std::ofstream out(std::string(dir) + "/" + name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(seed.data()),
              static_cast<std::streamsize>(seed.size()));
    ASSERT_TRUE(out.good()) << name;
  }
}

}  // namespace
}  // namespace wire
}  // namespace mars
