"""The simulation budget of an MF-HRL-IGM run and the strategies that spend it.

:class:`BudgetController` holds the ledger of charged rounds and can never
overspend (eq. 9's ``Gamma_r = Gamma - costs spent so far``; a level that
costs more than ``Gamma_r`` cannot be chosen; the run ends when none can).
The strategies that spend it are in :mod:`.strategies`. Levels are 0-based here
(the paper's ``k = 1..K`` is ``fidelity + 1``).

Exact arithmetic (ours): a float budget or cost stands for the decimal number
it prints as (Python's shortest round-trip ``repr``: ``0.1`` is 1/10, not the
binary ``0.1000000000000000055...``), and all budget arithmetic is exact
rational arithmetic on those numbers, so nothing drifts over many rounds and
hand computations hold: a budget of 1.0 pays for ten rounds of cost 0.1, which
float (even ``math.fsum``) arithmetic does not (``1.0 - 0.9 < 0.1``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["BudgetController", "LedgerEntry"]


def _exact(x: float) -> Fraction:
    """The decimal number ``x`` prints as, exactly (see the module docstring)."""
    return Fraction(repr(float(x)))


def _largest_float_at_most(q: Fraction) -> float:
    """The largest float ``r`` with ``_exact(r) <= q`` (``q >= 0``).

    ``float(q)`` is the nearest float; if it prints as a number above ``q``, the
    float just below it does not (its shortest decimal lies in its own, lower,
    rounding interval). As ``_exact`` is increasing, a float cost ``x`` then
    satisfies ``x <= r`` exactly when ``_exact(x) <= q``.
    """
    r = float(q)
    return math.nextafter(r, 0.0) if _exact(r) > q else r


def _real(value: Any, name: str, *, minimum: float) -> float:
    """``value`` as a finite float ``>= minimum``; TypeError/ValueError naming ``name``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    out = float(value)
    if not math.isfinite(out) or out < minimum:
        raise ValueError(f"{name} must be finite and >= {minimum}, got {value!r}")
    return out


def _costs_array(costs: Sequence[float]) -> np.ndarray:
    """``costs`` as a read-only 1-D float64 array of increasing positive finite costs."""
    if isinstance(costs, str | bytes):
        raise TypeError("costs must be a sequence of real numbers, got a string")
    arr = np.asarray(costs)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"costs must be a sequence of real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)  # a copy, so the caller's array is never shared
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"costs must be 1-D and non-empty, got shape {arr.shape}")
    if not np.isfinite(arr).all() or not (arr > 0).all():
        raise ValueError(f"costs must be finite and > 0, got {arr.tolist()}")
    if not (np.diff(arr) > 0).all():
        raise ValueError(
            f"costs must be strictly increasing (lambda_1 < ... < lambda_K), "
            f"got {arr.tolist()}"
        )
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class LedgerEntry:
    """One charged round (step 1 of a round)."""

    round: int
    """1-based round number."""
    fidelity: int
    """0-based level charged."""
    cost: float
    """lambda of that level."""
    spent: float
    """Budget spent after charging."""
    remaining: float
    """Gamma_r after charging (see :attr:`BudgetController.remaining`)."""
    beta: float
    """c / sqrt(Gamma_r before charging): the eq. 9 threshold in force when the level was chosen."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class BudgetController:
    """The budget Gamma of a run and the ledger of rounds charged to it.

    A level is affordable when its cost does not exceed ``remaining``; charging
    an unaffordable level raises, so the exact total spent never exceeds the
    budget. The state is the ledger alone, so :meth:`state_dict` /
    :meth:`load_state_dict` resume a run exactly.

    Args:
        budget: Gamma, finite, ``>= 0``.
        costs: (K,) costs lambda_1 < ... < lambda_K of the levels, finite, ``> 0``.
        c: The eq. 9 threshold constant (finite, ``>= 0``; the paper's c = 1).
    """

    def __init__(self, budget: float, costs: Sequence[float], *, c: float = 1.0) -> None:
        self._budget = _real(budget, "budget", minimum=0.0)
        self._costs = _costs_array(costs)
        self._c = _real(c, "c", minimum=0.0)
        self._budget_q = _exact(self._budget)
        self._costs_q = [_exact(x) for x in self._costs]
        self._reset()

    def _reset(self) -> None:
        self._ledger: list[LedgerEntry] = []
        self._spent_q = Fraction(0)
        self._remaining = self._budget

    @property
    def budget(self) -> float:
        """Gamma."""
        return self._budget

    @property
    def costs(self) -> np.ndarray:
        """(K,) read-only float64 costs of the levels."""
        return self._costs

    @property
    def num_levels(self) -> int:
        """K."""
        return int(self._costs.size)

    @property
    def c(self) -> float:
        """The eq. 9 threshold constant."""
        return self._c

    @property
    def spent(self) -> float:
        """Exact total cost of the ledger, rounded to float once (never above ``budget``)."""
        return float(self._spent_q)

    @property
    def remaining(self) -> float:
        """Gamma_r = budget - spent, never negative.

        Exactly ``budget - spent`` whenever that is a float, else the float just
        below it: the largest cost that can still be charged without the exact
        total exceeding the budget.
        """
        return self._remaining

    @property
    def round(self) -> int:
        """Number of rounds charged so far."""
        return len(self._ledger)

    @property
    def ledger(self) -> tuple[LedgerEntry, ...]:
        """Every charged round, in order."""
        return tuple(self._ledger)

    def beta(self) -> float:
        """The eq. 9 threshold beta_r = c / sqrt(Gamma_r); ``math.inf`` when nothing remains."""
        return self._c / math.sqrt(self._remaining) if self._remaining > 0 else math.inf

    def affordable(self) -> np.ndarray:
        """(K,) bool: which levels cost at most ``remaining``."""
        return self._costs <= self._remaining

    def can_continue(self) -> bool:
        """Whether any level is affordable (else the run ends)."""
        return bool(self._costs[0] <= self._remaining)

    def fits(self, fidelity: int, share: Fraction | int = 1) -> bool:
        """Whether charging ``fidelity`` now keeps the exact total within ``share * budget``.

        ``share=1`` (the default) is affordability. ``share`` is in [0, 1] and
        compared exactly (pass a :class:`fractions.Fraction`, e.g. ``Fraction(1, 4)``).
        """
        k = self._level(fidelity)
        if isinstance(share, float) or not 0 <= Fraction(share) <= 1:
            raise ValueError(f"share must be an exact number (int or Fraction) in [0, 1], "
                             f"got {share!r}")
        return self._spent_q + self._costs_q[k] <= Fraction(share) * self._budget_q

    def charge(self, fidelity: int) -> LedgerEntry:
        """Charges one round at level ``fidelity`` and returns its ledger entry.

        Raises:
            TypeError: ``fidelity`` is not an int (bools are rejected).
            ValueError: it is out of range, or the level costs more than ``remaining``.
        """
        k = self._level(fidelity)
        cost = float(self._costs[k])
        if cost > self._remaining:
            raise ValueError(
                f"fidelity {k} costs {cost} but only {self._remaining} of the budget "
                f"{self._budget} remains"
            )
        beta = self.beta()
        self._spent_q += self._costs_q[k]
        self._remaining = _largest_float_at_most(self._budget_q - self._spent_q)
        entry = LedgerEntry(round=len(self._ledger) + 1, fidelity=k, cost=cost, spent=self.spent,
                            remaining=self._remaining, beta=beta)
        self._ledger.append(entry)
        return entry

    def rounds_per_level(self) -> np.ndarray:
        """(K,) int64 number of rounds charged at each level."""
        fids = np.fromiter((e.fidelity for e in self._ledger), dtype=np.int64)
        return np.bincount(fids, minlength=self.num_levels).astype(np.int64)

    def spent_per_level(self) -> np.ndarray:
        """(K,) float64 budget spent at each level (exact, rounded once)."""
        rounds = self.rounds_per_level()
        return np.array([float(q * int(n)) for q, n in zip(self._costs_q, rounds, strict=True)])

    def state_dict(self) -> dict[str, Any]:
        """The controller as plain, strictly JSON-serialisable Python types."""
        return {
            "budget": self._budget,
            "costs": self._costs.tolist(),
            "c": self._c,
            "ledger": [e.to_dict() for e in self._ledger],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores a :meth:`state_dict` of a controller with the same budget, costs and c.

        The ledger is replayed charge by charge and must match the stored
        entries, so a corrupt state cannot smuggle in an overspent ledger.

        Raises:
            ValueError: keys missing, another budget/costs/c, or an inconsistent ledger.
        """
        missing = {"budget", "costs", "c", "ledger"} - set(state)
        if missing:
            raise ValueError(f"state is missing {sorted(missing)}")
        if isinstance(state["ledger"], str | bytes) or not isinstance(state["ledger"], Sequence):
            raise ValueError("state['ledger'] must be a list of ledger entries")
        mine = self.state_dict()
        for key in ("budget", "costs", "c"):
            if state[key] != mine[key]:
                raise ValueError(f"state[{key!r}] is {state[key]!r}, this controller has "
                                 f"{mine[key]!r}")
        replay = BudgetController(self._budget, self._costs, c=self._c)
        for i, stored in enumerate(state["ledger"]):
            try:
                entry = replay.charge(stored["fidelity"])
                ok = entry.to_dict() == dict(stored)
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f"state['ledger'][{i}] cannot be replayed: {err}") from err
            if not ok:
                raise ValueError(f"state['ledger'][{i}] is {stored!r}, the replay gives "
                                 f"{entry.to_dict()!r}")
        self._ledger, self._spent_q, self._remaining = (
            replay._ledger, replay._spent_q, replay._remaining)

    def _level(self, fidelity: int) -> int:
        """``fidelity`` checked as a level index."""
        if isinstance(fidelity, bool | np.bool_) or not isinstance(fidelity, numbers.Integral):
            raise TypeError(f"fidelity must be an int, got {type(fidelity).__name__}")
        k = int(fidelity)
        if not 0 <= k < self.num_levels:
            raise ValueError(f"fidelity must be in [0, {self.num_levels}), got {k}")
        return k

    def __repr__(self) -> str:
        return (f"BudgetController(budget={self._budget}, costs={self._costs.tolist()}, "
                f"c={self._c}, round={self.round}, spent={self.spent})")
