// Argument conversions and checks of the binding layer, declared in checks.h.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>

#include "bind/checks.h"
#include "estimators/entropy.h"

namespace mfhrl {
namespace bind {
namespace {

constexpr int kMaxThreads = 1024;

std::string TypeName(const py::handle& v) {
  return py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>();
}

// float(v), with a TypeError naming the argument.
double RealScalar(const py::handle& v, const std::string& name) {
  // Numbers only: float() would also parse strings.
  const bool text = PyUnicode_Check(v.ptr()) || PyBytes_Check(v.ptr());
  PyObject* f = text ? nullptr : PyNumber_Float(v.ptr());
  if (f == nullptr) {
    PyErr_Clear();
    throw py::type_error(name + " must be a real number, got " + TypeName(v));
  }
  const double x = PyFloat_AS_DOUBLE(f);
  Py_DECREF(f);
  return x;
}

}  // namespace

int ResolveThreads(const py::object& num_threads) {
  if (num_threads.is_none()) {
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  // operator.index semantics: ints and NumPy ints, not floats.
  const py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(num_threads.ptr()));
  if (!index) {
    PyErr_Clear();
    throw py::type_error("num_threads must be None or an int, got " + TypeName(num_threads));
  }
  const long long n = index.cast<long long>();  // NOLINT(runtime/int)
  if (n < 1 || n > kMaxThreads) {
    throw py::value_error("num_threads must be None (all cores) or an int in [1, " +
                          std::to_string(kMaxThreads) + "], got " + std::to_string(n));
  }
  return static_cast<int>(n);
}

std::string DtypeName(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

std::string ShapeString(const py::ssize_t* dims, py::ssize_t ndim, bool tuple_comma) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < ndim; ++i) {
    s += (i ? ", " : "") + std::to_string(dims[i]);
  }
  return s + (tuple_comma && ndim == 1 ? ",)" : ")");
}

py::array AsArray(const py::handle& obj, const std::string& name) {
  py::array a = py::array::ensure(obj);
  if (!a) throw py::type_error(name + " must be array-like");
  return a;
}

F64 AsFloat64(const py::handle& obj, const std::string& name) {
  py::array a = AsArray(obj, name);
  if (!IsRealKind(a.dtype().kind())) {
    throw py::type_error(name + " must hold real numbers, got dtype " + DtypeName(a));
  }
  return F64::ensure(a);
}

void CheckNdim(const py::array& a, const std::string& name, py::ssize_t ndim, const char* what) {
  if (a.ndim() != ndim) {
    throw py::value_error(name + " must be " + what + ", got shape " + ShapeString(a));
  }
}

void CheckNotEmpty(const py::array& a, const std::string& name) {
  if (a.size() == 0) throw py::value_error(name + " is empty (shape " + ShapeString(a) + ")");
}

double LogBase(const py::object& base) {
  if (base.is_none()) return 1.0;
  const double b = RealScalar(base, "base");
  if (!(std::isfinite(b) && b > 0.0 && b != 1.0)) {
    throw py::value_error("base must be None (nats) or a finite number > 0 and != 1, got " +
                          py::repr(base).cast<std::string>());
  }
  return std::log(b);
}

info::EntropyEstimator ParseEstimator(const std::string& name) {
  if (name == "plugin") return info::EntropyEstimator::kPlugin;
  if (name == "miller_madow") return info::EntropyEstimator::kMillerMadow;
  throw py::value_error("estimator must be 'plugin' or 'miller_madow', got '" + name + "'");
}

double FiniteScalar(const py::object& v, const std::string& name) {
  const double x = RealScalar(v, name);
  if (!std::isfinite(x)) throw py::value_error(name + " must be finite, got " + std::to_string(x));
  return x;
}

void CheckAllFinite(const F64& a, const std::string& name) {
  const py::ssize_t i = FirstNonFinite(a.data(), a.size());
  if (i < 0) return;
  throw py::value_error(name + " must be finite; entry " + std::to_string(i) + " is " +
                        std::to_string(a.data()[i]));
}

}  // namespace bind
}  // namespace mfhrl
