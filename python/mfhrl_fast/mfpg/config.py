"""Configuration of multi-fidelity policy gradients (``mfhrl-fast mfpg``).

Defaults marked "MFPG's" are those of Liu et al. 2025's code (REINFORCE with a
control variate from correlated low-fidelity rollouts); the others are ours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..hybrid.config import sim_fidelity

MFPG_METHODS = ("mfpg", "reinforce")
"""``mfpg``: the control-variate estimator; ``reinforce``: high-fidelity-only REINFORCE
(the same high-fidelity episodes and updates, no low-fidelity rollouts)."""


@dataclass(frozen=True)
class MFPGConfig:
    """One MFPG (or high-fidelity-only REINFORCE) run."""

    method: str = "mfpg"
    """One of :data:`MFPG_METHODS`."""
    low: str = "gravity"
    """The low-fidelity simulator, a ``hybrid`` ``--sim`` name; the high fidelity is the
    true HalfCheetah-v5."""
    seed: int = 0
    """Seeds the policy, the pools and the action noise."""
    iterations: int = 200
    """Policy updates."""
    high_episodes: int = 4
    """n: high-fidelity segments per update, each paired with one correlated low-fidelity
    segment (ours; MFPG's code runs 1 environment)."""
    extra_low_episodes: int = 16
    """M: further low-fidelity segments per update that estimate the control variate's mean
    (a multiple of n: extra segment j starts where high segment j mod n starts; ours)."""
    horizon: int = 100
    """T: steps per segment (MFPG's n_steps 100); must divide ``episode_steps``."""
    episode_steps: int = 1000
    """High-fidelity episode length (HalfCheetah-v5's); episodes run across updates."""
    gamma: float = 0.97
    """Discount of the returns-to-go (MFPG's)."""
    lr: float = 7e-4
    """Adam step (MFPG's)."""
    max_grad_norm: float = 1.0
    """Gradient clipping (MFPG's)."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Tanh MLP of the Gaussian policy's mean (Stable-Baselines3's, as MFPG's code)."""
    log_std_init: float = 0.0
    """Initial state-independent log std (Stable-Baselines3's)."""
    c_ema: float = 0.95
    """EMA rate of the moments that give the control-variate coefficient c (MFPG's)."""
    baseline_ema: float = 0.9
    """EMA rate of the per-step return baselines (ours; MFPG's code uses a value network)."""
    share_noise: bool = True
    """Paired segments reuse the high-fidelity action noise (False: independent noise, the
    uncorrelated control)."""
    fixed_c: float | None = None
    """Use this c instead of the EMA estimate (tests; None: estimated)."""
    eval_every: int = 20
    """Updates between evaluations (and after the last)."""
    eval_episodes: int = 5
    """Deterministic (mean-action) episodes in the true dynamics per evaluation."""
    eval_steps: int = 1000
    """Length of an evaluation episode."""
    eval_seed: int = 10_000
    """Seed of the evaluation pool."""
    device: str = "cpu"
    """Torch device of the policy."""
    num_threads: int = 1
    """SimPool threads."""

    def __post_init__(self) -> None:
        if self.method not in MFPG_METHODS:
            raise ValueError(f"method must be one of {MFPG_METHODS}, got {self.method!r}")
        sim_fidelity(self.low)
        for name in ("iterations", "high_episodes", "horizon", "episode_steps", "eval_every",
                     "eval_episodes", "eval_steps", "num_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.extra_low_episodes < 0 or self.extra_low_episodes % self.high_episodes:
            raise ValueError(f"extra_low_episodes ({self.extra_low_episodes}) must be a "
                             f"multiple of high_episodes ({self.high_episodes})")
        if self.episode_steps % self.horizon:
            raise ValueError(f"horizon ({self.horizon}) must divide episode_steps "
                             f"({self.episode_steps})")
        for name in ("gamma", "c_ema", "baseline_ema"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.lr <= 0 or self.max_grad_norm <= 0:
            raise ValueError("lr and max_grad_norm must be > 0")

    def replace(self, **changes: Any) -> MFPGConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
