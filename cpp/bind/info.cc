// Bindings of the information module: the submodule mfhrl_fast._core.info.
//
// Validation is done here: dtypes -> TypeError; shapes, empty inputs, NaN/inf,
// negative probabilities, counts or labels, zero-sum rows, bad options ->
// ValueError. (Two checks come from the core's own single pass over the data
// instead of a separate one: entropy kernels mark invalid rows with NaN, and
// MutualInformation reports negative labels; this layer turns both into
// ValueErrors naming the offending entry.) Arrays whose
// dtype already matches (float64; int32/int64 counts and labels) and that are
// C-contiguous are read in place; other real dtypes are converted. The GIL is
// released around every loop over the data.
//
// This file: entropy and mutual information, and the submodule itself. The
// argument checks are in checks.h / checks.cc, the eq. 7-9 functions in
// info_igm.cc; the shared thread pools come from core/thread_pool_registry.h.
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "bind/checks.h"
#include "bind/module.h"
#include "core/thread_pool.h"
#include "core/thread_pool_registry.h"
#include "estimators/entropy.h"
#include "estimators/mutual_information.h"

namespace mfhrl {
namespace bind {
namespace {

using info::EntropyEstimator;

using I32 = CArray<int32_t>;
using I64 = CArray<int64_t>;

std::string RowCol(int64_t flat, int64_t m) {
  return "[" + std::to_string(flat / m) + ", " + std::to_string(flat % m) + "]";
}

std::string Repr(const py::handle& v) { return py::repr(v).cast<std::string>(); }

// The kernels mark invalid rows with NaN; explain the first one, if any.
template <typename T>
void CheckRows(const py::array_t<double>& out, const T* data, int64_t m, const std::string& name,
               const char* requirement, ThreadPool* pool) {
  int64_t r;
  {
    py::gil_scoped_release release;
    r = info::FindNaN(out.data(), out.size(), pool);
  }
  if (r < 0) return;
  const T* row = data + r * m;
  for (int64_t j = 0; j < m; ++j) {
    const double v = static_cast<double>(row[j]);
    if (!(v >= 0.0 && std::isfinite(v))) {
      throw py::value_error(name + " must hold " + requirement + "; " + name +
                            RowCol(r * m + j, m) + " is " + Repr(py::cast(row[j])));
    }
  }
  double s = 0.0;
  for (int64_t j = 0; j < m; ++j) s += static_cast<double>(row[j]);
  throw py::value_error(name + " row " + std::to_string(r) +
                        (s == 0.0 ? " sums to 0: its distribution is undefined"
                                  : " sums to infinity (overflow)"));
}

// ---------------------------------------------------------------------------
// Entropy.
py::array_t<double> Entropy(const py::object& p_obj, const py::object& base,
                            const py::object& num_threads) {
  const F64 p = AsFloat64(p_obj, "p");
  CheckNdim(p, "p", 2, "2-D (rows, m)");
  CheckNotEmpty(p, "p");
  const double log_base = LogBase(base);
  const int threads = ResolveThreads(num_threads);
  const int64_t rows = p.shape(0), m = p.shape(1);
  py::array_t<double> out(rows);
  double* dst = out.mutable_data();
  PoolLease lease(threads);
  {
    py::gil_scoped_release release;
    info::EntropyRows(p.data(), rows, m, log_base, dst, lease.get());
  }
  CheckRows(out, p.data(), m, "p", "finite, non-negative probabilities", lease.get());
  return out;
}

template <typename T>
py::array_t<double> EntropyCountsTyped(const CArray<T>& c, EntropyEstimator est, double log_base,
                                       int threads) {
  CheckNdim(c, "counts", 2, "2-D (rows, m)");
  CheckNotEmpty(c, "counts");
  const int64_t rows = c.shape(0), m = c.shape(1);
  py::array_t<double> out(rows);
  double* dst = out.mutable_data();
  PoolLease lease(threads);
  {
    py::gil_scoped_release release;
    info::EntropyCountRows(c.data(), rows, m, est, log_base, dst, lease.get());
  }
  CheckRows(out, c.data(), m, "counts", "finite, non-negative counts", lease.get());
  return out;
}

py::array_t<double> EntropyCounts(const py::object& c_obj, const std::string& estimator,
                                  const py::object& base, const py::object& num_threads) {
  const py::array a = AsArray(c_obj, "counts");
  const EntropyEstimator est = ParseEstimator(estimator);
  const double log_base = LogBase(base);
  const int threads = ResolveThreads(num_threads);
  const char kind = a.dtype().kind();
  if (kind == 'f') return EntropyCountsTyped<double>(F64::ensure(a), est, log_base, threads);
  if (!IsIntegerKind(kind)) {
    throw py::type_error("counts must hold integers or floats, got dtype " + DtypeName(a));
  }
  if (a.dtype().equal(py::dtype::of<int32_t>())) {
    return EntropyCountsTyped<int32_t>(I32::ensure(a), est, log_base, threads);
  }
  return EntropyCountsTyped<int64_t>(I64::ensure(a), est, log_base, threads);
}

// ---------------------------------------------------------------------------
// Mutual information.
struct Labels {
  I32 i32;
  I64 i64;
  bool is32 = false;
  int64_t size() const { return is32 ? i32.size() : i64.size(); }
};

Labels AsLabels(const py::object& obj, const std::string& name) {
  const py::array a = AsArray(obj, name);
  if (!IsIntegerKind(a.dtype().kind())) {
    throw py::type_error(name + " must hold integer labels, got dtype " + DtypeName(a));
  }
  CheckNdim(a, name, 1, "1-D");
  CheckNotEmpty(a, name);
  Labels l;
  l.is32 = a.dtype().equal(py::dtype::of<int32_t>());
  if (l.is32) {
    l.i32 = I32::ensure(a);
  } else {
    l.i64 = I64::ensure(a);  // int64 in place; other integer dtypes converted
  }
  return l;
}

info::LabelRange ScanLabels(const Labels& l, ThreadPool* pool) {
  return l.is32 ? info::ScanLabels(l.i32.data(), l.i32.size(), pool)
                : info::ScanLabels(l.i64.data(), l.i64.size(), pool);
}

// False when a label is negative (checked by the core's single pass).
bool RunMutualInformation(const Labels& x, const Labels& y, ThreadPool* pool,
                          info::MutualInformationResult* r) {
  const int64_t n = x.size();
  using info::MutualInformation;
  if (x.is32 && y.is32) return MutualInformation(x.i32.data(), y.i32.data(), n, r, pool);
  if (x.is32) return MutualInformation(x.i32.data(), y.i64.data(), n, r, pool);
  if (y.is32) return MutualInformation(x.i64.data(), y.i32.data(), n, r, pool);
  return MutualInformation(x.i64.data(), y.i64.data(), n, r, pool);
}

double MutualInformationPy(const py::object& x_obj, const py::object& y_obj,
                           const std::string& estimator, const py::object& base,
                           const py::object& num_threads) {
  const Labels x = AsLabels(x_obj, "x");
  const Labels y = AsLabels(y_obj, "y");
  if (x.size() != y.size()) {
    throw py::value_error("x and y must have the same length, got " + std::to_string(x.size()) +
                          " and " + std::to_string(y.size()));
  }
  const EntropyEstimator est = ParseEstimator(estimator);
  const double log_base = LogBase(base);
  const int threads = ResolveThreads(num_threads);
  info::MutualInformationResult r;
  info::LabelRange rx, ry;
  bool ok;
  {
    PoolLease lease(threads);
    py::gil_scoped_release release;
    ok = RunMutualInformation(x, y, lease.get(), &r);
    if (!ok) {  // error path: find the offending values for the message
      rx = ScanLabels(x, lease.get());
      ry = ScanLabels(y, lease.get());
    }
  }
  if (!ok) {
    const bool bad_x = rx.min < 0;
    throw py::value_error(std::string(bad_x ? "x" : "y") +
                          " must hold non-negative integer labels; its minimum is " +
                          std::to_string(bad_x ? rx.min : ry.min));
  }
  const double mi = est == EntropyEstimator::kPlugin ? r.plugin : r.miller_madow;
  return mi / log_base;
}

}  // namespace

void BindInfo(py::module_& m) {
  py::module_ info = m.def_submodule(
      "info",
      "Information module: entropies, mutual information, "
      "the Gibbs posterior update (eq. 7), information gain and the fidelity choice (eqs. 8-9).");
  info.def("entropy", &Entropy, py::arg("p"), py::kw_only(), py::arg("base") = py::none(),
           py::arg("num_threads") = py::none(),
           "Entropy of each row of a 2-D (rows, m) array of non-negative weights, normalised "
           "by the row sum (as scipy.stats.entropy). Returns (rows,) float64, nats unless base.");
  info.def("entropy_counts", &EntropyCounts, py::arg("counts"), py::kw_only(),
           py::arg("estimator") = "plugin", py::arg("base") = py::none(),
           py::arg("num_threads") = py::none(),
           "Entropy of each row of a 2-D (rows, m) count array; estimator 'plugin' or "
           "'miller_madow' (plug-in + (m_nonzero - 1) / (2 N)).");
  info.def("mutual_information", &MutualInformationPy, py::arg("x"), py::arg("y"),
           py::kw_only(), py::arg("estimator") = "plugin", py::arg("base") = py::none(),
           py::arg("num_threads") = py::none(),
           "Mutual information of paired non-negative integer labels (1-D int arrays).");
  BindInfoIgm(info);
}

}  // namespace bind
}  // namespace mfhrl
