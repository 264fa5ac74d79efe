// Caller-side storage for a pool's Reset/Step (SimPool or any TaskPool) in C++ programs
// (the examples and the test driver): one owned array per StepOutputs field, sized for
// a pool, and the StepOutputs that point into them. Obs is double or float (ObsType kFloat64 or kFloat32).
#ifndef MFHRL_SIM_STEP_BUFFERS_H_
#define MFHRL_SIM_STEP_BUFFERS_H_

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "sim/pool_config.h"

namespace mfhrl {

template <typename Obs>
struct StepBuffers {
  static_assert(std::is_same_v<Obs, double> || std::is_same_v<Obs, float>,
                "observations are double or float");
  static constexpr ObsType kType =
      std::is_same_v<Obs, double> ? ObsType::kFloat64 : ObsType::kFloat32;

  template <typename Pool>
  explicit StepBuffers(const Pool& pool)
      : obs(pool.num_envs() * pool.obs_dim()),
        final_obs(obs.size()),
        reward(pool.num_envs()),
        episode_return(pool.num_envs()),
        episode_length(pool.num_envs()),
        flags(new bool[3 * pool.num_envs()]) {
    const int n = pool.num_envs();
    out.obs = obs.data();
    out.final_obs = final_obs.data();
    out.reward = reward.data();
    out.terminated = flags.get();
    out.truncated = flags.get() + n;
    out.unstable = flags.get() + 2 * n;
    out.episode_return = episode_return.data();
    out.episode_length = episode_length.data();
  }

  std::vector<Obs> obs, final_obs;
  std::vector<double> reward, episode_return;
  std::vector<int32_t> episode_length;
  std::unique_ptr<bool[]> flags;  // terminated, truncated, unstable: n each
  StepOutputs out;
};

}  // namespace mfhrl

#endif  // MFHRL_SIM_STEP_BUFFERS_H_
