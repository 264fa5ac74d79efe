"""Truncation, auto-reset, episode statistics and unstable physics in SimPool."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    HEAVY,
    NOISE,
    RESET_NOISE_SCALE,
    TRUE,
    copy_state,
    make_pool,
    qpos0,
    random_actions,
    rollout,
)

SPECS = [TRUE, NOISE, HEAVY]
LIMIT = 5
STEPS = 3 * LIMIT + 2


@pytest.fixture(scope="module")
def short_and_long():
    """The same pool with max_episode_steps 5 and 1000, same seed and actions."""
    short = make_pool(SPECS, seed=1, max_episode_steps=LIMIT, num_threads=2)
    long = make_pool(SPECS, seed=1)
    actions = random_actions(0, STEPS, len(SPECS))
    return rollout(short, actions, with_state=True), rollout(long, actions, with_state=True)


def test_truncated_every_max_episode_steps(short_and_long):
    short, _ = short_and_long
    expected = (np.arange(1, STEPS + 1) % LIMIT == 0)[:, None].repeat(len(SPECS), axis=1)
    np.testing.assert_array_equal(short["truncated"], expected)
    assert not short["terminated"].any() and not short["unstable"].any()


def test_first_episode_matches_a_pool_without_reset(short_and_long):
    short, long = short_and_long
    first = slice(0, LIMIT)
    np.testing.assert_array_equal(short["final_obs"][first], long["obs"][first])
    np.testing.assert_array_equal(short["reward"][first], long["reward"][first])
    np.testing.assert_array_equal(short["applied"][: LIMIT - 1], long["applied"][: LIMIT - 1])


def test_obs_after_truncation_is_a_fresh_reset(short_and_long):
    short, _ = short_and_long
    ends = np.flatnonzero(short["truncated"][:, 0])
    assert not np.isclose(short["obs"][ends], short["final_obs"][ends]).all(axis=-1).any()
    qpos, qvel = short["qpos"][ends], short["qvel"][ends]
    assert (np.abs(qpos - qpos0()) <= RESET_NOISE_SCALE).all()
    obs_from_state = np.concatenate([qpos[..., 1:], qvel], axis=-1)
    np.testing.assert_array_equal(short["obs"][ends], obs_from_state)


def test_final_obs_equals_obs_unless_ended(short_and_long):
    short, _ = short_and_long
    running = ~short["truncated"]
    np.testing.assert_array_equal(short["final_obs"][running], short["obs"][running])


def test_episode_return_and_length(short_and_long):
    short, _ = short_and_long
    step_in_episode = np.arange(STEPS) % LIMIT
    lengths = np.repeat((step_in_episode + 1)[:, None], len(SPECS), axis=1)
    np.testing.assert_array_equal(short["episode_length"], lengths)
    assert short["episode_length"].dtype == np.int32
    for t in range(STEPS):
        start = t - step_in_episode[t]
        np.testing.assert_allclose(
            short["episode_return"][t], short["reward"][start : t + 1].sum(axis=0), rtol=1e-12
        )


def test_zero_reset_noise_resets_to_initial_pose():
    pool = make_pool(SPECS, reset_noise_scale=0.0, max_episode_steps=2)
    expected = np.concatenate([qpos0()[1:], np.zeros(9)])
    np.testing.assert_array_equal(pool.reset(), np.tile(expected, (3, 1)))
    out = rollout(pool, random_actions(1, 4, 3))
    np.testing.assert_array_equal(out["obs"][1::2], np.tile(expected, (2, 3, 1)))


def test_applied_actions_survive_auto_reset():
    ending = make_pool([NOISE, TRUE], max_episode_steps=1)
    running = make_pool([NOISE, TRUE], max_episode_steps=2)
    action = np.full((2, 6), 0.5)
    ending.step(action)
    running.step(action)
    np.testing.assert_array_equal(ending.applied_actions(), running.applied_actions())


# Unstable physics ----------------------------------------------------------------

POKED = 1  # the env whose velocity is blown up


@pytest.fixture(scope="module")
def unstable():
    """Two identical pools, one with env 1's velocity set to 1e12 (MuJoCo's limit is 1e10)."""
    poked = make_pool(SPECS, seed=2, num_threads=2)
    clean = make_pool(SPECS, seed=2, num_threads=2)
    copy_state(poked, clean)
    qpos, qvel = poked.get_state()
    qvel[POKED, 3] = 1e12
    poked_obs = poked.set_state(qpos, qvel)
    actions = random_actions(3, 20, len(SPECS))
    return poked_obs, rollout(poked, actions, with_state=True), rollout(clean, actions)


def test_unstable_env_is_flagged_truncated_and_unrewarded(unstable):
    _, out, _ = unstable
    step = {key: value[0] for key, value in out.items()}
    np.testing.assert_array_equal(step["unstable"], np.arange(3) == POKED)
    np.testing.assert_array_equal(step["truncated"], np.arange(3) == POKED)
    assert not step["terminated"].any()
    assert step["reward"][POKED] == 0.0
    assert step["episode_return"][POKED] == 0.0 and step["episode_length"][POKED] == 1
    # Later steps: the reset env runs normally.
    assert not out["unstable"][1:].any() and not out["truncated"][1:].any()


def test_unstable_env_final_obs_is_last_valid_obs(unstable):
    poked_obs, out, _ = unstable
    final = out["final_obs"][0, POKED]
    assert np.isfinite(final).all()
    np.testing.assert_array_equal(final, poked_obs[POKED])


def test_unstable_env_is_reset(unstable):
    _, out, _ = unstable
    assert np.isfinite(out["obs"]).all() and np.isfinite(out["reward"]).all()
    assert (np.abs(out["qpos"][0, POKED] - qpos0()) <= RESET_NOISE_SCALE).all()
    assert (np.abs(out["qvel"][0, POKED]) < 1.0).all()


def test_unstable_env_leaves_the_others_alone(unstable):
    _, out, clean = unstable
    others = [i for i in range(len(SPECS)) if i != POKED]
    for key in ("obs", "final_obs", "reward", "truncated", "applied"):
        np.testing.assert_array_equal(out[key][:, others], clean[key][:, others], err_msg=key)
