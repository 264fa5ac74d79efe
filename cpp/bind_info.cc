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
#include <unistd.h>

#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bind_util.h"
#include "core/thread_pool.h"
#include "estimators/entropy.h"
#include "estimators/fidelity_choice.h"
#include "estimators/mutual_information.h"

namespace py = pybind11;
using mfhrl::ThreadPool;
using mfhrl::info::EntropyEstimator;
using mfhrl::info::EtaRule;

namespace {

using F64 = py::array_t<double, py::array::c_style | py::array::forcecast>;
using I32 = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;
using I64 = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

constexpr int kMaxThreads = 1024;

// ---------------------------------------------------------------------------
// Thread pools. One pool per thread count, created on first use and kept for
// the life of the process (never destroyed, so no worker is joined during
// interpreter shutdown). A pool serves one call at a time: a call that finds
// it busy (another Python thread in a GIL-free section) runs on its own thread
// instead, which gives the same results by design. A pool inherited through
// fork() has no workers in the child, so a child process makes its own.
struct PoolSlot {
  std::mutex busy;
  std::unique_ptr<ThreadPool> pool;
  pid_t owner = 0;
};

class PoolLease {
 public:
  explicit PoolLease(int num_threads) {
    if (num_threads <= 1) return;
    static std::mutex registry_mutex;
    static auto* registry = new std::map<int, std::unique_ptr<PoolSlot>>();
    PoolSlot* slot = nullptr;
    {
      std::unique_lock<std::mutex> guard(registry_mutex, std::try_to_lock);
      if (!guard.owns_lock()) return;
      std::unique_ptr<PoolSlot>& s = (*registry)[num_threads];
      if (!s) s = std::make_unique<PoolSlot>();
      slot = s.get();
    }
    lock_ = std::unique_lock<std::mutex>(slot->busy, std::try_to_lock);
    if (!lock_.owns_lock()) return;
    const pid_t pid = getpid();
    if (slot->pool && slot->owner != pid) {
      (void)slot->pool.release();  // the parent's pool: its threads do not exist here
    }
    if (!slot->pool) {
      slot->pool = std::make_unique<ThreadPool>(num_threads);
      slot->owner = pid;
    }
    pool_ = slot->pool.get();
  }
  ThreadPool* get() const { return pool_; }

 private:
  std::unique_lock<std::mutex> lock_;
  ThreadPool* pool_ = nullptr;
};

std::string TypeName(const py::handle& v) {
  return py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>();
}

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

// ---------------------------------------------------------------------------
// Conversions and checks.
std::string DtypeName(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

std::string ShapeString(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    s += (i ? ", " : "") + std::to_string(a.shape(i));
  }
  return s + (a.ndim() == 1 ? ",)" : ")");
}

py::array AsArray(const py::handle& obj, const std::string& name) {
  py::array a = py::array::ensure(obj);
  if (!a) throw py::type_error(name + " must be array-like");
  return a;
}

bool IsRealKind(char kind) { return kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b'; }
bool IsIntegerKind(char kind) { return kind == 'i' || kind == 'u' || kind == 'b'; }

// A C-contiguous float64 array: the input itself when it already is one.
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

double LogBase(const py::object& base) {
  if (base.is_none()) return 1.0;
  const double b = RealScalar(base, "base");
  if (!(std::isfinite(b) && b > 0.0 && b != 1.0)) {
    throw py::value_error("base must be None (nats) or a finite number > 0 and != 1, got " +
                          py::repr(base).cast<std::string>());
  }
  return std::log(b);
}

EntropyEstimator ParseEstimator(const std::string& name) {
  if (name == "plugin") return EntropyEstimator::kPlugin;
  if (name == "miller_madow") return EntropyEstimator::kMillerMadow;
  throw py::value_error("estimator must be 'plugin' or 'miller_madow', got '" + name + "'");
}

double FiniteScalar(const py::object& v, const std::string& name) {
  const double x = RealScalar(v, name);
  if (!std::isfinite(x)) throw py::value_error(name + " must be finite, got " + std::to_string(x));
  return x;
}

// Raises if any entry of the contiguous float64 array is NaN or infinite.
void CheckAllFinite(const F64& a, const std::string& name) {
  const double* x = a.data();
  for (py::ssize_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(x[i])) {
      throw py::value_error(name + " must be finite; entry " + std::to_string(i) + " is " +
                            std::to_string(x[i]));
    }
  }
}

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
    r = mfhrl::info::FindNaN(out.data(), out.size(), pool);
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
    mfhrl::info::EntropyRows(p.data(), rows, m, log_base, dst, lease.get());
  }
  CheckRows(out, p.data(), m, "p", "finite, non-negative probabilities", lease.get());
  return out;
}

template <typename T>
using CArray = mfhrl::bind::CArray<T>;

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
    mfhrl::info::EntropyCountRows(c.data(), rows, m, est, log_base, dst, lease.get());
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

mfhrl::info::LabelRange ScanLabels(const Labels& l, ThreadPool* pool) {
  return l.is32 ? mfhrl::info::ScanLabels(l.i32.data(), l.i32.size(), pool)
                : mfhrl::info::ScanLabels(l.i64.data(), l.i64.size(), pool);
}

// False when a label is negative (checked by the core's single pass).
bool RunMutualInformation(const Labels& x, const Labels& y, ThreadPool* pool,
                          mfhrl::info::MutualInformationResult* r) {
  const int64_t n = x.size();
  using mfhrl::info::MutualInformation;
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
  mfhrl::info::MutualInformationResult r;
  mfhrl::info::LabelRange rx, ry;
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

// ---------------------------------------------------------------------------
// SPEC.md 3.2-3.3.
EtaRule ParseEta(const py::object& eta, const py::object& eta0) {
  EtaRule rule;
  rule.eta0 = FiniteScalar(eta0, "eta0");
  if (!(rule.eta0 > 0.0)) {
    throw py::value_error("eta0 must be > 0, got " + std::to_string(rule.eta0));
  }
  if (py::isinstance<py::str>(eta)) {
    const std::string s = eta.cast<std::string>();
    if (s != "auto") throw py::value_error("eta must be a number >= 0 or 'auto', got '" + s + "'");
    rule.automatic = true;
    return rule;
  }
  rule.eta = FiniteScalar(eta, "eta");
  if (rule.eta < 0.0) throw py::value_error("eta must be >= 0, got " + std::to_string(rule.eta));
  return rule;
}

F64 AsLogPosterior(const py::object& obj) {
  F64 lp = AsFloat64(obj, "log_p");
  CheckNdim(lp, "log_p", 1, "1-D (L,)");
  CheckNotEmpty(lp, "log_p");
  bool any_finite = false;
  for (py::ssize_t l = 0; l < lp.size(); ++l) {
    const double v = lp.data()[l];
    if (std::isnan(v) || v == std::numeric_limits<double>::infinity()) {
      throw py::value_error("log_p must hold finite values or -inf; entry " + std::to_string(l) +
                            " is " + std::to_string(v));
    }
    any_finite = any_finite || std::isfinite(v);
  }
  if (!any_finite) {
    throw py::value_error("log_p is -inf everywhere: no member has positive probability");
  }
  return lp;
}

py::tuple PosteriorUpdate(const py::object& log_p_obj, const py::object& losses_obj,
                          const py::object& eta, const py::object& eta0) {
  const F64 lp = AsLogPosterior(log_p_obj);
  const F64 losses = AsFloat64(losses_obj, "losses");
  const int64_t num_members = lp.size();
  mfhrl::bind::CheckShape<double>(losses, "losses", {num_members});
  CheckAllFinite(losses, "losses");
  const EtaRule rule = ParseEta(eta, eta0);
  py::array_t<double> out(num_members);
  const double used =
      mfhrl::info::PosteriorUpdate(lp.data(), losses.data(), num_members, rule, out.mutable_data());
  return py::make_tuple(out, used);
}

py::array_t<double> InformationGain(const py::object& log_p_obj, const py::sequence& histories,
                                    const py::object& eta, const py::object& eta0) {
  const F64 lp = AsLogPosterior(log_p_obj);
  const int64_t num_members = lp.size();
  const EtaRule rule = ParseEta(eta, eta0);
  const int64_t k = static_cast<int64_t>(py::len(histories));
  if (k == 0) throw py::value_error("histories is empty: give one (M_k, L) array per fidelity");
  std::vector<F64> keep;
  std::vector<mfhrl::info::LossHistory> hist(k);
  keep.reserve(k);
  for (int64_t i = 0; i < k; ++i) {
    const std::string name = "histories[" + std::to_string(i) + "]";
    keep.push_back(AsFloat64(histories[i], name));
    const F64& h = keep.back();
    if (h.ndim() == 1 && h.size() == 0) continue;  // [] : no batch yet
    if (h.ndim() != 2 || h.shape(1) != num_members) {
      throw py::value_error(name + " must have shape (M, L) with L = " +
                            std::to_string(num_members) + " (one loss per member), got " +
                            ShapeString(h));
    }
    CheckAllFinite(h, name);
    hist[i] = {h.data(), h.shape(0)};
  }
  py::array_t<double> ig(k);
  mfhrl::info::InformationGain(lp.data(), num_members, hist.data(), k, rule, ig.mutable_data());
  return ig;
}

int ChooseFidelity(const py::object& ig_obj, const py::object& costs_obj,
                   const py::object& remaining_budget, const py::object& c_obj) {
  const F64 ig = AsFloat64(ig_obj, "ig");
  CheckNdim(ig, "ig", 1, "1-D (K,)");
  CheckNotEmpty(ig, "ig");
  const F64 costs = AsFloat64(costs_obj, "costs");
  mfhrl::bind::CheckShape<double>(costs, "costs", {ig.size()});
  CheckAllFinite(ig, "ig");
  CheckAllFinite(costs, "costs");
  for (py::ssize_t k = 0; k < costs.size(); ++k) {
    if (!(costs.data()[k] > 0.0)) {
      throw py::value_error("costs must be > 0; costs[" + std::to_string(k) + "] is " +
                            std::to_string(costs.data()[k]));
    }
  }
  const double remaining = FiniteScalar(remaining_budget, "remaining_budget");
  const double c = FiniteScalar(c_obj, "c");
  if (c < 0.0) throw py::value_error("c must be >= 0, got " + std::to_string(c));
  return mfhrl::info::ChooseFidelity(ig.data(), costs.data(), ig.size(), remaining, c);
}

}  // namespace

namespace mfhrl {

void BindInfo(py::module_& m) {
  py::module_ info = m.def_submodule(
      "info",
      "Information module (SPEC.md sections 3.2-3.3 and 4): entropies, mutual information, "
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
  info.def("mutual_information", &MutualInformationPy, py::arg("x"), py::arg("y"), py::kw_only(),
           py::arg("estimator") = "plugin", py::arg("base") = py::none(),
           py::arg("num_threads") = py::none(),
           "Mutual information of paired non-negative integer labels (1-D int arrays).");
  info.def("posterior_update", &PosteriorUpdate, py::arg("log_p"), py::arg("losses"),
           py::kw_only(), py::arg("eta") = 1.0, py::arg("eta0") = 1.0,
           "SPEC.md 3.2 eq. 7. Returns (normalised log posterior, eta used).");
  info.def("information_gain", &InformationGain, py::arg("log_p"), py::arg("histories"),
           py::kw_only(), py::arg("eta") = 1.0, py::arg("eta0") = 1.0,
           "SPEC.md 3.3: IG_k for each fidelity from its (M_k, L) loss history.");
  info.def("choose_fidelity", &ChooseFidelity, py::arg("ig"), py::arg("costs"),
           py::arg("remaining_budget"), py::kw_only(), py::arg("c") = 1.0,
           "SPEC.md 3.3 eqs. 8-9: the fidelity index to use, or -1 if none is affordable.");
}

}  // namespace mfhrl
