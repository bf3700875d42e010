// FrameDecoder: turns a byte stream from a peer, in chunks split anywhere,
// into verified frames (docu/wire-protocol.md, "Frames" and "Errors").
//
// Sans-I/O: the caller reads the socket and feeds what arrived. Memory is
// bounded: the decoder buffers at most one frame (header + payload, payload
// <= max_payload) and consumes input only up to the end of the current frame.
#ifndef MARS_CORE_WIRE_FRAME_DECODER_H_
#define MARS_CORE_WIRE_FRAME_DECODER_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/platform.h"
#include "core/wire/frame.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

class FrameDecoder {
 public:
  enum class Event {
    kNeedMoreBytes,  // all input consumed, no complete frame yet
    kFrame,          // frame() holds a verified frame
    kError,          // status() says why; close the connection
  };

  // `gfp` is the context of the payload buffer allocation. `max_payload`
  // (<= kMaxPayloadSize) lets a caller refuse smaller frames than the
  // protocol limit.
  explicit FrameDecoder(platform::Gfp gfp = platform::Gfp::kKernel,
                        uint32_t max_payload = kMaxPayloadSize);
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Consumes bytes from the front of `*input` (advancing it) until one frame
  // is complete or the input is used up:
  //  - kFrame: frame() is valid until the next Feed() or the decoder's end;
  //    `*input` may still hold bytes of later frames: call Feed() again.
  //  - kNeedMoreBytes: `*input` is empty.
  //  - kError: the stream is broken (bad header, CRC mismatch, no memory).
  //    The decoder stays failed: every later Feed() returns kError without
  //    consuming anything. The connection must be closed.
  // A header is judged as soon as its 16 bytes are in, before any payload
  // byte is buffered. Frames of unknown ignorable types are verified and
  // skipped (counted in ignored_frames()).
  // Context: as `gfp` (allocates when a frame is larger than any before).
  Event Feed(Slice* input);

  // Where the next bytes of the stream may be received without a copy: the
  // rest of the payload of the frame in progress, once its header was
  // judged (null with *room 0 otherwise, e.g. before a header: receive
  // those bytes elsewhere). Receive at most *room bytes there and Feed() a
  // Slice of exactly those bytes at that address: they are taken where
  // they are. The space stays valid until the next Feed(), GiveBuffer() or
  // TakePayload(), or the decoder's end. Context: any.
  uint8_t* ReceiveSpace(size_t* room);

  // REQUIRES: the last Feed() returned kFrame.
  const Frame& frame() const { return frame_; }
  // Hands the buffer holding frame().payload to the caller, who may keep
  // slices of the payload as long as it keeps the buffer (no copy).
  // frame() stays valid until the next Feed(). The decoder then has no
  // buffer: the next frame allocates one, unless GiveBuffer() offered one.
  // REQUIRES: the last Feed() returned kFrame. Context: any.
  Bytes TakePayload();
  // Offers a buffer (its bytes do not matter) for the next frames. The
  // decoder keeps up to kMaxSpareBuffers of them, kMaxSpareBytes of
  // capacity together (beyond that the buffer is freed), and receives a
  // frame into its own buffer if that is large enough, else into the
  // smallest spare that is. So a caller that takes the payloads of up to
  // kMaxSpareBuffers frames at a time and gives each buffer back when done
  // makes the decoder allocate only when a frame is larger than the
  // buffers it has. Context: any (frees).
  void GiveBuffer(Bytes buffer);
  // What the spares may hold: the protocol's 8 requests outstanding per
  // kind, their answers of the default fetch (512 KiB) with their frames.
  static constexpr size_t kMaxSpareBuffers = 8;
  static constexpr size_t kMaxSpareBytes = 8 * ((512u << 10) + 4096);
  // Ok until the decoder failed; then the reason.
  Status status() const { return status_; }
  bool failed() const { return !status_.ok(); }
  uint64_t ignored_frames() const { return ignored_frames_; }
  // Bytes of the frame in progress (header and payload) buffered so far.
  size_t buffered() const { return header_fill_ + payload_.size(); }

 private:
  enum class Phase { kHeader, kPayload, kFrameReady };

  Event Fail(Status status);
  // Makes payload_ an empty buffer of at least `size` bytes: its own, the
  // smallest spare that is large enough, or a new one.
  Status PreparePayload(size_t size);

  const uint32_t max_payload_;
  const platform::Gfp payload_gfp_;
  Phase phase_ = Phase::kHeader;
  uint8_t header_[kFrameHeaderSize] = {};
  size_t header_fill_ = 0;
  FrameHeader parsed_;
  Bytes payload_;
  Bytes spares_[kMaxSpareBuffers];
  size_t spare_bytes_ = 0;  // capacities of spares_ together
  Frame frame_;
  Status status_;
  uint64_t ignored_frames_ = 0;
};

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_FRAME_DECODER_H_
