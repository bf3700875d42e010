// Frames of the mars peer protocol (docu/wire-protocol.md, "Frames"): the
// 16-byte header, its validation, and FrameEncoder, which writes complete
// frames into a caller's buffer. FrameDecoder (frame_decoder.h) reads them.
#ifndef MARS_CORE_WIRE_FRAME_H_
#define MARS_CORE_WIRE_FRAME_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

// One verified frame. `payload` points into the decoder's buffer (see
// FrameDecoder for its lifetime).
struct Frame {
  MessageType type = MessageType::kHello;
  uint8_t flags = 0;
  Slice payload;
};

// The fields of a frame header, as on the wire.
struct FrameHeader {
  uint32_t magic = 0;
  uint8_t version = 0;
  uint8_t flags = 0;
  uint16_t type = 0;
  uint32_t payload_size = 0;
  uint32_t crc = 0;
};

// Reads the fields of `header[0, kFrameHeaderSize)` without judging them.
FrameHeader ParseFrameHeader(const uint8_t* header);

// Judges a parsed header against this implementation and `max_payload`:
// kInvalidArgument for a bad magic, an unsupported frame version, reserved
// flags or an unknown must-understand type; kOutOfRange for a payload size
// above `max_payload`. Ignorable unknown types pass. Context: any.
Status CheckFrameHeader(const FrameHeader& header, uint32_t max_payload);

// The CRC a frame with this header and payload must carry: CRC-32C over
// header bytes [0, kFrameCrcOffset) followed by the payload bytes.
uint32_t FrameCrc(const uint8_t* header, Slice payload);

// Writes the complete 16-byte header of a frame carrying `payload`.
// Fails (kOutOfRange) when the payload exceeds kMaxPayloadSize, and
// (kInvalidArgument) for an unknown must-understand type. Context: any.
Status EncodeFrameHeader(uint16_t type, Slice payload,
                         uint8_t header[kFrameHeaderSize]);

// Appends complete frames to a caller-owned buffer. The buffer must outlive
// the encoder. On error nothing is appended. Not thread-safe.
class FrameEncoder {
 public:
  explicit FrameEncoder(Bytes* out) : out_(out) {}
  FrameEncoder(const FrameEncoder&) = delete;
  FrameEncoder& operator=(const FrameEncoder&) = delete;

  // Appends header + `payload`. Context: as the buffer's Gfp.
  Status Append(uint16_t type, Slice payload);

  // Appends a frame whose payload is `message.Encode(out)` (every message
  // type in messages.h has it), without an intermediate copy.
  template <class M>
  Status AppendMessage(const M& message) {
    size_t start = 0;
    Status s = BeginFrame(&start);
    if (s.ok()) s = message.Encode(out_);
    if (s.ok()) s = Seal(start, static_cast<uint16_t>(M::kType));
    if (!s.ok()) AbortFrame(start);
    return s;
  }

  // As AppendMessage() for a message whose payload ends with its bulk
  // bytes `message.data` (LogfileData, BlockData): they are copied and
  // checksummed in one pass (`message.Encode(out, &data_crc)`), and the
  // frame's CRC is combined from that of the bytes before them and theirs
  // (crc32c::Combine), so no byte is read twice. The same bytes as
  // AppendMessage().
  template <class M>
  Status AppendDataMessage(const M& message) {
    size_t start = 0;
    uint32_t data_crc = 0;
    Status s = BeginFrame(&start);
    if (s.ok()) s = message.Encode(out_, &data_crc);
    if (s.ok()) {
      s = SealWithDataCrc(start, static_cast<uint16_t>(M::kType),
                          message.data.size(), data_crc);
    }
    if (!s.ok()) AbortFrame(start);
    return s;
  }

  // As AppendDataMessage() without the bulk bytes: appends the header and
  // `message.EncodeHead(out)`, and the header counts and checksums
  // `message.data` (whose CRC-32C is `data_crc`) as following them. The
  // caller sends message.data right after the appended bytes; the frame
  // is the same as AppendMessage()'s.
  template <class M>
  Status AppendDataMessageHead(const M& message, uint32_t data_crc) {
    size_t start = 0;
    Status s = BeginFrame(&start);
    if (s.ok()) s = message.EncodeHead(out_);
    if (s.ok()) {
      s = SealHead(start, static_cast<uint16_t>(M::kType),
                   message.data.size(), data_crc);
    }
    if (!s.ok()) AbortFrame(start);
    return s;
  }

 private:
  // Appends room for a header and records where the frame starts.
  Status BeginFrame(size_t* start);
  // Fills in the header at out_[start] for the payload after it.
  Status Seal(size_t start, uint16_t type);
  // Seal() for a payload whose last `data_size` bytes have the CRC-32C
  // `data_crc`: only the bytes before them are read.
  Status SealWithDataCrc(size_t start, uint16_t type, size_t data_size,
                         uint32_t data_crc);
  // Seal() for a payload whose bytes in out_ are followed by `data_size`
  // more, not in out_, with the CRC-32C `data_crc`.
  Status SealHead(size_t start, uint16_t type, size_t data_size,
                  uint32_t data_crc);
  // The header at out_[start] for a payload of `head_size` bytes after it
  // and `data_size` more with the CRC-32C `data_crc`.
  Status SealParts(size_t start, uint16_t type, size_t head_size,
                   size_t data_size, uint32_t data_crc);
  // Drops everything appended since `start`.
  void AbortFrame(size_t start);

  Bytes* out_;
};

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_FRAME_H_
