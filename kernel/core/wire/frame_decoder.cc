// The incremental frame decoder of docu/wire-protocol.md ("Frames").
#include "core/wire/frame_decoder.h"

#include "core/base/utility.h"

namespace mars {
namespace wire {

FrameDecoder::FrameDecoder(platform::Gfp gfp, uint32_t max_payload)
    : max_payload_(Min(max_payload, kMaxPayloadSize)),
      payload_gfp_(gfp),
      payload_(gfp) {}

FrameDecoder::Event FrameDecoder::Fail(Status status) {
  status_ = status;
  payload_.Clear();
  frame_ = Frame();
  return Event::kError;
}

Bytes FrameDecoder::TakePayload() {
  if (!MARS_CHECK(phase_ == Phase::kFrameReady)) return Bytes(payload_gfp_);
  Bytes taken = Move(payload_);
  payload_ = Bytes(payload_gfp_);
  return taken;
}

void FrameDecoder::GiveBuffer(Bytes buffer) {
  const size_t capacity = buffer.capacity();
  if (capacity == 0 || spare_bytes_ + capacity > kMaxSpareBytes) return;
  for (Bytes& spare : spares_) {
    if (spare.capacity() == 0) {
      buffer.Clear();
      spare = Move(buffer);
      spare_bytes_ += capacity;
      return;
    }
  }
}

Status FrameDecoder::PreparePayload(size_t size) {
  payload_.Clear();
  if (payload_.capacity() >= size) return Status::Ok();
  Bytes* best = nullptr;
  for (Bytes& spare : spares_) {
    if (spare.capacity() >= size &&
        (best == nullptr || spare.capacity() < best->capacity())) {
      best = &spare;
    }
  }
  if (best == nullptr) {
    payload_ = Bytes(payload_gfp_);  // a traded spare may have another gfp
    return payload_.Reserve(size);
  }
  // Trade: the smaller own buffer becomes a spare in its place.
  spare_bytes_ = spare_bytes_ - best->capacity() + payload_.capacity();
  Bytes own = Move(payload_);
  payload_ = Move(*best);
  *best = Move(own);
  return Status::Ok();
}

uint8_t* FrameDecoder::ReceiveSpace(size_t* room) {
  *room = 0;
  if (failed() || phase_ != Phase::kPayload ||
      payload_.size() >= parsed_.payload_size) {
    return nullptr;
  }
  *room = parsed_.payload_size - payload_.size();
  return payload_.data() + payload_.size();
}

FrameDecoder::Event FrameDecoder::Feed(Slice* input) {
  if (failed()) return Event::kError;
  if (phase_ == Phase::kFrameReady) {
    // The previous frame's payload is released now.
    frame_ = Frame();
    payload_.Clear();
    phase_ = Phase::kHeader;
  }
  for (;;) {
    if (phase_ == Phase::kHeader) {
      const size_t take = Min(kFrameHeaderSize - header_fill_, input->size());
      if (take > 0) {
        __builtin_memcpy(header_ + header_fill_, input->data(), take);
        header_fill_ += take;
        *input = input->RemovePrefix(take);
      }
      if (header_fill_ < kFrameHeaderSize) return Event::kNeedMoreBytes;
      parsed_ = ParseFrameHeader(header_);
      const Status s = CheckFrameHeader(parsed_, max_payload_);
      if (!s.ok()) return Fail(s);
      const Status r = PreparePayload(parsed_.payload_size);
      if (!r.ok()) return Fail(r);
      phase_ = Phase::kPayload;
    }
    // phase_ == kPayload
    const size_t take =
        Min<size_t>(parsed_.payload_size - payload_.size(), input->size());
    if (take > 0) {
      // Cannot fail: capacity was reserved for the whole payload. Bytes
      // received into ReceiveSpace() are in place already.
      const size_t filled = payload_.size();
      const bool in_place = input->data() == payload_.data() + filled;
      const Status s = in_place ? payload_.ResizeForOverwrite(filled + take)
                                : payload_.Append(input->data(), take);
      if (!s.ok()) return Fail(s);
      *input = input->RemovePrefix(take);
    }
    if (payload_.size() < parsed_.payload_size) return Event::kNeedMoreBytes;
    const Slice payload = AsSlice(payload_);
    header_fill_ = 0;
    if (FrameCrc(header_, payload) != parsed_.crc) {
      return Fail(Status(StatusCode::kCorruption, "frame: CRC mismatch"));
    }
    if (!IsKnownMessageType(parsed_.type)) {
      // Ignorable type from a newer peer (CheckFrameHeader refused the rest).
      ++ignored_frames_;
      payload_.Clear();
      phase_ = Phase::kHeader;
      continue;
    }
    frame_.type = static_cast<MessageType>(parsed_.type);
    frame_.flags = parsed_.flags;
    frame_.payload = payload;
    phase_ = Phase::kFrameReady;
    return Event::kFrame;
  }
}

}  // namespace wire
}  // namespace mars
