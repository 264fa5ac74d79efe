"""SimPoolVectorEnv as a Gymnasium VectorEnv (same-step autoreset)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import HEAVY, TRUE
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.wrappers.vector import ClipAction, RecordEpisodeStatistics

from mfhrl_fast import SimPool, SimPoolVectorEnv

NUM_ENVS = 4
LIMIT = 5


def make_env(**kwargs) -> SimPoolVectorEnv:
    config = dict(
        num_envs=NUM_ENVS,
        fidelities=[TRUE, HEAVY],
        fidelity_ids=[0, 0, 1, 1],
        max_episode_steps=LIMIT,
    )
    return SimPoolVectorEnv(**(config | kwargs))


def run(env, steps: int, seed: int = 0) -> list[tuple]:
    """reset(seed) then ``steps`` steps with seeded action-space samples; returns every step."""
    env.reset(seed=seed)
    return [env.step(env.action_space.sample()) for _ in range(steps)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_spaces(dtype):
    env = make_env(obs_dtype=dtype)
    assert isinstance(env, VectorEnv) and env.num_envs == NUM_ENVS
    assert env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert env.single_observation_space.shape == (17,)
    assert env.observation_space.shape == (NUM_ENVS, 17)
    assert env.observation_space.dtype == dtype
    assert env.single_action_space.shape == (6,)
    assert env.action_space.shape == (NUM_ENVS, 6)
    np.testing.assert_array_equal(env.single_action_space.low, -np.ones(6))
    np.testing.assert_array_equal(env.single_action_space.high, np.ones(6))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reset_and_step_types(dtype):
    env = make_env(obs_dtype=dtype)
    obs, info = env.reset(seed=1)
    assert isinstance(info, dict)
    assert obs in env.observation_space and obs.dtype == dtype
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert obs in env.observation_space and obs.dtype == dtype
    assert reward.shape == (NUM_ENVS,) and reward.dtype == np.float64
    for flags in (terminated, truncated, info["_final_obs"]):
        assert flags.shape == (NUM_ENVS,) and flags.dtype == np.bool_
    assert info["final_obs"].shape == (NUM_ENVS, 17)


def test_final_obs_mask_at_truncation():
    steps = run(make_env(), 2 * LIMIT + 1)
    for t, (obs, _, terminated, truncated, info) in enumerate(steps, start=1):
        ended = terminated | truncated
        np.testing.assert_array_equal(info["_final_obs"], ended)
        assert ended.all() == (t % LIMIT == 0) and ended.any() == ended.all()
        np.testing.assert_array_equal(info["final_obs"][~ended], obs[~ended])
        assert not np.isclose(info["final_obs"][ended], obs[ended]).all(axis=1).any()


def test_reset_seed_determinism():
    env = make_env()
    obs_1, _ = env.reset(seed=123)
    sample_1 = env.action_space.sample()
    obs_2, _ = env.reset(seed=123)
    sample_2 = env.action_space.sample()
    assert data_equivalence(obs_1, obs_2, exact=True)
    assert data_equivalence(sample_1, sample_2, exact=True)
    obs_3, _ = env.reset()
    assert not data_equivalence(obs_1, obs_3)


def test_step_determinism():
    a, b = run(make_env(), 12, seed=7), run(make_env(), 12, seed=7)
    assert data_equivalence(a, b, exact=True)


def test_returned_data_not_reused():
    env = make_env()
    obs, _ = env.reset(seed=2)
    kept = obs.copy()
    first = env.step(env.action_space.sample())
    kept_step = [np.copy(x) for x in first[:4]]
    env.step(env.action_space.sample())
    np.testing.assert_array_equal(obs, kept)
    for x, y in zip(first[:4], kept_step, strict=True):
        np.testing.assert_array_equal(x, y)


def test_reset_rejects_options():
    with pytest.raises(ValueError, match="takes no options"):
        make_env().reset(options={"x": 1})


def test_wraps_an_existing_pool():
    pool = SimPool(num_envs=3)
    env = SimPoolVectorEnv(pool)
    assert env.pool is pool and env.num_envs == 3


def test_close():
    env = make_env()
    env.reset(seed=0)
    env.close()
    assert env.closed


def test_record_episode_statistics():
    env = RecordEpisodeStatistics(make_env())
    steps = run(env, 2 * LIMIT)
    for t, (_, _, _, truncated, info) in enumerate(steps, start=1):
        if t % LIMIT:
            assert "episode" not in info
            continue
        np.testing.assert_array_equal(info["_episode"], truncated)
        np.testing.assert_array_equal(info["episode"]["l"], np.full(NUM_ENVS, LIMIT))
        rewards = np.stack([s[1] for s in steps[t - LIMIT : t]])
        np.testing.assert_allclose(info["episode"]["r"], rewards.sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(info["episode"]["r"], info["episode_return"], rtol=1e-12)
    assert len(env.return_queue) == 2 * NUM_ENVS and len(env.length_queue) == 2 * NUM_ENVS


def test_clip_action_wrapper():
    env = ClipAction(make_env())
    env.reset(seed=0)
    obs, reward, *_ = env.step(np.full((NUM_ENVS, 6), 5.0))
    np.testing.assert_array_equal(env.unwrapped.pool.applied_actions(), np.ones((NUM_ENVS, 6)))
    assert np.isfinite(obs).all() and np.isfinite(reward).all()
