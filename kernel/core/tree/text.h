// Text helpers shared by the /mars tree value grammars (docu/mars-tree.md
// §3.1 "Numbers", §4.1): canonical unsigned decimals, lowercase hex, byte
// buffer appends, and a bounded character writer for error descriptions.
// Sans-I/O; only the Append* functions allocate (through the Bytes).
#ifndef MARS_CORE_TREE_TEXT_H_
#define MARS_CORE_TREE_TEXT_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"

namespace mars {
namespace tree {

// Longest canonical decimal of a u64 ("18446744073709551615").
constexpr size_t kMaxDecimalU64Chars = 20;

inline bool IsAsciiDigit(uint8_t c) { return c >= '0' && c <= '9'; }

// Parses a canonical unsigned decimal: one or more digits, no sign, no
// spaces, no leading zero unless the number is exactly "0". Errors:
// kInvalidArgument (empty, sign, non-digit, leading zero), kOutOfRange
// (above 2^64-1). Context: any.
Status ParseDecimalU64(Slice text, uint64_t* value);

// Writes the canonical decimal of `value` into `out` (no terminator) and
// returns its length (1..20). REQUIRES: out has kMaxDecimalU64Chars bytes.
size_t FormatDecimalU64(uint64_t value, char* out);

// Byte-buffer edits shared by the formatters (kNoMemory on failure).
Status AppendBytes(Slice bytes, Bytes* out);
Status AppendChar(char c, Bytes* out);
// Shrinks `out` to `size` bytes. REQUIRES: size <= out->size().
void TruncateBytes(size_t size, Bytes* out);

// Appends the canonical decimal of `value` to `out` (kNoMemory on failure).
Status AppendDecimalU64(uint64_t value, Bytes* out);

// Appends 2*size lowercase hex digits of `data` to `out`.
Status AppendLowerHex(const uint8_t* data, size_t size, Bytes* out);

// Decodes exactly 2*size hex digits into `out[0, size)`. Lowercase only:
// errors are kInvalidArgument "hex digits have the wrong length",
// "hex digits contain an uppercase letter", "hex digits contain a non-hex
// character". Context: any.
Status ParseLowerHex(Slice text, uint8_t* out, size_t size);

// Splits `text` at its first `separator`: *head is the part before it,
// *tail the part after. Returns false (outputs untouched) if there is none.
bool SplitAt(Slice text, uint8_t separator, Slice* head, Slice* tail);

// A bounded, always NUL-terminated character writer. Output beyond the
// capacity is dropped and remembered (truncated()). REQUIRES: capacity >= 1.
class TextWriter {
 public:
  TextWriter(char* buffer, size_t capacity)
      : buffer_(buffer), capacity_(capacity) {
    buffer_[0] = '\0';
  }
  TextWriter(const TextWriter&) = delete;
  TextWriter& operator=(const TextWriter&) = delete;

  void Char(char c);
  void CString(const char* text);
  // Printable ASCII as is; every other byte as \xNN; a backslash as "\\".
  void Escaped(Slice bytes);
  void Decimal(uint64_t value);

  size_t size() const { return size_; }
  bool truncated() const { return truncated_; }

 private:
  char* buffer_;
  size_t capacity_;
  size_t size_ = 0;
  bool truncated_ = false;
};

}  // namespace tree
}  // namespace mars

#endif  // MARS_CORE_TREE_TEXT_H_
