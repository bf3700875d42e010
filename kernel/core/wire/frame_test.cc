// Tests of frames: FrameEncoder, FrameDecoder and the golden bytes shown in
// docu/wire-protocol.md ("Worked example").
#include "core/wire/frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/base/crc32c.h"
#include "core/wire/frame_decoder.h"
#include "core/wire/messages.h"

namespace mars {
namespace wire {
namespace {

using Raw = std::vector<uint8_t>;

struct DecodedFrame {
  uint16_t type;
  Raw payload;
  bool operator==(const DecodedFrame& o) const {
    return type == o.type && payload == o.payload;
  }
};

struct DecodeOutcome {
  std::vector<DecodedFrame> frames;
  FrameDecoder::Event last = FrameDecoder::Event::kNeedMoreBytes;
  Status status;
};

Raw ToRaw(const Bytes& b) { return Raw(b.data(), b.data() + b.size()); }

// Feeds one received piece, collecting the frames it completes.
void FeedPiece(FrameDecoder* decoder, Slice input, DecodeOutcome* out) {
  for (;;) {
    out->last = decoder->Feed(&input);
    if (out->last != FrameDecoder::Event::kFrame) break;
    const Frame& f = decoder->frame();
    out->frames.push_back(
        {static_cast<uint16_t>(f.type),
         Raw(f.payload.data(), f.payload.data() + f.payload.size())});
  }
  if (out->last == FrameDecoder::Event::kNeedMoreBytes) {
    EXPECT_TRUE(input.empty());
  }
}

// Feeds `stream` in chunks of the given sizes (the rest in one chunk).
DecodeOutcome DecodeChunked(const Raw& stream,
                            const std::vector<size_t>& chunks,
                            uint32_t max_payload = kMaxPayloadSize) {
  FrameDecoder decoder(platform::Gfp::kKernel, max_payload);
  DecodeOutcome out;
  size_t pos = 0;
  size_t chunk_index = 0;
  while (pos < stream.size() && out.last != FrameDecoder::Event::kError) {
    size_t n = chunk_index < chunks.size() ? chunks[chunk_index++]
                                           : stream.size() - pos;
    n = std::min(n, stream.size() - pos);
    FeedPiece(&decoder, Slice(stream.data() + pos, n), &out);
    pos += n;
  }
  out.status = decoder.status();
  return out;
}

DecodeOutcome DecodeAll(const Raw& stream) { return DecodeChunked(stream, {}); }

Raw PingFrame(uint64_t token) {
  Bytes out;
  FrameEncoder encoder(&out);
  Ping ping;
  ping.token = token;
  EXPECT_TRUE(encoder.AppendMessage(ping).ok());
  return ToRaw(out);
}

// A logfile-data frame carrying `size` bytes.
Raw BigDataFrame(size_t size) {
  std::string data(size, 'd');
  LogfileData chunk;
  chunk.name = Slice::FromCString("resource-r0/log-000000001-alpha");
  chunk.file_size = size;
  chunk.end_of_file = true;
  chunk.data = Slice(data.data(), data.size());
  Bytes out;
  EXPECT_TRUE(FrameEncoder(&out).AppendMessage(chunk).ok());
  return ToRaw(out);
}

// A stream of several frames of different types and sizes.
Raw SampleStream() {
  Bytes out;
  FrameEncoder encoder(&out);
  Ping ping;
  ping.token = 42;
  EXPECT_TRUE(encoder.AppendMessage(ping).ok());
  Hello hello;
  hello.features = kFeaturesSupported;
  hello.host_name = Slice::FromCString("alpha");
  hello.cluster_id = Slice::FromCString("alpha 2024-01-01");
  hello.module_version = Slice::FromCString("0.1.0");
  EXPECT_TRUE(encoder.AppendMessage(hello).ok());
  std::string data(3000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  LogfileData chunk;
  chunk.name = Slice::FromCString("resource-r0/log-000000001-alpha");
  chunk.offset = 4096;
  chunk.file_size = 4096 + data.size();
  chunk.end_of_file = true;
  chunk.data = Slice(data.data(), data.size());
  EXPECT_TRUE(encoder.AppendMessage(chunk).ok());
  TreeSinceRequest since;
  since.since = tree::ChangeCursor{1700000000000000000ull, 12};
  EXPECT_TRUE(encoder.AppendMessage(since).ok());
  return ToRaw(out);
}

// Rewrites the CRC of the frame at `frame` so that header edits are judged
// by the header checks, not caught by the CRC.
void Reseal(Raw* frame) {
  const uint32_t crc =
      FrameCrc(frame->data(), Slice(frame->data() + kFrameHeaderSize,
                                    frame->size() - kFrameHeaderSize));
  EncodeFixed32(frame->data() + kFrameCrcOffset, crc);
}

TEST(FrameTest, GoldenPingFrame) {
  // docu/wire-protocol.md, "Worked example", shows exactly these bytes.
  const Raw frame = PingFrame(0x0123456789ABCDEFull);
  const Raw expected = {
      0x4D, 0x41, 0x52, 0x57,                          // magic "MARW"
      0x01,                                            // frame version 1
      0x00,                                            // flags
      0x06, 0x00,                                      // type 0x0006 ping
      0x08, 0x00, 0x00, 0x00,                          // payload size 8
      0xE2, 0x56, 0xDD, 0xE1,                          // crc32c 0xE1DD56E2
      0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01,  // token
  };
  EXPECT_EQ(frame, expected);
}

TEST(FrameTest, HeaderFieldsAreLittleEndianAtTheirOffsets) {
  const Raw frame = PingFrame(7);
  const FrameHeader h = ParseFrameHeader(frame.data());
  EXPECT_EQ(h.magic, kFrameMagic);
  EXPECT_EQ(std::memcmp(frame.data(), "MARW", 4), 0);
  EXPECT_EQ(h.version, kFrameVersion);
  EXPECT_EQ(h.flags, 0);
  EXPECT_EQ(h.type, static_cast<uint16_t>(MessageType::kPing));
  EXPECT_EQ(h.payload_size, 8u);
  // The CRC covers header bytes [0, 12) and then the payload.
  uint32_t crc = crc32c::Value(frame.data(), kFrameCrcOffset);
  crc = crc32c::Extend(crc, frame.data() + kFrameHeaderSize, 8);
  EXPECT_EQ(h.crc, crc);
}

TEST(FrameTest, RoundTripOfAStream) {
  const Raw stream = SampleStream();
  const DecodeOutcome out = DecodeAll(stream);
  EXPECT_EQ(out.last, FrameDecoder::Event::kNeedMoreBytes);
  EXPECT_TRUE(out.status.ok());
  ASSERT_EQ(out.frames.size(), 4u);
  EXPECT_EQ(out.frames[0].type, static_cast<uint16_t>(MessageType::kPing));
  EXPECT_EQ(out.frames[1].type, static_cast<uint16_t>(MessageType::kHello));
  EXPECT_EQ(out.frames[2].type,
            static_cast<uint16_t>(MessageType::kLogfileData));
  EXPECT_EQ(out.frames[3].type,
            static_cast<uint16_t>(MessageType::kTreeSinceRequest));
  // Re-framing every payload gives the original stream back.
  Bytes again;
  FrameEncoder encoder(&again);
  for (const DecodedFrame& f : out.frames) {
    ASSERT_TRUE(
        encoder.Append(f.type, Slice(f.payload.data(), f.payload.size())).ok());
  }
  EXPECT_EQ(ToRaw(again), stream);
}

TEST(FrameTest, TakenPayloadsStayValidAndGivenBuffersAreReused) {
  const Raw stream = SampleStream();
  FrameDecoder decoder;
  Slice input(stream.data(), stream.size());
  std::vector<Bytes> taken;
  std::vector<Slice> payloads;
  while (decoder.Feed(&input) == FrameDecoder::Event::kFrame) {
    payloads.push_back(decoder.frame().payload);
    taken.push_back(decoder.TakePayload());
    if (!payloads.back().empty()) {
      EXPECT_EQ(payloads.back().data(), taken.back().data());
    }
  }
  EXPECT_TRUE(decoder.status().ok());
  // Every frame's bytes are intact in the buffers taken from the decoder,
  // after later frames were decoded (no buffer was written twice).
  const DecodeOutcome reference = DecodeAll(stream);
  ASSERT_EQ(payloads.size(), reference.frames.size());
  for (size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(Raw(payloads[i].data(), payloads[i].data() + payloads[i].size()),
              reference.frames[i].payload);
  }
  // Buffers given back are used for the next frames: the smallest that
  // fits. The sample's logfile-data frame (payloads[2]) is the only one a
  // frame of the same size fits; a ping fits the ping's.
  std::vector<const uint8_t*> given;
  for (Bytes& buffer : taken) {
    given.push_back(buffer.data());
    decoder.GiveBuffer(std::move(buffer));
  }
  const Raw big = BigDataFrame(3000);
  ASSERT_EQ(big.size() - kFrameHeaderSize, payloads[2].size());
  Slice again(big.data(), big.size());
  ASSERT_EQ(decoder.Feed(&again), FrameDecoder::Event::kFrame);
  EXPECT_EQ(decoder.frame().payload.data(), given[2]);
  Bytes big_taken = decoder.TakePayload();
  const Raw ping = PingFrame(7);
  Slice small(ping.data(), ping.size());
  ASSERT_EQ(decoder.Feed(&small), FrameDecoder::Event::kFrame);
  EXPECT_EQ(decoder.frame().payload.data(), given[0]);
  // A frame larger than every buffer gets a new one; giving buffers back
  // while a frame is ready does not disturb it.
  const Raw huge = BigDataFrame(64 << 10);
  Slice larger(huge.data(), huge.size());
  decoder.GiveBuffer(std::move(big_taken));
  ASSERT_EQ(decoder.Feed(&larger), FrameDecoder::Event::kFrame);
  const uint8_t* fresh = decoder.frame().payload.data();
  EXPECT_EQ(std::find(given.begin(), given.end(), fresh), given.end());
  Bytes offered;
  ASSERT_TRUE(offered.Reserve(1u << 20).ok());
  decoder.GiveBuffer(std::move(offered));
  EXPECT_EQ(decoder.frame().payload.data(), fresh);
  const Slice payload = decoder.frame().payload;
  EXPECT_EQ(Raw(payload.data(), payload.data() + payload.size()),
            Raw(huge.begin() + kFrameHeaderSize, huge.end()));
}

TEST(FrameTest, SparesAreBoundedInNumberAndBytes) {
  FrameDecoder decoder;
  // More buffers than kept: the extra ones are freed (ASan checks that no
  // buffer leaks; here, that the decoder still works after).
  for (size_t i = 0; i < FrameDecoder::kMaxSpareBuffers + 3; ++i) {
    Bytes buffer;
    ASSERT_TRUE(buffer.Reserve(4096).ok());
    decoder.GiveBuffer(std::move(buffer));
  }
  Bytes too_big;
  ASSERT_TRUE(too_big.Reserve(FrameDecoder::kMaxSpareBytes + 1).ok());
  const uint8_t* too_big_storage = too_big.data();
  decoder.GiveBuffer(std::move(too_big));
  // The large frame cannot be in the buffer that was too large to keep.
  const Raw big = BigDataFrame(300000);
  Slice input(big.data(), big.size());
  ASSERT_EQ(decoder.Feed(&input), FrameDecoder::Event::kFrame);
  EXPECT_NE(decoder.frame().payload.data(), too_big_storage);
  // Small frames are received into the 4 KiB spares.
  Bytes taken = decoder.TakePayload();
  EXPECT_GE(taken.capacity(), big.size() - kFrameHeaderSize);
  const Raw ping = PingFrame(1);
  Slice small(ping.data(), ping.size());
  ASSERT_EQ(decoder.Feed(&small), FrameDecoder::Event::kFrame);
  EXPECT_EQ(decoder.TakePayload().capacity(), 4096u);
}

TEST(FrameTest, EveryPrefixNeedsMoreBytesAndYieldsNoFrame) {
  const Raw stream = SampleStream();
  const DecodeOutcome whole = DecodeAll(stream);
  // Frame end offsets in the stream.
  std::vector<size_t> ends;
  size_t end = 0;
  for (const DecodedFrame& f : whole.frames) {
    end += kFrameHeaderSize + f.payload.size();
    ends.push_back(end);
  }
  for (size_t len = 0; len < stream.size(); ++len) {
    const Raw prefix(stream.begin(), stream.begin() + len);
    const DecodeOutcome out = DecodeAll(prefix);
    size_t complete = 0;
    while (complete < ends.size() && ends[complete] <= len) ++complete;
    ASSERT_EQ(out.frames.size(), complete) << "prefix " << len;
    ASSERT_TRUE(out.status.ok()) << "prefix " << len;
    if (len > 0) {
      ASSERT_EQ(out.last, FrameDecoder::Event::kNeedMoreBytes);
    }
    for (size_t i = 0; i < complete; ++i) {
      ASSERT_EQ(out.frames[i], whole.frames[i]);
    }
  }
}

TEST(FrameTest, ChunkedFeedingGivesIdenticalFrames) {
  const Raw stream = SampleStream();
  const DecodeOutcome whole = DecodeAll(stream);
  ASSERT_EQ(whole.frames.size(), 4u);
  // One byte at a time.
  const DecodeOutcome bytewise =
      DecodeChunked(stream, std::vector<size_t>(stream.size(), 1));
  EXPECT_EQ(bytewise.frames, whole.frames);
  EXPECT_TRUE(bytewise.status.ok());
  // Random split points.
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> chunks;
    size_t total = 0;
    while (total < stream.size()) {
      const size_t max = round % 2 == 0 ? 40 : 2000;
      const size_t n = std::uniform_int_distribution<size_t>(0, max)(rng);
      chunks.push_back(n);
      total += n;
    }
    const DecodeOutcome out = DecodeChunked(stream, chunks);
    ASSERT_EQ(out.frames, whole.frames) << "round " << round;
    ASSERT_TRUE(out.status.ok());
  }
}

// Decodes `stream` as a connection does: pieces of up to the chunk sizes
// (cycled) are "received" into the decoder's ReceiveSpace() when it offers
// one, else into a buffer of the caller's, and fed from there. *in_place:
// the bytes that went straight into the space.
DecodeOutcome DecodeReceivedInPlace(const Raw& stream,
                                    const std::vector<size_t>& chunks,
                                    size_t* in_place) {
  FrameDecoder decoder;
  DecodeOutcome out;
  Raw scratch(stream.size());
  size_t pos = 0;
  size_t chunk_index = 0;
  *in_place = 0;
  while (pos < stream.size() && out.last != FrameDecoder::Event::kError) {
    size_t n =
        std::min(chunks[chunk_index++ % chunks.size()], stream.size() - pos);
    size_t room = 0;
    uint8_t* into = decoder.ReceiveSpace(&room);
    if (into != nullptr) {
      n = std::min(n, room);
      *in_place += n;
    } else {
      EXPECT_EQ(room, 0u);
      into = scratch.data();
    }
    std::memcpy(into, stream.data() + pos, n);  // the "receive"
    pos += n;
    FeedPiece(&decoder, Slice(into, n), &out);
  }
  out.status = decoder.status();
  return out;
}

TEST(FrameTest, PayloadsReceivedInPlaceGiveIdenticalFrames) {
  const Raw stream = SampleStream();
  const DecodeOutcome whole = DecodeAll(stream);
  std::mt19937 rng(777);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> chunks;
    for (int i = 0; i < 16; ++i) {
      chunks.push_back(std::uniform_int_distribution<size_t>(
          1, round % 2 == 0 ? 40 : 4000)(rng));
    }
    size_t in_place = 0;
    const DecodeOutcome out = DecodeReceivedInPlace(stream, chunks, &in_place);
    ASSERT_EQ(out.frames, whole.frames) << "round " << round;
    ASSERT_TRUE(out.status.ok());
    // Pieces of at most 40 bytes always end inside the 3 KiB payload.
    if (round % 2 == 0) {
      EXPECT_GT(in_place, 2000u) << "round " << round;
    }
  }
}

TEST(FrameTest, ReceiveSpaceIsTheRestOfThePayloadOnly) {
  const Raw stream = SampleStream();
  const DecodeOutcome whole = DecodeAll(stream);
  // The third frame (logfile data): its header, then its payload in two
  // pieces received in place.
  const size_t third = 2 * kFrameHeaderSize + whole.frames[0].payload.size() +
                       whole.frames[1].payload.size();
  const size_t payload = whole.frames[2].payload.size();
  FrameDecoder decoder;
  size_t room = 7;
  EXPECT_EQ(decoder.ReceiveSpace(&room), nullptr);  // a header comes first
  EXPECT_EQ(room, 0u);
  Slice input(stream.data(), third + kFrameHeaderSize);
  ASSERT_EQ(decoder.Feed(&input), FrameDecoder::Event::kFrame);
  ASSERT_EQ(decoder.Feed(&input), FrameDecoder::Event::kFrame);
  ASSERT_EQ(decoder.Feed(&input), FrameDecoder::Event::kNeedMoreBytes);
  uint8_t* space = decoder.ReceiveSpace(&room);
  ASSERT_NE(space, nullptr);
  ASSERT_EQ(room, payload);
  const uint8_t* source = stream.data() + third + kFrameHeaderSize;
  std::memcpy(space, source, 1000);
  input = Slice(space, 1000);
  ASSERT_EQ(decoder.Feed(&input), FrameDecoder::Event::kNeedMoreBytes);
  uint8_t* rest = decoder.ReceiveSpace(&room);
  EXPECT_EQ(rest, space + 1000);
  ASSERT_EQ(room, payload - 1000);
  std::memcpy(rest, source + 1000, room);
  input = Slice(rest, room);
  ASSERT_EQ(decoder.Feed(&input), FrameDecoder::Event::kFrame);
  // The payload is where it was received: no copy.
  EXPECT_EQ(decoder.frame().payload.data(), space);
  EXPECT_EQ(Raw(space, space + payload), whole.frames[2].payload);
  EXPECT_EQ(decoder.ReceiveSpace(&room), nullptr);  // the frame is complete
  EXPECT_EQ(room, 0u);
}

TEST(FrameTest, DamageReceivedInPlaceIsACrcMismatch) {
  Raw stream = SampleStream();
  const DecodeOutcome whole = DecodeAll(stream);
  const size_t third = 2 * kFrameHeaderSize + whole.frames[0].payload.size() +
                       whole.frames[1].payload.size();
  stream[third + kFrameHeaderSize + 2000] ^= 0x10;
  size_t in_place = 0;
  const DecodeOutcome out = DecodeReceivedInPlace(stream, {512}, &in_place);
  EXPECT_GT(in_place, 2000u);
  EXPECT_EQ(out.last, FrameDecoder::Event::kError);
  EXPECT_EQ(out.status.code(), StatusCode::kCorruption);
  EXPECT_EQ(out.frames.size(), 2u);
  size_t room = 1;
  EXPECT_EQ(FrameDecoder().ReceiveSpace(&room), nullptr);
}

// AppendDataMessage() checksums the bulk bytes as it copies them, and
// AppendDataMessageHead() leaves them out for the caller to send after it:
// the same frames as AppendMessage(), byte for byte, and nothing on a
// refusal.
TEST(FrameTest, DataMessagesAreEncodedAsByAppendMessage) {
  std::string bytes(kMaxDataChunk + 1, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>((i * 131) ^ (i >> 9));
  }
  for (size_t size : {size_t{0}, size_t{1}, size_t{17}, size_t{4096},
                      size_t{256} << 10, size_t{kMaxDataChunk}}) {
    LogfileData chunk;
    chunk.name = Slice::FromCString("resource-r0/log-000000002-beta");
    chunk.offset = 1u << 20;
    chunk.file_size = chunk.offset + size + 3;
    chunk.file_complete = true;
    chunk.data = Slice(bytes.data() + 1, size);  // unaligned on purpose
    Bytes plain;
    Bytes fused;
    ASSERT_TRUE(FrameEncoder(&plain).AppendMessage(chunk).ok());
    ASSERT_TRUE(fused.Append(plain.data(), 5).ok());  // not at offset 0
    ASSERT_TRUE(FrameEncoder(&fused).AppendDataMessage(chunk).ok());
    ASSERT_EQ(Raw(fused.data() + 5, fused.data() + fused.size()), ToRaw(plain))
        << size;
    // Without the data: the head, and the data sent after it, are the
    // same bytes again.
    Bytes head;
    ASSERT_TRUE(head.Append(plain.data(), 5).ok());
    ASSERT_TRUE(FrameEncoder(&head)
                    .AppendDataMessageHead(
                        chunk, crc32c::Value(chunk.data.data(), size))
                    .ok());
    ASSERT_TRUE(AppendSlice(&head, chunk.data).ok());
    ASSERT_EQ(Raw(head.data() + 5, head.data() + head.size()), ToRaw(plain))
        << size;
    const DecodeOutcome decoded = DecodeAll(ToRaw(plain));
    ASSERT_TRUE(decoded.status.ok());
    ASSERT_EQ(decoded.frames.size(), 1u);
  }
  for (size_t size : {size_t{512}, size_t{64} << 10, size_t{kMaxDataChunk}}) {
    BlockData block;
    block.resource = Slice::FromCString("r0");
    block.offset = 8192;
    block.log_number = 3;
    block.log_offset = 4096;
    block.data = Slice(bytes.data(), size);
    Bytes plain;
    Bytes fused;
    ASSERT_TRUE(FrameEncoder(&plain).AppendMessage(block).ok());
    ASSERT_TRUE(FrameEncoder(&fused).AppendDataMessage(block).ok());
    ASSERT_EQ(ToRaw(fused), ToRaw(plain)) << size;
    Bytes head;
    ASSERT_TRUE(FrameEncoder(&head)
                    .AppendDataMessageHead(
                        block, crc32c::Value(block.data.data(), size))
                    .ok());
    ASSERT_TRUE(AppendSlice(&head, block.data).ok());
    ASSERT_EQ(ToRaw(head), ToRaw(plain)) << size;
  }
  // Refused (data above the limit): nothing appended.
  LogfileData big;
  big.name = Slice::FromCString("resource-r0/log-000000002-beta");
  big.file_size = bytes.size();
  big.data = Slice(bytes.data(), bytes.size());
  const uint8_t prefix[3] = {1, 2, 3};
  Bytes out;
  ASSERT_TRUE(out.Append(prefix, sizeof(prefix)).ok());
  EXPECT_FALSE(FrameEncoder(&out).AppendDataMessage(big).ok());
  EXPECT_EQ(out.size(), 3u);
  EXPECT_FALSE(FrameEncoder(&out).AppendDataMessageHead(big, 0).ok());
  EXPECT_EQ(out.size(), 3u);
}

TEST(FrameTest, EveryPayloadOrCrcBitFlipIsACrcMismatch) {
  const Raw original = SampleStream();
  const DecodeOutcome whole = DecodeAll(original);
  const size_t first = kFrameHeaderSize + whole.frames[0].payload.size();
  // The second frame (the Hello): every bit of its CRC field and payload.
  const size_t start = first + kFrameCrcOffset;
  const size_t stop = first + kFrameHeaderSize + whole.frames[1].payload.size();
  for (size_t byte = start; byte < stop; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Raw stream = original;
      stream[byte] ^= static_cast<uint8_t>(1u << bit);
      const DecodeOutcome out = DecodeAll(stream);
      ASSERT_EQ(out.last, FrameDecoder::Event::kError) << byte << ":" << bit;
      ASSERT_EQ(out.status.code(), StatusCode::kCorruption);
      ASSERT_STREQ(out.status.message(), "frame: CRC mismatch");
      ASSERT_EQ(out.frames.size(), 1u);  // the ping before it
    }
  }
}

TEST(FrameTest, EveryHeaderBitFlipNeverYieldsAFrame) {
  const Raw original = PingFrame(99);
  for (size_t byte = 0; byte < kFrameCrcOffset; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Raw stream = original;
      stream[byte] ^= static_cast<uint8_t>(1u << bit);
      // Pad with zeros so that a frame whose flipped length field is still
      // within the limit completes; it must be refused either way.
      stream.resize(stream.size() + kMaxPayloadSize, 0);
      const DecodeOutcome out = DecodeAll(stream);
      ASSERT_EQ(out.last, FrameDecoder::Event::kError) << byte << ":" << bit;
      ASSERT_TRUE(out.frames.empty()) << byte << ":" << bit;
    }
  }
}

TEST(FrameTest, OversizedLengthIsRefusedBeforeBuffering) {
  for (uint32_t size : {kMaxPayloadSize + 1, 0x7FFFFFFFu, 0xFFFFFFFFu}) {
    Raw header = PingFrame(1);
    header.resize(kFrameHeaderSize);
    EncodeFixed32(header.data() + 8, size);
    Reseal(&header);
    Raw stream = header;
    stream.resize(stream.size() + 100, 0xAA);
    FrameDecoder decoder;
    Slice input(stream.data(), stream.size());
    EXPECT_EQ(decoder.Feed(&input), FrameDecoder::Event::kError);
    EXPECT_EQ(decoder.status().code(), StatusCode::kOutOfRange);
    EXPECT_STREQ(decoder.status().message(),
                 "frame: payload size above the limit");
    EXPECT_EQ(input.size(), 100u);  // nothing past the header was taken
    EXPECT_EQ(decoder.buffered(), kFrameHeaderSize);
  }
}

TEST(FrameTest, CallerLimitIsEnforced) {
  Raw stream = SampleStream();  // holds a frame with a 3000+ byte payload
  const DecodeOutcome out = DecodeChunked(stream, {}, 1024);
  EXPECT_EQ(out.last, FrameDecoder::Event::kError);
  EXPECT_EQ(out.status.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(out.frames.size(), 2u);
}

TEST(FrameTest, MaximumPayloadIsAccepted) {
  Raw payload(kMaxPayloadSize, 0x5A);
  Bytes out;
  FrameEncoder encoder(&out);
  ASSERT_TRUE(encoder
                  .Append(static_cast<uint16_t>(MessageType::kBlockData),
                          Slice(payload.data(), payload.size()))
                  .ok());
  const DecodeOutcome decoded = DecodeAll(ToRaw(out));
  ASSERT_EQ(decoded.frames.size(), 1u);
  EXPECT_EQ(decoded.frames[0].payload, payload);
}

TEST(FrameTest, EncoderRefusesOversizedPayloadAndUnknownTypes) {
  Raw payload(kMaxPayloadSize + 1, 0);
  Bytes out;
  ASSERT_TRUE(out.PushBack(0xEE).ok());
  FrameEncoder encoder(&out);
  Status s = encoder.Append(static_cast<uint16_t>(MessageType::kBlockData),
                            Slice(payload.data(), payload.size()));
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  s = encoder.Append(0x0777, Slice());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.size(), 1u);  // unchanged
  // An invalid message leaves the buffer unchanged too.
  LogfileRequest bad;  // max_length 0, empty name
  EXPECT_FALSE(encoder.AppendMessage(bad).ok());
  EXPECT_EQ(out.size(), 1u);
  // Ignorable types may be sent.
  EXPECT_TRUE(encoder.Append(0x8001, Slice()).ok());
}

struct HeaderCase {
  const char* name;
  size_t offset;
  uint8_t value;
  StatusCode code;
  const char* message;
};

TEST(FrameTest, HeaderChecksRefuseWithPreciseErrors) {
  const HeaderCase cases[] = {
      {"magic", 0, 'm', StatusCode::kInvalidArgument,
       "frame: bad magic (not a mars peer)"},
      {"version 2", 4, 2, StatusCode::kInvalidArgument,
       "frame: unsupported frame version"},
      {"version 0", 4, 0, StatusCode::kInvalidArgument,
       "frame: unsupported frame version"},
      {"flags", 5, 0x01, StatusCode::kInvalidArgument,
       "frame: reserved flag bits set"},
      {"flags high", 5, 0x80, StatusCode::kInvalidArgument,
       "frame: reserved flag bits set"},
      {"type", 6, 0x7F, StatusCode::kInvalidArgument,
       "frame: unknown message type that must be understood"},
  };
  for (const HeaderCase& c : cases) {
    Raw frame = PingFrame(5);
    frame[c.offset] = c.value;
    Reseal(&frame);
    FrameDecoder decoder;
    Slice input(frame.data(), frame.size());
    EXPECT_EQ(decoder.Feed(&input), FrameDecoder::Event::kError) << c.name;
    EXPECT_EQ(decoder.status().code(), c.code) << c.name;
    EXPECT_STREQ(decoder.status().message(), c.message) << c.name;
    EXPECT_EQ(input.size(), 8u) << c.name;  // refused before the payload
  }
}

TEST(FrameTest, UnknownIgnorableFramesAreVerifiedAndSkipped) {
  Bytes out;
  FrameEncoder encoder(&out);
  Ping ping;
  ping.token = 1;
  ASSERT_TRUE(encoder.AppendMessage(ping).ok());
  const char extra[] = "future advisory message";
  ASSERT_TRUE(encoder.Append(0x8123, Slice(extra, sizeof(extra))).ok());
  ASSERT_TRUE(encoder.Append(0xFFFF, Slice()).ok());
  ping.token = 2;
  ASSERT_TRUE(encoder.AppendMessage(ping).ok());
  Raw stream = ToRaw(out);
  FrameDecoder decoder;
  Slice input(stream.data(), stream.size());
  std::vector<uint64_t> tokens;
  while (decoder.Feed(&input) == FrameDecoder::Event::kFrame) {
    Ping p;
    ASSERT_TRUE(p.Decode(decoder.frame().payload).ok());
    tokens.push_back(p.token);
  }
  EXPECT_EQ(tokens, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(decoder.ignored_frames(), 2u);
  EXPECT_FALSE(decoder.failed());

  // An ignorable frame with a bad CRC still breaks the stream.
  stream[24 + kFrameHeaderSize + 3] ^= 0x10;
  const DecodeOutcome bad = DecodeAll(stream);
  EXPECT_EQ(bad.status.code(), StatusCode::kCorruption);
  EXPECT_EQ(bad.frames.size(), 1u);
}

TEST(FrameTest, ErrorStateIsSticky) {
  Raw stream = PingFrame(3);
  stream[0] = 0;
  Raw good = PingFrame(4);
  FrameDecoder decoder;
  Slice input(stream.data(), stream.size());
  EXPECT_EQ(decoder.Feed(&input), FrameDecoder::Event::kError);
  const Status first = decoder.status();
  Slice next(good.data(), good.size());
  EXPECT_EQ(decoder.Feed(&next), FrameDecoder::Event::kError);
  EXPECT_EQ(next.size(), good.size());  // nothing consumed
  EXPECT_STREQ(decoder.status().message(), first.message());
  EXPECT_TRUE(decoder.failed());
}

TEST(FrameTest, EmptyInputAndEmptyPayload) {
  FrameDecoder decoder;
  Slice empty;
  EXPECT_EQ(decoder.Feed(&empty), FrameDecoder::Event::kNeedMoreBytes);
  Bytes out;
  FrameEncoder encoder(&out);
  ASSERT_TRUE(
      encoder.Append(static_cast<uint16_t>(MessageType::kPing), Slice()).ok());
  ASSERT_EQ(out.size(), kFrameHeaderSize);
  Slice input = AsSlice(out);
  ASSERT_EQ(decoder.Feed(&input), FrameDecoder::Event::kFrame);
  EXPECT_EQ(decoder.frame().type, MessageType::kPing);
  EXPECT_TRUE(decoder.frame().payload.empty());
  // The empty payload is a frame, but not a valid Ping.
  Ping ping;
  EXPECT_FALSE(ping.Decode(decoder.frame().payload).ok());
}

TEST(FrameTest, MessageTypeNames) {
  EXPECT_STREQ(MessageTypeName(0x0001), "hello");
  EXPECT_STREQ(MessageTypeName(0x0102), "tree-update");
  EXPECT_STREQ(MessageTypeName(0x0304), "block-data");
  EXPECT_STREQ(MessageTypeName(0x0999), "unknown");
  for (uint32_t t = 0; t <= 0xFFFF; ++t) {
    EXPECT_EQ(
        IsKnownMessageType(static_cast<uint16_t>(t)),
        std::strcmp(MessageTypeName(static_cast<uint16_t>(t)), "unknown") != 0)
        << t;
  }
}

}  // namespace
}  // namespace wire
}  // namespace mars
