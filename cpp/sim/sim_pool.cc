#include "sim/sim_pool.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace mfhrl {
namespace {

// MuJoCo reports fatal errors through the global mju_user_error hook, whose
// default prints and exits the process. While a pool runs MuJoCo on a thread,
// the hook below throws instead; elsewhere it defers to the previous hook.
thread_local int intercept_depth = 0;
void (*previous_error_hook)(const char*) = nullptr;

struct MujocoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void ThrowingErrorHook(const char* message) {
  if (intercept_depth > 0) throw MujocoError(message);
  if (previous_error_hook) {
    previous_error_hook(message);
  } else {
    std::fprintf(stderr, "ERROR: %s\n", message);  // MuJoCo's own behaviour
  }
  std::exit(EXIT_FAILURE);
}

void InstallErrorHook() {
  static std::once_flag once;
  std::call_once(once, [] {
    previous_error_hook = mju_user_error;
    mju_user_error = ThrowingErrorHook;
  });
}

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

int TotalWarnings(const mjData* d) {
  int total = 0;
  for (int i = 0; i < mjNWARNING; ++i) total += d->warning[i].number;
  return total;
}

bool AllFinite(const mjtNum* x, int n) {
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return false;
  }
  return true;
}

void ValidateConfig(const PoolConfig& c) {
  if (c.fidelities.empty()) throw std::invalid_argument("SimPool needs at least one fidelity");
  if (c.fidelity_ids.empty()) throw std::invalid_argument("SimPool needs at least one environment");
  for (const FidelitySpec& spec : c.fidelities) spec.Validate();
  const int k = static_cast<int>(c.fidelities.size());
  if (k > 256) throw std::invalid_argument("at most 256 fidelities (ids are stored as uint8)");
  for (size_t i = 0; i < c.fidelity_ids.size(); ++i) {
    if (c.fidelity_ids[i] < 0 || c.fidelity_ids[i] >= k) {
      throw std::invalid_argument("fidelity_ids[" + std::to_string(i) + "] = " +
                                  std::to_string(c.fidelity_ids[i]) +
                                  " is not a fidelity index in [0, " + std::to_string(k) + ")");
    }
  }
  if (c.max_episode_steps < 1) throw std::invalid_argument("max_episode_steps must be >= 1");
  if (c.frame_skip < 1) throw std::invalid_argument("frame_skip must be >= 1");
  if (!(c.reset_noise_scale >= 0.0) || !std::isfinite(c.reset_noise_scale)) {
    throw std::invalid_argument("reset_noise_scale must be a finite number >= 0");
  }
}

// Loads the XML at path. Gymnasium's half_cheetah.xml sets the compiler attribute
// settotalmass, deprecated in MuJoCo 3.3: compiling with it prints a warning and appends
// it to MUJOCO_LOG.TXT in the working directory, once per model. So the attribute is
// cleared before compiling and applied to the compiled model instead: mj_setTotalmass
// scales masses and inertias as the compiler does, mj_setConst recomputes the derived
// constants, and the two statistics the compiler derives from them are recomputed as it
// computes them (bit-identical to the compiler's model for HalfCheetah; tests/test_sim_parity).
mjModel* LoadModel(const std::string& path) {
  char error[1024] = "";
  mjSpec* spec = mj_parseXML(path.c_str(), nullptr, error, sizeof(error));
  if (!spec) throw std::runtime_error("MuJoCo could not load '" + path + "': " + error);
  const double total_mass = spec->compiler.settotalmass;
  spec->compiler.settotalmass = -1;
  mjModel* m = mj_compile(spec, nullptr);
  if (!m) {
    const std::string message = mjs_getError(spec);
    mj_deleteSpec(spec);
    throw std::runtime_error("MuJoCo could not compile '" + path + "': " + message);
  }
  mj_deleteSpec(spec);
  if (total_mass > 0) {
    mj_setTotalmass(m, total_mass);
    mjData* d = mj_makeData(m);
    if (!d) {
      mj_deleteModel(m);
      throw std::runtime_error("MuJoCo could not allocate mjData");
    }
    mj_setConst(m, d);
    mj_deleteData(d);
    mjtNum inertia = 0, mass = 0;
    for (int i = 0; i < m->nv; ++i) inertia += m->dof_M0[i];
    for (int b = 1; b < m->nbody; ++b) mass += m->body_mass[b];
    if (m->nv > 0) m->stat.meaninertia = inertia / m->nv;
    if (m->nbody > 1) m->stat.meanmass = mass / (m->nbody - 1);
  }
  return m;
}

}  // namespace

SimPool::SimPool(PoolConfig config) : config_(std::move(config)), threads_(config_.num_threads) {
  ValidateConfig(config_);
  InstallErrorHook();
  // Load once, copy per fidelity.
  mjModel* base = LoadModel(config_.xml_path);
  for (const FidelitySpec& spec : config_.fidelities) {
    Fidelity f;
    f.spec = spec;
    f.model = mj_copyModel(nullptr, base);
    f.frame_skip = ApplyFidelity(spec, config_.frame_skip, f.model);
    f.dt = f.model->opt.timestep * f.frame_skip;
    fidelities_.push_back(std::move(f));
  }
  mj_deleteModel(base);
  const mjModel* m = fidelities_[0].model;
  nq_ = m->nq;
  nv_ = m->nv;
  act_dim_ = m->nu;
  obs_dim_ = nq_ - 1 + nv_;
  for (int j = 0; j < act_dim_; ++j) {
    const bool limited = m->actuator_ctrllimited[j];
    action_low_.push_back(limited ? m->actuator_ctrlrange[2 * j] : -mjMAXVAL);
    action_high_.push_back(limited ? m->actuator_ctrlrange[2 * j + 1] : mjMAXVAL);
  }
  envs_.resize(config_.fidelity_ids.size());
  for (size_t i = 0; i < envs_.size(); ++i) {
    Env& env = envs_[i];
    env.fidelity = config_.fidelity_ids[i];
    env.data = mj_makeData(fidelities_[env.fidelity].model);
    if (!env.data) throw std::runtime_error("MuJoCo could not allocate mjData");
    env.last_obs.assign(obs_dim_, 0.0);
    env.applied.assign(act_dim_, 0.0);
  }
  const size_t n = envs_.size();
  stage_.obs.resize(n * obs_dim_);
  stage_.next_obs.resize(n * obs_dim_);
  stage_.action.resize(n * act_dim_);
  stage_.reward.resize(n);
  stage_.terminated.resize(n);
  stage_.truncated.resize(n);
  for (const Env& env : envs_) stage_.fidelity.push_back(static_cast<uint8_t>(env.fidelity));
  Seed(config_.seed);
  for (Env& env : envs_) Guarded(&env.error, [&] { ResetEnv(env); });
  try {
    ThrowMujocoErrors("");
  } catch (...) {
    Free();  // the destructor does not run when a constructor throws
    throw;
  }
}

SimPool::~SimPool() { Free(); }

void SimPool::Free() {
  for (Env& env : envs_) mj_deleteData(env.data);
  for (Fidelity& f : fidelities_) mj_deleteModel(f.model);
  envs_.clear();
  fidelities_.clear();
}

void SimPool::Seed(uint64_t seed) {
  config_.seed = seed;
  for (size_t i = 0; i < envs_.size(); ++i) {
    envs_[i].rng.seed(seed + i);
    envs_[i].normal.reset();
  }
}

template <typename T>
void SimPool::WriteObs(const mjData* d, T* row) const {
  for (int j = 1; j < nq_; ++j) *row++ = static_cast<T>(d->qpos[j]);
  for (int j = 0; j < nv_; ++j) *row++ = static_cast<T>(d->qvel[j]);
}

void SimPool::WriteObsRow(const mjData* d, void* obs, int64_t i, ObsType type) const {
  if (type == ObsType::kFloat64) {
    WriteObs(d, static_cast<double*>(obs) + i * obs_dim_);
  } else {
    WriteObs(d, static_cast<float*>(obs) + i * obs_dim_);
  }
}

void SimPool::Record(Env& env) { WriteObs(env.data, env.last_obs.data()); }

void SimPool::ResetEnv(Env& env) {
  const mjModel* m = fidelities_[env.fidelity].model;
  mjData* d = env.data;
  mj_resetData(m, d);
  const double s = config_.reset_noise_scale;
  std::uniform_real_distribution<double> uniform(-s, s);
  for (int j = 0; j < nq_; ++j) d->qpos[j] = m->qpos0[j] + uniform(env.rng);
  for (int j = 0; j < nv_; ++j) d->qvel[j] = s * env.normal(env.rng);
  mj_forward(m, d);
  env.elapsed = 0;
  env.episode_return = 0.0;
  Record(env);
}

template <typename T>
void SimPool::StepRange(int64_t begin, int64_t end, const double* actions,
                        const StepOutputs& out, bool stage, const bool* hold) {
  T* obs = static_cast<T*>(out.obs);
  T* final_obs = static_cast<T*>(out.final_obs);
  for (int64_t i = begin; i < end; ++i) {
    if (hold != nullptr && hold[i]) {
      HoldEnv<T>(i, out);
      continue;
    }
    Env& env = envs_[i];
    const Fidelity& f = fidelities_[env.fidelity];
    const mjModel* m = f.model;
    mjData* d = env.data;
    const double* a = actions + i * act_dim_;
    if (stage) {  // the obs this step starts from, before Record overwrites it
      for (int j = 0; j < obs_dim_; ++j) stage_.obs[i * obs_dim_ + j] = static_cast<float>(env.last_obs[j]);
    }
    const double noise = f.spec.action_noise_std;
    for (int j = 0; j < act_dim_; ++j) {
      // Kept apart from d->ctrl, which an auto-reset clears.
      env.applied[j] = d->ctrl[j] = noise > 0.0 ? a[j] + noise * env.normal(env.rng) : a[j];
    }
    const int warnings_before = TotalWarnings(d);
    const double x_before = d->qpos[0];
    const bool stepped = Guarded(&env.error, [&] {
      for (int k = 0; k < f.frame_skip; ++k) mj_step(m, d);
    });
    const bool bad = !stepped || TotalWarnings(d) != warnings_before ||
                     !AllFinite(d->qpos, nq_) || !AllFinite(d->qvel, nv_);
    // Same operation order as Gymnasium's numpy code, for bit-exact rewards.
    double ctrl_sq = 0.0;
    for (int j = 0; j < act_dim_; ++j) ctrl_sq += d->ctrl[j] * d->ctrl[j];
    const double x_velocity = (d->qpos[0] - x_before) / f.dt;
    const double reward = bad ? 0.0
                              : config_.forward_reward_weight * x_velocity -
                                    config_.ctrl_cost_weight * ctrl_sq;
    env.elapsed += 1;
    env.episode_return += reward;
    const bool truncated = bad || env.elapsed >= config_.max_episode_steps;
    out.reward[i] = reward;
    out.terminated[i] = false;
    out.truncated[i] = truncated;
    out.unstable[i] = bad;
    out.episode_return[i] = env.episode_return;
    out.episode_length[i] = env.elapsed;
    T* final_row = final_obs + i * obs_dim_;
    if (bad) {
      for (int j = 0; j < obs_dim_; ++j) final_row[j] = static_cast<T>(env.last_obs[j]);
    } else {
      WriteObs(d, final_row);
      Record(env);
    }
    if (stage) StageTransition(i, a, out);
    if (truncated) Guarded(&env.error, [&] { ResetEnv(env); });
    WriteObs(d, obs + i * obs_dim_);
  }
}

template <typename T>
void SimPool::HoldEnv(int64_t i, const StepOutputs& out) {
  const Env& env = envs_[i];
  WriteObs(env.data, static_cast<T*>(out.obs) + i * obs_dim_);
  WriteObs(env.data, static_cast<T*>(out.final_obs) + i * obs_dim_);
  out.reward[i] = 0.0;
  out.terminated[i] = out.truncated[i] = out.unstable[i] = false;
  out.episode_return[i] = env.episode_return;
  out.episode_length[i] = env.elapsed;
}

void SimPool::StageTransition(int64_t i, const double* action, const StepOutputs& out) {
  // Env i's data still holds the post-step state (the reset comes after).
  WriteObs(envs_[i].data, &stage_.next_obs[i * obs_dim_]);
  for (int j = 0; j < act_dim_; ++j) stage_.action[i * act_dim_ + j] = static_cast<float>(action[j]);
  stage_.reward[i] = static_cast<float>(out.reward[i]);
  stage_.terminated[i] = out.terminated[i] ? 1.0f : 0.0f;
  stage_.truncated[i] = out.truncated[i] ? 1.0f : 0.0f;
}

void SimPool::StoreStaged(ReplayRing* replay, const StepOutputs& out, const bool* hold) {
  // Unstable and held steps hold no transition: compact them away (rare).
  int64_t kept = 0;
  for (int64_t i = 0; i < num_envs(); ++i) {
    if (out.unstable[i] || (hold != nullptr && hold[i])) continue;
    if (kept != i) {
      std::copy_n(&stage_.obs[i * obs_dim_], obs_dim_, &stage_.obs[kept * obs_dim_]);
      std::copy_n(&stage_.next_obs[i * obs_dim_], obs_dim_, &stage_.next_obs[kept * obs_dim_]);
      std::copy_n(&stage_.action[i * act_dim_], act_dim_, &stage_.action[kept * act_dim_]);
      stage_.reward[kept] = stage_.reward[i];
      stage_.terminated[kept] = stage_.terminated[i];
      stage_.truncated[kept] = stage_.truncated[i];
      stage_.fidelity[kept] = stage_.fidelity[i];
    }
    ++kept;
  }
  TransitionRows rows;
  rows.n = kept;
  rows.obs = stage_.obs.data();
  rows.action = stage_.action.data();
  rows.reward = stage_.reward.data();
  rows.next_obs = stage_.next_obs.data();
  rows.terminated = stage_.terminated.data();
  rows.truncated = stage_.truncated.data();
  rows.fidelity = stage_.fidelity.data();
  replay->Add(rows);
  if (kept != num_envs()) {  // restore the compacted fidelity ids
    for (int64_t i = 0; i < num_envs(); ++i) stage_.fidelity[i] = static_cast<uint8_t>(envs_[i].fidelity);
  }
}

void SimPool::Step(const double* actions, const StepOutputs& out, ObsType type,
                   ReplayRing* replay, const bool* hold) {
  const bool stage = replay != nullptr;
  threads_.ParallelFor(num_envs(), [&](int64_t begin, int64_t end) {
    if (type == ObsType::kFloat64) {
      StepRange<double>(begin, end, actions, out, stage, hold);
    } else {
      StepRange<float>(begin, end, actions, out, stage, hold);
    }
  });
  if (stage) StoreStaged(replay, out, hold);
  ThrowMujocoErrors(" (they were reset and flagged unstable; the pool remains usable)");
}

void SimPool::ThrowMujocoErrors(const std::string& suffix) {
  std::string message;
  int count = 0;
  for (size_t i = 0; i < envs_.size(); ++i) {
    if (envs_[i].error.empty()) continue;
    if (count++ == 0) message = "environment " + std::to_string(i) + ": " + envs_[i].error;
    envs_[i].error.clear();
  }
  if (count == 0) return;
  throw std::runtime_error("MuJoCo error in " + std::to_string(count) + " environment(s), " +
                           message + suffix);
}

void SimPool::Reset(void* obs, ObsType type) {
  threads_.ParallelFor(num_envs(), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      Guarded(&envs_[i].error, [&] { ResetEnv(envs_[i]); });
      WriteObsRow(envs_[i].data, obs, i, type);
    }
  });
  ThrowMujocoErrors("");
}

void SimPool::GetState(double* qpos, double* qvel) const {
  for (size_t i = 0; i < envs_.size(); ++i) {
    mju_copy(qpos + i * nq_, envs_[i].data->qpos, nq_);
    mju_copy(qvel + i * nv_, envs_[i].data->qvel, nv_);
  }
}

void SimPool::SetState(const double* qpos, const double* qvel, void* obs, ObsType type) {
  for (size_t i = 0; i < envs_.size(); ++i) {
    Env& env = envs_[i];
    mju_copy(env.data->qpos, qpos + i * nq_, nq_);
    mju_copy(env.data->qvel, qvel + i * nv_, nv_);
    Guarded(&env.error, [&] { mj_forward(fidelities_[env.fidelity].model, env.data); });
    Record(env);
    WriteObsRow(env.data, obs, i, type);
  }
  ThrowMujocoErrors("");
}

void SimPool::GetAppliedActions(double* ctrl) const {
  for (size_t i = 0; i < envs_.size(); ++i) {
    std::copy(envs_[i].applied.begin(), envs_[i].applied.end(), ctrl + i * act_dim_);
  }
}

}  // namespace mfhrl
