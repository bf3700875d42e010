// Payloads of the block sync messages (docu/wire-protocol.md).
#include "core/wire/sync_messages.h"

#include "core/wire/payload_coding.h"

namespace mars {
namespace wire {
namespace {

constexpr const char* kBadResource = "sync: resource name empty or too long";

bool IsPowerOfTwo(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

// The range rules shared by DigestRequest and DigestReply.
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

// BlockRequest.length / BlockData.data rules.
Status ValidateBlockRange(uint64_t offset, uint64_t length) {
  if (offset % kSectorSize != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "blocks: offset not sector aligned");
  }
  if (length == 0 || length > kMaxDataChunk || length % kSectorSize != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "blocks: length not a sector multiple in range");
  }
  if (offset + length < offset) {
    return Status(StatusCode::kInvalidArgument,
                  "blocks: range overflows 64 bits");
  }
  return Status::Ok();
}

}  // namespace

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
  const Status range = ValidateDigestRange(offset, length, block_size);
  w.Fail(range);
  if (range.ok() &&
      digests.size() != static_cast<size_t>(BlockCount()) * kDigestSize) {
    w.Fail(Status(StatusCode::kInvalidArgument,
                  "digest-reply: digest count does not match the range"));
  }
  w.String16(resource, 1, kMaxResourceNameSize, kBadResource);
  w.U64(offset);
  w.U64(length);
  w.U32(block_size);
  w.U32(BlockCount());
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
  r.U32(&count);
  if (r.ok()) r.Fail(ValidateDigestRange(offset, length, block_size));
  if (r.ok() && count != BlockCount()) {
    r.Fail(Status(StatusCode::kInvalidArgument,
                  "digest-reply: digest count does not match the range"));
  }
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

Status BlockData::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.Fail(ValidateBlockRange(offset, data.size()));
  w.String16(resource, 1, kMaxResourceNameSize, kBadResource);
  w.U64(offset);
  w.Blob32(data, kSectorSize, kMaxDataChunk,
           "blocks: length not a sector multiple in range");
  return w.Finish();
}

Status BlockData::Decode(Slice payload) {
  PayloadReader r(payload, "block-data: payload truncated");
  r.String16(&resource, 1, kMaxResourceNameSize, kBadResource);
  r.U64(&offset);
  r.Blob32(&data, kSectorSize, kMaxDataChunk,
           "blocks: length not a sector multiple in range");
  if (r.ok()) r.Fail(ValidateBlockRange(offset, data.size()));
  return r.Finish("block-data: trailing bytes after payload");
}

}  // namespace wire
}  // namespace mars
