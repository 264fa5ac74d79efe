// A test driver of the C++ core without Python, built for the sanitizer jobs of .ci/run
// (-DMFHRL_SANITIZE=address;undefined, and thread):
//
//   core_check /path/to/half_cheetah.xml
//
// Steps a 3-fidelity pool on 3 threads with its transitions written into a replay ring
// (the fused path), samples the ring on 2 threads (member rows too), saves and reloads
// it, provokes a bad configuration and a bad XML, runs the estimators through the
// shared thread pool, leases the shared pools of core/thread_pool_registry.h
// from several threads and checks the fused LayerNorm kernel (nn/) against a
// double-precision reference, on one thread and on a pool. Prints "ok" and returns 0 when every check holds.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/replay_ring.h"
#include "core/thread_pool.h"
#include "core/thread_pool_registry.h"
#include "core/transition_sink.h"
#include "nn/layer_norm_relu.h"
#include "sim/sim_pool.h"
#include "sim/step_buffers.h"

namespace {

int failures = 0;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

template <typename F>
bool Throws(F&& f) {
  try {
    f();
  } catch (const std::exception&) {
    return true;
  }
  return false;
}

// The fused write of the C++ programs: the pool's rows go straight into the ring.
class RingSink final : public mfhrl::TransitionSink {
 public:
  explicit RingSink(mfhrl::ReplayRing& ring) : ring_(ring) {}
  void Add(const mfhrl::TransitionRows& rows) override { ring_.Add(rows); }

 private:
  mfhrl::ReplayRing& ring_;
};

void PoolAndRing(const std::string& xml) {
  mfhrl::PoolConfig config;
  config.xml_path = xml;
  mfhrl::FidelitySpec heavy, light;
  heavy.name = "gravity-2.0";
  heavy.gravity_scale = 2.0;
  light.name = "gravity-1.5";
  light.gravity_scale = 1.5;
  config.fidelities = {heavy, light, mfhrl::FidelitySpec{}};
  config.fidelity_ids = {0, 0, 1, 1, 2, 2};
  config.num_threads = 3;
  config.max_episode_steps = 50;
  mfhrl::SimPool pool(config);
  const int n = pool.num_envs(), act = pool.act_dim(), obs_dim = pool.obs_dim();

  mfhrl::ReplayConfig rc;
  rc.capacity = 256;  // wraps around: 100 steps x 6 envs
  rc.obs_dim = obs_dim;
  rc.act_dim = act;
  rc.num_members = 5;
  rc.num_threads = 2;
  mfhrl::ReplayRing ring(rc);
  RingSink sink(ring);

  mfhrl::StepBuffers<float> b(pool);
  std::vector<double> actions(n * act);
  pool.Reset(b.obs.data(), b.kType);
  for (int t = 0; t < 100; ++t) {
    for (int i = 0; i < n * act; ++i) actions[i] = std::sin(0.3 * t + i);
    pool.Step(actions.data(), b.out, b.kType, &sink);
  }
  Check(ring.total_added() == 100u * n, "every step stored");
  Check(ring.size() == rc.capacity, "the ring wrapped");
  std::vector<double> qpos(n * pool.nq()), qvel(n * pool.nv());
  pool.GetState(qpos.data(), qvel.data());
  Check(std::isfinite(qpos[0]) && std::isfinite(qvel[0]), "finite state");

  const int64_t batch = 4096;  // large: the gather runs on both ring threads
  std::vector<float> s_obs(rc.num_members * batch * obs_dim), s_next(s_obs.size());
  std::vector<float> s_act(rc.num_members * batch * act), s_rew(rc.num_members * batch);
  std::vector<float> s_term(s_rew.size()), s_trunc(s_rew.size());
  std::vector<uint8_t> s_fid(s_rew.size());
  mfhrl::SampleRows rows;
  rows.obs = s_obs.data();
  rows.action = s_act.data();
  rows.reward = s_rew.data();
  rows.next_obs = s_next.data();
  rows.terminated = s_term.data();
  rows.truncated = s_trunc.data();
  rows.fidelity = s_fid.data();
  ring.Sample(batch, nullptr, rows);
  std::vector<bool> only_true(mfhrl::ReplayRing::kNumFidelities, false);
  only_true[2] = true;
  ring.SampleMembers(batch, &only_true, rows);
  bool all_true = true;
  for (int64_t i = 0; i < rc.num_members * batch; ++i) all_true &= s_fid[i] == 2;
  Check(all_true, "member samples of fidelity 2 only");

  const std::string path = "core_check_ring.bin";
  ring.Save(path);
  mfhrl::ReplayRing loaded = mfhrl::ReplayRing::Load(path, 2);
  std::remove(path.c_str());
  Check(loaded.size() == ring.size() && loaded.total_added() == ring.total_added(),
        "the ring reloads");
}

void Errors(const std::string& xml) {
  mfhrl::PoolConfig bad;
  bad.xml_path = xml;
  bad.fidelities = {mfhrl::FidelitySpec{}};
  bad.fidelity_ids = {0};
  bad.frame_skip = 0;
  Check(Throws([&] { mfhrl::SimPool pool(bad); }), "a bad config throws");
  mfhrl::PoolConfig good = bad;
  good.frame_skip = 5;
  mfhrl::HalfCheetahConfig noisy;
  noisy.reset_noise_scale = -1.0;
  Check(Throws([&] { mfhrl::SimPool pool(good, noisy); }), "a bad task config throws");
  mfhrl::PoolConfig missing;
  missing.xml_path = "/nonexistent/model.xml";
  missing.fidelities = {mfhrl::FidelitySpec{}};
  missing.fidelity_ids = {0};
  Check(Throws([&] { mfhrl::SimPool pool(missing); }), "a missing XML throws");
  mfhrl::ReplayConfig rc;
  rc.num_members = 65;
  Check(Throws([&] { mfhrl::ReplayRing ring(rc); }), "too many members throws");
}

// The shared pools: one per thread count, kept across leases, one lease at a
// time (a busy pool leases nothing), and sound when leased from many threads.
void SharedPools() {
  Check(mfhrl::PoolLease(1).get() == nullptr, "one thread leases no pool");
  mfhrl::ThreadPool* first = nullptr;
  {
    mfhrl::PoolLease lease(3);
    first = lease.get();
    Check(first != nullptr && first->num_threads() == 3, "a pool of 3 threads");
    mfhrl::ThreadPool* other = first;
    std::thread([&other] { other = mfhrl::PoolLease(3).get(); }).join();
    Check(other == nullptr, "a busy pool leases nothing");
    Check(mfhrl::PoolLease(2).get() != first, "another count, another pool");
  }
  Check(mfhrl::PoolLease(3).get() == first, "the pool is kept");
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&total] {
      for (int k = 0; k < 50; ++k) {
        mfhrl::PoolLease lease(2);
        const auto body = [&total](int64_t begin, int64_t end) { total += end - begin; };
        if (lease.get()) {
          lease.get()->ParallelFor(100, body);
        } else {
          body(0, 100);  // busy: the calling thread does the work
        }
      }
    });
  }
  for (std::thread& c : callers) c.join();
  Check(total == 4 * 50 * 100, "every item done once, pooled or not");
}

// relu(scale * layer_norm(x + bias) + shift) and its input gradient for dy = 1 in
// double, against the kernel; then the same on a pool of 3 threads, bit for bit.
void FusedLayerNorm() {
  const mfhrl::nn::LayerNormShape s{3, 5, 64};
  const int64_t n = s.members * s.rows * s.dim, v = s.members * s.dim;
  std::vector<float> x(n), bias(v), scale(v), shift(v);
  for (int64_t i = 0; i < n; ++i) x[i] = std::sin(0.37 * static_cast<double>(i)) * 3.0f;
  for (int64_t i = 0; i < v; ++i) {
    bias[i] = std::cos(0.11 * static_cast<double>(i));
    scale[i] = 1.0f + 0.1f * std::sin(static_cast<double>(i));
    shift[i] = 0.2f * std::cos(0.7 * static_cast<double>(i));
  }
  const mfhrl::nn::LayerNormParams params{bias.data(), scale.data(), shift.data()};
  const auto run = [&](mfhrl::ThreadPool* pool, std::vector<float>* y, std::vector<float>* dx) {
    std::vector<float> mean(s.members * s.rows), rstd(s.members * s.rows), dy(n, 1.0f);
    y->assign(n, 0.0f);
    dx->assign(n, 0.0f);
    std::vector<float> dbias(v), dscale(v), dshift(v);
    mfhrl::nn::LayerNormReluForward(x.data(), params, s, 1e-5f, y->data(), mean.data(),
                                    rstd.data(), pool);
    mfhrl::nn::LayerNormReluBackward(dy.data(), x.data(), params, mean.data(), rstd.data(), s,
                                     {dx->data(), dbias.data(), dscale.data(), dshift.data()},
                                     pool);
  };
  std::vector<float> y, dx;
  run(nullptr, &y, &dx);
  double worst_y = 0.0, worst_dx = 0.0;
  for (int64_t r = 0; r < s.members * s.rows; ++r) {
    const int64_t m = r / s.rows;
    std::vector<double> in(s.dim), xhat(s.dim), dvhat(s.dim);
    double mu = 0.0, var = 0.0;
    for (int64_t d = 0; d < s.dim; ++d) in[d] = x[r * s.dim + d] + bias[m * s.dim + d];
    for (double value : in) mu += value / s.dim;
    for (double value : in) var += (value - mu) * (value - mu) / s.dim;
    const double rs = 1.0 / std::sqrt(var + 1e-5);
    double a = 0.0, c = 0.0;
    for (int64_t d = 0; d < s.dim; ++d) {
      xhat[d] = (in[d] - mu) * rs;
      const double z = scale[m * s.dim + d] * xhat[d] + shift[m * s.dim + d];
      worst_y = std::max(worst_y, std::abs(std::max(z, 0.0) - y[r * s.dim + d]));
      dvhat[d] = z > 0.0 ? scale[m * s.dim + d] : 0.0;
      a += dvhat[d] / s.dim;
      c += dvhat[d] * xhat[d] / s.dim;
    }
    for (int64_t d = 0; d < s.dim; ++d) {
      const double want = rs * (dvhat[d] - a - xhat[d] * c);
      worst_dx = std::max(worst_dx, std::abs(want - dx[r * s.dim + d]));
    }
  }
  Check(worst_y < 1e-5 && worst_dx < 1e-5, "fused LayerNorm matches the double reference");
  mfhrl::ThreadPool pool(3);
  std::vector<float> y3, dx3;
  run(&pool, &y3, &dx3);
  Check(y3 == y && dx3 == dx, "fused LayerNorm: the same on 3 threads");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s HALF_CHEETAH_XML\n", argv[0]);
    return 2;
  }
  try {
    PoolAndRing(argv[1]);
    Errors(argv[1]);
    SharedPools();
    FusedLayerNorm();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  if (failures) return 1;
  std::printf("ok\n");
  return 0;
}
