// Bindings of the learners' fused kernels: the submodule mfhrl_fast._core.nn.
//
// The kernels read and write the caller's memory: every array must already be
// float32 (TypeError otherwise) and C-contiguous, outputs writeable, shapes as
// documented (ValueError otherwise); nothing is converted or copied, so a torch
// CPU tensor's .numpy() view goes straight through. The GIL is released around
// the loops; num_threads (None: one per core) splits the members.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bind/checks.h"
#include "bind/module.h"
#include "core/thread_pool_registry.h"
#include "nn/layer_norm_relu.h"

namespace mfhrl {
namespace bind {
namespace {

using F32 = py::array_t<float, py::array::c_style>;

// `obj` as a float32 C-contiguous array of the given shape, without a copy.
F32 Float32(const py::handle& obj, const char* name, const std::vector<py::ssize_t>& shape,
            bool output) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + " must be a NumPy array, got " +
                         py::str(py::type::of(obj)).cast<std::string>());
  }
  const auto a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<float>())) {
    throw py::type_error(std::string(name) + " must be float32, got " + DtypeName(a));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + " must be C-contiguous");
  }
  if (output && !a.writeable()) throw py::value_error(std::string(name) + " must be writeable");
  const F32 out = py::reinterpret_borrow<F32>(a);
  CheckShape<float>(out, name, shape);
  return out;
}

nn::LayerNormShape ShapeOf(const py::handle& x) {
  if (!py::isinstance<py::array>(x)) {
    throw py::type_error("x must be a NumPy array, got " +
                         py::str(py::type::of(x)).cast<std::string>());
  }
  const auto a = py::reinterpret_borrow<py::array>(x);
  CheckNdim(a, "x", 3, "3-D (members, rows, dim)");
  CheckNotEmpty(a, "x");
  return {a.shape(0), a.shape(1), a.shape(2)};
}

// An optional per-member input: nullptr for None.
const float* OptionalInput(const py::object& obj, const char* name,
                           const std::vector<py::ssize_t>& shape, F32* keep) {
  if (obj.is_none()) return nullptr;
  *keep = Float32(obj, name, shape, false);
  return keep->data();
}

float* OptionalOutput(const py::object& obj, const char* name,
                      const std::vector<py::ssize_t>& shape, F32* keep) {
  if (obj.is_none()) return nullptr;
  *keep = Float32(obj, name, shape, true);
  return keep->mutable_data();
}

// What both directions read: the shape from x, and x, scale, shift, bias checked.
struct LayerInputs {
  nn::LayerNormShape shape;
  std::vector<py::ssize_t> full, per_member, stats;
  F32 x, scale, shift, bias;
  nn::LayerNormParams params;
};

LayerInputs ReadInputs(const py::object& x, const py::object& scale, const py::object& shift,
                       const py::object& bias) {
  LayerInputs in;
  in.shape = ShapeOf(x);
  const nn::LayerNormShape& s = in.shape;
  in.full = {s.members, s.rows, s.dim};
  in.per_member = {s.members, s.dim};
  in.stats = {s.members, s.rows};
  in.x = Float32(x, "x", in.full, false);
  in.scale = Float32(scale, "scale", in.per_member, false);
  in.shift = Float32(shift, "shift", in.per_member, false);
  in.params = {OptionalInput(bias, "bias", in.per_member, &in.bias), in.scale.data(),
               in.shift.data()};
  return in;
}

void Forward(const py::object& x_obj, const py::object& scale_obj, const py::object& shift_obj,
             const py::object& y_obj, const py::object& mean_obj, const py::object& rstd_obj,
             const py::object& bias_obj, double eps, const py::object& num_threads) {
  const LayerInputs in = ReadInputs(x_obj, scale_obj, shift_obj, bias_obj);
  F32 y = Float32(y_obj, "y", in.full, true);
  F32 mean = Float32(mean_obj, "mean", in.stats, true);
  F32 rstd = Float32(rstd_obj, "rstd", in.stats, true);
  if (!(eps > 0.0)) throw py::value_error("eps must be > 0, got " + std::to_string(eps));
  const int threads = ResolveThreads(num_threads);
  py::gil_scoped_release release;
  PoolLease lease(threads);
  nn::LayerNormReluForward(in.x.data(), in.params, in.shape, static_cast<float>(eps),
                           y.mutable_data(), mean.mutable_data(), rstd.mutable_data(),
                           lease.get());
}

void Backward(const py::object& dy_obj, const py::object& x_obj, const py::object& scale_obj,
              const py::object& shift_obj, const py::object& mean_obj,
              const py::object& rstd_obj, const py::object& bias_obj, const py::object& dx_obj,
              const py::object& dbias_obj, const py::object& dscale_obj,
              const py::object& dshift_obj, const py::object& num_threads) {
  const LayerInputs in = ReadInputs(x_obj, scale_obj, shift_obj, bias_obj);
  const std::vector<py::ssize_t>& full = in.full;
  const std::vector<py::ssize_t>& per_member = in.per_member;
  const F32 dy = Float32(dy_obj, "dy", full, false);
  const F32 mean = Float32(mean_obj, "mean", in.stats, false);
  const F32 rstd = Float32(rstd_obj, "rstd", in.stats, false);
  if (dscale_obj.is_none() != dshift_obj.is_none()) {
    throw py::value_error("dscale and dshift must both be arrays or both None");
  }
  F32 dx, dbias, dscale, dshift;
  if (!dbias_obj.is_none() && bias_obj.is_none()) {
    throw py::value_error("dbias needs the forward's bias");
  }
  const nn::LayerNormGrads grads{OptionalOutput(dx_obj, "dx", full, &dx),
                                 OptionalOutput(dbias_obj, "dbias", per_member, &dbias),
                                 OptionalOutput(dscale_obj, "dscale", per_member, &dscale),
                                 OptionalOutput(dshift_obj, "dshift", per_member, &dshift)};
  const int threads = ResolveThreads(num_threads);
  py::gil_scoped_release release;
  PoolLease lease(threads);
  nn::LayerNormReluBackward(dy.data(), in.x.data(), in.params, mean.data(), rstd.data(),
                            in.shape, grads, lease.get());
}

}  // namespace

void BindNN(py::module_& m) {
  py::module_ nn = m.def_submodule(
      "nn", "Fused kernels of the ensemble learners (float32, in place, CPU).");
  nn.def("layer_norm_relu_forward", &Forward, py::arg("x"), py::arg("scale"), py::arg("shift"),
         py::arg("y"), py::arg("mean"), py::arg("rstd"), py::kw_only(),
         py::arg("bias") = py::none(), py::arg("eps") = 1e-5, py::arg("num_threads") = py::none(),
         "y = relu(scale * layer_norm(x + bias) + shift) for x (members, rows, dim) and bias "
         "(None: 0), scale, shift (members, dim); writes y and the mean and 1 / sqrt(var + eps) "
         "of each row of x + bias (members, rows).");
  nn.def("layer_norm_relu_backward", &Backward, py::arg("dy"), py::arg("x"), py::arg("scale"),
         py::arg("shift"), py::arg("mean"), py::arg("rstd"), py::kw_only(),
         py::arg("bias") = py::none(), py::arg("dx") = py::none(), py::arg("dbias") = py::none(),
         py::arg("dscale") = py::none(), py::arg("dshift") = py::none(),
         py::arg("num_threads") = py::none(),
         "The forward's gradients given dy (and the forward's bias): writes dx, dbias and "
         "(together) dscale and dshift, each only when given (None: not computed).");
}

}  // namespace bind
}  // namespace mfhrl
