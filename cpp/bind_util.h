// Shared helpers of the binding layer: array types and input validation.
// Validation lives in the bindings; the core's hot loops trust their inputs.
#ifndef MFHRL_BIND_UTIL_H_
#define MFHRL_BIND_UTIL_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
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

inline void CheckFinite(const CArray<double>& a, const char* name, int row_size) {
  const double* x = a.data();
  for (py::ssize_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(x[i])) {
      throw py::value_error(std::string(name) + " must be finite; row " +
                            std::to_string(i / row_size) + " holds " + std::to_string(x[i]));
    }
  }
}

}  // namespace bind

void BindFidelitySpec(pybind11::module_& m);
void BindSimPool(pybind11::module_& m);
void BindInfo(pybind11::module_& m);  // submodule _core.info

}  // namespace mfhrl

#endif  // MFHRL_BIND_UTIL_H_
