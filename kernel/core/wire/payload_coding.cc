// Field-level payload encoding of docu/wire-protocol.md ("Field encoding").
#include "core/wire/payload_coding.h"

#include "core/base/coding.h"
#include "core/platform.h"
#include "core/tree/names.h"

namespace mars {
namespace wire {

void PayloadWriter::Append(const uint8_t* data, size_t size) {
  if (!status_.ok()) return;
  const Status s = out_->Append(data, size);
  if (!s.ok()) status_ = s;
}

void PayloadWriter::U8(uint8_t value) { Append(&value, 1); }

void PayloadWriter::U16(uint16_t value) {
  uint8_t buf[2];
  EncodeFixed16(buf, value);
  Append(buf, sizeof(buf));
}

void PayloadWriter::U32(uint32_t value) {
  uint8_t buf[4];
  EncodeFixed32(buf, value);
  Append(buf, sizeof(buf));
}

void PayloadWriter::U64(uint64_t value) {
  uint8_t buf[8];
  EncodeFixed64(buf, value);
  Append(buf, sizeof(buf));
}

void PayloadWriter::Fixed(Slice bytes) { Append(bytes.data(), bytes.size()); }

void PayloadWriter::String16(Slice bytes, size_t min_size, size_t max_size,
                             const char* error) {
  if (bytes.size() < min_size || bytes.size() > max_size ||
      bytes.size() > 0xFFFF) {
    Fail(Status(StatusCode::kInvalidArgument, error));
    return;
  }
  U16(static_cast<uint16_t>(bytes.size()));
  Fixed(bytes);
}

void PayloadWriter::Blob32Length(size_t size, size_t min_size,
                                 size_t max_size, const char* error) {
  if (size < min_size || size > max_size || size > 0xFFFFFFFFu) {
    Fail(Status(StatusCode::kInvalidArgument, error));
    return;
  }
  U32(static_cast<uint32_t>(size));
}

void PayloadWriter::Blob32(Slice bytes, size_t min_size, size_t max_size,
                           const char* error, uint32_t* crc) {
  Blob32Length(bytes.size(), min_size, max_size, error);
  if (!status_.ok()) return;
  if (crc == nullptr) {
    Fixed(bytes);
    return;
  }
  const size_t at = out_->size();
  const Status s = out_->ResizeForOverwrite(at + bytes.size());
  if (!s.ok()) {
    status_ = s;
    return;
  }
  *crc = bytes.empty() ? 0
                       : platform::Crc32cCopy(0, out_->data() + at,
                                              bytes.data(), bytes.size());
}

void PayloadWriter::Fail(Status status) {
  if (status_.ok()) status_ = status;
}

Status PayloadWriter::Finish() {
  if (!status_.ok() && out_->size() > start_) {
    // Shrinking never allocates, so it cannot fail.
    (void)out_->Resize(start_);
  }
  return status_;
}

const uint8_t* PayloadReader::Take(size_t size) {
  if (!status_.ok()) return nullptr;
  if (size > remaining()) {
    status_ = Status(StatusCode::kInvalidArgument, truncated_);
    return nullptr;
  }
  const uint8_t* p = input_.data() + position_;
  position_ += size;
  return p;
}

void PayloadReader::U8(uint8_t* value) {
  const uint8_t* p = Take(1);
  *value = p == nullptr ? 0 : p[0];
}

void PayloadReader::U16(uint16_t* value) {
  const uint8_t* p = Take(2);
  *value = p == nullptr ? 0 : DecodeFixed16(p);
}

void PayloadReader::U32(uint32_t* value) {
  const uint8_t* p = Take(4);
  *value = p == nullptr ? 0 : DecodeFixed32(p);
}

void PayloadReader::U64(uint64_t* value) {
  const uint8_t* p = Take(8);
  *value = p == nullptr ? 0 : DecodeFixed64(p);
}

void PayloadReader::Fixed(size_t size, Slice* bytes) {
  const uint8_t* p = Take(size);
  *bytes = p == nullptr ? Slice() : Slice(p, size);
}

void PayloadReader::FixedCopy(uint8_t* dst, size_t size) {
  const uint8_t* p = Take(size);
  if (p == nullptr) {
    __builtin_memset(dst, 0, size);
  } else if (size > 0) {
    __builtin_memcpy(dst, p, size);
  }
}

void PayloadReader::String16(Slice* bytes, size_t min_size, size_t max_size,
                             const char* error) {
  uint16_t size = 0;
  U16(&size);
  *bytes = Slice();
  if (!status_.ok()) return;
  if (size < min_size || size > max_size) {
    Fail(Status(StatusCode::kInvalidArgument, error));
    return;
  }
  Fixed(size, bytes);
}

void PayloadReader::Blob32(Slice* bytes, size_t min_size, size_t max_size,
                           const char* error) {
  uint32_t size = 0;
  U32(&size);
  *bytes = Slice();
  if (!status_.ok()) return;
  if (size < min_size || size > max_size) {
    Fail(Status(StatusCode::kInvalidArgument, error));
    return;
  }
  Fixed(size, bytes);
}

void PayloadReader::Fail(Status status) {
  if (status_.ok()) status_ = status;
}

Status PayloadReader::Finish(const char* trailing) {
  if (!status_.ok()) return status_;
  if (remaining() != 0) return Status(StatusCode::kInvalidArgument, trailing);
  return Status::Ok();
}

Status CheckHostName(Slice name, const HostNameErrors& errors) {
  tree::NameError error;
  if (tree::ValidateHostName(name, &error).ok()) return Status::Ok();
  const char* message = errors.bad_character;
  switch (error.problem) {
    case tree::NameProblem::kEmpty:
      message = errors.empty;
      break;
    case tree::NameProblem::kTooLong:
      message = errors.too_long;
      break;
    case tree::NameProblem::kLeadingDash:
      message = errors.leading_dash;
      break;
    case tree::NameProblem::kReserved:
      message = errors.reserved;
      break;
    case tree::NameProblem::kNone:
    case tree::NameProblem::kBadCharacter:
      break;
  }
  return Status(StatusCode::kInvalidArgument, message);
}

}  // namespace wire
}  // namespace mars
