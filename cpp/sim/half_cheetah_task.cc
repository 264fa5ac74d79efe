#include "sim/half_cheetah_task.h"

#include <cmath>
#include <stdexcept>

namespace mfhrl {

void HalfCheetahConfig::Validate() const {
  if (!(reset_noise_scale >= 0.0) || !std::isfinite(reset_noise_scale)) {
    throw std::invalid_argument("reset_noise_scale must be a finite number >= 0");
  }
}

HalfCheetahTask::HalfCheetahTask(const Config& config, const mjModel* model)
    : config_(config), nq_(model->nq), nv_(model->nv) {
  config_.Validate();
  spec_.obs_dim = nq_ - 1 + nv_;
  spec_.act_dim = model->nu;
}

void HalfCheetahTask::Reset(const mjModel* m, mjData* d, EnvRandom& random) const {
  mj_resetData(m, d);
  const double s = config_.reset_noise_scale;
  std::uniform_real_distribution<double> uniform(-s, s);
  for (int j = 0; j < nq_; ++j) d->qpos[j] = m->qpos0[j] + uniform(random.engine);
  for (int j = 0; j < nv_; ++j) d->qvel[j] = s * random.normal(random.engine);
  mj_forward(m, d);
}

}  // namespace mfhrl
