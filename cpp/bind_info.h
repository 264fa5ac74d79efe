// Internal to the bindings of the information module (bind_info.cc: entropy
// and mutual information, bind_info_igm.cc: eqs. 7-9): the
// argument conversions and checks they share, defined in bind_info_checks.cc.
// Each raises TypeError (wrong type or dtype) or ValueError (wrong value),
// naming the argument.
#ifndef MFHRL_BIND_INFO_H_
#define MFHRL_BIND_INFO_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "bind_util.h"
#include "estimators/entropy.h"

namespace mfhrl {
namespace bind {

using F64 = CArray<double>;

// NumPy dtype kinds of real numbers ('b'ool, 'i'nt, 'u'int, 'f'loat) and of
// integers.
inline bool IsRealKind(char kind) {
  return kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b';
}
inline bool IsIntegerKind(char kind) { return kind == 'i' || kind == 'u' || kind == 'b'; }

std::string DtypeName(const py::array& a);
// "(2, 3)", "(4,)".
std::string ShapeString(const py::array& a);

// obj as an array (TypeError unless array-like).
py::array AsArray(const py::handle& obj, const std::string& name);
// A C-contiguous float64 array: the input itself when it already is one.
F64 AsFloat64(const py::handle& obj, const std::string& name);
// `what` describes the expected shape, e.g. "2-D (rows, m)".
void CheckNdim(const py::array& a, const std::string& name, py::ssize_t ndim, const char* what);
void CheckNotEmpty(const py::array& a, const std::string& name);
// Raises if any entry of the contiguous float64 array is NaN or infinite.
void CheckAllFinite(const F64& a, const std::string& name);

// float(v), finite.
double FiniteScalar(const py::object& v, const std::string& name);
// log(base), 1 for None (nats).
double LogBase(const py::object& base);
// "plugin" or "miller_madow".
info::EntropyEstimator ParseEstimator(const std::string& name);
// The thread count: None -> all cores, else an int in [1, 1024].
int ResolveThreads(const py::object& num_threads);

// Adds posterior_update, information_gain and choose_fidelity to the
// submodule _core.info (bind_info_igm.cc).
void BindInfoIgm(py::module_& info);

}  // namespace bind
}  // namespace mfhrl

#endif  // MFHRL_BIND_INFO_H_
