// Messages of the block sync (docu/wire-protocol.md, "Sync messages"): a
// secondary asks for per-block SHA-256 digests of a device range, compares
// them with its own, and asks for the data of the blocks that differ.
//
// Offsets and lengths are bytes on the resource's data device and multiples
// of kSectorSize. Same shape as every message: kType, Encode(Bytes*) (buffer
// unchanged on error), strict Decode(Slice) whose slices point into the
// payload.
#ifndef MARS_CORE_WIRE_SYNC_MESSAGES_H_
#define MARS_CORE_WIRE_SYNC_MESSAGES_H_

#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

// "Send me the digests of the blocks of [offset, offset + length)."
// block_size is a power of two in [kMinSyncBlockSize, kMaxSyncBlockSize];
// offset is a multiple of it; length is a multiple of kSectorSize, at least
// one sector and at most kMaxDigestsPerReply blocks. The last block may be
// partial (a device whose size is not a multiple of block_size).
struct DigestRequest {
  static constexpr MessageType kType = MessageType::kDigestRequest;
  Slice resource;  // resource name, 1..kMaxResourceNameSize bytes
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t block_size = 0;

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

// The digests of the blocks of a DigestRequest's range, in order. Digest i
// is SHA-256 (platform::Sha256) of the device bytes from
// offset + i * block_size up to the next block boundary or offset + length,
// whichever comes first.
struct DigestReply {
  static constexpr MessageType kType = MessageType::kDigestReply;
  Slice resource;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t block_size = 0;  // same rules as DigestRequest
  Slice digests;            // BlockCount() * kDigestSize bytes

  // ceil(length / block_size). REQUIRES: the range rules hold (as after a
  // successful Decode()).
  uint32_t BlockCount() const;
  // REQUIRES: i < BlockCount() and digests.size() == BlockCount() * 32.
  Slice Digest(uint32_t i) const {
    return digests.SubSlice(static_cast<size_t>(i) * kDigestSize, kDigestSize);
  }

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

// "Send me the bytes [offset, offset + length)": length a multiple of
// kSectorSize in [kSectorSize, kMaxDataChunk].
struct BlockRequest {
  static constexpr MessageType kType = MessageType::kBlockRequest;
  Slice resource;
  uint64_t offset = 0;
  uint32_t length = 0;

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

// Device bytes [offset, offset + data.size()); same size rules as
// BlockRequest.length.
struct BlockData {
  static constexpr MessageType kType = MessageType::kBlockData;
  Slice resource;
  uint64_t offset = 0;
  Slice data;

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_SYNC_MESSAGES_H_
