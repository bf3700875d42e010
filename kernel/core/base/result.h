// Result<T>: a value or an error Status, for operations that produce something.
#ifndef MARS_CORE_BASE_RESULT_H_
#define MARS_CORE_BASE_RESULT_H_

#include "core/base/memory.h"
#include "core/base/status.h"
#include "core/base/utility.h"

namespace mars {

template <class T>
class [[nodiscard]] Result {
 public:
  // An error. An ok `status` without a value is itself an error (kInternal).
  Result(Status status)  // NOLINT: implicit by design
      : status_(status.ok() ? Status(StatusCode::kInternal,
                                     "result has neither value nor error")
                            : status) {}
  Result(T value) : status_(Status::Ok()), has_value_(true) {  // NOLINT
    new (storage_, PlacementTag{}) T(Move(value));
  }
  Result(Result&& other) : status_(other.status_), has_value_(other.has_value_) {
    if (has_value_) new (storage_, PlacementTag{}) T(Move(*other.Pointer()));
  }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result& operator=(Result&&) = delete;
  ~Result() {
    if (has_value_) Pointer()->~T();
  }

  bool ok() const { return has_value_; }
  Status status() const { return status_; }
  // REQUIRES: ok().
  T& value() { return *Pointer(); }
  const T& value() const { return *Pointer(); }
  T& operator*() { return *Pointer(); }
  T* operator->() { return Pointer(); }

 private:
  T* Pointer() { return reinterpret_cast<T*>(storage_); }
  const T* Pointer() const { return reinterpret_cast<const T*>(storage_); }

  Status status_;
  bool has_value_ = false;
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace mars

#endif  // MARS_CORE_BASE_RESULT_H_
