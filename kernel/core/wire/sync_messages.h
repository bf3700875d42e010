// Messages of the block sync (docu/wire-protocol.md, "Sync messages"): a
// secondary asks for per-block SHA-256 digests of a device range, compares
// them with its own, and asks for the data of the blocks that differ.
//
// Offsets and lengths are bytes on the resource's data device and multiples
// of kSectorSize. Same shape as every message: kType, Encode(Bytes*) (buffer
// unchanged on error), strict Decode(Slice) whose slices point into the
// payload.
//
// Answers (DigestReply, BlockData) carry flags and a *log bound*: the served
// bytes reflect no log record of the server that lies at or after byte
// log_offset of the server's logfile number log_number (its logfile
// log-<log_number>-<server host>). An answer with kSyncUnavailable set says
// the server does not serve the range now (the resource is not attached as
// actual primary there, or a read failed): it carries no digests or data and
// a zero log bound.
#ifndef MARS_CORE_WIRE_SYNC_MESSAGES_H_
#define MARS_CORE_WIRE_SYNC_MESSAGES_H_

#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

// DigestReply::flags and BlockData::flags, bit 0: the server does not serve
// the range now; no digests or data, log bound 0. Bits 1-7 are reserved (0).
constexpr uint8_t kSyncUnavailable = 1;

// The range rules of DigestRequest and DigestReply (below); Ok or
// kInvalidArgument with the codec's message. Context: any.
Status ValidateDigestRange(uint64_t offset, uint64_t length,
                           uint32_t block_size);
// The range rules of BlockRequest (offset, length) and of an available
// BlockData (offset, data.size()). Context: any.
Status ValidateBlockRange(uint64_t offset, uint64_t length);

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
// whichever comes first. Unavailable: no digests, log bound 0.
struct DigestReply {
  static constexpr MessageType kType = MessageType::kDigestReply;
  Slice resource;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t block_size = 0;  // same rules as DigestRequest
  uint8_t flags = 0;        // kSyncUnavailable; other bits 0
  uint64_t log_number = 0;  // the log bound (above)
  uint64_t log_offset = 0;
  Slice digests;  // BlockCount() * kDigestSize bytes; empty if unavailable()

  bool unavailable() const { return (flags & kSyncUnavailable) != 0; }
  // ceil(length / block_size): the digest count of an available reply.
  // REQUIRES: the range rules hold (as after a successful Decode()).
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
// BlockRequest.length. Unavailable: data empty (offset still a multiple of
// kSectorSize), log bound 0.
struct BlockData {
  static constexpr MessageType kType = MessageType::kBlockData;
  Slice resource;
  uint64_t offset = 0;
  uint8_t flags = 0;        // kSyncUnavailable; other bits 0
  uint64_t log_number = 0;  // the log bound (above)
  uint64_t log_offset = 0;
  Slice data;  // empty iff unavailable(); the last field of the payload

  bool unavailable() const { return (flags & kSyncUnavailable) != 0; }

  // With `data_crc`: *data_crc is the CRC-32C of `data`, computed as it is
  // copied (FrameEncoder::AppendDataMessage()).
  Status Encode(Bytes* out, uint32_t* data_crc = nullptr) const;
  // The payload up to and including the length of `data`, without its
  // bytes: they follow on the wire from where the caller keeps them
  // (FrameEncoder::AppendDataMessageHead()).
  Status EncodeHead(Bytes* out) const;
  Status Decode(Slice payload);
};

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_SYNC_MESSAGES_H_
