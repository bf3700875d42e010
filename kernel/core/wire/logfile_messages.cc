// Payloads of the logfile messages (docu/wire-protocol.md).
#include "core/wire/logfile_messages.h"

#include "core/wire/payload_coding.h"

namespace mars {
namespace wire {
namespace {

Status ValidateRequest(const LogfileRequest& m) {
  if (m.max_length == 0 || m.max_length > kMaxDataChunk) {
    return Status(StatusCode::kInvalidArgument,
                  "logfile-request: max length out of range");
  }
  return Status::Ok();
}

Status ValidateData(const LogfileData& m) {
  const uint64_t size = m.data.size();
  if (m.offset > m.file_size || size > m.file_size - m.offset) {
    return Status(StatusCode::kInvalidArgument,
                  "logfile-data: range beyond the file size");
  }
  if (m.end_of_file && m.offset + size != m.file_size) {
    return Status(StatusCode::kInvalidArgument,
                  "logfile-data: end of file flag before the file size");
  }
  return Status::Ok();
}

constexpr char kDataTooLong[] = "logfile-data: data too long";

// Every field of `m` before its data.
void WriteDataFields(const LogfileData& m, PayloadWriter* w) {
  w->Fail(ValidateData(m));
  w->String16(m.name, 1, kMaxPathSize, "logfile-data: name empty or too long");
  w->U64(m.offset);
  w->U64(m.file_size);
  w->U8(static_cast<uint8_t>(
      (m.end_of_file ? LogfileData::kFlagEndOfFile : 0) |
      (m.file_complete ? LogfileData::kFlagFileComplete : 0)));
}

}  // namespace

Status LogfileRequest::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.Fail(ValidateRequest(*this));
  w.String16(name, 1, kMaxPathSize, "logfile-request: name empty or too long");
  w.U64(offset);
  w.U32(max_length);
  return w.Finish();
}

Status LogfileRequest::Decode(Slice payload) {
  PayloadReader r(payload, "logfile-request: payload truncated");
  r.String16(&name, 1, kMaxPathSize, "logfile-request: name empty or too long");
  r.U64(&offset);
  r.U32(&max_length);
  if (r.ok()) r.Fail(ValidateRequest(*this));
  return r.Finish("logfile-request: trailing bytes after payload");
}

Status LogfileData::Encode(Bytes* out, uint32_t* data_crc) const {
  PayloadWriter w(out);
  WriteDataFields(*this, &w);
  w.Blob32(data, 0, kMaxDataChunk, kDataTooLong, data_crc);
  return w.Finish();
}

Status LogfileData::EncodeHead(Bytes* out) const {
  PayloadWriter w(out);
  WriteDataFields(*this, &w);
  w.Blob32Length(data.size(), 0, kMaxDataChunk, kDataTooLong);
  return w.Finish();
}

Status LogfileData::Decode(Slice payload) {
  PayloadReader r(payload, "logfile-data: payload truncated");
  uint8_t flags = 0;
  r.String16(&name, 1, kMaxPathSize, "logfile-data: name empty or too long");
  r.U64(&offset);
  r.U64(&file_size);
  r.U8(&flags);
  if (r.ok() && (flags & ~(kFlagEndOfFile | kFlagFileComplete)) != 0) {
    r.Fail(Status(StatusCode::kInvalidArgument,
                  "logfile-data: reserved flag bits set"));
  }
  end_of_file = (flags & kFlagEndOfFile) != 0;
  file_complete = (flags & kFlagFileComplete) != 0;
  r.Blob32(&data, 0, kMaxDataChunk, "logfile-data: data too long");
  if (r.ok()) r.Fail(ValidateData(*this));
  return r.Finish("logfile-data: trailing bytes after payload");
}

}  // namespace wire
}  // namespace mars
