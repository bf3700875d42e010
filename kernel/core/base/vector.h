// Vector<T>: a growable array whose growth can fail instead of throwing.
//
// Every growing operation returns a Status (kNoMemory on failure, the vector
// unchanged). The allocation context is fixed at construction. Elements are
// moved on growth, so T needs a move constructor. Not thread-safe.
#ifndef MARS_CORE_BASE_VECTOR_H_
#define MARS_CORE_BASE_VECTOR_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/memory.h"
#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/utility.h"
#include "core/platform.h"

namespace mars {

template <class T>
class Vector {
 public:
  explicit Vector(platform::Gfp gfp = platform::Gfp::kKernel) : gfp_(gfp) {}
  Vector(Vector&& other)
      : gfp_(other.gfp_),
        data_(other.data_),
        size_(other.size_),
        capacity_(other.capacity_) {
    other.data_ = nullptr;
    other.size_ = other.capacity_ = 0;
  }
  Vector& operator=(Vector&& other) {
    if (this != &other) {
      Clear();
      platform::Free(data_);
      gfp_ = other.gfp_;
      data_ = other.data_;
      size_ = other.size_;
      capacity_ = other.capacity_;
      other.data_ = nullptr;
      other.size_ = other.capacity_ = 0;
    }
    return *this;
  }
  Vector(const Vector&) = delete;
  Vector& operator=(const Vector&) = delete;
  ~Vector() {
    Clear();
    platform::Free(data_);
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

  // Ensures room for `capacity` elements without further allocation.
  Status Reserve(size_t capacity) {
    if (capacity <= capacity_) return Status::Ok();
    if (capacity > kMaxElements) {
      return Status(StatusCode::kNoMemory, "vector too large");
    }
    T* fresh = static_cast<T*>(platform::Allocate(capacity * sizeof(T), gfp_));
    if (fresh == nullptr) return Status(StatusCode::kNoMemory, "out of memory");
    if constexpr (kTrivial) {
      if (size_ > 0) __builtin_memcpy(fresh, data_, size_ * sizeof(T));
    } else {
      for (size_t i = 0; i < size_; ++i) {
        new (&fresh[i], PlacementTag{}) T(Move(data_[i]));
        data_[i].~T();
      }
    }
    platform::Free(data_);
    data_ = fresh;
    capacity_ = capacity;
    return Status::Ok();
  }

  Status PushBack(T value) {
    Status s = Grow(1);
    if (!s.ok()) return s;
    new (&data_[size_], PlacementTag{}) T(Move(value));
    ++size_;
    return Status::Ok();
  }

  // Appends copies of `values[0, count)`. T must be copy-constructible.
  Status Append(const T* values, size_t count) {
    Status s = Grow(count);
    if (!s.ok()) return s;
    if constexpr (kTrivial) {
      if (count > 0) __builtin_memcpy(data_ + size_, values, count * sizeof(T));
    } else {
      for (size_t i = 0; i < count; ++i) {
        new (&data_[size_ + i], PlacementTag{}) T(values[i]);
      }
    }
    size_ += count;
    return Status::Ok();
  }

  // Grows to `size` elements, value-initialising new ones; or shrinks.
  Status Resize(size_t size) {
    if (size > size_) {
      Status s = Grow(size - size_);
      if (!s.ok()) return s;
      if constexpr (kTrivial) {
        // Value-initialising a trivial type zero-fills it.
        __builtin_memset(data_ + size_, 0, (size - size_) * sizeof(T));
      } else {
        for (size_t i = size_; i < size; ++i) {
          new (&data_[i], PlacementTag{}) T();
        }
      }
    } else if constexpr (!kTrivial) {
      for (size_t i = size; i < size_; ++i) data_[i].~T();
    }
    size_ = size;
    return Status::Ok();
  }

  // Grows to `size` elements whose new bytes are left as they are, for a
  // caller that overwrites them at once (a read into the buffer); or
  // shrinks. Only for trivial T.
  Status ResizeForOverwrite(size_t size) {
    static_assert(kTrivial, "new elements would not be constructed");
    if (size > size_) {
      Status s = Grow(size - size_);
      if (!s.ok()) return s;
    }
    size_ = size;
    return Status::Ok();
  }

  // Removes the element at `index`, shifting later ones down.
  void Erase(size_t index) {
    for (size_t i = index + 1; i < size_; ++i) data_[i - 1] = Move(data_[i]);
    data_[--size_].~T();
  }

  void PopBack() { data_[--size_].~T(); }

  void Clear() {
    for (size_t i = 0; i < size_; ++i) data_[i].~T();
    size_ = 0;
  }

 private:
  static constexpr size_t kMaxElements = (SIZE_MAX / 2) / sizeof(T);
  // Bytes and other trivial elements are copied, moved and zeroed as
  // memory, not one by one.
  static constexpr bool kTrivial = __is_trivial(T);

  Status Grow(size_t extra) {
    if (extra > kMaxElements - size_) {
      return Status(StatusCode::kNoMemory, "vector too large");
    }
    const size_t needed = size_ + extra;
    if (needed <= capacity_) return Status::Ok();
    size_t capacity = capacity_ < 8 ? 8 : capacity_;
    while (capacity < needed) {
      capacity = capacity > kMaxElements / 2 ? kMaxElements : capacity * 2;
    }
    return Reserve(capacity);
  }

  platform::Gfp gfp_;
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Owned bytes.
using Bytes = Vector<uint8_t>;

inline Slice AsSlice(const Bytes& bytes) {
  return Slice(bytes.data(), bytes.size());
}

inline Status AppendSlice(Bytes* bytes, Slice slice) {
  return bytes->Append(slice.data(), slice.size());
}

}  // namespace mars

#endif  // MARS_CORE_BASE_VECTOR_H_
