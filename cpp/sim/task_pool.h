// TaskPool<Task>: many MuJoCo environments of one task (sim/task.h), of one or several
// fidelities, stepped together on a persistent thread pool. Usable without Python.
//
// The pool is generic over the task, a template parameter, so the task's observation and
// reward inline into the step loop (no virtual call per environment step). It steps
// frame_skip MuJoCo steps per action, truncates at max_episode_steps, resets the
// environments that end inside the same Step call (auto-reset), holds environments on
// request, flags and resets unstable physics, and stages each step's transitions as
// float32 rows for a TransitionSink (the fused replay write). SimPool
// (sim/sim_pool.h) is TaskPool<HalfCheetahTask>. The member definitions are in
// sim/task_pool_impl.h, for the explicit instantiations of a task's pool.
#ifndef MFHRL_SIM_TASK_POOL_H_
#define MFHRL_SIM_TASK_POOL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "core/thread_pool.h"
#include "core/transition_sink.h"
#include "sim/fidelity.h"
#include "sim/pool_config.h"
#include "sim/task.h"

namespace mfhrl {

template <typename Task>
class TaskPool {
 public:
  using TaskConfig = typename Task::Config;

  // Throws std::invalid_argument for a bad configuration and
  // std::runtime_error when MuJoCo cannot load the model.
  explicit TaskPool(PoolConfig config, TaskConfig task_config = TaskConfig{});
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  int num_envs() const { return static_cast<int>(envs_.size()); }
  int num_threads() const { return threads_.num_threads(); }
  int obs_dim() const { return obs_dim_; }
  int act_dim() const { return act_dim_; }
  int nq() const { return nq_; }
  int nv() const { return nv_; }
  const PoolConfig& config() const { return config_; }
  const Task& task() const { return *task_; }
  const mjModel* model(int fidelity) const { return fidelities_[fidelity].model; }
  double action_low(int j) const { return action_low_[j]; }
  double action_high(int j) const { return action_high_[j]; }

  // Re-seeds environment i with seed + i (it takes effect at the next reset).
  void Seed(uint64_t seed);
  // Resets every environment; writes (n, obs_dim) observations.
  void Reset(void* obs, ObsType type);
  // Steps every environment with actions (n, act_dim). No allocation. A
  // MuJoCo error (e.g. an arena overflow) resets and flags that environment,
  // the others step normally, and Step then throws std::runtime_error. With a
  // sink, also hands it each step's transitions (obs, action as given, reward,
  // final obs, flags, fidelity id) in env order, in one Add call per Step;
  // unstable steps are not handed. The rows have this pool's obs_dim and
  // act_dim. With hold
  // (n flags), environments whose flag is set are not stepped: their action
  // is ignored, their outputs are those of an empty step (reward 0, flags
  // false, obs = final_obs = their current obs, return and length unchanged)
  // and no transition is handed. Gymnasium's NEXT_STEP autoreset holds the
  // environments that ended in the previous step (already reset here).
  void Step(const double* actions, const StepOutputs& out, ObsType type,
            TransitionSink* sink = nullptr, const bool* hold = nullptr);
  // Copies (n, nq) positions and (n, nv) velocities.
  void GetState(double* qpos, double* qvel) const;
  // Sets the state as Gymnasium's set_state does (then mj_forward); writes obs.
  void SetState(const double* qpos, const double* qvel, void* obs, ObsType type);
  // The controls the last Step applied, noise included: (n, act_dim).
  void GetAppliedActions(double* ctrl) const;

 private:
  struct Fidelity {
    FidelitySpec spec;
    mjModel* model = nullptr;
    int frame_skip = 0;
    double dt = 0.0;  // control period: timestep * frame_skip
  };
  struct Env {
    mjData* data = nullptr;
    int fidelity = 0;
    int elapsed = 0;
    double episode_return = 0.0;
    EnvRandom random;
    std::vector<double> last_obs;  // the obs before this step, for unstable steps
    std::vector<double> applied;   // the controls of the last step, noise included
    std::string error;             // a MuJoCo error of the current call, if any
  };

  template <typename T>
  void StepRange(int64_t begin, int64_t end, const double* actions, const StepOutputs& out,
                 bool stage, const bool* hold);
  template <typename T>
  void HoldEnv(int64_t i, const StepOutputs& out);
  void StageTransition(int64_t i, const double* action, const StepOutputs& out);
  void StoreStaged(TransitionSink* sink, const StepOutputs& out, const bool* hold);
  void WriteObsRow(const mjData* d, void* obs, int64_t i, ObsType type) const;
  void ResetEnv(Env& env);
  // Throws std::runtime_error naming the environments MuJoCo failed in
  // during the current call (their Env::error), then clears them.
  void ThrowMujocoErrors(const std::string& suffix);
  void Free();
  void Record(Env& env) { task_->Observe(env.data, env.last_obs.data()); }

  PoolConfig config_;
  std::vector<Fidelity> fidelities_;
  std::vector<Env> envs_;
  std::vector<double> action_low_, action_high_;
  // Float32 rows of the transitions of one step, for Step(..., sink).
  struct Staging {
    std::vector<float> obs, action, reward, next_obs, terminated, truncated;
    std::vector<uint8_t> fidelity;
  } stage_;
  std::optional<Task> task_;  // made once the model is loaded
  int obs_dim_ = 0, act_dim_ = 0, nq_ = 0, nv_ = 0;
  ThreadPool threads_;
};

}  // namespace mfhrl

#endif  // MFHRL_SIM_TASK_POOL_H_
