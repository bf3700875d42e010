// Fuzz target for the peer protocol codec (docu/wire-protocol.md): the
// FrameDecoder, every message decoder, and the Handshake state machine.
//
// Input: byte 0 selects the mode and the chunking; the rest is the body.
//   bit 7 clear: the body is a raw byte stream from a peer;
//   bit 7 set:   the body is records [u16 type][u16 size][size bytes], each
//                wrapped into a frame with a correct CRC first, so that the
//                message decoders see inputs past the CRC check.
// Invariants checked (abort on violation):
//   - feeding the stream in random-sized chunks (split by bits 0-6) gives
//     exactly the frames and the final error of feeding it in one piece;
//   - every frame re-encodes to the very bytes it was decoded from;
//   - every message that decodes re-encodes to its payload, byte for byte;
//   - the handshake never crashes, whatever arrives.
// Seeds: testing/fuzz/corpus/wire_decoder/, written by
// kernel/core/wire/wire_corpus_test.cc (MARS_WIRE_CORPUS_DIR=...).
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <vector>

#include "core/base/coding.h"
#include "core/wire/frame.h"
#include "core/wire/frame_decoder.h"
#include "core/wire/handshake.h"
#include "core/wire/messages.h"

namespace mars {
namespace wire {
namespace {

void Check(bool condition, const char* what) {
  if (!condition) {
    fprintf(stderr, "wire_decoder_fuzz: invariant violated: %s\n", what);
    abort();
  }
}

struct Decoded {
  uint16_t type;
  std::vector<uint8_t> payload;
  size_t end;  // stream offset just past the frame
};

struct Outcome {
  std::vector<Decoded> frames;
  FrameDecoder::Event last = FrameDecoder::Event::kNeedMoreBytes;
  const char* error = "";
};

// Feeds `stream` to a fresh decoder in chunks whose sizes come from `seed`
// (seed 0: one piece).
Outcome Decode(const std::vector<uint8_t>& stream, uint32_t seed) {
  FrameDecoder decoder(platform::Gfp::kKernel);
  Outcome out;
  uint32_t x = seed * 2654435761u + 1;
  size_t pos = 0;
  while (pos < stream.size()) {
    size_t n = stream.size() - pos;
    if (seed != 0) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      const size_t max = size_t{1} << (seed % 12);
      n = std::min(n, static_cast<size_t>(x % max) + 1);
    }
    Slice input(stream.data() + pos, n);
    for (;;) {
      const size_t before = input.size();
      out.last = decoder.Feed(&input);
      Check(input.size() <= before, "decoder consumed more than it was given");
      if (out.last != FrameDecoder::Event::kFrame) break;
      const Frame& f = decoder.frame();
      const size_t end = pos + (n - input.size());
      out.frames.push_back(
          {static_cast<uint16_t>(f.type),
           std::vector<uint8_t>(f.payload.data(),
                                f.payload.data() + f.payload.size()),
           end});
    }
    if (out.last == FrameDecoder::Event::kError) {
      Check(decoder.failed(), "error event without failed state");
      out.error = decoder.status().message();
      // The decoder stays failed and consumes nothing more.
      Slice more(stream.data(), stream.size());
      Check(decoder.Feed(&more) == FrameDecoder::Event::kError,
            "decoder recovered after an error");
      Check(more.size() == stream.size(), "failed decoder consumed input");
      break;
    }
    Check(input.empty(), "need-more-bytes with input left");
    Check(decoder.buffered() <= kFrameHeaderSize + kMaxPayloadSize,
          "decoder buffered more than one frame");
    pos += n;
  }
  return out;
}

template <class M>
void RoundTrip(const std::vector<uint8_t>& payload) {
  M message;
  const Slice in(payload.data(), payload.size());
  if (!message.Decode(in).ok()) return;
  Bytes out;
  Check(message.Encode(&out).ok(), "decoded message does not encode");
  Check(out.size() == payload.size() &&
            (payload.empty() ||
             memcmp(out.data(), payload.data(), payload.size()) == 0),
        "message re-encodes to different bytes");
}

void RoundTripMessage(const Decoded& f) {
  switch (static_cast<MessageType>(f.type)) {
    case MessageType::kHello:
      return RoundTrip<Hello>(f.payload);
    case MessageType::kAuthChallenge:
      return RoundTrip<AuthChallenge>(f.payload);
    case MessageType::kAuthResponse:
      return RoundTrip<AuthResponse>(f.payload);
    case MessageType::kAuthResult:
      return RoundTrip<AuthResult>(f.payload);
    case MessageType::kError:
      return RoundTrip<ErrorMessage>(f.payload);
    case MessageType::kPing:
      return RoundTrip<Ping>(f.payload);
    case MessageType::kPong:
      return RoundTrip<Pong>(f.payload);
    case MessageType::kTreeSinceRequest:
      return RoundTrip<TreeSinceRequest>(f.payload);
    case MessageType::kTreeUpdate:
      return RoundTrip<TreeUpdate>(f.payload);
    case MessageType::kLogfileRequest:
      return RoundTrip<LogfileRequest>(f.payload);
    case MessageType::kLogfileData:
      return RoundTrip<LogfileData>(f.payload);
    case MessageType::kDigestRequest:
      return RoundTrip<DigestRequest>(f.payload);
    case MessageType::kDigestReply:
      return RoundTrip<DigestReply>(f.payload);
    case MessageType::kBlockRequest:
      return RoundTrip<BlockRequest>(f.payload);
    case MessageType::kBlockData:
      return RoundTrip<BlockData>(f.payload);
  }
  Check(false, "decoder yielded an unknown type");
}

// Runs the frames through a handshake of the given role.
void RunHandshake(Role role, const Outcome& outcome) {
  static const char kSecret[] = "fuzzing cluster secret, 32 bytes";
  HandshakeConfig config;
  config.role = role;
  config.hello.features = kFeaturesSupported;
  config.hello.host_name = Slice::FromCString("fuzz-local");
  config.hello.cluster_id = Slice::FromCString("fuzz cluster");
  config.secret = Slice(kSecret, sizeof(kSecret) - 1);
  memset(config.nonce, 0x5A, sizeof(config.nonce));
  Handshake handshake(config);
  Bytes out;
  Check(handshake.Start(&out).ok(), "handshake does not start");
  for (const Decoded& f : outcome.frames) {
    if (handshake.failed() || handshake.authenticated()) break;
    Frame frame;
    frame.type = static_cast<MessageType>(f.type);
    frame.payload = Slice(f.payload.data(), f.payload.size());
    const Status s = handshake.OnFrame(frame, &out);
    Check(s.ok() != handshake.failed(), "handshake status and state disagree");
  }
  // Whatever the handshake sent must be well-formed frames.
  const std::vector<uint8_t> sent(out.data(), out.data() + out.size());
  const Outcome replies = Decode(sent, 0);
  Check(replies.last == FrameDecoder::Event::kNeedMoreBytes ||
            sent.empty(),
        "handshake produced malformed frames");
  Check(!handshake.authenticated(), "authenticated without the secret");
}

// Mode 1: wraps [u16 type][u16 size][bytes] records into valid frames.
std::vector<uint8_t> FramedStream(const uint8_t* data, size_t size) {
  Bytes out;
  FrameEncoder encoder(&out);
  size_t pos = 0;
  while (pos + 4 <= size) {
    const uint16_t type = DecodeFixed16(data + pos);
    size_t n = DecodeFixed16(data + pos + 2);
    pos += 4;
    n = std::min(n, size - pos);
    (void)encoder.Append(type, Slice(data + pos, n));  // unknown types fail
    pos += n;
  }
  return std::vector<uint8_t>(out.data(), out.data() + out.size());
}

}  // namespace
}  // namespace wire
}  // namespace mars

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mars::wire;  // NOLINT
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::vector<uint8_t> stream =
      (mode & 0x80) != 0 ? FramedStream(data + 1, size - 1)
                         : std::vector<uint8_t>(data + 1, data + size);

  const Outcome whole = Decode(stream, 0);
  const Outcome chunked = Decode(stream, (mode & 0x7F) + 1);
  Check(whole.frames.size() == chunked.frames.size(), "frame count differs");
  Check(whole.last == chunked.last, "final event differs");
  Check(strcmp(whole.error, chunked.error) == 0, "final error differs");
  for (size_t i = 0; i < whole.frames.size(); ++i) {
    const Decoded& a = whole.frames[i];
    const Decoded& b = chunked.frames[i];
    Check(a.type == b.type && a.payload == b.payload && a.end == b.end,
          "chunked frame differs");
    // The frame's bytes in the stream are exactly its re-encoding.
    const size_t frame_size = kFrameHeaderSize + a.payload.size();
    Check(a.end >= frame_size, "frame end before its start");
    mars::Bytes again;
    FrameEncoder encoder(&again);
    Check(encoder.Append(a.type, mars::Slice(a.payload.data(),
                                             a.payload.size())).ok(),
          "decoded frame does not re-encode");
    Check(again.size() == frame_size &&
              memcmp(again.data(), stream.data() + a.end - frame_size,
                     frame_size) == 0,
          "frame re-encodes to different bytes");
    RoundTripMessage(a);
  }
  RunHandshake(Role::kServer, whole);
  RunHandshake(Role::kClient, whole);
  return 0;
}
