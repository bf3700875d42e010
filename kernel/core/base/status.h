// Status: the result of an operation that can fail, as a value.
//
// A Status is a code plus a static message; it never allocates, so it is usable
// in any context, kernel or userspace. Codes are stable: the wire protocol and
// marsadm map them, so never renumber (append only).
#ifndef MARS_CORE_BASE_STATUS_H_
#define MARS_CORE_BASE_STATUS_H_

namespace mars {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // malformed input from a caller or a peer
  kOutOfRange = 2,       // a value outside its permitted range
  kCorruption = 3,       // a checksum or structure check failed
  kNoMemory = 4,
  kIoError = 5,
  kNotFound = 6,
  kAlreadyExists = 7,
  kUnavailable = 8,      // transient: retry later
  kInternal = 9,         // a broken invariant (a bug)
};

class [[nodiscard]] Status {
 public:
  constexpr Status() : code_(StatusCode::kOk), message_("") {}
  // `message` must have static storage duration.
  constexpr Status(StatusCode code, const char* message)
      : code_(code), message_(message) {}

  static constexpr Status Ok() { return Status(); }

  constexpr bool ok() const { return code_ == StatusCode::kOk; }
  constexpr StatusCode code() const { return code_; }
  constexpr const char* message() const { return message_; }

 private:
  StatusCode code_;
  const char* message_;
};

// Returns a short stable name such as "corruption" for logs and tools.
const char* StatusCodeName(StatusCode code);

}  // namespace mars

#endif  // MARS_CORE_BASE_STATUS_H_
