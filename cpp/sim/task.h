// What a task gives the generic pool (sim/task_pool.h), in the manner of EnvPool's
// split of an environment from its pool: the pool owns the MuJoCo models and data, the
// fidelities, stepping, time limits, auto-reset, hold, unstable physics, threads and
// the fused replay write; a task says what an environment observes and earns.
//
// A task type Task provides (all const: a task holds no per-environment state):
//   using Config = ...;                          its settings, with Validate()
//   Task(const Config&, const mjModel* model);   model: the loaded task XML
//   const TaskSpec& spec() const;                obs_dim, act_dim
//   void Reset(const mjModel*, mjData*, EnvRandom&) const;  initial state, forward-computed
//   using StepStart = ...;                       what Begin keeps for Reward
//   StepStart Begin(const mjData*) const;        before the frame_skip physics steps
//   double Reward(const mjData*, const StepStart&, double dt) const;  dt: control period
//   bool Terminated(const mjData*) const;
//   template <typename T> void Observe(const mjData*, T* row) const;  T: double or float
// The pool calls Begin, Reward, Terminated and Observe on every environment step:
// define them in the task's header so that they inline.
#ifndef MFHRL_SIM_TASK_H_
#define MFHRL_SIM_TASK_H_

#include <random>

namespace mfhrl {

struct TaskSpec {
  int obs_dim = 0;
  int act_dim = 0;
};

// An environment's random stream: environment i of a pool seeded s draws from
// engine(s + i). The pool's action noise and the task's reset noise share both
// the engine and the normal distribution (which caches its second draw).
struct EnvRandom {
  std::mt19937_64 engine;
  std::normal_distribution<double> normal;
};

}  // namespace mfhrl

#endif  // MFHRL_SIM_TASK_H_
