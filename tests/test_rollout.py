"""The one rollout loop (mfhrl_fast.rollout): same transitions as stepping by hand, early
stop, cached pools that start where new ones do, and evaluate() on top of it."""

import numpy as np
import pytest

from mfhrl_fast import FidelitySpec, ReplayRing, SimPool
from mfhrl_fast.learners import EnsembleSAC, SACConfig
from mfhrl_fast.learners.online import evaluate
from mfhrl_fast.rollout import PoolStep, fresh_pool, rollout


def _policy(obs: np.ndarray) -> np.ndarray:
    """Deterministic, state-dependent actions."""
    return np.tanh(obs[:, :6] * 3.0).astype(np.float32)


def test_rollout_matches_stepping_by_hand():
    ring_a = ReplayRing(capacity=400, obs_dim=17, act_dim=6)
    ring_b = ReplayRing(capacity=400, obs_dim=17, act_dim=6)
    pool = SimPool(num_envs=3, seed=4, max_episode_steps=20, obs_dtype=np.float32)
    seen: list[PoolStep] = []
    last = rollout(pool, _policy, 50, replay=ring_a,
                   sink=lambda s: seen.append(PoolStep(**{
                       k: (np.copy(v) if isinstance(v, np.ndarray) else v)
                       for k, v in vars(s).items()})))
    ref = SimPool(num_envs=3, seed=4, max_episode_steps=20, obs_dtype=np.float32)
    obs = ref.reset()
    for t, step in enumerate(seen):
        action = _policy(obs)
        nxt, reward, terminated, truncated, info = ref.step(action, replay=ring_b)
        assert step.t == t
        np.testing.assert_array_equal(step.obs, obs)
        np.testing.assert_array_equal(step.action, action)
        np.testing.assert_array_equal(step.reward, reward)
        np.testing.assert_array_equal(step.next_obs, info["final_obs"])
        np.testing.assert_array_equal(step.obs_after, nxt)
        np.testing.assert_array_equal(step.truncated, truncated)
        np.testing.assert_array_equal(step.episode_return, info["episode_return"])
        obs = nxt
    assert len(seen) == 50 and seen[19].truncated.all() and seen[19].ended.all()
    np.testing.assert_array_equal(last, obs)
    a, b = ring_a.sample(len(ring_a)), ring_b.sample(len(ring_b))
    assert len(ring_a) == len(ring_b) == 150
    np.testing.assert_array_equal(a["obs"], b["obs"])


def test_sink_stops_the_rollout_and_obs_continues_it():
    pool = SimPool(num_envs=2, seed=1, obs_dtype=np.float32)
    calls = []
    obs = rollout(pool, _policy, 100, sink=lambda s: calls.append(s.t) or s.t == 4)
    assert calls == [0, 1, 2, 3, 4]
    more = []
    rollout(pool, _policy, 3, sink=lambda s: more.append(s.obs.copy()), obs=obs)
    np.testing.assert_array_equal(more[0], obs)  # continued, not reset


def test_fresh_pool_starts_where_a_new_pool_does():
    spec = FidelitySpec(gravity_scale=1.5)
    new = SimPool(fidelities=[spec], num_envs=4, seed=7, max_episode_steps=30,
                  obs_dtype=np.float32).reset()
    pool, first = fresh_pool(spec, num_envs=4, seed=7, max_episode_steps=30, num_threads=1)
    np.testing.assert_array_equal(first, new)
    rollout(pool, _policy, 45, obs=first)  # move it on, across an auto-reset
    again, second = fresh_pool(spec, num_envs=4, seed=7, max_episode_steps=30, num_threads=1)
    assert again is pool
    np.testing.assert_array_equal(second, new)


def test_evaluate_equals_a_new_pool_by_hand_every_call():
    learner = EnsembleSAC(17, 6, num_members=2, config=SACConfig(hidden_sizes=(16, 16)), seed=3)
    ref = SimPool(num_envs=4, seed=11, max_episode_steps=40, obs_dtype=np.float32)
    obs, total = ref.reset(), np.zeros(4)
    member = np.repeat([0, 1], 2)
    for _ in range(40):
        obs, reward, *_ = ref.step(learner.act(obs, member=member, deterministic=True))
        total += reward
    for _ in range(2):  # the second call reuses the cached pool
        got = evaluate(learner, members=[0, 1], n_episodes=2, max_episode_steps=40, seed=11)
        np.testing.assert_allclose(got.reshape(-1), total, rtol=0, atol=1e-9)


def test_rollout_rejects_bad_actions_at_the_pool():
    pool = SimPool(num_envs=2, seed=0)
    with pytest.raises(ValueError):
        rollout(pool, lambda obs: np.zeros((3, 6), np.float32), 1)
