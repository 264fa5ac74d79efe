// What every simulator pool shares, whatever its task: the batch configuration, the
// observation dtype and the caller-owned output rows of a step.
#ifndef MFHRL_SIM_POOL_CONFIG_H_
#define MFHRL_SIM_POOL_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/fidelity.h"

namespace mfhrl {

// The batch configuration shared by every environment of a pool. The task's own
// settings (rewards, reset noise) are in its config (e.g. HalfCheetahConfig).
struct PoolConfig {
  std::string xml_path;                // the task's MJCF file
  std::vector<FidelitySpec> fidelities;
  std::vector<int> fidelity_ids;       // one per environment
  int num_threads = 1;                 // counts the caller; < 1: one per core
  uint64_t seed = 0;                   // environment i draws from seed + i
  int max_episode_steps = 1000;
  int frame_skip = 5;                  // MuJoCo steps per action at the XML's timestep

  // Throws std::invalid_argument naming the first bad field.
  void Validate() const;
};

enum class ObsType { kFloat64, kFloat32 };

// Caller-owned output rows, one per environment; Step writes every field.
struct StepOutputs {
  void* obs = nullptr;             // (n, obs_dim), after any auto-reset
  double* reward = nullptr;        // (n)
  bool* terminated = nullptr;      // (n), the task's termination (never, for HalfCheetah)
  bool* truncated = nullptr;       // (n), time limit or unstable physics
  void* final_obs = nullptr;       // (n, obs_dim), the obs before any auto-reset
  bool* unstable = nullptr;        // (n), physics diverged: reset, reward 0
  double* episode_return = nullptr;  // (n), return so far, including this step
  int32_t* episode_length = nullptr; // (n), steps so far, including this step
};

}  // namespace mfhrl

#endif  // MFHRL_SIM_POOL_CONFIG_H_
