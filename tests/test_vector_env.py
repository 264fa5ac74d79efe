"""SimPoolVectorEnv as a Gymnasium VectorEnv: both autoreset modes, Gymnasium's own vector
wrappers, and gymnasium.make_vec of the registered id."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from conftest import HEAVY, TRUE
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.wrappers.vector import ClipAction, NormalizeObservation, RecordEpisodeStatistics

from mfhrl_fast import ENV_ID, ReplayRing, SimPool, SimPoolVectorEnv

NUM_ENVS = 4
LIMIT = 5


def make_env(**kwargs) -> SimPoolVectorEnv:
    """SAME_STEP unless told otherwise (most tests below are about its final_obs)."""
    config = dict(
        num_envs=NUM_ENVS,
        fidelities=[TRUE, HEAVY],
        fidelity_ids=[0, 0, 1, 1],
        max_episode_steps=LIMIT,
        autoreset_mode=AutoresetMode.SAME_STEP,
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


def test_record_episode_statistics_same_step():
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


def policy(obs: np.ndarray) -> np.ndarray:
    return np.tanh(2.0 * obs[:, :6]).astype(np.float32)


def test_next_step_is_same_step_with_a_reset_step_between_episodes():
    """NEXT_STEP shows the last observation when an episode ends, then spends one step
    (reward 0, action ignored) on the reset; otherwise the trajectories are SAME_STEP's."""
    same, nxt = make_env(), make_env(autoreset_mode="NextStep")
    assert nxt.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs_s, _ = same.reset(seed=3)
    obs_n, _ = nxt.reset(seed=3)
    for _episode in range(3):
        for _ in range(LIMIT):
            obs_s, r_s, _, trunc_s, info_s = same.step(policy(obs_s))
            last = info_s["final_obs"]
            obs_n, r_n, _, trunc_n, info_n = nxt.step(policy(obs_n))
            assert "final_obs" not in info_n
            np.testing.assert_array_equal(obs_n, last)
            np.testing.assert_array_equal(r_n, r_s)
            np.testing.assert_array_equal(trunc_n, trunc_s)
        assert trunc_n.all()
        obs_n, r_n, term_n, trunc_n, info_n = nxt.step(np.full((NUM_ENVS, 6), 0.5, np.float32))
        np.testing.assert_array_equal(obs_n, obs_s)  # the new episode's first observation
        assert (r_n == 0).all() and not term_n.any() and not trunc_n.any()
        assert (info_n["episode_length"] == 0).all()


def test_next_step_with_gymnasium_wrappers():
    """NormalizeObservation refuses SAME_STEP envs; with NEXT_STEP it runs, and
    RecordEpisodeStatistics reports each episode's return and length."""
    with pytest.raises(ValueError, match="NEXT_STEP"):
        NormalizeObservation(make_env())
    env = RecordEpisodeStatistics(NormalizeObservation(make_env(autoreset_mode="NextStep")))
    env.reset(seed=0)
    rewards, reports = [], []
    for _ in range(2 * (LIMIT + 1)):
        obs, reward, _, truncated, info = env.step(env.action_space.sample())
        assert np.isfinite(obs).all()
        rewards.append(reward)
        if "episode" in info:
            reports.append((len(rewards), info["episode"]))
    assert [t for t, _ in reports] == [LIMIT, 2 * LIMIT + 1]
    first = np.sum(rewards[:LIMIT], axis=0)
    second = np.sum(rewards[LIMIT + 1:], axis=0)
    for (_, episode), total in zip(reports, (first, second), strict=True):
        np.testing.assert_array_equal(episode["l"], np.full(NUM_ENVS, LIMIT))
        np.testing.assert_allclose(episode["r"], total, rtol=1e-6)


def test_make_vec_of_the_registered_id():
    env = gymnasium.make_vec(ENV_ID, num_envs=6, gravity_scale=2.0, seed=5)
    pool = env.unwrapped.pool
    assert env.num_envs == 6 and pool.num_envs == 6
    assert pool.fidelities[0].gravity_scale == 2.0 and pool.max_episode_steps == 1000
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, _ = env.reset(seed=1)
    obs, reward, *_ = env.step(env.action_space.sample())
    assert obs.shape == (6, 17) and reward.shape == (6,)
    short = gymnasium.make_vec(ENV_ID, num_envs=2, max_episode_steps=3,
                               autoreset_mode=AutoresetMode.SAME_STEP)
    assert short.unwrapped.pool.max_episode_steps == 3
    with pytest.raises(ValueError, match="NEXT_STEP or SAME_STEP"):
        SimPoolVectorEnv(num_envs=1, autoreset_mode=AutoresetMode.DISABLED)


def test_pool_hold_leaves_environments_where_they_are():
    pool = SimPool(num_envs=3, seed=2, obs_dtype=np.float32)
    ring = ReplayRing(capacity=10, obs_dim=17, act_dim=6)
    obs = pool.reset()
    qpos, qvel = pool.get_state()
    hold = np.array([False, True, False])
    after, reward, terminated, truncated, info = pool.step(np.ones((3, 6)), replay=ring, hold=hold)
    np.testing.assert_array_equal(after[1], obs[1])
    np.testing.assert_array_equal(info["final_obs"][1], obs[1])
    np.testing.assert_array_equal(pool.get_state()[0][1], qpos[1])
    np.testing.assert_array_equal(pool.get_state()[1][1], qvel[1])
    assert reward[1] == 0 and not truncated[1] and info["episode_length"].tolist() == [1, 0, 1]
    assert len(ring) == 2 and not np.array_equal(after[0], obs[0])
    with pytest.raises(TypeError, match="hold"):
        pool.step(np.ones((3, 6)), hold=np.ones(3))
    with pytest.raises(ValueError, match="hold"):
        pool.step(np.ones((3, 6)), hold=np.ones(2, bool))
