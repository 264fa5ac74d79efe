"""Seeding and thread-count invariance of SimPool: one seed, the same results on any threads."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    HEAVY,
    NOISE,
    TRUE,
    assert_rollouts_equal,
    copy_state,
    make_pool,
    random_actions,
    rollout,
)

from mfhrl_fast import SimPool

# Mixed fidelities, action noise included, so every random stream is exercised.
MIXED = [TRUE, NOISE, HEAVY, NOISE, TRUE, HEAVY, NOISE]
STEPS = 300
ACTIONS = random_actions(0, STEPS, len(MIXED))


def mixed_rollout(seed: int, num_threads: int = 1) -> dict[str, np.ndarray]:
    """300 steps of the mixed pool; 70-step episodes, so auto-reset draws are covered too."""
    pool = make_pool(MIXED, seed=seed, num_threads=num_threads, max_episode_steps=70)
    initial = np.concatenate(pool.get_state(), axis=1)
    out = rollout(pool, ACTIONS)  # the same actions for every seed
    out["initial"] = initial
    return out


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    return mixed_rollout(seed=3)


def test_same_seed_same_trajectory(reference):
    assert_rollouts_equal(mixed_rollout(seed=3), reference)


def test_other_seed_diverges(reference):
    other = mixed_rollout(seed=4)
    for key in ("initial", "obs", "reward", "applied"):
        assert not np.array_equal(other[key], reference[key]), key
    # Row by row too: no env repeats its trajectory under another seed.
    assert (np.abs(other["obs"] - reference["obs"]).max(axis=(0, 2)) > 0).all()


@pytest.mark.parametrize("num_threads", [2, 3, len(MIXED) + 2, 0])
def test_thread_count_does_not_change_results(reference, num_threads):
    assert_rollouts_equal(mixed_rollout(seed=3, num_threads=num_threads), reference)


def test_seed_only_drives_noise_from_a_given_state():
    """From one state, another seed changes only the envs with action noise."""
    a, b = make_pool(MIXED, seed=0), make_pool(MIXED, seed=1)
    copy_state(a, b)
    actions = random_actions(5, 20, len(MIXED))
    out_a, out_b = rollout(a, actions), rollout(b, actions)
    noisy = np.array([s is NOISE for s in MIXED])
    differs = (out_a["obs"] != out_b["obs"]).any(axis=(0, 2))
    np.testing.assert_array_equal(differs, noisy)


def test_reset_with_seed_reseeds():
    pool = make_pool(MIXED, seed=0)
    actions = random_actions(6, 30, len(MIXED))
    first = pool.reset(seed=5)
    run_1 = rollout(pool, actions)
    second = pool.reset(seed=5)
    run_2 = rollout(pool, actions)
    np.testing.assert_array_equal(first, second)
    assert_rollouts_equal(run_1, run_2)
    assert not np.array_equal(pool.reset(), first)  # without a seed the streams continue


def test_reset_seed_is_independent_of_construction_seed():
    np.testing.assert_array_equal(
        make_pool(MIXED, seed=0).reset(seed=9), make_pool(MIXED, seed=123).reset(seed=9)
    )


def test_construction_draws_the_first_reset():
    """A new pool holds the state reset(seed=seed) would give."""
    fresh = make_pool(MIXED, seed=8)
    other = make_pool(MIXED, seed=0)
    other.reset(seed=8)
    for x, y in zip(fresh.get_state(), other.get_state(), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("i", [1, 2, 3])
@pytest.mark.parametrize("reseed", [False, True], ids=["constructor", "reset"])
def test_env_i_draws_from_seed_plus_i(i, reseed):
    many = SimPool(num_envs=4, seed=10)
    one = SimPool(num_envs=1, seed=10 + i)
    if reseed:
        np.testing.assert_array_equal(many.reset(seed=20)[i], one.reset(seed=20 + i)[0])
    else:
        np.testing.assert_array_equal(many.reset()[i], one.reset()[0])


@pytest.mark.parametrize("i", [1, 3])
def test_env_i_action_noise_from_seed_plus_i(i):
    many = SimPool(fidelities=[NOISE], num_envs=4, seed=0)
    one = SimPool(fidelities=[NOISE], num_envs=1, seed=i)
    actions = random_actions(7, 40, 1)
    out_many = rollout(many, actions.repeat(4, axis=1))
    out_one = rollout(one, actions)
    for key in ("obs", "reward", "applied"):
        np.testing.assert_array_equal(out_many[key][:, i], out_one[key][:, 0], err_msg=key)
