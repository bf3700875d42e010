// Canonical decimals, lowercase hex and TextWriter (docu/mars-tree.md).
#include "core/tree/text.h"

namespace mars {
namespace tree {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Value of a lowercase hex digit, -2 for an uppercase one, -1 otherwise.
int HexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return -2;
  return -1;
}

}  // namespace

Status ParseDecimalU64(Slice text, uint64_t* value) {
  *value = 0;
  if (text.empty())
    return Status(StatusCode::kInvalidArgument, "number is empty");
  if (text[0] == '+' || text[0] == '-') {
    return Status(StatusCode::kInvalidArgument, "number has a sign");
  }
  uint64_t result = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const uint8_t c = text[i];
    if (!IsAsciiDigit(c)) {
      return Status(StatusCode::kInvalidArgument,
                    "number contains a character other than a digit");
    }
    const uint64_t digit = c - '0';
    if (result > (UINT64_MAX - digit) / 10) {
      return Status(StatusCode::kOutOfRange,
                    "number exceeds 18446744073709551615");
    }
    result = result * 10 + digit;
  }
  if (text.size() > 1 && text[0] == '0') {
    return Status(StatusCode::kInvalidArgument, "number has a leading zero");
  }
  *value = result;
  return Status::Ok();
}

size_t FormatDecimalU64(uint64_t value, char* out) {
  char reversed[kMaxDecimalU64Chars];
  size_t n = 0;
  do {
    reversed[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (size_t i = 0; i < n; ++i) out[i] = reversed[n - 1 - i];
  return n;
}

Status AppendBytes(Slice bytes, Bytes* out) {
  const size_t start = out->size();
  Status s = out->Resize(start + bytes.size());
  if (!s.ok()) return s;
  if (!bytes.empty())
    __builtin_memcpy(out->data() + start, bytes.data(), bytes.size());
  return Status::Ok();
}

Status AppendChar(char c, Bytes* out) { return AppendBytes(Slice(&c, 1), out); }

void TruncateBytes(size_t size, Bytes* out) { (void)out->Resize(size); }

Status AppendDecimalU64(uint64_t value, Bytes* out) {
  char digits[kMaxDecimalU64Chars];
  const size_t n = FormatDecimalU64(value, digits);
  return AppendBytes(Slice(digits, n), out);
}

Status AppendLowerHex(const uint8_t* data, size_t size, Bytes* out) {
  const size_t start = out->size();
  Status s = out->Resize(start + 2 * size);
  if (!s.ok()) return s;
  for (size_t i = 0; i < size; ++i) {
    (*out)[start + 2 * i] = static_cast<uint8_t>(kHexDigits[data[i] >> 4]);
    (*out)[start + 2 * i + 1] = static_cast<uint8_t>(kHexDigits[data[i] & 15]);
  }
  return Status::Ok();
}

Status ParseLowerHex(Slice text, uint8_t* out, size_t size) {
  if (text.size() != 2 * size) {
    return Status(StatusCode::kInvalidArgument,
                  "hex digits have the wrong length");
  }
  for (size_t i = 0; i < 2 * size; ++i) {
    const int v = HexValue(text[i]);
    if (v == -2) {
      return Status(StatusCode::kInvalidArgument,
                    "hex digits contain an uppercase letter");
    }
    if (v < 0) {
      return Status(StatusCode::kInvalidArgument,
                    "hex digits contain a non-hex character");
    }
  }
  for (size_t i = 0; i < size; ++i) {
    out[i] = static_cast<uint8_t>((HexValue(text[2 * i]) << 4) |
                                  HexValue(text[2 * i + 1]));
  }
  return Status::Ok();
}

bool SplitAt(Slice text, uint8_t separator, Slice* head, Slice* tail) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == separator) {
      *head = text.SubSlice(0, i);
      *tail = text.RemovePrefix(i + 1);
      return true;
    }
  }
  return false;
}

void TextWriter::Char(char c) {
  if (size_ + 1 >= capacity_) {
    truncated_ = true;
    return;
  }
  buffer_[size_++] = c;
  buffer_[size_] = '\0';
}

void TextWriter::CString(const char* text) {
  for (; *text != '\0'; ++text) Char(*text);
}

void TextWriter::Escaped(Slice bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    const uint8_t c = bytes[i];
    if (c == '\\') {
      CString("\\\\");
    } else if (c >= 0x20 && c < 0x7f) {
      Char(static_cast<char>(c));
    } else {
      Char('\\');
      Char('x');
      Char(kHexDigits[c >> 4]);
      Char(kHexDigits[c & 15]);
    }
  }
}

void TextWriter::Decimal(uint64_t value) {
  char digits[kMaxDecimalU64Chars];
  const size_t n = FormatDecimalU64(value, digits);
  for (size_t i = 0; i < n; ++i) Char(digits[i]);
}

}  // namespace tree
}  // namespace mars
