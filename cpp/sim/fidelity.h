// One simulator fidelity: how a HalfCheetah model is perturbed, and its cost.
// See docs/algorithm.md, "The problem".
#ifndef MFHRL_SIM_FIDELITY_H_
#define MFHRL_SIM_FIDELITY_H_

#include <string>
#include <vector>

#include <mujoco/mujoco.h>

namespace mfhrl {

struct FidelitySpec {
  std::string name = "true";
  double gravity_scale = 1.0;     // multiplies model.opt.gravity
  double friction_scale = 1.0;    // multiplies every geom's 3 friction coefficients
  double action_noise_std = 0.0;  // the simulator steps a + N(0, std^2); a is stored
  double cost = 1.0;              // cost of one round at this fidelity
  // Optional cheaper physics. frame_skip 0 keeps the model's; another value
  // rescales the timestep so that timestep * frame_skip (the control period)
  // is unchanged. Iteration counts 0 keep the model's.
  int frame_skip = 0;
  int solver_iterations = 0;
  int ls_iterations = 0;

  // Throws std::invalid_argument naming the first bad field.
  void Validate() const;
};

// The paper's ladder (ours; the paper does not give its factors): gravity x2.0, x1.5, x1.25, x1.0; costs 1, 2, 4, 8.
std::vector<FidelitySpec> PaperLadder();

// H2O's three single-simulator settings (from the H2O paper): gravity x2, friction x0.3,
// action noise std 1.0.
std::vector<FidelitySpec> H2OPresets();

// Applies spec to a model loaded from the task XML, whose own frame skip is
// base_frame_skip. Returns the frame skip to step with.
int ApplyFidelity(const FidelitySpec& spec, int base_frame_skip, mjModel* model);

}  // namespace mfhrl

#endif  // MFHRL_SIM_FIDELITY_H_
