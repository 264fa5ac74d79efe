"""Eqs. 8-9 and the Fig. 2 baselines: the budget controller and the strategies (igm/budget.py).

Exact amounts are checked against ``Fraction(repr(x))``, the decimal number a
float prints as (the controller's documented arithmetic); hand-computed
examples use numbers exact in both binary and decimal.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfhrl_fast.igm.budget import BudgetController, LedgerEntry
from mfhrl_fast.igm.strategies import STRATEGIES, make_strategy

LADDER = [1.0, 2.0, 4.0, 8.0]  # the paper ladder's costs
H5 = math.log(5)  # H(p_0) for L = 5 members: IG of an untried level


def exact(x: float) -> Fraction:
    return Fraction(repr(float(x)))


def run(budget: BudgetController, name: str, *, seed: int = 0, ig=None, max_rounds=10_000):
    """Charges ``name``'s choices until it returns -1; returns the chosen levels."""
    strategy, rng, chosen = make_strategy(name), np.random.default_rng(seed), []
    for _ in range(max_rounds):
        k = strategy.choose(budget, None if ig is None else ig(budget), rng)
        if k == -1:
            return chosen
        budget.charge(k)
        chosen.append(k)
    raise AssertionError(f"{name} did not end within {max_rounds} rounds")


def random_ig(budget: BudgetController) -> np.ndarray:
    """IG_k for igm runs: a fixed function of the round, so resumed runs see the same values."""
    return np.random.default_rng(budget.round).uniform(0.0, 1.0, budget.num_levels)


# --------------------------------------------------------------- never overspending

increasing_costs = st.lists(
    st.floats(min_value=1e-3, max_value=50.0), min_size=1, max_size=5, unique=True
).map(sorted)


def check_invariants(b: BudgetController) -> None:
    spent_q = sum((exact(e.cost) for e in b.ledger), Fraction(0))
    assert spent_q <= exact(b.budget)
    assert b.spent == float(spent_q) <= b.budget
    assert b.remaining >= 0
    assert b.remaining == pytest.approx(b.budget - b.spent, rel=1e-12, abs=1e-12 * b.budget)
    # affordable <=> the exact total after charging stays within the budget
    expected = [spent_q + exact(x) <= exact(b.budget) for x in b.costs]
    assert b.affordable().tolist() == expected
    assert b.can_continue() == any(expected)


@settings(max_examples=150, deadline=None)
@given(
    costs=increasing_costs,
    scale=st.floats(min_value=0.0, max_value=60.0),
    choices=st.lists(st.integers(min_value=0, max_value=4), max_size=40),
)
def test_never_overspends(costs, scale, choices):
    b = BudgetController(scale * costs[0], costs)  # at most 60 rounds: the test stays fast
    for choice in choices:
        k = choice % b.num_levels
        if b.affordable()[k]:
            entry = b.charge(k)
            assert (entry.round, entry.fidelity, entry.cost) == (b.round, k, b.costs[k])
            assert (entry.spent, entry.remaining) == (b.spent, b.remaining)
        else:
            before = b.state_dict()
            with pytest.raises(ValueError, match="costs"):
                b.charge(k)
            assert b.state_dict() == before
        check_invariants(b)
    run(b, "random", seed=len(choices))  # spend what is left on random affordable levels
    check_invariants(b)
    assert not b.can_continue() and not b.affordable().any()
    assert exact(b.spent) + exact(b.costs[0]) > exact(b.budget)  # ended exactly when nothing fits
    for name in STRATEGIES:
        assert make_strategy(name).choose(b, random_ig(b), np.random.default_rng(0)) == -1
    with pytest.raises(ValueError, match="remains"):
        b.charge(0)


def test_exact_sums_do_not_drift():
    b = BudgetController(1.0, [0.1])
    assert run(b, "lowest") == [0] * 10  # 1.0 - fsum(9 x 0.1) < 0.1 in floats: 9 rounds
    assert (b.spent, b.remaining, b.beta()) == (1.0, 0.0, math.inf)

    b = BudgetController(0.3, [0.1, 0.2])  # 0.1 + 0.2 > 0.3 in floats
    b.charge(1)
    b.charge(0)
    assert (b.spent, b.remaining, b.can_continue()) == (0.3, 0.0, False)

    b = BudgetController(10.0, [0.01])
    assert len(run(b, "lowest")) == 1000
    assert b.spent == 10.0 and b.spent_per_level().tolist() == [10.0]


def test_remaining_is_exact_when_representable():
    b = BudgetController(16.0, LADDER)
    for k in (2, 2, 2, 0):
        b.charge(k)
    assert (b.spent, b.remaining) == (13.0, 3.0)
    assert b.affordable().tolist() == [True, True, False, False]


# --------------------------------------------------------------------------- beta


def test_beta_values():
    b = BudgetController(16.0, LADDER)
    assert b.beta() == 0.25
    assert b.charge(0).beta == 0.25  # the threshold before charging
    assert b.beta() == 1 / math.sqrt(15)
    assert b.charge(1).beta == 1 / math.sqrt(15)
    assert BudgetController(16.0, LADDER, c=2.0).beta() == 0.5
    assert BudgetController(16.0, LADDER, c=0.0).beta() == 0.0
    assert BudgetController(0.0, LADDER).beta() == math.inf


# ---------------------------------------------------------------------------- igm


def igm(budget: BudgetController, ig) -> int:
    return make_strategy("igm").choose(budget, np.asarray(ig, dtype=float), None)


def test_igm_threshold_hand_computed():
    b = BudgetController(16.0, [1.0, 2.0, 4.0])  # beta_1 = 1 / sqrt(16) = 0.25
    # ratios 0.2, 0.45, 0.1: k* = 1 and 0.45 >= 0.25
    assert igm(b, [0.2, 0.9, 0.4]) == 1
    # ratios 0.2, 0.15, 0.1: k* = 0 but 0.2 < 0.25 -> the highest level
    assert igm(b, [0.2, 0.3, 0.4]) == 2
    # exactly at the threshold: 0.25 >= 0.25 keeps k* = 0
    assert igm(b, [0.25, 0.3, 0.4]) == 0
    # c = 0: any k* passes
    assert igm(BudgetController(16.0, [1.0, 2.0, 4.0], c=0.0), [0.2, 0.3, 0.4]) == 0


def test_igm_below_threshold_with_top_level_unaffordable_keeps_k_star():
    b = BudgetController(16.0, [1.0, 2.0, 4.0])
    for k in (2, 2, 2, 0):
        b.charge(k)  # Gamma_r = 3, beta = 1/sqrt(3) ~ 0.577; level 2 (cost 4) unaffordable
    # ratios of the affordable levels 0.3, 0.25 are below beta; k = 2 would win on ratio
    assert igm(b, [0.3, 0.5, 10.0]) == 0  # info.choose_fidelity's documented rule: k*
    assert igm(b, [0.3, 1.6, 10.0]) == 1  # 0.8 >= 0.577
    b.charge(1)
    b.charge(0)
    assert igm(b, [0.3, 1.6, 10.0]) == -1  # nothing affordable


def test_igm_tries_the_cheapest_untried_level_first():
    b = BudgetController(32.0, LADDER)
    assert igm(b, [H5] * 4) == 0  # all untried: IG_k = H, so the cheapest wins
    b.charge(0)
    assert igm(b, [0.01, H5, H5, H5]) == 1  # ratios 0.01, 0.80, 0.40, 0.20 (beta 0.18)


@pytest.mark.parametrize("ig", [None, [0.1, 0.2], [[0.1] * 4]])
def test_igm_rejects_missing_or_misshaped_ig(ig):
    with pytest.raises(ValueError, match="ig"):
        make_strategy("igm").choose(BudgetController(8.0, LADDER), ig, None)


# ------------------------------------------------------------------------ baselines


def levels_and_counts(budget: float, name: str, costs=LADDER, **kw):
    b = BudgetController(budget, costs)
    return b, run(b, name, **kw), b.rounds_per_level().tolist()


def test_uniform_spends_a_quarter_per_level_in_increasing_order():
    b, levels, counts = levels_and_counts(32.0, "uniform")
    assert levels == [0] * 8 + [1] * 4 + [2] * 2 + [3]
    assert counts == [8, 4, 2, 1] and b.spent_per_level().tolist() == [8.0] * 4
    assert b.remaining == 0.0


def test_uniform_carries_leftovers_up_and_never_goes_back():
    # allocations 7.5, 15, 22.5, 30: level 0 -> 7, level 1 -> 15 (the 0.5 carried over),
    # level 2 -> 19 (23 > 22.5), level 3 -> 27 (35 > 30); 3 stays unspent although
    # levels 0 and 1 could use it
    b, levels, counts = levels_and_counts(30.0, "uniform")
    assert levels == [0] * 7 + [1] * 4 + [2] + [3]
    assert counts == [7, 4, 1, 1] and (b.spent, b.remaining) == (27.0, 3.0)
    assert b.can_continue()


def test_uniform_skips_levels_that_do_not_fit():
    # allocations 2, 4, 6, 8: level 0 twice, level 1 once (4), 4 + 4 > 6, 4 + 8 > 8
    b, levels, counts = levels_and_counts(8.0, "uniform")
    assert levels == [0, 0, 1] and counts == [2, 1, 0, 0] and b.remaining == 4.0


def test_lowest_and_highest():
    b, levels, _ = levels_and_counts(10.0, "lowest")
    assert levels == [0] * 10 and b.remaining == 0.0
    b, levels, _ = levels_and_counts(10.0, "highest")
    assert levels == [3] and b.remaining == 2.0 and b.can_continue()  # 2 stays unspent
    assert levels_and_counts(7.0, "highest")[1] == []
    assert levels_and_counts(0.5, "lowest")[1] == []


@pytest.mark.parametrize("seed", range(5))
def test_random_picks_affordable_levels_reproducibly(seed):
    b = BudgetController(40.0, LADDER)
    strategy, rng, levels = make_strategy("random"), np.random.default_rng(seed), []
    while (k := strategy.choose(b, None, rng)) != -1:
        assert b.affordable()[k]
        b.charge(k)
        levels.append(k)
    assert not b.can_continue()
    assert levels == run(BudgetController(40.0, LADDER), "random", seed=seed)
    assert len(set(levels[:6])) > 1  # not stuck on one level


def test_random_differs_across_seeds():
    runs = {tuple(run(BudgetController(40.0, LADDER), "random", seed=s)) for s in range(5)}
    assert len(runs) > 1


def test_random_rejects_a_non_generator():
    with pytest.raises(TypeError, match="rng"):
        make_strategy("random").choose(BudgetController(4.0, LADDER), None, 0)


# ------------------------------------------------------------------------ resuming


@pytest.mark.parametrize("name", STRATEGIES)
def test_state_dict_round_trip_resumes_exactly(name):
    ig = random_ig if make_strategy(name).needs_ig else None
    full = BudgetController(37.5, LADDER)
    expected = run(full, name, seed=3, ig=ig)

    first = BudgetController(37.5, LADDER)
    strategy, rng = make_strategy(name), np.random.default_rng(3)
    for _ in range(3):  # "highest" has 4 rounds in all
        first.charge(strategy.choose(first, None if ig is None else ig(first), rng))
    resumed = BudgetController(37.5, LADDER)
    resumed.load_state_dict(json.loads(json.dumps(first.state_dict(), allow_nan=False)))
    assert resumed.ledger == first.ledger and resumed.spent == first.spent
    assert (resumed.remaining, resumed.beta()) == (first.remaining, first.beta())
    while (k := strategy.choose(resumed, None if ig is None else ig(resumed), rng)) != -1:
        resumed.charge(k)
    assert [e.fidelity for e in resumed.ledger] == expected
    assert resumed.ledger == full.ledger


def corrupt(state, **changes):
    return {**state, **changes}


def test_load_state_dict_rejects_mismatches_and_corrupt_ledgers():
    source = BudgetController(12.0, LADDER)
    for k in (0, 1, 3):
        source.charge(k)
    state = source.state_dict()
    bad_entry = [*state["ledger"][:2], {**state["ledger"][2], "spent": 12.0}]
    cases = {
        "budget": corrupt(state, budget=11.0),
        "costs": corrupt(state, costs=[1.0, 2.0, 4.0]),
        "'c'": corrupt(state, c=2.0),
        "missing": {k: v for k, v in state.items() if k != "ledger"},
        "replay gives": corrupt(state, ledger=bad_entry),
        "replayed": corrupt(state, ledger=state["ledger"] + [state["ledger"][2]]),  # overspends
        "must be a list": corrupt(state, ledger="0,1,3"),
    }
    target = BudgetController(12.0, LADDER)
    target.charge(0)
    for match, bad in cases.items():
        with pytest.raises(ValueError, match=match):
            target.load_state_dict(bad)
        assert [e.fidelity for e in target.ledger] == [0]  # unchanged on error
    target.load_state_dict(state)
    assert target.ledger == source.ledger and target.round == 3


# ---------------------------------------------------------------- ledger and inputs


def test_ledger_and_per_level_totals():
    b = BudgetController(20.0, LADDER)
    for k in (0, 2, 0, 1):
        b.charge(np.int64(k))
    assert b.round == 4 and b.spent == 8.0 and b.remaining == 12.0
    assert b.rounds_per_level().tolist() == [2, 1, 1, 0]
    assert b.rounds_per_level().dtype == np.int64
    assert b.spent_per_level().tolist() == [2.0, 2.0, 4.0, 0.0]
    last = b.ledger[-1]
    assert last == LedgerEntry(round=4, fidelity=1, cost=2.0, spent=8.0, remaining=12.0,
                               beta=1 / math.sqrt(14))
    assert last.to_dict() == {"round": 4, "fidelity": 1, "cost": 2.0, "spent": 8.0,
                              "remaining": 12.0, "beta": 1 / math.sqrt(14)}
    assert isinstance(b.ledger, tuple)


def test_costs_are_a_read_only_copy():
    given_costs = np.array(LADDER)
    b = BudgetController(5.0, given_costs)
    given_costs[0] = 100.0
    assert b.costs.tolist() == LADDER and b.costs.dtype == np.float64
    with pytest.raises(ValueError):
        b.costs[0] = 0.5
    assert (b.budget, b.c, b.num_levels) == (5.0, 1.0, 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"budget": -1.0}, ValueError, "budget"),
        ({"budget": math.nan}, ValueError, "budget"),
        ({"budget": math.inf}, ValueError, "budget"),
        ({"budget": "3"}, TypeError, "budget"),
        ({"budget": True}, TypeError, "budget"),
        ({"costs": []}, ValueError, "costs"),
        ({"costs": [[1.0, 2.0]]}, ValueError, "costs"),
        ({"costs": [0.0, 1.0]}, ValueError, "costs"),
        ({"costs": [-1.0]}, ValueError, "costs"),
        ({"costs": [1.0, math.inf]}, ValueError, "costs"),
        ({"costs": [2.0, 1.0]}, ValueError, "increasing"),
        ({"costs": [1.0, 1.0]}, ValueError, "increasing"),
        ({"costs": "12"}, TypeError, "costs"),
        ({"costs": [True, False]}, TypeError, "costs"),
        ({"c": -0.5}, ValueError, "c must"),
        ({"c": math.nan}, ValueError, "c must"),
    ],
)
def test_constructor_rejects_bad_input(kwargs, error, match):
    args = {"budget": 8.0, "costs": LADDER, **kwargs}
    with pytest.raises(error, match=match):
        BudgetController(args.pop("budget"), args.pop("costs"), **args)


@pytest.mark.parametrize(
    ("fidelity", "error", "match"),
    [(True, TypeError, "int"), (1.0, TypeError, "int"), ("0", TypeError, "int"),
     (-1, ValueError, r"\[0, 4\)"), (4, ValueError, r"\[0, 4\)"),
     (3, ValueError, r"costs 8.0 but only 5.0 of the budget 5.0 remains")],
)
def test_charge_rejects_bad_levels(fidelity, error, match):
    b = BudgetController(5.0, LADDER)
    with pytest.raises(error, match=match):
        b.charge(fidelity)
    assert b.round == 0


def test_fits_checks_its_share():
    b = BudgetController(8.0, LADDER)
    assert b.fits(1, Fraction(1, 4)) and not b.fits(2, Fraction(1, 4)) and b.fits(3)
    for bad in (0.5, Fraction(3, 2), -1):
        with pytest.raises(ValueError, match="share"):
            b.fits(0, bad)


def test_strategy_registry():
    assert STRATEGIES == ("igm", "lowest", "highest", "uniform", "random")
    for name in STRATEGIES:
        strategy = make_strategy(name)
        assert strategy.name == name and strategy.needs_ig == (name == "igm")
    with pytest.raises(ValueError, match="igm, lowest, highest, uniform, random"):
        make_strategy("best")
    with pytest.raises(TypeError, match="name"):
        make_strategy(None)
