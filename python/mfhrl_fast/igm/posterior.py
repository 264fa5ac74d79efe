"""The posterior over the best member and the batches H_k it is tested on (eqs. 7-8).

:class:`Posterior` keeps log p_r(U) in log space, applies eq. 7 through
:func:`mfhrl_fast.info.posterior_update` and computes each level's information gain
with :func:`mfhrl_fast.info.information_gain` from the last M batches of that level,
re-scored by a caller-supplied ``score(batch) -> (L,) losses`` (the members' H2O critic
losses, which change as the members learn).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import info

Batch = Mapping[str, np.ndarray]
Scorer = Callable[[Batch], np.ndarray]


ETA_RULES = ("auto", "range")
"""The eq. 7 learning-rate rules besides a number: 'auto' = eta0 / MAD of the members'
losses (:func:`mfhrl_fast.info.posterior_update`), 'range' = eta0 / (max - min) of them
(:func:`range_scaled`); both ours."""


def range_scaled(losses: np.ndarray) -> np.ndarray:
    """Each row of member losses (..., L) divided by its range max - min (rows without
    spread as they are): under eq. 7 with eta = eta0, the best and the worst member's
    log odds then move by exactly eta0 per batch, however the other losses lie (the MAD
    of five losses can be far smaller than their range, and one batch then collapses
    the posterior)."""
    spread = losses.max(-1, keepdims=True) - losses.min(-1, keepdims=True)
    return losses / np.where(spread > 0, spread, 1.0)


class Posterior:
    """p_r over L members (uniform p_0, eq. 7) and H_k, the last ``history`` batches of
    each of ``num_levels`` levels (eq. 8). ``eta``: a number or one of :data:`ETA_RULES`."""

    def __init__(self, num_members: int, num_levels: int, *, history: int = 8,
                 eta: float | str = "auto", eta0: float = 1.0) -> None:
        if num_members < 1 or num_levels < 1 or history < 1:
            raise ValueError("num_members, num_levels and history must be >= 1")
        if isinstance(eta, str) and eta not in ETA_RULES:
            raise ValueError(f"eta must be a number or one of {ETA_RULES}, got {eta!r}")
        self.num_members, self.num_levels, self.history = num_members, num_levels, history
        self.eta, self.eta0 = eta, eta0
        self.log_p = np.full(num_members, -np.log(num_members))
        self.batches: list[deque[dict[str, np.ndarray]]] = [
            deque(maxlen=history) for _ in range(num_levels)]

    @property
    def probs(self) -> np.ndarray:
        p = np.exp(self.log_p - self.log_p.max())
        return p / p.sum()

    def entropy(self) -> float:
        """H(p_r) in nats (plug-in, as in eq. 8)."""
        return float(info.entropy(self.probs))

    def map_member(self) -> int:
        """argmax_l p_r(l) (ties: the lowest index)."""
        return int(np.argmax(self.log_p))

    def thompson(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n members drawn i.i.d. from p_r (step 2 of a round: one per episode)."""
        return rng.choice(self.num_members, size=n, p=self.probs).astype(np.int64)

    def update(self, losses: np.ndarray) -> float:
        """eq. 7 with the members' losses L_l(B_r); returns the eta used."""
        losses = np.asarray(losses, dtype=np.float64)
        if self.eta != "range":
            self.log_p, eta = info.posterior_update(self.log_p, losses, eta=self.eta,
                                                    eta0=self.eta0)
            return eta
        self.log_p, _ = info.posterior_update(self.log_p, range_scaled(losses), eta=self.eta0)
        spread = float(losses.max() - losses.min())
        return self.eta0 / spread if spread > 0 else self.eta0

    def remember(self, level: int, batch: Batch) -> None:
        """Keep ``batch`` (copied) in H_level, dropping the oldest beyond ``history``."""
        self.batches[level].append({k: np.array(v, copy=True) for k, v in batch.items()})

    def information_gain(self, score: Scorer) -> np.ndarray:
        """IG_k of every level (eq. 8): H(p) minus the mean entropy after one more eq. 7
        update with each batch of H_k re-scored by ``score``; H(p) for an untried level."""
        histories = [np.stack([score(b) for b in level]) if level else None
                     for level in self.batches]
        if self.eta == "range":
            histories = [None if h is None else range_scaled(h) for h in histories]
            return info.information_gain(self.log_p, histories, eta=self.eta0)
        return info.information_gain(self.log_p, histories, eta=self.eta, eta0=self.eta0)

    def state_dict(self) -> dict[str, Any]:
        return {"log_p": self.log_p.copy(), "eta": self.eta, "eta0": self.eta0,
                "history": self.history,
                "batches": [[dict(b) for b in level] for level in self.batches]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        log_p = np.asarray(state["log_p"], dtype=np.float64)
        if log_p.shape != (self.num_members,) or len(state["batches"]) != self.num_levels:
            raise ValueError("posterior state has another number of members or levels")
        self.log_p = log_p.copy()
        self.eta, self.eta0, self.history = state["eta"], state["eta0"], int(state["history"])
        self.batches = [deque((dict(b) for b in level), maxlen=self.history)
                        for level in state["batches"]]
