"""The strategies that choose each round's level (MF-HRL-IGM eqs. 8-9 and the paper's Fig. 2).

``"igm"`` (eqs. 8-9), the paper's Fig. 2 baselines ``"lowest"``, ``"highest"`` and
``"uniform"``, and our ``"random"``. Each reads only the :class:`~.budget.BudgetController`'s
ledger (and IG_k / the given generator), so a resumed run chooses as an unbroken one.
Levels are 0-based.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from ..info import choose_fidelity
from .budget import BudgetController

__all__ = [
    "STRATEGIES",
    "HighestStrategy",
    "IGMStrategy",
    "LowestStrategy",
    "RandomStrategy",
    "Strategy",
    "UniformStrategy",
    "make_strategy",
]


class Strategy(ABC):
    """How the level of the next round is chosen (eqs. 8-9 or a baseline of Fig. 2).

    ``choose`` returns the 0-based level to charge, always affordable, or -1 to
    end the run. It reads the ledger only (and ``ig``, ``rng`` when it uses
    them), so a resumed controller gives the same choices.
    """

    name: ClassVar[str]
    """The strategy's name in :data:`STRATEGIES`."""
    needs_ig: ClassVar[bool] = False
    """Whether ``choose`` needs the information gains IG_k (eq. 8)."""

    @abstractmethod
    def choose(
        self, budget: BudgetController, ig: npt.ArrayLike | None, rng: np.random.Generator
    ) -> int:
        """The level of the next round, or -1 to end the run."""


def _if_affordable(budget: BudgetController, k: int) -> int:
    return k if budget.affordable()[k] else -1


@dataclass(frozen=True)
class IGMStrategy(Strategy):
    """MF-HRL-IGM (eqs. 8-9): the best information gain per unit cost.

    Delegates to :func:`mfhrl_fast.info.choose_fidelity`: ``k* = argmax IG_k /
    lambda_k`` over affordable levels; ``k*`` if its ratio reaches ``beta_r = c /
    sqrt(Gamma_r)``, else the highest level if affordable, else ``k*``.
    """

    name: ClassVar[str] = "igm"
    needs_ig: ClassVar[bool] = True

    def choose(
        self, budget: BudgetController, ig: npt.ArrayLike | None, rng: np.random.Generator
    ) -> int:
        if ig is None:
            raise ValueError("ig is required by the 'igm' strategy (IG_k of every level)")
        ig = np.asarray(ig, dtype=np.float64)
        if ig.shape != (budget.num_levels,):
            raise ValueError(f"ig must have shape ({budget.num_levels},), got {ig.shape}")
        return choose_fidelity(ig, budget.costs, budget.remaining, c=budget.c)


@dataclass(frozen=True)
class LowestStrategy(Strategy):
    """Paper Fig. 2 baseline: always the lowest level, while affordable."""

    name: ClassVar[str] = "lowest"

    def choose(
        self, budget: BudgetController, ig: npt.ArrayLike | None, rng: np.random.Generator
    ) -> int:
        return _if_affordable(budget, 0)


@dataclass(frozen=True)
class HighestStrategy(Strategy):
    """Paper Fig. 2 baseline: always the highest level, while affordable.

    The run ends as soon as the top level is unaffordable, so a remainder
    smaller than its cost stays unspent even when lower levels could use it.
    """

    name: ClassVar[str] = "highest"

    def choose(
        self, budget: BudgetController, ig: npt.ArrayLike | None, rng: np.random.Generator
    ) -> int:
        return _if_affordable(budget, budget.num_levels - 1)


@dataclass(frozen=True)
class UniformStrategy(Strategy):
    """Paper Fig. 2 baseline: Gamma / K per level, levels in increasing order.

    Level k's cumulative allocation is ``(k + 1) * Gamma / K`` (exact). Starting
    from the highest level used so far (never going back down), stay on a level
    while ``spent + lambda_k`` fits its cumulative allocation, else move up; -1
    when no level from there on fits. The carry-over is ours: what a level
    leaves of its Gamma / K passes to the next, so the top level may use the
    whole rest of the budget; whatever the top level cannot use stays unspent.
    Derived from the ledger alone, so it resumes exactly.
    """

    name: ClassVar[str] = "uniform"

    def choose(
        self, budget: BudgetController, ig: npt.ArrayLike | None, rng: np.random.Generator
    ) -> int:
        levels = budget.num_levels
        start = max((e.fidelity for e in budget.ledger), default=0)
        for k in range(start, levels):
            if budget.fits(k, Fraction(k + 1, levels)):
                return k
        return -1


@dataclass(frozen=True)
class RandomStrategy(Strategy):
    """Ours (not in the paper's Fig. 2): a uniformly random affordable level.

    Drawn with the ``rng`` passed to :meth:`choose`; -1 when no level is affordable.
    """

    name: ClassVar[str] = "random"

    def choose(
        self, budget: BudgetController, ig: npt.ArrayLike | None, rng: np.random.Generator
    ) -> int:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        options = np.flatnonzero(budget.affordable())
        return int(options[rng.integers(options.size)]) if options.size else -1


_REGISTRY: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (IGMStrategy, LowestStrategy, HighestStrategy, UniformStrategy, RandomStrategy)
}
STRATEGIES: tuple[str, ...] = tuple(_REGISTRY)
"""Names accepted by :func:`make_strategy`, in this order: igm, lowest, highest, uniform, random."""


def make_strategy(name: str) -> Strategy:
    """The strategy called ``name`` (one of :data:`STRATEGIES`)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in _REGISTRY:
        raise ValueError(f"unknown strategy {name!r}; valid names: {', '.join(STRATEGIES)}")
    return _REGISTRY[name]()
