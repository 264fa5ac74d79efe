"""The posterior over the best member and IG_k match the info module (eqs. 7-8)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfhrl_fast import info
from mfhrl_fast.igm import Posterior


def _batch(seed: int) -> dict[str, np.ndarray]:
    return {"obs": np.random.default_rng(seed).normal(size=(5, 3))}


def _scorer(weights: np.ndarray):
    """Member l's 'loss' on a batch: a fixed function of the batch (a stand-in for H2O's)."""
    return lambda batch: np.abs(batch["obs"].sum()) * weights


def test_starts_uniform_and_updates_as_eq7():
    post = Posterior(4, 3, eta=0.7)
    np.testing.assert_allclose(post.probs, 0.25)
    assert post.entropy() == pytest.approx(math.log(4))
    losses = np.array([1.0, 0.2, 3.0, 0.5])
    expected, eta = info.posterior_update(np.full(4, -math.log(4)), losses, eta=0.7)
    assert post.update(losses) == eta == 0.7
    np.testing.assert_array_equal(post.log_p, expected)
    assert post.map_member() == 1
    np.testing.assert_allclose(post.probs, np.exp(expected))


def test_auto_eta_is_the_info_modules_rule():
    post = Posterior(5, 2, eta="auto", eta0=2.0)
    losses = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    _, eta = info.posterior_update(np.zeros(5), losses, eta="auto", eta0=2.0)
    assert post.update(losses) == pytest.approx(eta)


def test_range_eta_moves_best_against_worst_by_eta0():
    """'range': one batch moves the log odds of the best against the worst member by eta0
    exactly, where 'auto' (the MAD of the five losses) moves them by 14."""
    losses = np.array([1.0, 1.1, 1.2, 1.3, 3.0])  # MAD 0.1, range 2
    for rule, move in (("range", 0.8), ("auto", 0.8 * 2.0 / 0.1)):
        post = Posterior(5, 2, eta=rule, eta0=0.8)
        eta = post.update(losses)
        assert post.log_p[0] - post.log_p[4] == pytest.approx(move)
        assert eta == pytest.approx(move / 2.0)
        np.testing.assert_allclose(post.probs.sum(), 1.0)
    post = Posterior(3, 1, eta="range", eta0=0.8)
    assert post.update(np.full(3, 2.5)) == 0.8  # no spread: no move
    np.testing.assert_allclose(post.probs, 1 / 3)


def test_range_eta_information_gain_uses_each_batchs_range():
    post = Posterior(3, 2, history=4, eta="range", eta0=1.5)
    post.update(np.array([0.1, 0.5, 0.9]))
    for seed in range(3):
        post.remember(0, _batch(seed))
    score = _scorer(np.array([0.3, 1.0, 2.0]))
    rows = np.stack([score(_batch(seed)) for seed in range(3)])
    spread = rows.max(1, keepdims=True) - rows.min(1, keepdims=True)
    expected = info.information_gain(post.log_p, [rows / spread, None], eta=1.5)
    np.testing.assert_allclose(post.information_gain(score), expected, rtol=1e-12)
    # the same as eq. 7 with eta = eta0 / range, batch by batch
    after = [info.posterior_update(post.log_p, row, eta=1.5 / float(w[0]))[0]
             for row, w in zip(rows, spread, strict=True)]
    mean_h = np.mean([info.entropy(np.exp(lp)) for lp in after])
    assert post.information_gain(score)[0] == pytest.approx(post.entropy() - mean_h)


def test_unknown_eta_rule():
    with pytest.raises(ValueError, match="eta must be a number or one of"):
        Posterior(3, 1, eta="mad")


def test_information_gain_rescores_the_remembered_batches():
    post = Posterior(3, 4, history=2, eta=0.5)
    post.update(np.array([0.1, 0.5, 0.9]))
    for seed in range(3):  # the oldest of level 1 drops out of H_1
        post.remember(1, _batch(seed))
    post.remember(2, _batch(10))
    weights = np.array([0.3, 1.0, 2.0])
    score = _scorer(weights)
    ig = post.information_gain(score)
    histories = [None, np.stack([score(_batch(1)), score(_batch(2))]),
                 np.stack([score(_batch(10))]), None]
    np.testing.assert_array_equal(ig, info.information_gain(post.log_p, histories, eta=0.5))
    assert ig[0] == ig[3] == pytest.approx(post.entropy())  # untried: IG = H(p)
    assert len(post.batches[1]) == 2


def test_remember_copies_and_state_round_trips():
    post = Posterior(3, 2, history=3, eta=1.0)
    batch = _batch(0)
    post.remember(0, batch)
    batch["obs"][:] = 0
    assert post.batches[0][0]["obs"].any()
    post.update(np.array([1.0, 0.0, 2.0]))
    other = Posterior(3, 2, history=3, eta=1.0)
    other.load_state_dict(post.state_dict())
    np.testing.assert_array_equal(other.log_p, post.log_p)
    score = _scorer(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(other.information_gain(score), post.information_gain(score))
    with pytest.raises(ValueError, match="members or levels"):
        Posterior(4, 2).load_state_dict(post.state_dict())


def test_thompson_draws_follow_the_posterior():
    post = Posterior(3, 1, eta=1.0)
    post.update(np.array([0.0, math.log(3), 50.0]))  # p = (3/4, 1/4, ~0)
    draws = post.thompson(np.random.default_rng(0), 20_000)
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20_000, post.probs, atol=0.015)
    again = post.thompson(np.random.default_rng(0), 20_000)
    np.testing.assert_array_equal(draws, again)


def test_bad_sizes():
    with pytest.raises(ValueError):
        Posterior(0, 2)
    with pytest.raises(ValueError):
        Posterior(2, 2, history=0)
