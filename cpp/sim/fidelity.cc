#include "sim/fidelity.h"

#include <cmath>
#include <stdexcept>

namespace mfhrl {
namespace {

void RequirePositive(double value, const char* field) {
  if (!std::isfinite(value) || value <= 0.0) {
    throw std::invalid_argument(std::string("FidelitySpec.") + field +
                                " must be a finite number > 0, got " +
                                std::to_string(value));
  }
}

void RequireNonNegative(int value, const char* field) {
  if (value < 0) {
    throw std::invalid_argument(std::string("FidelitySpec.") + field +
                                " must be >= 0 (0 keeps the model's), got " +
                                std::to_string(value));
  }
}

FidelitySpec Named(const char* name, double gravity, double friction, double noise,
                   double cost) {
  FidelitySpec spec;
  spec.name = name;
  spec.gravity_scale = gravity;
  spec.friction_scale = friction;
  spec.action_noise_std = noise;
  spec.cost = cost;
  return spec;
}

}  // namespace

void FidelitySpec::Validate() const {
  RequirePositive(gravity_scale, "gravity_scale");
  RequirePositive(friction_scale, "friction_scale");
  RequirePositive(cost, "cost");
  if (!std::isfinite(action_noise_std) || action_noise_std < 0.0) {
    throw std::invalid_argument(
        "FidelitySpec.action_noise_std must be a finite number >= 0, got " +
        std::to_string(action_noise_std));
  }
  RequireNonNegative(frame_skip, "frame_skip");
  RequireNonNegative(solver_iterations, "solver_iterations");
  RequireNonNegative(ls_iterations, "ls_iterations");
}

std::vector<FidelitySpec> PaperLadder() {
  return {Named("gravity-2.0", 2.0, 1.0, 0.0, 1.0), Named("gravity-1.5", 1.5, 1.0, 0.0, 2.0),
          Named("gravity-1.25", 1.25, 1.0, 0.0, 4.0), Named("true", 1.0, 1.0, 0.0, 8.0)};
}

std::vector<FidelitySpec> H2OPresets() {
  return {Named("h2o-gravity", 2.0, 1.0, 0.0, 1.0), Named("h2o-friction", 1.0, 0.3, 0.0, 1.0),
          Named("h2o-noise", 1.0, 1.0, 1.0, 1.0)};
}

int ApplyFidelity(const FidelitySpec& spec, int base_frame_skip, mjModel* model) {
  spec.Validate();
  for (int i = 0; i < 3; ++i) model->opt.gravity[i] *= spec.gravity_scale;
  if (spec.friction_scale != 1.0) {
    for (int i = 0; i < 3 * model->ngeom; ++i) model->geom_friction[i] *= spec.friction_scale;
  }
  int frame_skip = base_frame_skip;
  if (spec.frame_skip != 0 && spec.frame_skip != base_frame_skip) {
    model->opt.timestep = model->opt.timestep * base_frame_skip / spec.frame_skip;
    frame_skip = spec.frame_skip;
  }
  if (spec.solver_iterations != 0) model->opt.iterations = spec.solver_iterations;
  if (spec.ls_iterations != 0) model->opt.ls_iterations = spec.ls_iterations;
  return frame_skip;
}

}  // namespace mfhrl
