// MuJoCo helpers of the simulator pools, independent of any task: fatal MuJoCo errors
// turned into exceptions on the pool's threads (Guarded), the instability checks, and
// the model loader.
#ifndef MFHRL_SIM_MUJOCO_SUPPORT_H_
#define MFHRL_SIM_MUJOCO_SUPPORT_H_

#include <cmath>
#include <stdexcept>
#include <string>

#include <mujoco/mujoco.h>

namespace mfhrl {
namespace sim_detail {

// MuJoCo reports fatal errors through the global mju_user_error hook, whose
// default prints and exits the process. While a pool runs MuJoCo on a thread
// (inside Guarded), the hook installed by InstallErrorHook throws MujocoError
// instead; elsewhere it defers to the previous hook.
struct MujocoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
extern thread_local int intercept_depth;
void InstallErrorHook();

// Runs f with MuJoCo errors turned into a false return and *error set.
template <typename F>
bool Guarded(std::string* error, F&& f) {
  ++intercept_depth;
  try {
    f();
  } catch (const MujocoError& e) {
    --intercept_depth;
    if (error->empty()) *error = e.what();
    return false;
  }
  --intercept_depth;
  return true;
}

inline int TotalWarnings(const mjData* d) {
  int total = 0;
  for (int i = 0; i < mjNWARNING; ++i) total += d->warning[i].number;
  return total;
}

inline bool AllFinite(const mjtNum* x, int n) {
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return false;
  }
  return true;
}

// Loads and compiles the MJCF at path (throws std::runtime_error), without the
// deprecation warning of settotalmass (see the definition).
mjModel* LoadModel(const std::string& path);

}  // namespace sim_detail
}  // namespace mfhrl

#endif  // MFHRL_SIM_MUJOCO_SUPPORT_H_
