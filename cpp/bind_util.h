// Shared helpers of the binding layer: array types and input validation.
// Validation lives in the bindings; the core's hot loops trust their inputs.
#ifndef MFHRL_BIND_UTIL_H_
#define MFHRL_BIND_UTIL_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <string>
#include <vector>

namespace mfhrl {
namespace bind {

namespace py = pybind11;

template <typename T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// Raises ValueError unless a has exactly the given shape.
template <typename T>
inline void CheckShape(const CArray<T>& a, const char* name, std::vector<py::ssize_t> shape) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = a.shape(i) == shape[i];
  if (ok) return;
  auto show = [](auto begin, auto end) {
    std::string s = "(";
    for (auto it = begin; it != end; ++it) s += (it == begin ? "" : ", ") + std::to_string(*it);
    return s + ")";
  };
  throw py::value_error(std::string(name) + " must have shape " + show(shape.begin(), shape.end()) +
                        ", got " + show(a.shape(), a.shape() + a.ndim()));
}

// value as a C-contiguous T array (converted when needed), after checking
// that its NumPy dtype kind is one of `kinds` ('b'ool, 'i'nt, 'u'int,
// 'f'loat): TypeError for strings, objects or complex numbers.
template <typename T>
inline CArray<T> Numeric(const py::handle& value, const char* name, const char* kinds) {
  const py::array a = py::array::ensure(value);
  if (!a) throw py::type_error(std::string(name) + " must be array-like");
  const char kind = a.dtype().kind();
  if (!std::strchr(kinds, kind)) {
    throw py::type_error(std::string(name) + " has dtype " + py::str(a.dtype()).cast<std::string>() +
                         "; expected one of the kinds '" + kinds + "' (b=bool, i/u=int, f=float)");
  }
  return CArray<T>::ensure(a);
}

// True when any of x[0..n) is NaN or +-Inf: an all-ones exponent. Integer
// tests, so the compiler vectorises the scan (it cannot reorder float math).
template <typename T>
inline bool AnyNonFinite(const T* x, py::ssize_t n) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "float or double");
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr Bits kExp = static_cast<Bits>(sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);
  Bits bad = 0;
  for (py::ssize_t i = 0; i < n; ++i) {
    Bits b;
    std::memcpy(&b, x + i, sizeof(T));
    bad |= static_cast<Bits>((b & kExp) == kExp);
  }
  return bad != 0;
}

template <typename T>
inline void CheckFinite(const CArray<T>& a, const char* name, int row_size) {
  const T* x = a.data();
  if (!AnyNonFinite(x, a.size())) return;
  for (py::ssize_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(x[i])) {
      throw py::value_error(std::string(name) + " must be finite; row " +
                            std::to_string(i / row_size) + " holds " + std::to_string(x[i]));
    }
  }
}

// Releases the GIL, then takes an object's mutex, so that Python threads
// sharing a pool or a ring run its batched calls one at a time.
class ReleaseAndLock {
 public:
  explicit ReleaseAndLock(std::mutex& mutex) : lock_(mutex) {}

 private:
  py::gil_scoped_release release_;  // declared first: released before locking
  std::lock_guard<std::mutex> lock_;
};

}  // namespace bind

class ReplayRing;
// The C++ ring of a Python _core.ReplayRing and the mutex guarding it;
// TypeError for anything else.
struct RingRef {
  ReplayRing* ring;
  std::mutex* mutex;
};
RingRef AsReplayRing(const pybind11::object& replay);

void BindFidelitySpec(pybind11::module_& m);
void BindReplayRing(pybind11::module_& m);
void BindSimPool(pybind11::module_& m);
void BindInfo(pybind11::module_& m);  // submodule _core.info

}  // namespace mfhrl

#endif  // MFHRL_BIND_UTIL_H_
