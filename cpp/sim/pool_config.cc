#include "sim/pool_config.h"

#include <stdexcept>
#include <string>

namespace mfhrl {

void PoolConfig::Validate() const {
  if (fidelities.empty()) throw std::invalid_argument("SimPool needs at least one fidelity");
  if (fidelity_ids.empty()) throw std::invalid_argument("SimPool needs at least one environment");
  for (const FidelitySpec& spec : fidelities) spec.Validate();
  const int k = static_cast<int>(fidelities.size());
  if (k > 256) throw std::invalid_argument("at most 256 fidelities (ids are stored as uint8)");
  for (size_t i = 0; i < fidelity_ids.size(); ++i) {
    if (fidelity_ids[i] < 0 || fidelity_ids[i] >= k) {
      throw std::invalid_argument("fidelity_ids[" + std::to_string(i) + "] = " +
                                  std::to_string(fidelity_ids[i]) +
                                  " is not a fidelity index in [0, " + std::to_string(k) + ")");
    }
  }
  if (max_episode_steps < 1) throw std::invalid_argument("max_episode_steps must be >= 1");
  if (frame_skip < 1) throw std::invalid_argument("frame_skip must be >= 1");
}

}  // namespace mfhrl
