// The constants of the mars peer protocol: frame layout, message type numbers,
// feature bits and size limits. Specified in docu/wire-protocol.md; this file
// and that document change together.
//
// NEVER renumber a message type, a feature bit or a flag: numbers are append
// only. A retired number stays reserved forever.
#ifndef MARS_CORE_WIRE_WIRE_FORMAT_H_
#define MARS_CORE_WIRE_WIRE_FORMAT_H_

#include <stddef.h>
#include <stdint.h>

#include "core/tree/names.h"

namespace mars {
namespace wire {

// Default TCP port of the peer server.
constexpr uint16_t kDefaultPort = 7777;

// ---- Frame layout (all integers little-endian) ----
//   0  u32 magic          kFrameMagic, the bytes "MARW"
//   4  u8  frame version  kFrameVersion
//   5  u8  flags          all bits reserved: senders write 0, receivers refuse
//                         any set bit
//   6  u16 message type   MessageType
//   8  u32 payload size   <= kMaxPayloadSize
//  12  u32 crc32c         CRC-32C over header bytes [0, 12) then the payload
//  16  payload
constexpr uint32_t kFrameMagic = 0x5752414Du;  // "MARW" in stream order
constexpr uint8_t kFrameVersion = 1;
constexpr size_t kFrameHeaderSize = 16;
constexpr size_t kFrameCrcOffset = 12;  // the CRC covers [0, 12) + payload
constexpr uint8_t kFrameFlagsKnown = 0;

// The largest logfile or block chunk one message carries.
constexpr uint32_t kMaxDataChunk = 1u << 20;  // 1 MiB
// The largest frame payload: one data chunk plus room for the message's other
// fields. Larger declared sizes are refused before any payload is buffered.
constexpr uint32_t kMaxPayloadSize = kMaxDataChunk + 4096;

// ---- Protocol versions (the message layer, negotiated in Hello) ----
constexpr uint16_t kProtocolVersion = 1;     // the newest we speak
constexpr uint16_t kMinProtocolVersion = 1;  // the oldest we speak

// ---- Message types ----
// Bit 15 clear: must understand. A receiver that does not know such a type
// refuses the frame and closes the connection. Bit 15 set: ignorable. A
// receiver that does not know such a type verifies and then skips the frame.
constexpr uint16_t kIgnorableTypeBit = 0x8000;

enum class MessageType : uint16_t {
  // Connection set-up and control (0x00xx).
  kHello = 0x0001,
  kAuthChallenge = 0x0002,
  kAuthResponse = 0x0003,
  kAuthResult = 0x0004,
  kError = 0x0005,
  kPing = 0x0006,
  kPong = 0x0007,
  // The /mars tree (0x01xx).
  kTreeSinceRequest = 0x0101,
  kTreeUpdate = 0x0102,
  // Logfile bytes (0x02xx).
  kLogfileRequest = 0x0201,
  kLogfileData = 0x0202,
  // Block sync (0x03xx).
  kDigestRequest = 0x0301,
  kDigestReply = 0x0302,
  kBlockRequest = 0x0303,
  kBlockData = 0x0304,
  // Append new types here, with the next free number of their group.
};

// True for every type listed in MessageType.
constexpr bool IsKnownMessageType(uint16_t type) {
  return (type >= 0x0001 && type <= 0x0007) || type == 0x0101 ||
         type == 0x0102 || type == 0x0201 || type == 0x0202 ||
         (type >= 0x0301 && type <= 0x0304);
}
constexpr bool IsIgnorableMessageType(uint16_t type) {
  return (type & kIgnorableTypeBit) != 0;
}

// A short stable name ("hello", "tree-update", ...) or "unknown".
const char* MessageTypeName(uint16_t type);

// ---- Feature bits (Hello.features; the agreed set is the AND of both) ----
// Unknown bits are ignored, so a newer peer may set more.
constexpr uint64_t kFeaturePing = 1ull << 0;          // answers Ping with Pong
constexpr uint64_t kFeatureLogfileServe = 1ull << 1;  // serves LogfileRequest
constexpr uint64_t kFeatureBlockSyncServe = 1ull << 2;  // serves Digest/Block
// Accepts kMaxLogfileRequestsWide logfile-requests outstanding instead of
// kMaxLogfileRequests (peer/session.h).
constexpr uint64_t kFeatureLogfileWindow = 1ull << 3;
constexpr uint64_t kFeaturesSupported = kFeaturePing | kFeatureLogfileServe |
                                        kFeatureBlockSyncServe |
                                        kFeatureLogfileWindow;

// ---- Field limits (bytes) ----
// Host names follow the tree's name rule (tree::ValidateHostName).
constexpr size_t kMaxHostNameSize = tree::kMaxNameChars;  // 63
constexpr size_t kMaxClusterIdSize = 128;  // text of /mars/uuid
constexpr size_t kMaxModuleVersionSize = 64;
constexpr size_t kMaxPathSize = 1024;   // tree path or logfile name
constexpr size_t kMaxValueSize = 4096;  // tree value (symlink target)
constexpr size_t kMaxResourceNameSize = 128;
constexpr size_t kMaxErrorTextSize = 1024;
constexpr size_t kMaxTreeEntriesPerBatch = 4096;
constexpr size_t kNonceSize = 32;
constexpr size_t kMacSize = 32;        // HMAC-SHA256
constexpr size_t kDigestSize = 32;     // SHA-256 of one block
constexpr uint32_t kSectorSize = 512;  // block offsets/lengths align
constexpr uint32_t kMinSyncBlockSize = kSectorSize;
constexpr uint32_t kMaxSyncBlockSize = kMaxDataChunk;
constexpr uint32_t kMaxDigestsPerReply = kMaxDataChunk / kDigestSize;

// Cluster secrets shorter than this are refused by the Handshake.
constexpr size_t kMinSecretSize = 16;
constexpr size_t kMaxSecretSize = 1024;

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_WIRE_FORMAT_H_
