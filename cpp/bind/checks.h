// Argument conversions and checks of the binding layer (mfhrl_fast._core), shared
// by every binding file; the non-template ones are defined in checks.cc.
// Validation lives in the bindings; the core's hot loops trust their inputs.
// Each raises TypeError (wrong type or dtype) or ValueError (wrong value),
// naming the argument.
#ifndef MFHRL_BIND_CHECKS_H_
#define MFHRL_BIND_CHECKS_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "estimators/entropy.h"

namespace mfhrl {
namespace bind {

namespace py = pybind11;

template <typename T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;
using F64 = CArray<double>;

// ---------------------------------------------------------------------------
// Dtypes and shapes.

// NumPy dtype kinds of real numbers ('b'ool, 'i'nt, 'u'int, 'f'loat) and of
// integers.
inline bool IsRealKind(char kind) {
  return kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b';
}
inline bool IsIntegerKind(char kind) { return kind == 'i' || kind == 'u' || kind == 'b'; }

std::string DtypeName(const py::array& a);
// "(2, 3)"; a 1-D shape as "(4,)" with tuple_comma, else "(4)".
std::string ShapeString(const py::ssize_t* dims, py::ssize_t ndim, bool tuple_comma);
// a's shape: "(2, 3)", "(4,)".
inline std::string ShapeString(const py::array& a) {
  return ShapeString(a.shape(), a.ndim(), true);
}

// Raises ValueError unless a has exactly the given shape.
template <typename T>
inline void CheckShape(const CArray<T>& a, const char* name, std::vector<py::ssize_t> shape) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = a.shape(i) == shape[i];
  if (ok) return;
  throw py::value_error(std::string(name) + " must have shape " +
                        ShapeString(shape.data(), static_cast<py::ssize_t>(shape.size()), false) +
                        ", got " + ShapeString(a.shape(), a.ndim(), false));
}

// `what` describes the expected shape, e.g. "2-D (rows, m)".
void CheckNdim(const py::array& a, const std::string& name, py::ssize_t ndim, const char* what);
void CheckNotEmpty(const py::array& a, const std::string& name);

// ---------------------------------------------------------------------------
// Conversions.

// obj as an array (TypeError unless array-like).
py::array AsArray(const py::handle& obj, const std::string& name);
// A C-contiguous float64 array: the input itself when it already is one.
F64 AsFloat64(const py::handle& obj, const std::string& name);

// value as a C-contiguous T array (converted when needed), after checking
// that its NumPy dtype kind is one of `kinds` ('b'ool, 'i'nt, 'u'int,
// 'f'loat): TypeError for strings, objects or complex numbers.
template <typename T>
inline CArray<T> Numeric(const py::handle& value, const char* name, const char* kinds) {
  const py::array a = AsArray(value, name);
  const char kind = a.dtype().kind();
  if (!std::strchr(kinds, kind)) {
    throw py::type_error(std::string(name) + " has dtype " + DtypeName(a) +
                         "; expected one of the kinds '" + kinds + "' (b=bool, i/u=int, f=float)");
  }
  return CArray<T>::ensure(a);
}

// ---------------------------------------------------------------------------
// Finite values.

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

// The index of the first NaN or +-Inf of x[0..n), or -1.
template <typename T>
inline py::ssize_t FirstNonFinite(const T* x, py::ssize_t n) {
  if (!AnyNonFinite(x, n)) return -1;
  py::ssize_t i = 0;
  while (std::isfinite(x[i])) ++i;
  return i;
}

// Raises ValueError naming the row (of row_size entries) of the first
// non-finite entry, if any.
template <typename T>
inline void CheckFinite(const CArray<T>& a, const char* name, int row_size) {
  const py::ssize_t i = FirstNonFinite(a.data(), a.size());
  if (i < 0) return;
  throw py::value_error(std::string(name) + " must be finite; row " +
                        std::to_string(i / row_size) + " holds " + std::to_string(a.data()[i]));
}

// Raises ValueError naming the first NaN or infinite entry, if any.
void CheckAllFinite(const F64& a, const std::string& name);

// ---------------------------------------------------------------------------
// Scalars and options.

// float(v), finite.
double FiniteScalar(const py::object& v, const std::string& name);
// log(base), 1 for None (nats).
double LogBase(const py::object& base);
// "plugin" or "miller_madow".
info::EntropyEstimator ParseEstimator(const std::string& name);
// The thread count: None -> all cores, else an int in [1, 1024].
int ResolveThreads(const py::object& num_threads);

}  // namespace bind
}  // namespace mfhrl

#endif  // MFHRL_BIND_CHECKS_H_
