// Bindings of the MF-HRL-IGM fidelity controller (MF-HRL-IGM eqs. 7-9): the
// functions posterior_update, information_gain and choose_fidelity of the
// submodule mfhrl_fast._core.info. Validation as in info.cc. The inputs
// are tiny, so everything runs with the GIL held.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "bind/checks.h"
#include "bind/module.h"
#include "estimators/fidelity_choice.h"

namespace mfhrl {
namespace bind {
namespace {

using info::EtaRule;

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
  CheckShape<double>(losses, "losses", {num_members});
  CheckAllFinite(losses, "losses");
  const EtaRule rule = ParseEta(eta, eta0);
  py::array_t<double> out(num_members);
  const double used =
      info::PosteriorUpdate(lp.data(), losses.data(), num_members, rule, out.mutable_data());
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
  std::vector<info::LossHistory> hist(k);
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
  info::InformationGain(lp.data(), num_members, hist.data(), k, rule, ig.mutable_data());
  return ig;
}

int ChooseFidelity(const py::object& ig_obj, const py::object& costs_obj,
                   const py::object& remaining_budget, const py::object& c_obj) {
  const F64 ig = AsFloat64(ig_obj, "ig");
  CheckNdim(ig, "ig", 1, "1-D (K,)");
  CheckNotEmpty(ig, "ig");
  const F64 costs = AsFloat64(costs_obj, "costs");
  CheckShape<double>(costs, "costs", {ig.size()});
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
  return info::ChooseFidelity(ig.data(), costs.data(), ig.size(), remaining, c);
}

}  // namespace

void BindInfoIgm(py::module_& info) {
  info.def("posterior_update", &PosteriorUpdate, py::arg("log_p"), py::arg("losses"),
           py::kw_only(), py::arg("eta") = 1.0, py::arg("eta0") = 1.0,
           "MF-HRL-IGM eq. 7. Returns (normalised log posterior, eta used).");
  info.def("information_gain", &InformationGain, py::arg("log_p"), py::arg("histories"),
           py::kw_only(), py::arg("eta") = 1.0, py::arg("eta0") = 1.0,
           "MF-HRL-IGM eq. 8's IG_k for each fidelity from its (M_k, L) loss history.");
  info.def("choose_fidelity", &ChooseFidelity, py::arg("ig"), py::arg("costs"),
           py::arg("remaining_budget"), py::kw_only(), py::arg("c") = 1.0,
           "MF-HRL-IGM eqs. 8-9: the fidelity index to use, or -1 if none is affordable.");
}

}  // namespace bind
}  // namespace mfhrl
