// SimPool: many HalfCheetah-v5 environments, of one or several fidelities,
// stepped together on a persistent thread pool. Usable without Python.
//
// Semantics follow Gymnasium's HalfCheetah-v5 (docs/algorithm.md, "The problem"): obs =
// qpos[1:] ++ qvel, reward = forward_reward_weight * x_velocity -
// ctrl_cost_weight * |ctrl|^2, frame_skip MuJoCo steps per action, truncation
// at max_episode_steps, reset noise qpos += U(-s, s), qvel += s * N(0, 1).
// Environments that end are reset inside the same Step call (auto-reset).
#ifndef MFHRL_SIM_SIM_POOL_H_
#define MFHRL_SIM_SIM_POOL_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "core/replay_ring.h"
#include "core/thread_pool.h"
#include "sim/fidelity.h"

namespace mfhrl {

// The batch configuration shared by every environment of a pool.
struct PoolConfig {
  std::string xml_path;                // the task's MJCF file
  std::vector<FidelitySpec> fidelities;
  std::vector<int> fidelity_ids;       // one per environment
  int num_threads = 1;                 // counts the caller; < 1: one per core
  uint64_t seed = 0;                   // environment i draws from seed + i
  int max_episode_steps = 1000;
  int frame_skip = 5;                  // MuJoCo steps per action at the XML's timestep
  double forward_reward_weight = 1.0;
  double ctrl_cost_weight = 0.1;
  double reset_noise_scale = 0.1;
};

enum class ObsType { kFloat64, kFloat32 };

// Caller-owned output rows, one per environment; Step writes every field.
struct StepOutputs {
  void* obs = nullptr;             // (n, obs_dim), after any auto-reset
  double* reward = nullptr;        // (n)
  bool* terminated = nullptr;      // (n), always false for HalfCheetah
  bool* truncated = nullptr;       // (n), time limit or unstable physics
  void* final_obs = nullptr;       // (n, obs_dim), the obs before any auto-reset
  bool* unstable = nullptr;        // (n), physics diverged: reset, reward 0
  double* episode_return = nullptr;  // (n), return so far, including this step
  int32_t* episode_length = nullptr; // (n), steps so far, including this step
};

class SimPool {
 public:
  // Throws std::invalid_argument for a bad configuration and
  // std::runtime_error when MuJoCo cannot load the model.
  explicit SimPool(PoolConfig config);
  ~SimPool();
  SimPool(const SimPool&) = delete;
  SimPool& operator=(const SimPool&) = delete;

  int num_envs() const { return static_cast<int>(envs_.size()); }
  int num_threads() const { return threads_.num_threads(); }
  int obs_dim() const { return obs_dim_; }
  int act_dim() const { return act_dim_; }
  int nq() const { return nq_; }
  int nv() const { return nv_; }
  const PoolConfig& config() const { return config_; }
  const mjModel* model(int fidelity) const { return fidelities_[fidelity].model; }
  double action_low(int j) const { return action_low_[j]; }
  double action_high(int j) const { return action_high_[j]; }

  // Re-seeds environment i with seed + i (it takes effect at the next reset).
  void Seed(uint64_t seed);
  // Resets every environment; writes (n, obs_dim) observations.
  void Reset(void* obs, ObsType type);
  // Steps every environment with actions (n, act_dim). No allocation. A
  // MuJoCo error (e.g. an arena overflow) resets and flags that environment,
  // the others step normally, and Step then throws std::runtime_error. With
  // replay, also stores each step's transition (obs, action as given,
  // reward, final obs, flags, fidelity id) in env order; unstable steps are
  // not stored. replay must have this pool's obs_dim and act_dim. With hold
  // (n flags), environments whose flag is set are not stepped: their action
  // is ignored, their outputs are those of an empty step (reward 0, flags
  // false, obs = final_obs = their current obs, return and length unchanged)
  // and no transition is stored. Gymnasium's NEXT_STEP autoreset holds the
  // environments that ended in the previous step (already reset here).
  void Step(const double* actions, const StepOutputs& out, ObsType type,
            ReplayRing* replay = nullptr, const bool* hold = nullptr);
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
    std::mt19937_64 rng;
    std::normal_distribution<double> normal;
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
  void StoreStaged(ReplayRing* replay, const StepOutputs& out, const bool* hold);
  template <typename T>
  void WriteObs(const mjData* d, T* row) const;
  void WriteObsRow(const mjData* d, void* obs, int64_t i, ObsType type) const;
  void ResetEnv(Env& env);
  // Throws std::runtime_error naming the environments MuJoCo failed in
  // during the current call (their Env::error), then clears them.
  void ThrowMujocoErrors(const std::string& suffix);
  void Free();
  void Record(Env& env);

  PoolConfig config_;
  std::vector<Fidelity> fidelities_;
  std::vector<Env> envs_;
  std::vector<double> action_low_, action_high_;
  // Float32 rows of the transitions of one step, for Step(..., replay).
  struct Staging {
    std::vector<float> obs, action, reward, next_obs, terminated, truncated;
    std::vector<uint8_t> fidelity;
  } stage_;
  int obs_dim_ = 0, act_dim_ = 0, nq_ = 0, nv_ = 0;
  ThreadPool threads_;
};

}  // namespace mfhrl

#endif  // MFHRL_SIM_SIM_POOL_H_
