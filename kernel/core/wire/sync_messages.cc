// Payloads of the block sync messages (docu/wire-protocol.md).
#include "core/wire/sync_messages.h"

#include "core/wire/payload_coding.h"

namespace mars {
namespace wire {
namespace {

constexpr const char* kBadResource = "sync: resource name empty or too long";

constexpr const char* kBadBlockLength =
    "blocks: length not a sector multiple in range";

bool IsPowerOfTwo(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

// The messages of one answer type's flag and log-bound rules.
struct AnswerErrors {
  const char* reserved_flags;
  const char* unavailable_bound;
};
constexpr AnswerErrors kDigestReplyErrors = {
    "digest-reply: reserved flag bits set",
    "digest-reply: unavailable reply with a log bound"};
constexpr AnswerErrors kBlockDataErrors = {
    "block-data: reserved flag bits set",
    "block-data: unavailable answer with a log bound"};

// Reserved flag bits are 0; an unavailable answer has a zero log bound.
Status ValidateAnswerFlags(uint8_t flags, uint64_t log_number,
                           uint64_t log_offset, const AnswerErrors& errors) {
  if ((flags & ~kSyncUnavailable) != 0) {
    return Status(StatusCode::kInvalidArgument, errors.reserved_flags);
  }
  if ((flags & kSyncUnavailable) != 0 && (log_number != 0 || log_offset != 0)) {
    return Status(StatusCode::kInvalidArgument, errors.unavailable_bound);
  }
  return Status::Ok();
}

// DigestReply: the range rules, the flags, and `count` digests for it (0
// when unavailable, else ceil(length / block_size)).
Status ValidateDigestReply(const DigestReply& m, uint64_t count) {
  Status s = ValidateDigestRange(m.offset, m.length, m.block_size);
  if (s.ok()) {
    s = ValidateAnswerFlags(m.flags, m.log_number, m.log_offset,
                            kDigestReplyErrors);
  }
  if (!s.ok()) return s;
  if (m.unavailable() && count != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "digest-reply: unavailable reply with digests");
  }
  if (!m.unavailable() && count != m.BlockCount()) {
    return Status(StatusCode::kInvalidArgument,
                  "digest-reply: digest count does not match the range");
  }
  return Status::Ok();
}

// BlockData: the flags; data empty iff unavailable; an available answer
// follows the BlockRequest range rules, an unavailable one is sector aligned.
Status ValidateBlockData(const BlockData& m) {
  const Status s = ValidateAnswerFlags(m.flags, m.log_number, m.log_offset,
                                       kBlockDataErrors);
  if (!s.ok()) return s;
  if (!m.unavailable()) return ValidateBlockRange(m.offset, m.data.size());
  if (!m.data.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "block-data: unavailable answer with data");
  }
  if (m.offset % kSectorSize != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "blocks: offset not sector aligned");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateDigestRange(uint64_t offset, uint64_t length,
                           uint32_t block_size) {
  if (!IsPowerOfTwo(block_size) || block_size < kMinSyncBlockSize ||
      block_size > kMaxSyncBlockSize) {
    return Status(StatusCode::kInvalidArgument,
                  "digests: block size not a power of two in range");
  }
  if (offset % block_size != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "digests: offset not a multiple of the block size");
  }
  if (length == 0 || length % kSectorSize != 0 ||
      (length - 1) / block_size >= kMaxDigestsPerReply) {
    return Status(StatusCode::kInvalidArgument, "digests: length out of range");
  }
  if (offset + length < offset) {
    return Status(StatusCode::kInvalidArgument,
                  "digests: range overflows 64 bits");
  }
  return Status::Ok();
}

Status ValidateBlockRange(uint64_t offset, uint64_t length) {
  if (offset % kSectorSize != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "blocks: offset not sector aligned");
  }
  if (length == 0 || length > kMaxDataChunk || length % kSectorSize != 0) {
    return Status(StatusCode::kInvalidArgument, kBadBlockLength);
  }
  if (offset + length < offset) {
    return Status(StatusCode::kInvalidArgument,
                  "blocks: range overflows 64 bits");
  }
  return Status::Ok();
}

Status DigestRequest::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.Fail(ValidateDigestRange(offset, length, block_size));
  w.String16(resource, 1, kMaxResourceNameSize, kBadResource);
  w.U64(offset);
  w.U64(length);
  w.U32(block_size);
  return w.Finish();
}

Status DigestRequest::Decode(Slice payload) {
  PayloadReader r(payload, "digest-request: payload truncated");
  r.String16(&resource, 1, kMaxResourceNameSize, kBadResource);
  r.U64(&offset);
  r.U64(&length);
  r.U32(&block_size);
  if (r.ok()) r.Fail(ValidateDigestRange(offset, length, block_size));
  return r.Finish("digest-request: trailing bytes after payload");
}

uint32_t DigestReply::BlockCount() const {
  if (length == 0 || block_size == 0) return 0;
  return static_cast<uint32_t>((length - 1) / block_size + 1);
}

Status DigestReply::Encode(Bytes* out) const {
  PayloadWriter w(out);
  // A digest area that is not a whole number of digests never matches.
  const uint64_t count = digests.size() % kDigestSize == 0
                             ? digests.size() / kDigestSize
                             : UINT64_MAX;
  w.Fail(ValidateDigestReply(*this, count));
  w.String16(resource, 1, kMaxResourceNameSize, kBadResource);
  w.U64(offset);
  w.U64(length);
  w.U32(block_size);
  w.U8(flags);
  w.U64(log_number);
  w.U64(log_offset);
  w.U32(static_cast<uint32_t>(count));
  w.Fixed(digests);
  return w.Finish();
}

Status DigestReply::Decode(Slice payload) {
  PayloadReader r(payload, "digest-reply: payload truncated");
  uint32_t count = 0;
  r.String16(&resource, 1, kMaxResourceNameSize, kBadResource);
  r.U64(&offset);
  r.U64(&length);
  r.U32(&block_size);
  r.U8(&flags);
  r.U64(&log_number);
  r.U64(&log_offset);
  r.U32(&count);
  if (r.ok()) r.Fail(ValidateDigestReply(*this, count));
  // count <= kMaxDigestsPerReply here, so the product cannot overflow.
  r.Fixed(r.ok() ? static_cast<size_t>(count) * kDigestSize : 0, &digests);
  return r.Finish("digest-reply: trailing bytes after payload");
}

Status BlockRequest::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.Fail(ValidateBlockRange(offset, length));
  w.String16(resource, 1, kMaxResourceNameSize, kBadResource);
  w.U64(offset);
  w.U32(length);
  return w.Finish();
}

Status BlockRequest::Decode(Slice payload) {
  PayloadReader r(payload, "block-request: payload truncated");
  r.String16(&resource, 1, kMaxResourceNameSize, kBadResource);
  r.U64(&offset);
  r.U32(&length);
  if (r.ok()) r.Fail(ValidateBlockRange(offset, length));
  return r.Finish("block-request: trailing bytes after payload");
}

namespace {

// The fields of a block-data before its bytes.
void WriteBlockDataHead(const BlockData& m, PayloadWriter* w) {
  w->Fail(ValidateBlockData(m));
  w->String16(m.resource, 1, kMaxResourceNameSize, kBadResource);
  w->U64(m.offset);
  w->U8(m.flags);
  w->U64(m.log_number);
  w->U64(m.log_offset);
}

}  // namespace

Status BlockData::Encode(Bytes* out, uint32_t* data_crc) const {
  PayloadWriter w(out);
  WriteBlockDataHead(*this, &w);
  w.Blob32(data, 0, kMaxDataChunk, kBadBlockLength, data_crc);
  return w.Finish();
}

Status BlockData::EncodeHead(Bytes* out) const {
  PayloadWriter w(out);
  WriteBlockDataHead(*this, &w);
  w.Blob32Length(data.size(), 0, kMaxDataChunk, kBadBlockLength);
  return w.Finish();
}

Status BlockData::Decode(Slice payload) {
  PayloadReader r(payload, "block-data: payload truncated");
  r.String16(&resource, 1, kMaxResourceNameSize, kBadResource);
  r.U64(&offset);
  r.U8(&flags);
  r.U64(&log_number);
  r.U64(&log_offset);
  r.Blob32(&data, 0, kMaxDataChunk, kBadBlockLength);
  if (r.ok()) r.Fail(ValidateBlockData(*this));
  return r.Finish("block-data: trailing bytes after payload");
}

}  // namespace wire
}  // namespace mars
