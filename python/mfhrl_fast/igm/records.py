"""What a run records: one :class:`RoundRecord` per round and a :class:`RunResult` per run.

Round 0 is the state after the offline phase (no simulator used, cost 0): its
evaluation is the "CQL offline only" reference of the paper's Fig. 2. Fidelities are
0-based here (the paper's k = 1..K is ``fidelity + 1``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class RoundRecord:
    """One round of the paper's algorithm (or round 0: the offline phase)."""

    round: int
    """1, 2, ...; 0 for the offline phase."""
    fidelity: int
    """The 0-based level used this round; -1 in round 0."""
    fidelity_name: str
    """Its ``FidelitySpec.name`` ("offline" in round 0)."""
    cost: float
    """lambda of the level charged this round (0 in round 0)."""
    spent: float
    """Budget spent after this round."""
    remaining: float
    """Gamma_r after this round."""
    beta: float
    """The threshold c / sqrt(Gamma_r) in force when the level was chosen (eq. 9)."""
    ig: list[float]
    """IG_k of every level before the choice (eq. 8 numerators; NaN where not computed)."""
    ig_per_cost: list[float]
    """IG_k / lambda_k of every level."""
    posterior: list[float]
    """p_r over the L members after this round's update (eq. 7)."""
    entropy: float
    """H(p_r) in nats."""
    map_member: int
    """argmax_l p_r(l)."""
    eta: float
    """The eq. 7 learning rate used this round (NaN in round 0)."""
    eval_return: float
    """Mean deterministic return of the MAP member in the true dynamics; NaN if not evaluated."""
    eval_returns: list[float] = field(default_factory=list)
    """The returns of the evaluation episodes (empty if not evaluated)."""
    env_steps: int = 0
    """Simulator transitions collected so far (all rounds)."""
    updates: int = 0
    """H2O gradient steps so far (ensemble steps; each updates all L members)."""
    time_sim: float = 0.0
    """Seconds of this round in rollouts (policy actions + SimPool + replay stores)."""
    time_learn: float = 0.0
    """Seconds in discriminator and H2O updates (sampling included)."""
    time_select: float = 0.0
    """Seconds choosing the level and updating the posterior (re-scoring H_k, eqs. 7-9)."""
    time_eval: float = 0.0
    """Seconds evaluating the MAP member."""
    time_round: float = 0.0
    """Wall seconds of the whole round (checkpoint excluded)."""
    metrics: dict[str, float] = field(default_factory=dict)
    """The last learner / discriminator losses of the round (``losses/*``, ``disc/*``)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> RoundRecord:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in names})

    @property
    def evaluated(self) -> bool:
        return not math.isnan(self.eval_return)


@dataclass
class RunResult:
    """A finished (or budget-exhausted) run of one strategy at one budget and seed."""

    strategy: str
    budget: float
    seed: int
    fidelity_names: list[str]
    """``FidelitySpec.name`` of every level, lowest first."""
    costs: list[float]
    """lambda_k of every level."""
    records: list[RoundRecord]
    """Round 0 (offline) first, then every round in order."""
    final_return: float
    """Mean deterministic return of the final MAP member in the true dynamics."""
    final_map_member: int
    wall_time: float = 0.0
    """Seconds of the online phase (all rounds, evaluations and checkpoints)."""

    @property
    def rounds(self) -> int:
        return len(self.records) - 1

    @property
    def spent(self) -> float:
        return self.records[-1].spent

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["records"] = [r.to_dict() for r in self.records]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        data = dict(data)
        data["records"] = [RoundRecord.from_dict(r) for r in data["records"]]
        return cls(**data)
