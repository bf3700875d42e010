// Slice: a non-owning view of bytes (pointer + length). The viewed memory must
// outlive the slice.
#ifndef MARS_CORE_BASE_SLICE_H_
#define MARS_CORE_BASE_SLICE_H_

#include <stddef.h>
#include <stdint.h>

namespace mars {

class Slice {
 public:
  constexpr Slice() : data_(nullptr), size_(0) {}
  constexpr Slice(const void* data, size_t size)
      : data_(static_cast<const uint8_t*>(data)), size_(size) {}
  // A NUL-terminated string, without its terminator.
  static Slice FromCString(const char* text) {
    return Slice(text, __builtin_strlen(text));
  }

  const uint8_t* data() const { return data_; }
  const char* chars() const { return reinterpret_cast<const char*>(data_); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint8_t operator[](size_t i) const { return data_[i]; }

  // REQUIRES: offset <= size(), and offset + length <= size() for SubSlice.
  Slice SubSlice(size_t offset, size_t length) const {
    return Slice(data_ + offset, length);
  }
  Slice RemovePrefix(size_t n) const { return Slice(data_ + n, size_ - n); }

  bool StartsWith(Slice prefix) const {
    return prefix.size_ <= size_ &&
           (prefix.size_ == 0 ||
            __builtin_memcmp(data_, prefix.data_, prefix.size_) == 0);
  }
  // Three-way byte-wise comparison (shorter prefix sorts first).
  int Compare(Slice other) const;
  bool operator==(Slice other) const { return Compare(other) == 0; }
  bool operator!=(Slice other) const { return Compare(other) != 0; }
  bool operator<(Slice other) const { return Compare(other) < 0; }

 private:
  const uint8_t* data_;
  size_t size_;
};

inline int Slice::Compare(Slice other) const {
  const size_t common = size_ < other.size_ ? size_ : other.size_;
  const int r = common == 0 ? 0 : __builtin_memcmp(data_, other.data_, common);
  if (r != 0) return r;
  if (size_ == other.size_) return 0;
  return size_ < other.size_ ? -1 : 1;
}

}  // namespace mars

#endif  // MARS_CORE_BASE_SLICE_H_
