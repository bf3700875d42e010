// PayloadWriter and PayloadReader: the field-level encoding shared by every
// message payload of docu/wire-protocol.md (little-endian fixed-width
// integers, fixed-size byte arrays, u16- and u32-length-prefixed byte strings)
// and the host-name rule every host-name field shares.
//
// Both keep the first error and ignore later calls, so a message codec writes
// or reads all fields in order and checks one Status at the end. The reader
// never reads outside its Slice, and refuses trailing bytes in Finish().
#ifndef MARS_CORE_WIRE_PAYLOAD_CODING_H_
#define MARS_CORE_WIRE_PAYLOAD_CODING_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

// Appends fields to *out. On failure Finish() truncates *out back to its size
// at construction, so a failed encode leaves the caller's buffer unchanged.
class PayloadWriter {
 public:
  explicit PayloadWriter(Bytes* out) : out_(out), start_(out->size()) {}
  PayloadWriter(const PayloadWriter&) = delete;
  PayloadWriter& operator=(const PayloadWriter&) = delete;

  void U8(uint8_t value);
  void U16(uint16_t value);
  void U32(uint32_t value);
  void U64(uint64_t value);
  // Exactly `bytes.size()` bytes, no length prefix.
  void Fixed(Slice bytes);
  // u16 length, then the bytes. Fails with `error` (kInvalidArgument) unless
  // min_size <= size <= max_size (max_size <= 65535).
  void String16(Slice bytes, size_t min_size, size_t max_size,
                const char* error);
  // u32 length, then the bytes; same bounds rule (max_size < 2^32). With
  // `crc`, *crc is the CRC-32C of the bytes (not of the length), computed
  // while they are copied (platform::Crc32cCopy: one pass where the
  // platform has it); valid when Finish() is Ok.
  void Blob32(Slice bytes, size_t min_size, size_t max_size, const char* error,
              uint32_t* crc = nullptr);
  // Only the u32 length of a Blob32 of `size` bytes, same bounds rule: the
  // bytes themselves follow the payload elsewhere (FrameEncoder::
  // AppendDataMessageHead()).
  void Blob32Length(size_t size, size_t min_size, size_t max_size,
                    const char* error);
  // Records a validation failure found by the caller.
  void Fail(Status status);

  // The first error, or Ok. Truncates *out on error.
  Status Finish();

 private:
  void Append(const uint8_t* data, size_t size);

  Bytes* out_;
  size_t start_;
  Status status_;
};

// Reads fields from the front of a payload. Every read checks the remaining
// size first; a short read fails with `truncated` (kInvalidArgument).
class PayloadReader {
 public:
  PayloadReader(Slice payload, const char* truncated)
      : input_(payload), truncated_(truncated) {}
  PayloadReader(const PayloadReader&) = delete;
  PayloadReader& operator=(const PayloadReader&) = delete;

  bool ok() const { return status_.ok(); }
  size_t remaining() const { return input_.size() - position_; }

  // On failure the output is set to zero/empty.
  void U8(uint8_t* value);
  void U16(uint16_t* value);
  void U32(uint32_t* value);
  void U64(uint64_t* value);
  // `size` bytes as a Slice into the payload.
  void Fixed(size_t size, Slice* bytes);
  // Copies `size` bytes into `dst`.
  void FixedCopy(uint8_t* dst, size_t size);
  // u16/u32 length then bytes, as a Slice into the payload. A length outside
  // [min_size, max_size] fails with `error` before the bytes are touched.
  void String16(Slice* bytes, size_t min_size, size_t max_size,
                const char* error);
  void Blob32(Slice* bytes, size_t min_size, size_t max_size,
              const char* error);
  // Records a validation failure found by the caller (first error wins).
  void Fail(Status status);

  // The first error; else `trailing` (kInvalidArgument) when bytes remain;
  // else Ok.
  Status Finish(const char* trailing);

 private:
  // Returns a pointer to the next `size` bytes and advances, or nullptr
  // (recording `truncated_`) when fewer remain or an error is already set.
  const uint8_t* Take(size_t size);

  Slice input_;
  size_t position_ = 0;
  const char* truncated_;
  Status status_;
};

// The messages of one host-name field, one per tree::NameProblem, each
// naming the message and the field, e.g. "hello: host name is reserved".
struct HostNameErrors {
  const char* empty;
  const char* too_long;
  const char* leading_dash;
  const char* bad_character;
  const char* reserved;
};

// Host names on the wire follow the tree's one name rule
// (tree::ValidateHostName, docu/mars-tree.md §2.1: 1..63 characters from
// [A-Za-z0-9_-], not starting with '-', not a reserved word). Returns Ok or
// kInvalidArgument with the `errors` message for the problem. Context: any.
Status CheckHostName(Slice name, const HostNameErrors& errors);

}  // namespace wire
}  // namespace mars

#endif  // MARS_CORE_WIRE_PAYLOAD_CODING_H_
