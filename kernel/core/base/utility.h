// Freestanding replacements for the few <utility>/<algorithm> pieces the core
// needs (no libstdc++ header is usable in the kernel).
#ifndef MARS_CORE_BASE_UTILITY_H_
#define MARS_CORE_BASE_UTILITY_H_

#include <stddef.h>

namespace mars {

template <class T> struct RemoveReference { using Type = T; };
template <class T> struct RemoveReference<T&> { using Type = T; };
template <class T> struct RemoveReference<T&&> { using Type = T; };

template <class T>
constexpr typename RemoveReference<T>::Type&& Move(T&& value) {
  return static_cast<typename RemoveReference<T>::Type&&>(value);
}

template <class T>
constexpr T&& Forward(typename RemoveReference<T>::Type& value) {
  return static_cast<T&&>(value);
}
template <class T>
constexpr T&& Forward(typename RemoveReference<T>::Type&& value) {
  return static_cast<T&&>(value);
}

template <class T>
constexpr void Swap(T& a, T& b) {
  T tmp = Move(a);
  a = Move(b);
  b = Move(tmp);
}

template <class T>
constexpr const T& Min(const T& a, const T& b) { return b < a ? b : a; }
template <class T>
constexpr const T& Max(const T& a, const T& b) { return a < b ? b : a; }

template <class T, size_t N>
constexpr size_t ArraySize(const T (&)[N]) { return N; }

}  // namespace mars

#endif  // MARS_CORE_BASE_UTILITY_H_
