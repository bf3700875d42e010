// Name, path and value rules of the /mars tree (docu/mars-tree.md §2).
#include "core/tree/names.h"

#include "core/tree/text.h"

namespace mars {
namespace tree {
namespace {

constexpr const char* kReservedNames[] = {
    "none",      "all",    "any",   "full",      "empty",
    "undefined", "remote", "local", "localhost",
};

bool IsNameChar(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsAsciiDigit(c) ||
         c == '_' || c == '-';
}

bool IsPathChar(uint8_t c) { return IsNameChar(c) || c == '.'; }

// Static messages per kind, indexed by NameProblem.
constexpr const char* kHostMessages[] = {
    "",
    "host name is empty",
    "host name is longer than 63 characters",
    "host name starts with '-'",
    "host name contains a character other than letters, digits, '_', '-'",
    "host name is reserved",
};
constexpr const char* kResourceMessages[] = {
    "",
    "resource name is empty",
    "resource name is longer than 63 characters",
    "resource name starts with '-'",
    "resource name contains a character other than letters, digits, '_', '-'",
    "resource name is reserved",
};

NameError Check(Slice name) {
  NameError error;
  if (name.empty()) {
    error.problem = NameProblem::kEmpty;
  } else if (name.size() > kMaxNameChars) {
    error.problem = NameProblem::kTooLong;
  } else if (name[0] == '-') {
    error.problem = NameProblem::kLeadingDash;
  } else {
    for (size_t i = 0; i < name.size(); ++i) {
      if (!IsNameChar(name[i])) {
        error.problem = NameProblem::kBadCharacter;
        error.position = i;
        error.character = name[i];
        return error;
      }
    }
    if (IsReservedName(name)) error.problem = NameProblem::kReserved;
  }
  return error;
}

}  // namespace

bool IsReservedName(Slice name) {
  for (const char* reserved : kReservedNames) {
    if (name == Slice::FromCString(reserved)) return true;
  }
  return false;
}

Status ValidateName(NameKind kind, Slice name, NameError* error) {
  const NameError found = Check(name);
  if (error != nullptr) *error = found;
  if (found.problem == NameProblem::kNone) return Status::Ok();
  const size_t index = static_cast<size_t>(found.problem);
  return Status(StatusCode::kInvalidArgument, kind == NameKind::kHost
                                                  ? kHostMessages[index]
                                                  : kResourceMessages[index]);
}

size_t DescribeNameError(NameKind kind, Slice name, const NameError& error,
                         char* out, size_t capacity) {
  TextWriter w(out, capacity);
  w.CString(kind == NameKind::kHost ? "host name '" : "resource name '");
  w.Escaped(name);
  w.CString("' ");
  switch (error.problem) {
    case NameProblem::kNone:
      w.CString("is valid");
      break;
    case NameProblem::kEmpty:
      w.CString("is empty");
      break;
    case NameProblem::kTooLong:
      w.CString("is longer than 63 characters");
      break;
    case NameProblem::kLeadingDash:
      w.CString("starts with '-'");
      break;
    case NameProblem::kBadCharacter:
      w.CString("contains '");
      w.Escaped(Slice(&error.character, 1));
      w.Char('\'');
      break;
    case NameProblem::kReserved:
      w.CString("is reserved");
      break;
  }
  return w.size();
}

Status HostName::Assign(Slice name) {
  Status s = ValidateHostName(name);
  if (!s.ok()) return s;
  __builtin_memcpy(chars_, name.data(), name.size());
  size_ = static_cast<uint8_t>(name.size());
  return Status::Ok();
}

Status ValidateTreePath(Slice path) {
  if (path.empty())
    return Status(StatusCode::kInvalidArgument, "path is empty");
  if (path.size() > kMaxPathBytes) {
    return Status(StatusCode::kInvalidArgument,
                  "path is longer than 255 bytes");
  }
  if (path[0] == '/') {
    return Status(StatusCode::kInvalidArgument, "path starts with '/'");
  }
  size_t component_start = 0;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (i == component_start) {
        return Status(StatusCode::kInvalidArgument,
                      "path has an empty component");
      }
      component_start = i + 1;
      continue;
    }
    if (!IsPathChar(path[i])) {
      return Status(StatusCode::kInvalidArgument,
                    "path contains a character other than letters, digits, "
                    "'.', '_', '-' and '/'");
    }
    if (i == component_start && path[i] == '.') {
      return Status(StatusCode::kInvalidArgument,
                    "path component starts with '.'");
    }
  }
  return Status::Ok();
}

Status ValidateEntryValue(Slice value) {
  if (value.empty())
    return Status(StatusCode::kInvalidArgument, "value is empty");
  if (value.size() > kMaxValueBytes) {
    return Status(StatusCode::kInvalidArgument,
                  "value is longer than 4095 bytes");
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == 0) {
      return Status(StatusCode::kInvalidArgument, "value contains a NUL byte");
    }
  }
  if (value == Slice::FromCString(kTombstoneValue)) {
    return Status(StatusCode::kInvalidArgument,
                  "value is the tombstone marker '.deleted'");
  }
  return Status::Ok();
}

}  // namespace tree
}  // namespace mars
