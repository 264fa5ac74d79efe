// The HalfCheetah-v5 task of Gymnasium (docs/algorithm.md, "The problem"), for the
// generic pool of sim/task_pool.h: obs = qpos[1:] ++ qvel, reward =
// forward_reward_weight * x_velocity - ctrl_cost_weight * |ctrl|^2, never terminated,
// reset noise qpos += U(-s, s), qvel += s * N(0, 1). Floating-point operations in
// Gymnasium's order, for bit-exact parity (tests/test_sim_parity.py).
#ifndef MFHRL_SIM_HALF_CHEETAH_TASK_H_
#define MFHRL_SIM_HALF_CHEETAH_TASK_H_

#include <mujoco/mujoco.h>

#include "sim/task.h"

namespace mfhrl {

// Gymnasium's defaults. Python sets reset_noise_scale (SimPool's keyword of that name).
struct HalfCheetahConfig {
  double forward_reward_weight = 1.0;  // per unit of forward velocity
  double ctrl_cost_weight = 0.1;       // per unit of |ctrl|^2
  double reset_noise_scale = 0.1;      // s of the reset noise

  // Throws std::invalid_argument naming the first bad field.
  void Validate() const;
};

class HalfCheetahTask {
 public:
  using Config = HalfCheetahConfig;
  struct StepStart {
    double x;  // the root's x position before the step
  };

  HalfCheetahTask(const Config& config, const mjModel* model);

  const TaskSpec& spec() const { return spec_; }
  const Config& config() const { return config_; }

  void Reset(const mjModel* m, mjData* d, EnvRandom& random) const;

  StepStart Begin(const mjData* d) const { return {d->qpos[0]}; }

  // Same operation order as Gymnasium's numpy code, for bit-exact rewards.
  double Reward(const mjData* d, const StepStart& start, double dt) const {
    double ctrl_sq = 0.0;
    for (int j = 0; j < spec_.act_dim; ++j) ctrl_sq += d->ctrl[j] * d->ctrl[j];
    const double x_velocity = (d->qpos[0] - start.x) / dt;
    return config_.forward_reward_weight * x_velocity - config_.ctrl_cost_weight * ctrl_sq;
  }

  bool Terminated(const mjData*) const { return false; }

  template <typename T>
  void Observe(const mjData* d, T* row) const {
    for (int j = 1; j < nq_; ++j) *row++ = static_cast<T>(d->qpos[j]);
    for (int j = 0; j < nv_; ++j) *row++ = static_cast<T>(d->qvel[j]);
  }

 private:
  Config config_;
  TaskSpec spec_;
  int nq_ = 0, nv_ = 0;
};

}  // namespace mfhrl

#endif  // MFHRL_SIM_HALF_CHEETAH_TASK_H_
