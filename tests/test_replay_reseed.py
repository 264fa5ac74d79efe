"""ReplayRing.reseed: what a ring does next depends only on its contents and the seed."""

import numpy as np
import pytest

from mfhrl_fast import ReplayRing


def _filled(seed: int) -> ReplayRing:
    ring = ReplayRing(capacity=500, obs_dim=3, act_dim=2, num_members=4, seed=seed)
    rng = np.random.default_rng(0)
    n = 300
    ring.add(obs=rng.normal(size=(n, 3)), action=rng.uniform(-1, 1, (n, 2)),
             reward=rng.normal(size=n), next_obs=rng.normal(size=(n, 3)),
             terminated=np.zeros(n), truncated=np.zeros(n), fidelity=rng.integers(0, 3, n),
             mask=rng.random((n, 4)) < 0.5)
    return ring


def test_reseed_makes_draws_a_function_of_contents_and_seed():
    a, b = _filled(1), _filled(2)
    a.sample(64), a.sample_members(16)  # advance a's generator only
    a.reseed(7)
    b.reseed(7)
    for x, y in zip(a.sample_members(32).values(), b.sample_members(32).values(), strict=True):
        np.testing.assert_array_equal(x, y)
    a.reseed(8)
    b.reseed(9)
    assert not np.array_equal(a.sample(64)["obs"], b.sample(64)["obs"])


def test_reseed_keeps_contents_and_rejects_bad_seeds():
    ring = _filled(0)
    stored = {tuple(row) for row in np.random.default_rng(0).normal(size=(300, 3)).astype(
        np.float32)}
    ring.reseed(3)
    assert len(ring) == 300 and ring.total_added == 300
    assert {tuple(row) for row in ring.sample(300)["obs"]} <= stored
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="seed"):
            ring.reseed(bad)
