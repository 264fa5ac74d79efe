// Bindings of the simulator pool: FidelitySpec, presets and SimPool.
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "bind/checks.h"
#include "bind/gil.h"
#include "bind/module.h"
#include "core/replay_ring.h"
#include "core/transition_sink.h"
#include "sim/fidelity.h"
#include "sim/sim_pool.h"

namespace mfhrl {
namespace bind {
namespace {

// The pool plus the observation dtype it hands back.
struct PySimPool {
  std::unique_ptr<SimPool> pool;
  ObsType obs_type;
  std::unique_ptr<std::mutex> mutex = std::make_unique<std::mutex>();

  py::array NewObs() const {
    const std::vector<py::ssize_t> shape{pool->num_envs(), pool->obs_dim()};
    if (obs_type == ObsType::kFloat64) return py::array_t<double>(shape);
    return py::array_t<float>(shape);
  }
};

// The fused replay write: the pool hands each step's rows to the ring, under the
// ring's lock (taken for the Add only, not for the whole step).
class LockedRingSink final : public TransitionSink {
 public:
  LockedRingSink(ReplayRing* ring, std::mutex* mutex) : ring_(ring), mutex_(mutex) {}
  void Add(const TransitionRows& rows) override {
    std::lock_guard<std::mutex> lock(*mutex_);
    ring_->Add(rows);
  }

 private:
  ReplayRing* ring_;
  std::mutex* mutex_;
};

ObsType ParseObsDtype(const py::object& dtype) {
  const py::dtype dt = py::dtype::from_args(dtype);
  if (dt.is(py::dtype::of<double>()) || dt.equal(py::dtype::of<double>())) return ObsType::kFloat64;
  if (dt.equal(py::dtype::of<float>())) return ObsType::kFloat32;
  throw py::type_error("obs_dtype must be float64 or float32, got " +
                       py::str(dt).cast<std::string>());
}

py::tuple Step(PySimPool& self, const py::object& raw_actions, const py::object& replay,
               const py::object& raw_hold) {
  SimPool& pool = *self.pool;
  const auto actions = Numeric<double>(raw_actions, "actions", "biuf");
  const RingRef ref = replay.is_none() ? RingRef{nullptr, nullptr} : AsReplayRing(replay);
  ReplayRing* ring = ref.ring;
  if (ring && (ring->config().obs_dim != pool.obs_dim() || ring->config().act_dim != pool.act_dim())) {
    throw py::value_error("replay has obs_dim " + std::to_string(ring->config().obs_dim) +
                          " and act_dim " + std::to_string(ring->config().act_dim) +
                          "; this pool's are " + std::to_string(pool.obs_dim()) + " and " +
                          std::to_string(pool.act_dim()));
  }
  const py::ssize_t n = pool.num_envs();
  CheckShape(actions, "actions", {n, pool.act_dim()});
  CheckFinite(actions, "actions", pool.act_dim());
  CArray<bool> hold;
  if (!raw_hold.is_none()) {
    hold = Numeric<bool>(raw_hold, "hold", "b");
    CheckShape(hold, "hold", {n});
  }
  const bool* hold_data = raw_hold.is_none() ? nullptr : hold.data();
  py::array obs = self.NewObs(), final_obs = self.NewObs();
  py::array_t<double> reward(n), episode_return(n);
  py::array_t<bool> terminated(n), truncated(n), unstable(n);
  py::array_t<int32_t> episode_length(n);
  StepOutputs out;
  out.obs = obs.mutable_data();
  out.final_obs = final_obs.mutable_data();
  out.reward = reward.mutable_data();
  out.terminated = terminated.mutable_data();
  out.truncated = truncated.mutable_data();
  out.unstable = unstable.mutable_data();
  out.episode_return = episode_return.mutable_data();
  out.episode_length = episode_length.mutable_data();
  {
    ReleaseAndLock guard(*self.mutex);
    LockedRingSink sink(ring, ref.mutex);
    pool.Step(actions.data(), out, self.obs_type, ring ? &sink : nullptr, hold_data);
  }
  py::dict info;
  info["final_obs"] = final_obs;
  info["unstable"] = unstable;
  info["episode_return"] = episode_return;
  info["episode_length"] = episode_length;
  return py::make_tuple(obs, reward, terminated, truncated, info);
}

}  // namespace

void BindFidelitySpec(py::module_& m) {
  py::class_<FidelitySpec>(m, "FidelitySpec")
      .def(py::init([](std::string name, double gravity_scale, double friction_scale,
                       double action_noise_std, double cost, int frame_skip,
                       int solver_iterations, int ls_iterations) {
             FidelitySpec s{std::move(name), gravity_scale, friction_scale, action_noise_std,
                            cost, frame_skip, solver_iterations, ls_iterations};
             s.Validate();
             return s;
           }),
           py::kw_only(), py::arg("name") = "true", py::arg("gravity_scale") = 1.0,
           py::arg("friction_scale") = 1.0, py::arg("action_noise_std") = 0.0,
           py::arg("cost") = 1.0, py::arg("frame_skip") = 0, py::arg("solver_iterations") = 0,
           py::arg("ls_iterations") = 0)
      .def_readonly("name", &FidelitySpec::name)
      .def_readonly("gravity_scale", &FidelitySpec::gravity_scale)
      .def_readonly("friction_scale", &FidelitySpec::friction_scale)
      .def_readonly("action_noise_std", &FidelitySpec::action_noise_std)
      .def_readonly("cost", &FidelitySpec::cost)
      .def_readonly("frame_skip", &FidelitySpec::frame_skip)
      .def_readonly("solver_iterations", &FidelitySpec::solver_iterations)
      .def_readonly("ls_iterations", &FidelitySpec::ls_iterations);
  m.def("paper_ladder", &PaperLadder);
  m.def("h2o_presets", &H2OPresets);
}

void BindSimPool(py::module_& m) {
  py::class_<PySimPool>(m, "SimPool")
      .def(py::init([](std::string xml_path, std::vector<FidelitySpec> fidelities,
                       std::vector<int> fidelity_ids, int num_threads, uint64_t seed,
                       int max_episode_steps, int frame_skip, double reset_noise_scale,
                       const py::object& obs_dtype) {
             PoolConfig c;
             c.xml_path = std::move(xml_path);
             c.fidelities = std::move(fidelities);
             c.fidelity_ids = std::move(fidelity_ids);
             c.num_threads = num_threads;
             c.seed = seed;
             c.max_episode_steps = max_episode_steps;
             c.frame_skip = frame_skip;
             HalfCheetahConfig task;
             task.reset_noise_scale = reset_noise_scale;
             const ObsType type = ParseObsDtype(obs_dtype);
             return PySimPool{std::make_unique<SimPool>(std::move(c), task), type,
                              std::make_unique<std::mutex>()};
           }),
           py::kw_only(), py::arg("xml_path"), py::arg("fidelities"), py::arg("fidelity_ids"),
           py::arg("num_threads") = 1, py::arg("seed") = 0, py::arg("max_episode_steps") = 1000,
           py::arg("frame_skip") = 5, py::arg("reset_noise_scale") = 0.1,
           py::arg("obs_dtype") = py::dtype::of<double>())
      .def_property_readonly("num_envs", [](const PySimPool& p) { return p.pool->num_envs(); })
      .def_property_readonly("num_threads", [](const PySimPool& p) { return p.pool->num_threads(); })
      .def_property_readonly("obs_dim", [](const PySimPool& p) { return p.pool->obs_dim(); })
      .def_property_readonly("act_dim", [](const PySimPool& p) { return p.pool->act_dim(); })
      .def_property_readonly("nq", [](const PySimPool& p) { return p.pool->nq(); })
      .def_property_readonly("nv", [](const PySimPool& p) { return p.pool->nv(); })
      .def_property_readonly("obs_dtype", [](const PySimPool& p) {
        return p.obs_type == ObsType::kFloat64 ? py::dtype::of<double>() : py::dtype::of<float>();
      })
      .def_property_readonly("fidelity_ids", [](const PySimPool& p) { return p.pool->config().fidelity_ids; })
      .def_property_readonly("action_bounds", [](const PySimPool& p) {
        py::array_t<double> low(p.pool->act_dim()), high(p.pool->act_dim());
        for (int j = 0; j < p.pool->act_dim(); ++j) {
          low.mutable_at(j) = p.pool->action_low(j);
          high.mutable_at(j) = p.pool->action_high(j);
        }
        return py::make_tuple(low, high);
      })
      .def("seed", [](PySimPool& p, uint64_t seed) {
        ReleaseAndLock guard(*p.mutex);
        p.pool->Seed(seed);
      }, py::arg("seed"))
      .def("reset", [](PySimPool& p) {
        py::array obs = p.NewObs();
        void* dst = obs.mutable_data();
        ReleaseAndLock guard(*p.mutex);
        p.pool->Reset(dst, p.obs_type);
        return obs;
      })
      .def("step", &Step, py::arg("actions"), py::kw_only(), py::arg("replay") = py::none(),
           py::arg("hold") = py::none())
      .def("get_state", [](const PySimPool& p) {
        py::array_t<double> qpos({p.pool->num_envs(), p.pool->nq()});
        py::array_t<double> qvel({p.pool->num_envs(), p.pool->nv()});
        double* qpos_out = qpos.mutable_data();
        double* qvel_out = qvel.mutable_data();
        {
          ReleaseAndLock guard(*p.mutex);
          p.pool->GetState(qpos_out, qvel_out);
        }
        return py::make_tuple(qpos, qvel);
      })
      .def("set_state", [](PySimPool& p, const CArray<double>& qpos, const CArray<double>& qvel) {
        CheckShape(qpos, "qpos", {p.pool->num_envs(), p.pool->nq()});
        CheckShape(qvel, "qvel", {p.pool->num_envs(), p.pool->nv()});
        CheckFinite(qpos, "qpos", p.pool->nq());
        CheckFinite(qvel, "qvel", p.pool->nv());
        py::array obs = p.NewObs();
        void* dst = obs.mutable_data();
        ReleaseAndLock guard(*p.mutex);
        p.pool->SetState(qpos.data(), qvel.data(), dst, p.obs_type);
        return obs;
      }, py::arg("qpos"), py::arg("qvel"))
      .def("applied_actions", [](const PySimPool& p) {
        py::array_t<double> ctrl({p.pool->num_envs(), p.pool->act_dim()});
        double* dst = ctrl.mutable_data();
        {
          ReleaseAndLock guard(*p.mutex);
          p.pool->GetAppliedActions(dst);
        }
        return ctrl;
      });
}

}  // namespace bind
}  // namespace mfhrl
