// The logfile service of a Session (docu/wire-protocol.md, "Logfile
// messages"): our requests go out and their checked answers wait for the
// caller (TakeLogfileData); the peer's requests wait for the caller
// (TakeLogfileRequest), who reads the file and answers in the order taken
// (SendLogfileData).
#include "core/base/utility.h"
#include "core/peer/session.h"
#include "core/peer/session_internal.h"

namespace mars {
namespace peer {
namespace {

using session_internal::CopySlice;
using session_internal::kErrUnaskedReply;
using session_internal::SameBytes;

constexpr Status kErrTooManyLogfileRequests(
    StatusCode::kInvalidArgument,
    "session: more logfile requests outstanding than allowed");
constexpr Status kErrWrongLogfileData(
    StatusCode::kInvalidArgument,
    "session: logfile data does not answer the request outstanding");
constexpr Status kErrBadLogfileAnswer(
    StatusCode::kInternal,
    "session: logfile answer does not match the request taken");

}  // namespace

size_t Session::LogfileRequestLimit() const {
  return (handshake_.agreement().features & wire::kFeatureLogfileWindow) != 0
             ? kMaxLogfileRequestsWide
             : kMaxLogfileRequests;
}

Status Session::RequestLogfile(Slice name, uint64_t offset,
                               uint32_t max_length) {
  if (!open() ||
      (handshake_.agreement().features & wire::kFeatureLogfileServe) == 0 ||
      asked_.size() >= LogfileRequestLimit()) {
    return Status(StatusCode::kUnavailable, "cannot request a logfile now");
  }
  if (name.empty() || name.size() > wire::kMaxPathSize || max_length == 0 ||
      max_length > wire::kMaxDataChunk) {
    return Status(StatusCode::kInvalidArgument, "bad logfile request");
  }
  LogfileAsk ask;
  Status s = CopySlice(name, &ask.name);
  if (s.ok()) s = asked_.Reserve(asked_.size() + 1);
  if (!s.ok()) {
    Fail(s, false);
    return s;
  }
  ask.offset = offset;
  ask.max_length = max_length;
  wire::LogfileRequest request;
  request.name = name;
  request.offset = offset;
  request.max_length = max_length;
  if (!Send(request)) return status_;
  Status pushed = asked_.PushBack(Move(ask));  // reserved: cannot fail
  (void)pushed;
  ++counters_.logfile_requests_sent;
  return Status::Ok();
}

bool Session::TakeLogfileData(LogfileGot* got) {
  if (got_.empty()) return false;
  *got = Move(got_[0]);
  got_.Erase(0);
  return true;
}

uint64_t Session::NextLogfileRequestBytes() const {
  return asks_.empty() ? 0 : asks_[0].max_length;
}

bool Session::TakeLogfileRequest(LogfileAsk* ask) {
  if (asks_.empty() ||
      !answering_asks_.Reserve(answering_asks_.size() + 1).ok()) {
    return false;
  }
  LogfileAsk copy;
  if (!CopySlice(Slice(asks_[0].name.data(), asks_[0].name.size()), &copy.name)
           .ok()) {
    return false;
  }
  copy.offset = asks_[0].offset;
  copy.max_length = asks_[0].max_length;
  *ask = Move(asks_[0]);
  asks_.Erase(0);
  Status pushed = answering_asks_.PushBack(Move(copy));  // reserved
  (void)pushed;
  return true;
}

Status Session::SendLogfileData(const wire::LogfileData& data) {
  return AnswerLogfile(data, nullptr);
}

Status Session::SendLogfileDataInPlace(const wire::LogfileData& data,
                                       uint32_t data_crc) {
  return AnswerLogfile(data, &data_crc);
}

Status Session::AnswerLogfile(const wire::LogfileData& data,
                              const uint32_t* in_place_crc) {
  if (closed()) return status_;
  if (answering_asks_.empty() ||
      !SameBytes(answering_asks_[0].name, data.name) ||
      data.offset != answering_asks_[0].offset ||
      data.data.size() > answering_asks_[0].max_length) {
    Fail(kErrBadLogfileAnswer, true);
    return status_;
  }
  if (!SendData(data, in_place_crc)) return status_;
  answering_asks_.Erase(0);
  ++counters_.logfile_requests_served;
  counters_.logfile_bytes_sent += data.data.size();
  return Status::Ok();
}

void Session::OnLogfileRequest(const wire::Frame& frame) {
  wire::LogfileRequest request;
  Status s = request.Decode(frame.payload);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  if (asks_.size() + answering_asks_.size() >= LogfileRequestLimit()) {
    Fail(kErrTooManyLogfileRequests, true);
    return;
  }
  LogfileAsk ask;
  s = CopySlice(request.name, &ask.name);
  if (s.ok()) {
    ask.offset = request.offset;
    ask.max_length = request.max_length;
    s = asks_.PushBack(Move(ask));
  }
  if (!s.ok()) Fail(s, false);
}

void Session::OnLogfileData(const wire::Frame& frame) {
  wire::LogfileData data;
  Status s = data.Decode(frame.payload);
  if (!s.ok()) {
    Fail(s, true);
    return;
  }
  if (asked_.empty()) {
    Fail(kErrUnaskedReply, true);
    return;
  }
  const LogfileAsk& ask = asked_[0];
  if (!SameBytes(ask.name, data.name) || data.offset != ask.offset ||
      data.data.size() > ask.max_length) {
    Fail(kErrWrongLogfileData, true);
    return;
  }
  LogfileGot got;
  // The bytes stay where they were received: the frame's buffer goes along.
  got.data = data.data;
  got.frame = decoder_.TakePayload();
  got.name = Move(asked_[0].name);
  got.offset = data.offset;
  got.max_length = ask.max_length;
  got.file_size = data.file_size;
  got.end_of_file = data.end_of_file;
  got.file_complete = data.file_complete;
  s = got_.PushBack(Move(got));
  if (!s.ok()) {
    Fail(s, false);
    return;
  }
  asked_.Erase(0);
  counters_.logfile_bytes_received += data.data.size();
}

}  // namespace peer
}  // namespace mars
