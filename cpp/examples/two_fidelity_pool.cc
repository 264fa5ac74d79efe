// Steps a two-fidelity HalfCheetah pool from C++, with no Python.
//
//   two_fidelity_pool /path/to/half_cheetah.xml [steps]
//
// Prints, per fidelity, the mean return over the episodes each environment
// ran under a fixed sinusoidal gait, then "ok".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "sim/sim_pool.h"
#include "sim/step_buffers.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s HALF_CHEETAH_XML [STEPS]\n", argv[0]);
    return 2;
  }
  const int steps = argc > 2 ? std::atoi(argv[2]) : 1000;
  mfhrl::PoolConfig config;
  config.xml_path = argv[1];
  mfhrl::FidelitySpec heavy;
  heavy.name = "gravity-2.0";
  heavy.gravity_scale = 2.0;
  config.fidelities = {heavy, mfhrl::FidelitySpec{}};
  config.fidelity_ids = {0, 0, 1, 1};
  config.num_threads = 2;
  config.seed = 0;
  try {
    mfhrl::SimPool pool(config);
    const int n = pool.num_envs(), act = pool.act_dim();
    mfhrl::StepBuffers<double> b(pool);
    std::vector<double> actions(n * act), total(n, 0.0);
    pool.Reset(b.obs.data(), b.kType);
    for (int t = 0; t < steps; ++t) {
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < act; ++j) actions[i * act + j] = std::sin(0.3 * t + j);
      }
      pool.Step(actions.data(), b.out, b.kType);
      for (int i = 0; i < n; ++i) total[i] += b.reward[i];
    }
    for (int k = 0; k < 2; ++k) {
      const double mean = (total[2 * k] + total[2 * k + 1]) / 2.0;
      std::printf("%s: return per env over %d steps = %.3f\n", config.fidelities[k].name.c_str(),
                  steps, mean);
      if (!std::isfinite(mean)) return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  std::printf("ok\n");
  return 0;
}
