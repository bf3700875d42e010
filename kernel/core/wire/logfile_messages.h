// Messages that ship logfile bytes from a primary to a secondary
// (docu/wire-protocol.md, "Logfile messages"): a request for a byte range of
// one logfile and the data in reply.
//
// Same shape as every message: kType, Encode(Bytes*) (buffer unchanged on
// error), strict Decode(Slice) whose slices point into the payload.
#ifndef MARS_CORE_WIRE_LOGFILE_MESSAGES_H_
#define MARS_CORE_WIRE_LOGFILE_MESSAGES_H_

#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

// "Send me up to max_length bytes of logfile `name` from `offset`."
struct LogfileRequest {
  static constexpr MessageType kType = MessageType::kLogfileRequest;
  // Relative to /mars, 1..kMaxPathSize bytes, e.g.
  // "resource-r0/log-000000001-hostA".
  Slice name;
  uint64_t offset = 0;
  uint32_t max_length = 0;  // 1..kMaxDataChunk

  Status Encode(Bytes* out) const;
  Status Decode(Slice payload);
};

// Bytes [offset, offset + data.size()) of logfile `name`.
struct LogfileData {
  static constexpr MessageType kType = MessageType::kLogfileData;
  static constexpr uint8_t kFlagEndOfFile = 1;     // bit 0
  static constexpr uint8_t kFlagFileComplete = 2;  // bit 1

  Slice name;  // as in the request
  uint64_t offset = 0;
  uint64_t file_size = 0;  // the file's size when the data was read;
                           // offset + data.size() <= file_size
  // The data reaches file_size: nothing more to fetch for now
  // (requires offset + data.size() == file_size).
  bool end_of_file = false;
  // The file will not grow any more: file_size is final.
  bool file_complete = false;
  Slice data;  // 0..kMaxDataChunk bytes, the last field of the payload

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

#endif  // MARS_CORE_WIRE_LOGFILE_MESSAGES_H_
