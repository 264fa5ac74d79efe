"""Real transitions replayed in a simulator (mfhrl_fast.resimulate), and why the
discriminators learn the dynamics ratio w from such pairs: trained on another policy's
rollouts, their w also measures how different that policy's states are."""

import numpy as np
import pytest

from mfhrl_fast import FidelitySpec, SimPool
from mfhrl_fast.data import SinusoidGait
from mfhrl_fast.learners import FidelityDiscriminators
from mfhrl_fast.learners.config import DiscriminatorConfig
from mfhrl_fast.resimulate import half_cheetah_state, resimulate


def transitions(act, steps: int, *, spec=FidelitySpec(), seed: int = 0, envs: int = 8):
    """(obs, action, next_obs) of ``steps`` pool steps with ``act(obs, t)``'s actions."""
    pool = SimPool(fidelities=[spec], num_envs=envs, seed=seed, obs_dtype=np.float32,
                   max_episode_steps=200)
    obs, rows = pool.reset(), []
    for t in range(steps):
        action = act(obs, t)
        nxt, _, _, _, info = pool.step(action)
        rows.append((obs, action, info["final_obs"]))
        obs = nxt
    return [np.concatenate(x) for x in zip(*rows, strict=True)]


def gait(noise: float, seed: int = 0):
    policy, rng = SinusoidGait(), np.random.default_rng(seed)

    def act(obs, t):
        policy._t = np.full(len(obs), float(t % 200))
        a = policy.act(obs) + noise * rng.standard_normal((len(obs), 6))
        return np.clip(a, -1, 1).astype(np.float32)
    return act


def uniform(seed: int = 1):
    rng = np.random.default_rng(seed)
    return lambda obs, t: rng.uniform(-1, 1, (len(obs), 6)).astype(np.float32)


def test_resimulate_reproduces_the_true_dynamics_and_not_a_perturbed_one():
    obs, action, nxt = transitions(uniform(), 60)
    again = resimulate(FidelitySpec(), obs, action, chunk=100)  # 480 rows: 4 full chunks + 80
    assert again.dtype == np.float32 and again.shape == nxt.shape
    np.testing.assert_allclose(again, nxt, atol=1e-3)  # float32 obs in, solver warm start
    heavy = resimulate(FidelitySpec(gravity_scale=2.0), obs, action)
    assert np.abs(heavy - nxt).mean() > 0.05
    noisy = FidelitySpec(action_noise_std=0.1)
    np.testing.assert_array_equal(resimulate(noisy, obs, action, seed=4),
                                  resimulate(noisy, obs, action, seed=4))
    qpos, qvel = half_cheetah_state(obs[:3])
    assert qpos.shape == qvel.shape == (3, 9) and (qpos[:, 0] == 0).all()
    np.testing.assert_array_equal(qpos[:, 1:], obs[:3, :8])


def test_resimulate_rejects_bad_shapes():
    with pytest.raises(ValueError, match="17"):
        resimulate(FidelitySpec(), np.zeros((2, 16)), np.zeros((2, 6)))
    with pytest.raises(ValueError, match="action"):
        resimulate(FidelitySpec(), np.zeros((2, 17)), np.zeros((3, 6)))


def median_w(disc, obs, action, nxt) -> float:
    log_w = disc.log_ratio(obs, action, nxt, 0).numpy()
    return float(np.median(np.exp(np.minimum(log_w, 0.0))))


def trained(real, sim, steps: int = 800) -> FidelityDiscriminators:
    disc = FidelityDiscriminators(17, 6, [0], DiscriminatorConfig(hidden_sizes=(64, 64)), seed=0)
    disc.set_real_states(real[0])
    rng = np.random.default_rng(0)
    for _ in range(steps):
        i, j = rng.integers(0, len(real[0]), 128), rng.integers(0, len(sim[0]), 128)
        keys = ("obs", "action", "next_obs")
        disc.train_step(0, dict(zip(keys, (x[i] for x in real), strict=True)),
                        dict(zip(keys, (x[j] for x in sim), strict=True)))
    return disc


def test_paired_discriminators_measure_the_dynamics_gap_alone():
    """Real data: a noisy gait in the true dynamics. A simulator that IS the true dynamics,
    explored by another policy (uniform random actions): its w should be 1. Trained on
    those rollouts (H2O's way) the pair calls them unlike the real data (median w < 0.5);
    trained on the real (s, a) replayed in the simulator it gives w ~ 1 on the same
    rollouts, and a small w for a simulator with doubled gravity (on its replayed pairs;
    on off-data rollouts the estimate extrapolates, to ~0.6 here)."""
    real = transitions(gait(0.3), 250)
    rollouts = transitions(uniform(), 250, seed=7)
    assert median_w(trained(real, rollouts), *rollouts) < 0.5
    true = (real[0], real[1], resimulate(FidelitySpec(), real[0], real[1]))
    assert median_w(trained(real, true), *rollouts) > 0.8
    heavy = FidelitySpec(gravity_scale=2.0)
    paired = (real[0], real[1], resimulate(heavy, real[0], real[1]))
    disc = trained(real, paired)
    assert median_w(disc, *paired) < 0.5
    assert median_w(disc, *transitions(uniform(), 100, spec=heavy, seed=9)) < 0.8
