"""Behaviour policies and trainers that ``collect`` drives through ``SimPool``.

Two small interfaces, so that any policy or learner can make a dataset:

- :class:`Policy`: ``act(obs)`` maps the observations of all n environments, (n, obs_dim)
  float64, to actions (n, act_dim) in [-1, 1]. It may also define ``observe(step)``,
  called with every :class:`PoolStep` (e.g. to keep per-environment state).
- :class:`PolicyTrainer`: a policy that learns online from ``observe(step)``, reports
  ``evaluate()`` (the return of its current policy) and hands out a frozen ``policy()``.
  ``collect`` uses it for ``replay`` (every transition it sees while training) and for
  ``medium`` (train until a return level, then roll out the frozen policy). The ensemble
  SAC of ``mfhrl_fast.learners`` is adapted in :mod:`.sac_bridge`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..rollout import PoolStep


@runtime_checkable
class Policy(Protocol):
    """Maps observations (n, obs_dim) to actions (n, act_dim) in [-1, 1]."""

    def act(self, obs: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class PolicyTrainer(Protocol):
    """A policy that learns from every pool step it is shown."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Actions to take now (exploratory while training)."""
        ...

    def observe(self, step: PoolStep) -> None:
        """Store the step's transitions and learn from them."""
        ...

    def evaluate(self) -> float:
        """Mean return of the current policy (e.g. deterministic episodes in the true env)."""
        ...

    def policy(self, *, deterministic: bool = False) -> Policy:
        """A frozen copy of the current (best) policy for rollouts; ``deterministic`` asks
        for its mean actions instead of samples (ignored by deterministic policies)."""
        ...


class UniformRandomPolicy:
    """Actions i.i.d. uniform in [-1, 1]^act_dim (D4RL's ``random``), seeded."""

    def __init__(self, act_dim: int = 6, *, seed: int = 0) -> None:
        self.act_dim = act_dim
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.rng.uniform(-1.0, 1.0, (len(obs), self.act_dim)).astype(np.float32)

    def __repr__(self) -> str:
        return f"UniformRandomPolicy(act_dim={self.act_dim})"


GAIT_PHASES = (5.39, 0.21, 4.58, 1.10, 5.42, 3.40)
"""Joint phases (rad; bthigh, bshin, bfoot, fthigh, fshin, ffoot) of :class:`SinusoidGait`,
found by a small random search: at 2 Hz and amplitude 0.7 it returns about +1000 per
1000 steps from any reset state (random actions: about -280)."""


class SinusoidGait:
    """A scripted open-loop HalfCheetah gait: a_j(t) = amplitude * sin(2 pi f t dt + phase_j).

    t counts the steps of each environment's current episode (reset through ``observe``);
    dt is HalfCheetah-v5's control period 0.05 s. Deterministic: a reference behaviour
    policy that needs no training.
    """

    def __init__(self, *, amplitude: float = 0.7, frequency: float = 2.0,
                 phases: tuple[float, ...] = GAIT_PHASES, control_dt: float = 0.05) -> None:
        if not 0 < amplitude <= 1 or frequency <= 0 or control_dt <= 0:
            raise ValueError("need 0 < amplitude <= 1, frequency > 0 and control_dt > 0")
        self.amplitude, self.frequency, self.control_dt = amplitude, frequency, control_dt
        self.phases = np.asarray(phases, dtype=np.float64)
        self._t: np.ndarray | None = None

    def act(self, obs: np.ndarray) -> np.ndarray:
        if self._t is None or len(self._t) != len(obs):
            self._t = np.zeros(len(obs))
        angle = 2 * np.pi * self.frequency * self.control_dt * self._t[:, None] + self.phases
        return (self.amplitude * np.sin(angle)).astype(np.float32)

    def observe(self, step: PoolStep) -> None:
        if self._t is None or len(self._t) != len(step.obs):
            self._t = np.zeros(len(step.obs))
        self._t += 1
        self._t[step.ended] = 0

    def __repr__(self) -> str:
        return f"SinusoidGait(amplitude={self.amplitude}, frequency={self.frequency})"
