// The member definitions of TaskPool<Task> (sim/task_pool.h). Include only where a
// task's pool is explicitly instantiated (e.g. sim/sim_pool.cc); elsewhere the
// header's declaration and the instantiation's extern declaration suffice.
#ifndef MFHRL_SIM_TASK_POOL_IMPL_H_
#define MFHRL_SIM_TASK_POOL_IMPL_H_

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "sim/mujoco_support.h"
#include "sim/task_pool.h"

namespace mfhrl {

template <typename Task>
TaskPool<Task>::TaskPool(PoolConfig config, TaskConfig task_config)
    : config_(std::move(config)), threads_(config_.num_threads) {
  config_.Validate();
  task_config.Validate();
  sim_detail::InstallErrorHook();
  // Load once, copy per fidelity.
  mjModel* base = sim_detail::LoadModel(config_.xml_path);
  try {
    task_.emplace(task_config, base);
  } catch (...) {
    mj_deleteModel(base);
    throw;
  }
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
  obs_dim_ = task_->spec().obs_dim;
  act_dim_ = task_->spec().act_dim;
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
  for (Env& env : envs_) sim_detail::Guarded(&env.error, [&] { ResetEnv(env); });
  try {
    ThrowMujocoErrors("");
  } catch (...) {
    Free();  // the destructor does not run when a constructor throws
    throw;
  }
}

template <typename Task>
TaskPool<Task>::~TaskPool() {
  Free();
}

template <typename Task>
void TaskPool<Task>::Free() {
  for (Env& env : envs_) mj_deleteData(env.data);
  for (Fidelity& f : fidelities_) mj_deleteModel(f.model);
  envs_.clear();
  fidelities_.clear();
}

template <typename Task>
void TaskPool<Task>::Seed(uint64_t seed) {
  config_.seed = seed;
  for (size_t i = 0; i < envs_.size(); ++i) {
    envs_[i].random.engine.seed(seed + i);
    envs_[i].random.normal.reset();
  }
}

template <typename Task>
void TaskPool<Task>::WriteObsRow(const mjData* d, void* obs, int64_t i, ObsType type) const {
  if (type == ObsType::kFloat64) {
    task_->Observe(d, static_cast<double*>(obs) + i * obs_dim_);
  } else {
    task_->Observe(d, static_cast<float*>(obs) + i * obs_dim_);
  }
}

template <typename Task>
void TaskPool<Task>::ResetEnv(Env& env) {
  task_->Reset(fidelities_[env.fidelity].model, env.data, env.random);
  env.elapsed = 0;
  env.episode_return = 0.0;
  Record(env);
}

template <typename Task>
template <typename T>
void TaskPool<Task>::StepRange(int64_t begin, int64_t end, const double* actions,
                               const StepOutputs& out, bool stage, const bool* hold) {
  const Task& task = *task_;
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
      env.applied[j] = d->ctrl[j] =
          noise > 0.0 ? a[j] + noise * env.random.normal(env.random.engine) : a[j];
    }
    const int warnings_before = sim_detail::TotalWarnings(d);
    const typename Task::StepStart start = task.Begin(d);
    const bool stepped = sim_detail::Guarded(&env.error, [&] {
      for (int k = 0; k < f.frame_skip; ++k) mj_step(m, d);
    });
    const bool bad = !stepped || sim_detail::TotalWarnings(d) != warnings_before ||
                     !sim_detail::AllFinite(d->qpos, nq_) || !sim_detail::AllFinite(d->qvel, nv_);
    const double reward = bad ? 0.0 : task.Reward(d, start, f.dt);
    const bool terminated = !bad && task.Terminated(d);
    env.elapsed += 1;
    env.episode_return += reward;
    const bool truncated = bad || env.elapsed >= config_.max_episode_steps;
    out.reward[i] = reward;
    out.terminated[i] = terminated;
    out.truncated[i] = truncated;
    out.unstable[i] = bad;
    out.episode_return[i] = env.episode_return;
    out.episode_length[i] = env.elapsed;
    T* final_row = final_obs + i * obs_dim_;
    if (bad) {
      for (int j = 0; j < obs_dim_; ++j) final_row[j] = static_cast<T>(env.last_obs[j]);
    } else {
      task.Observe(d, final_row);
      Record(env);
    }
    if (stage) StageTransition(i, a, out);
    if (terminated || truncated) sim_detail::Guarded(&env.error, [&] { ResetEnv(env); });
    task.Observe(d, obs + i * obs_dim_);
  }
}

template <typename Task>
template <typename T>
void TaskPool<Task>::HoldEnv(int64_t i, const StepOutputs& out) {
  const Env& env = envs_[i];
  task_->Observe(env.data, static_cast<T*>(out.obs) + i * obs_dim_);
  task_->Observe(env.data, static_cast<T*>(out.final_obs) + i * obs_dim_);
  out.reward[i] = 0.0;
  out.terminated[i] = out.truncated[i] = out.unstable[i] = false;
  out.episode_return[i] = env.episode_return;
  out.episode_length[i] = env.elapsed;
}

template <typename Task>
void TaskPool<Task>::StageTransition(int64_t i, const double* action, const StepOutputs& out) {
  // Env i's data still holds the post-step state (the reset comes after).
  task_->Observe(envs_[i].data, &stage_.next_obs[i * obs_dim_]);
  for (int j = 0; j < act_dim_; ++j) stage_.action[i * act_dim_ + j] = static_cast<float>(action[j]);
  stage_.reward[i] = static_cast<float>(out.reward[i]);
  stage_.terminated[i] = out.terminated[i] ? 1.0f : 0.0f;
  stage_.truncated[i] = out.truncated[i] ? 1.0f : 0.0f;
}

template <typename Task>
void TaskPool<Task>::StoreStaged(TransitionSink* sink, const StepOutputs& out, const bool* hold) {
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
  sink->Add(rows);
  if (kept != num_envs()) {  // restore the compacted fidelity ids
    for (int64_t i = 0; i < num_envs(); ++i) stage_.fidelity[i] = static_cast<uint8_t>(envs_[i].fidelity);
  }
}

template <typename Task>
void TaskPool<Task>::Step(const double* actions, const StepOutputs& out, ObsType type,
                          TransitionSink* sink, const bool* hold) {
  const bool stage = sink != nullptr;
  threads_.ParallelFor(num_envs(), [&](int64_t begin, int64_t end) {
    if (type == ObsType::kFloat64) {
      StepRange<double>(begin, end, actions, out, stage, hold);
    } else {
      StepRange<float>(begin, end, actions, out, stage, hold);
    }
  });
  if (stage) StoreStaged(sink, out, hold);
  ThrowMujocoErrors(" (they were reset and flagged unstable; the pool remains usable)");
}

template <typename Task>
void TaskPool<Task>::ThrowMujocoErrors(const std::string& suffix) {
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

template <typename Task>
void TaskPool<Task>::Reset(void* obs, ObsType type) {
  threads_.ParallelFor(num_envs(), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      sim_detail::Guarded(&envs_[i].error, [&] { ResetEnv(envs_[i]); });
      WriteObsRow(envs_[i].data, obs, i, type);
    }
  });
  ThrowMujocoErrors("");
}

template <typename Task>
void TaskPool<Task>::GetState(double* qpos, double* qvel) const {
  for (size_t i = 0; i < envs_.size(); ++i) {
    mju_copy(qpos + i * nq_, envs_[i].data->qpos, nq_);
    mju_copy(qvel + i * nv_, envs_[i].data->qvel, nv_);
  }
}

template <typename Task>
void TaskPool<Task>::SetState(const double* qpos, const double* qvel, void* obs, ObsType type) {
  for (size_t i = 0; i < envs_.size(); ++i) {
    Env& env = envs_[i];
    mju_copy(env.data->qpos, qpos + i * nq_, nq_);
    mju_copy(env.data->qvel, qvel + i * nv_, nv_);
    sim_detail::Guarded(&env.error, [&] { mj_forward(fidelities_[env.fidelity].model, env.data); });
    Record(env);
    WriteObsRow(env.data, obs, i, type);
  }
  ThrowMujocoErrors("");
}

template <typename Task>
void TaskPool<Task>::GetAppliedActions(double* ctrl) const {
  for (size_t i = 0; i < envs_.size(); ++i) {
    std::copy(envs_[i].applied.begin(), envs_[i].applied.end(), ctrl + i * act_dim_);
  }
}

}  // namespace mfhrl

#endif  // MFHRL_SIM_TASK_POOL_IMPL_H_
