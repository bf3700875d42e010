// Object allocation for the core with an explicit allocation context.
//
// The core never uses a plain `new`: the throwing operator new does not exist
// in the module (an accidental `new T` fails at modpost). Objects are created
// with New<T>(gfp, args...), which returns nullptr when memory is short, and
// destroyed with Delete(). UniquePtr owns one such object.
#ifndef MARS_CORE_BASE_MEMORY_H_
#define MARS_CORE_BASE_MEMORY_H_

#include <stddef.h>

#include "core/base/utility.h"
#include "core/platform.h"

namespace mars {
struct PlacementTag {};
}  // namespace mars

// Placement new with a project tag, so it never collides with <new>.
inline void* operator new(size_t, void* where, mars::PlacementTag) noexcept {
  return where;
}
inline void operator delete(void*, void*, mars::PlacementTag) noexcept {}

namespace mars {

// Returns a new T constructed from `args`, or nullptr when allocation fails.
// Context: as given by `gfp`.
template <class T, class... Args>
T* New(platform::Gfp gfp, Args&&... args) {
  void* memory = platform::Allocate(sizeof(T), gfp);
  if (memory == nullptr) return nullptr;
  return new (memory, PlacementTag{}) T(Forward<Args>(args)...);
}

// Destroys and frees an object from New(). Accepts nullptr.
template <class T>
void Delete(T* object) {
  if (object == nullptr) return;
  object->~T();
  platform::Free(object);
}

// Sole owner of an object created by New().
template <class T>
class UniquePtr {
 public:
  constexpr UniquePtr() = default;
  explicit UniquePtr(T* object) : object_(object) {}
  UniquePtr(UniquePtr&& other) : object_(other.Release()) {}
  UniquePtr& operator=(UniquePtr&& other) {
    Reset(other.Release());
    return *this;
  }
  UniquePtr(const UniquePtr&) = delete;
  UniquePtr& operator=(const UniquePtr&) = delete;
  ~UniquePtr() { Reset(); }

  T* get() const { return object_; }
  T* operator->() const { return object_; }
  T& operator*() const { return *object_; }
  explicit operator bool() const { return object_ != nullptr; }

  T* Release() {
    T* object = object_;
    object_ = nullptr;
    return object;
  }
  void Reset(T* object = nullptr) {
    T* old = object_;
    object_ = object;
    Delete(old);
  }

 private:
  T* object_ = nullptr;
};

}  // namespace mars

#endif  // MARS_CORE_BASE_MEMORY_H_
