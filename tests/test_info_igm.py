"""MF-HRL-IGM eqs. 7-9 (docs/algorithm.md): posterior_update, information_gain, choose_fidelity.

Checked against a plain NumPy transcription of the equations written here. The
posterior is compared in log space to atol 1e-12 (relative to O(1) values;
the C++ and NumPy log-sum-exps round differently), entropies and information
gains to rtol 1e-12 / atol 1e-13. choose_fidelity is compared exactly.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mfhrl_fast import info

# -------------------------------------------------- NumPy reference of the equations


def ref_eta(losses, eta, eta0):
    """eta of eq. 7: fixed, or eta0 / MAD with the documented fallbacks (clamped to finite)."""
    if eta != "auto":
        return float(eta)
    if np.all(losses == losses[0]):
        return float(eta0)
    with np.errstate(over="ignore", divide="ignore"):
        mad = np.median(np.abs(losses - np.median(losses)))
        if mad > 0:
            return min(float(eta0 / mad), sys.float_info.max)
        scale = np.abs(losses).max()  # scaled std (no underflow), as documented
        return min(float(eta0 / (scale * np.std(losses / scale))), sys.float_info.max)


def ref_update(log_p, losses, eta=1.0, eta0=1.0):
    """Eq. 7: log p_r = log p_{r-1} - eta L - log Z.

    The losses are shifted by the smallest loss of a member with positive mass
    (eq. 7 is unchanged) so that the reference stays accurate for huge eta.
    """
    log_p, losses = np.asarray(log_p, float), np.asarray(losses, float)
    e = ref_eta(losses, eta, eta0)
    alive = log_p > -np.inf
    shifted = losses - losses[alive].min()
    with np.errstate(over="ignore", invalid="ignore"):
        step = np.where(shifted > 0, e * shifted, 0.0)
    a = np.where(alive, log_p - step, -np.inf)
    return a - scipy.special.logsumexp(a), e


def ref_entropy(log_p):
    lp = np.asarray(log_p, float) - scipy.special.logsumexp(log_p)
    p = np.exp(lp)
    mask = p > 0
    return float(-(p[mask] * lp[mask]).sum())


def ref_information_gain(log_p, histories, eta=1.0, eta0=1.0):
    """IG_k (eq. 8) = H(p) - mean_b H(p (x) b); untried -> H(p)."""
    h0 = ref_entropy(log_p)
    out = []
    for hist in histories:
        hist = np.asarray(hist, float).reshape(-1, len(log_p))
        if len(hist) == 0:
            out.append(h0)
        else:
            out.append(
                h0 - np.mean([ref_entropy(ref_update(log_p, b, eta, eta0)[0]) for b in hist])
            )
    return np.array(out)


def ref_choose(ig, costs, remaining, c=1.0):
    """Eqs. 8-9 with the affordability rules documented in info.choose_fidelity."""
    ig, costs = np.asarray(ig, float), np.asarray(costs, float)
    affordable = [k for k in range(len(ig)) if costs[k] <= remaining]
    if not affordable:
        return -1
    ratios = [ig[k] / costs[k] for k in affordable]
    best = affordable[int(np.argmax(ratios))]  # argmax: first maximum
    if ig[best] / costs[best] >= c / math.sqrt(remaining):
        return best
    return len(ig) - 1 if costs[-1] <= remaining else best


LOG_ATOL = 1e-12


# ------------------------------------------------------------------ eq. 7


@pytest.mark.parametrize("eta", [0.0, 0.3, 1.0, 25.0, "auto"])
@pytest.mark.parametrize("num_members", [1, 2, 5, 16])
def test_posterior_update_matches_reference(eta, num_members):
    rng = np.random.default_rng(num_members)
    for _ in range(20):
        log_p = np.log(rng.dirichlet(np.ones(num_members)))
        losses = rng.normal(3.0, 2.0, num_members)
        out, used = info.posterior_update(log_p, losses, eta=eta, eta0=0.7)
        expected, expected_eta = ref_update(log_p, losses, eta, 0.7)
        np.testing.assert_allclose(out, expected, rtol=0, atol=LOG_ATOL)
        assert used == pytest.approx(expected_eta, rel=1e-15)
        assert scipy.special.logsumexp(out) == pytest.approx(0.0, abs=1e-15)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, n, elements=st.floats(-30, 0)),
            hnp.arrays(np.float64, n, elements=st.floats(-1e3, 1e3)),
            st.one_of(st.floats(0, 10), st.just("auto")),
            st.floats(0.01, 10),
        )
    )
)
def test_property_posterior_update(args):
    log_p, losses, eta, eta0 = args
    out, used = info.posterior_update(log_p, losses, eta=eta, eta0=eta0)
    expected, expected_eta = ref_update(log_p, losses, eta, eta0)
    assert used == pytest.approx(expected_eta, rel=1e-14)
    # Log posteriors can reach -1e4 * eta; compare probabilities and the top members' logs.
    np.testing.assert_allclose(np.exp(out), np.exp(expected), rtol=1e-10, atol=1e-13)
    big = expected > -50
    np.testing.assert_allclose(out[big], expected[big], rtol=1e-12, atol=1e-9)
    # Finite wherever eq. 7 is; a member whose eta * excess overflows (auto eta of a
    # subnormal spread) drops to -inf in both, as test_posterior_update_is_stable pins.
    assert np.all(np.isfinite(out) == np.isfinite(expected))


def test_posterior_update_unnormalised_input_and_shift_invariance():
    rng = np.random.default_rng(3)
    log_p = np.log(rng.dirichlet(np.ones(5)))
    losses = rng.normal(size=5)
    out, _ = info.posterior_update(log_p, losses, eta=2.0)
    np.testing.assert_allclose(
        info.posterior_update(log_p + 17.0, losses, eta=2.0)[0], out, atol=1e-13
    )
    np.testing.assert_allclose(
        info.posterior_update(log_p, losses + 1e6, eta=2.0)[0], out, atol=1e-9
    )
    # "auto" eta is scale free: scaling the losses does not change the update.
    auto, e1 = info.posterior_update(log_p, losses, eta="auto")
    auto10, e10 = info.posterior_update(log_p, 10 * losses, eta="auto")
    np.testing.assert_allclose(auto10, auto, atol=1e-12)
    assert e10 == pytest.approx(e1 / 10)


def test_posterior_update_is_stable():
    log_p = np.log(np.full(4, 0.25))
    # Losses 1e300 apart and a huge eta: no overflow, no NaN; the best member takes all.
    out, used = info.posterior_update(log_p, [1e300, -1e300, 0.0, 5.0], eta=1e10)
    assert used == 1e10
    assert out[1] == 0.0 and np.all(out[[0, 2, 3]] == -np.inf)
    # Members with probability 0 stay at -inf even with the lowest loss.
    out, _ = info.posterior_update([-np.inf, 0.0, -1.0], [-100.0, 1.0, 2.0], eta=1.0)
    assert out[0] == -np.inf
    np.testing.assert_allclose(out[1:], ref_update([0.0, -1.0], [1.0, 2.0])[0], atol=LOG_ATOL)
    # eta = 0 leaves the (normalised) posterior unchanged.
    out, _ = info.posterior_update([0.0, 0.0], [1.0, 1e300], eta=0.0)
    np.testing.assert_allclose(out, np.log([0.5, 0.5]), atol=1e-15)


def test_auto_eta_rule_and_fallbacks():
    log_p = np.zeros(5)
    # MAD = median |L - 3| over [1, 2, 3, 5, 9] = median [2, 1, 0, 2, 6] = 2.
    assert info.posterior_update(log_p, [1, 2, 3, 5, 9], eta="auto", eta0=0.5)[1] == 0.25
    # Even count: medians average the two middle values (as numpy.median).
    losses = np.array([1.0, 2.0, 4.0, 8.0])
    assert info.posterior_update(log_p[:4], losses, eta="auto")[1] == pytest.approx(
        1 / np.median(np.abs(losses - np.median(losses)))
    )
    # MAD = 0 (three of five equal) -> eta0 / std.
    losses = np.array([1.0, 1.0, 1.0, 5.0, 9.0])
    assert info.posterior_update(log_p, losses, eta="auto", eta0=2.0)[1] == pytest.approx(
        2.0 / np.std(losses), rel=1e-15
    )
    # All equal -> eta0, and the posterior does not move.
    out, used = info.posterior_update(np.log([0.1, 0.2, 0.7]), [4.0] * 3, eta="auto", eta0=3.0)
    assert used == 3.0
    np.testing.assert_allclose(out, np.log([0.1, 0.2, 0.7]), atol=1e-15)


# ------------------------------------------------------------ information gain


def test_information_gain_matches_reference():
    rng = np.random.default_rng(0)
    num_members = 5
    for eta in (0.5, "auto"):
        for _ in range(10):
            log_p = np.log(rng.dirichlet(np.ones(num_members)))
            histories = [
                rng.normal(2.0, s, (m, num_members)) for s, m in ((0.1, 8), (1.0, 3), (3.0, 1))
            ] + [np.empty((0, num_members))]
            ig = info.information_gain(log_p, histories, eta=eta, eta0=1.3)
            expected = ref_information_gain(log_p, histories, eta, 1.3)
            np.testing.assert_allclose(ig, expected, rtol=1e-12, atol=1e-13)
            assert ig.shape == (4,) and ig.dtype == np.float64


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, n, elements=st.floats(-20, 0)),
            st.lists(
                st.integers(0, 8).flatmap(
                    lambda m: hnp.arrays(np.float64, (m, n), elements=st.floats(-50, 50))
                ),
                min_size=1,
                max_size=5,
            ),
            st.one_of(st.floats(0, 5), st.just("auto")),
        )
    )
)
def test_property_information_gain(args):
    log_p, histories, eta = args
    ig = info.information_gain(log_p, histories, eta=eta)
    np.testing.assert_allclose(
        ig, ref_information_gain(log_p, histories, eta), rtol=1e-9, atol=1e-11
    )
    assert np.all(ig <= ref_entropy(log_p) + 1e-12)  # IG_k <= H(p) since H(p (x) b) >= 0


def test_untried_fidelities_get_the_prior_entropy():
    log_p = np.log(np.full(5, 0.2))
    ig = info.information_gain(log_p, [None, [], np.empty((0, 5)), np.ones((2, 5))])
    np.testing.assert_allclose(ig, [np.log(5)] * 3 + [0.0], rtol=1e-15, atol=1e-15)


# ------------------------------------------------------------ eqs. 8-9


def test_choose_fidelity_cases():
    costs = [1.0, 2.0, 4.0, 8.0]
    # ratios 1, 0.25, 0.025, 0.0125; threshold 1 / sqrt(100) = 0.1 -> k* = 0.
    assert info.choose_fidelity([1.0, 0.5, 0.1, 0.1], costs, 100.0) == 0
    # ratio* = 0.05 < threshold 0.1 -> the highest fidelity.
    assert info.choose_fidelity([0.05, 0.05, 0.05, 0.05], costs, 100.0) == 3
    # ... unless it is unaffordable: fall back to k*.
    assert info.choose_fidelity([0.05, 0.05, 0.05, 0.05], costs, 7.0) == 0
    # Nothing affordable: the run ends.
    assert info.choose_fidelity([1.0, 1.0, 1.0, 1.0], costs, 0.5) == -1
    assert info.choose_fidelity([1.0, 1.0, 1.0, 1.0], costs, -3.0) == -1
    # A cost equal to the remaining budget is affordable.
    assert info.choose_fidelity([0.0, 0.0, 0.0, 9.0], costs, 8.0) == 3
    # Ties go to the lowest index (ratios 0.5, 0.5).
    assert info.choose_fidelity([1.0, 2.0, 0.0, 0.0], costs, 4.0) == 0
    # The threshold constant c: c = 0 always accepts k*.
    assert info.choose_fidelity([0.05, 0.0, 0.0, 0.0], costs, 100.0, c=0.0) == 0
    assert info.choose_fidelity([0.05, 0.0, 0.0, 0.0], costs, 100.0, c=0.5) == 0
    assert info.choose_fidelity([0.05, 0.0, 0.0, 0.0], costs, 100.0, c=0.6) == 3
    # Negative information gains are valid inputs.
    assert info.choose_fidelity([-1.0, -0.1], [1.0, 2.0], 10.0) == 1
    assert isinstance(info.choose_fidelity([1.0], [1.0], 1.0), int)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda k: st.tuples(
            st.lists(st.floats(-2, 3), min_size=k, max_size=k),
            st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0, 4.0, 8.0]), min_size=k, max_size=k),
            st.floats(-1, 40),
            st.floats(0, 3),
        )
    )
)
def test_property_choose_fidelity(args):
    ig, costs, remaining, c = args
    assert info.choose_fidelity(ig, costs, remaining, c=c) == ref_choose(ig, costs, remaining, c)


def test_end_to_end_round_with_the_paper_ladder_costs():
    """A few rounds of 3.4's controller loop driven by the three functions."""
    rng = np.random.default_rng(1)
    costs, budget = np.array([1.0, 2.0, 4.0, 8.0]), 40.0
    log_p = np.log(np.full(5, 0.2))
    histories = [np.empty((0, 5)) for _ in costs]
    spent = 0.0
    while True:
        ig = info.information_gain(log_p, histories, eta="auto")
        k = info.choose_fidelity(ig, costs, budget - spent)
        assert k == ref_choose(ig, costs, budget - spent)
        if k < 0:
            break
        spent += costs[k]
        batch = rng.normal(loc=np.arange(5) * (k + 1) * 0.1, scale=1.0)
        histories[k] = np.vstack([histories[k], batch])[-8:]  # keep M = 8
        log_p, _ = info.posterior_update(log_p, batch, eta="auto")
    assert spent <= budget and budget - spent < costs.min()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("log_p", "losses", "kwargs", "error", "match"),
    [
        ([0.0, np.nan], [1.0, 2.0], {}, ValueError, "log_p must hold finite values or -inf"),
        ([0.0, np.inf], [1.0, 2.0], {}, ValueError, "log_p must hold finite values or -inf"),
        ([-np.inf, -np.inf], [1.0, 2.0], {}, ValueError, "no member has positive probability"),
        ([], [], {}, ValueError, "log_p is empty"),
        ([[0.0, 0.0]], [1.0, 2.0], {}, ValueError, "log_p must be 1-D"),
        ([0.0, 0.0], [1.0, 2.0, 3.0], {}, ValueError, r"losses must have shape \(2\)"),
        ([0.0, 0.0], [1.0, np.nan], {}, ValueError, "losses must be finite"),
        ([0.0, 0.0], [1.0, np.inf], {}, ValueError, "losses must be finite"),
        ([0.0, 0.0], [1.0, 2.0], {"eta": -1.0}, ValueError, "eta must be >= 0"),
        ([0.0, 0.0], [1.0, 2.0], {"eta": np.nan}, ValueError, "eta must be finite"),
        (
            [0.0, 0.0],
            [1.0, 2.0],
            {"eta": "fast"},
            ValueError,
            "eta must be a number >= 0 or 'auto'",
        ),
        ([0.0, 0.0], [1.0, 2.0], {"eta": "auto", "eta0": 0.0}, ValueError, "eta0 must be > 0"),
        ([0.0, 0.0], [1.0, 2.0], {"eta": [1.0]}, TypeError, "eta must be a real number, got list"),
        (["a", "b"], [1.0, 2.0], {}, TypeError, "log_p must hold real numbers"),
    ],
)
def test_posterior_update_bad_input(log_p, losses, kwargs, error, match):
    with pytest.raises(error, match=match):
        info.posterior_update(log_p, losses, **kwargs)


def test_information_gain_bad_input():
    log_p = np.zeros(3)
    with pytest.raises(ValueError, match="histories is empty"):
        info.information_gain(log_p, [])
    with pytest.raises(ValueError, match=r"histories\[1\] must have shape \(M, L\) with L = 3"):
        info.information_gain(log_p, [np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match=r"histories\[0\] must be finite"):
        info.information_gain(log_p, [np.array([[1.0, np.nan, 2.0]])])
    with pytest.raises(ValueError, match="eta must be"):
        info.information_gain(log_p, [np.ones((1, 3))], eta="sometimes")


@pytest.mark.parametrize(
    ("ig", "costs", "remaining", "c", "match"),
    [
        ([1.0, 2.0], [1.0], 5.0, 1.0, r"costs must have shape \(2\)"),
        ([], [], 5.0, 1.0, "ig is empty"),
        ([1.0, np.nan], [1.0, 2.0], 5.0, 1.0, "ig must be finite"),
        ([1.0, 2.0], [1.0, 0.0], 5.0, 1.0, r"costs must be > 0; costs\[1\]"),
        ([1.0, 2.0], [1.0, -2.0], 5.0, 1.0, "costs must be > 0"),
        ([1.0, 2.0], [1.0, np.inf], 5.0, 1.0, "costs must be finite"),
        ([1.0, 2.0], [1.0, 2.0], np.nan, 1.0, "remaining_budget must be finite"),
        ([1.0, 2.0], [1.0, 2.0], 5.0, -1.0, "c must be >= 0"),
    ],
)
def test_choose_fidelity_bad_input(ig, costs, remaining, c, match):
    with pytest.raises(ValueError, match=match):
        info.choose_fidelity(ig, costs, remaining, c=c)


def test_docstrings_cite_the_spec():
    assert "MF-HRL-IGM eq. 7 (docs/algorithm.md)" in info.posterior_update.__doc__
    assert "MF-HRL-IGM eq. 8 (docs/algorithm.md)" in info.information_gain.__doc__
    assert "MF-HRL-IGM eqs. 8 and 9 (docs/algorithm.md)" in info.choose_fidelity.__doc__
