// Names in the /mars tree (docu/mars-tree.md §2 "Names"): host and resource
// names, tree paths and entry values, with precise error descriptions.
//
// Host and resource names share one rule: 1..63 characters from
// [A-Za-z0-9_-], not starting with '-', and not a reserved word. Status
// messages are static; NameError + DescribeNameError() render the full text,
// e.g. "resource name 'x y' contains ' '", for marsadm and the kernel log.
#ifndef MARS_CORE_TREE_NAMES_H_
#define MARS_CORE_TREE_NAMES_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"

namespace mars {
namespace tree {

constexpr size_t kMaxNameChars = 63;
// A path relative to /mars, e.g. "resource-r0/replay-hostA".
constexpr size_t kMaxPathBytes = 255;
// A value is a symlink target: 1..4095 bytes (PATH_MAX minus the NUL).
constexpr size_t kMaxValueBytes = 4095;
// The on-disk value of a tombstone (deleted entry). Never a live value.
constexpr char kTombstoneValue[] = ".deleted";

enum class NameKind : uint8_t { kHost, kResource };

enum class NameProblem : uint8_t {
  kNone,
  kEmpty,
  kTooLong,
  kLeadingDash,
  kBadCharacter,  // NameError::character at NameError::position
  kReserved,
};

struct NameError {
  NameProblem problem = NameProblem::kNone;
  size_t position = 0;
  uint8_t character = 0;
};

// True for the reserved words none, all, any, full, empty, undefined,
// remote, local, localhost (exact, case-sensitive match).
bool IsReservedName(Slice name);

// Checks `name` against the name rule. On failure returns kInvalidArgument
// with a static message naming the problem and the kind ("host name is
// reserved") and, if `error` is not null, fills it in. Context: any.
Status ValidateName(NameKind kind, Slice name, NameError* error = nullptr);
inline Status ValidateHostName(Slice name, NameError* error = nullptr) {
  return ValidateName(NameKind::kHost, name, error);
}
inline Status ValidateResourceName(Slice name, NameError* error = nullptr) {
  return ValidateName(NameKind::kResource, name, error);
}

// Writes a one-line description of `error` for `name` into out[0, capacity)
// (always NUL-terminated, truncated if too small) and returns its length:
//   host name 'none' is reserved
//   resource name 'x y' contains ' '
//   host name '-a' starts with '-'
//   resource name 'aaa…' is longer than 63 characters
//   host name '' is empty
// Non-printable bytes appear as \xNN. REQUIRES: capacity >= 1.
size_t DescribeNameError(NameKind kind, Slice name, const NameError& error,
                         char* out, size_t capacity);

// A valid host name held by value (no allocation). Default: empty, invalid.
class HostName {
 public:
  HostName() = default;
  // Validates and stores `name`; on error leaves *this unchanged.
  Status Assign(Slice name);
  Slice slice() const { return Slice(chars_, size_); }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  bool operator==(const HostName& other) const {
    return slice() == other.slice();
  }
  bool operator!=(const HostName& other) const { return !(*this == other); }

 private:
  char chars_[kMaxNameChars] = {};
  uint8_t size_ = 0;
};

// A tree path relative to /mars: components separated by single '/', no
// leading or trailing '/', 1..255 bytes, characters [A-Za-z0-9._-], no
// component starting with '.' (so no "." or "..", and staging names such as
// ".tmp.*" never enter the tree). kInvalidArgument otherwise.
Status ValidateTreePath(Slice path);

// A live entry value: 1..4095 bytes, no NUL byte, not kTombstoneValue.
// kInvalidArgument otherwise. Context: any.
Status ValidateEntryValue(Slice value);

}  // namespace tree
}  // namespace mars

#endif  // MARS_CORE_TREE_NAMES_H_
