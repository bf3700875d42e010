// The frame header of docu/wire-protocol.md ("Frames") and FrameEncoder.
#include "core/wire/frame.h"

#include "core/base/coding.h"
#include "core/base/crc32c.h"

namespace mars {
namespace wire {

FrameHeader ParseFrameHeader(const uint8_t* header) {
  FrameHeader h;
  h.magic = DecodeFixed32(header + 0);
  h.version = header[4];
  h.flags = header[5];
  h.type = DecodeFixed16(header + 6);
  h.payload_size = DecodeFixed32(header + 8);
  h.crc = DecodeFixed32(header + kFrameCrcOffset);
  return h;
}

Status CheckFrameHeader(const FrameHeader& header, uint32_t max_payload) {
  if (header.magic != kFrameMagic) {
    return Status(StatusCode::kInvalidArgument,
                  "frame: bad magic (not a mars peer)");
  }
  if (header.version != kFrameVersion) {
    return Status(StatusCode::kInvalidArgument,
                  "frame: unsupported frame version");
  }
  if ((header.flags & ~kFrameFlagsKnown) != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "frame: reserved flag bits set");
  }
  if (header.payload_size > max_payload) {
    return Status(StatusCode::kOutOfRange,
                  "frame: payload size above the limit");
  }
  if (!IsKnownMessageType(header.type) &&
      !IsIgnorableMessageType(header.type)) {
    return Status(StatusCode::kInvalidArgument,
                  "frame: unknown message type that must be understood");
  }
  return Status::Ok();
}

uint32_t FrameCrc(const uint8_t* header, Slice payload) {
  const uint32_t crc = crc32c::Value(header, kFrameCrcOffset);
  return crc32c::Extend(crc, payload.data(), payload.size());
}

namespace {

// The header fields of a frame of `type` with `payload_size` bytes, and its
// CRC from `payload_crc`, the CRC-32C of the payload alone.
Status EncodeHeaderFromPayloadCrc(uint16_t type, size_t payload_size,
                                  uint32_t payload_crc,
                                  uint8_t header[kFrameHeaderSize]) {
  if (payload_size > kMaxPayloadSize) {
    return Status(StatusCode::kOutOfRange,
                  "frame: payload size above the limit");
  }
  if (!IsKnownMessageType(type) && !IsIgnorableMessageType(type)) {
    return Status(StatusCode::kInvalidArgument,
                  "frame: unknown message type that must be understood");
  }
  EncodeFixed32(header + 0, kFrameMagic);
  header[4] = kFrameVersion;
  header[5] = 0;
  EncodeFixed16(header + 6, type);
  EncodeFixed32(header + 8, static_cast<uint32_t>(payload_size));
  const uint32_t crc = crc32c::Combine(crc32c::Value(header, kFrameCrcOffset),
                                       payload_crc, payload_size);
  EncodeFixed32(header + kFrameCrcOffset, crc);
  return Status::Ok();
}

}  // namespace

Status EncodeFrameHeader(uint16_t type, Slice payload,
                         uint8_t header[kFrameHeaderSize]) {
  // Checksummed only when the frame can carry it (else refused unread).
  const uint32_t payload_crc =
      payload.size() <= kMaxPayloadSize
          ? crc32c::Value(payload.data(), payload.size())
          : 0;
  return EncodeHeaderFromPayloadCrc(type, payload.size(), payload_crc, header);
}

Status FrameEncoder::Append(uint16_t type, Slice payload) {
  uint8_t header[kFrameHeaderSize];
  Status s = EncodeFrameHeader(type, payload, header);
  if (!s.ok()) return s;
  const size_t start = out_->size();
  s = out_->Reserve(start + sizeof(header) + payload.size());
  if (s.ok()) s = out_->Append(header, sizeof(header));
  if (s.ok()) s = AppendSlice(out_, payload);
  if (!s.ok()) (void)out_->Resize(start);
  return s;
}

Status FrameEncoder::BeginFrame(size_t* start) {
  *start = out_->size();
  const uint8_t zero[kFrameHeaderSize] = {};
  return out_->Append(zero, sizeof(zero));
}

Status FrameEncoder::SealWithDataCrc(size_t start, uint16_t type,
                                     size_t data_size, uint32_t data_crc) {
  const size_t payload_size = out_->size() - start - kFrameHeaderSize;
  if (!MARS_CHECK(data_size <= payload_size)) {
    return Status(StatusCode::kInternal, "frame: data beyond the payload");
  }
  return SealParts(start, type, payload_size - data_size, data_size,
                   data_crc);
}

Status FrameEncoder::SealHead(size_t start, uint16_t type, size_t data_size,
                              uint32_t data_crc) {
  return SealParts(start, type, out_->size() - start - kFrameHeaderSize,
                   data_size, data_crc);
}

Status FrameEncoder::SealParts(size_t start, uint16_t type, size_t head_size,
                               size_t data_size, uint32_t data_crc) {
  uint8_t* header = out_->data() + start;
  const uint32_t head_crc = crc32c::Value(header + kFrameHeaderSize, head_size);
  return EncodeHeaderFromPayloadCrc(
      type, head_size + data_size,
      crc32c::Combine(head_crc, data_crc, data_size), header);
}

void FrameEncoder::AbortFrame(size_t start) {
  // Shrinking never allocates, so it cannot fail.
  if (out_->size() > start) (void)out_->Resize(start);
}

Status FrameEncoder::Seal(size_t start, uint16_t type) {
  uint8_t* header = out_->data() + start;
  const Slice payload(header + kFrameHeaderSize,
                      out_->size() - start - kFrameHeaderSize);
  return EncodeFrameHeader(type, payload, header);
}

}  // namespace wire
}  // namespace mars
