"""The one rollout loop: a policy stepping a :class:`~.sim_pool.SimPool`, every step handed
to a sink.

Evaluation (``learners.online.evaluate``), the online collectors (``learners.online.
Collector``), the MF-HRL-IGM rounds (``igm.runner.Experiment.rollouts``) and the dataset
recorder (``data.collect.run_pool``) all step their pools through :func:`rollout`; what
they keep of each step is their sink's business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .fidelity import FidelitySpec
from .replay import ReplayRing
from .sim_pool import SimPool


@dataclass(frozen=True)
class PoolStep:
    """One ``SimPool.step`` of n environments, as handed to a sink or ``policy.observe``."""

    obs: np.ndarray
    """(n, obs_dim) observations the actions were chosen for."""
    action: np.ndarray
    """(n, act_dim) float32 actions as stepped."""
    reward: np.ndarray
    """(n,) rewards."""
    next_obs: np.ndarray
    """(n, obs_dim) observations reached, before any auto-reset (``info["final_obs"]``)."""
    terminated: np.ndarray
    """(n,) bool."""
    truncated: np.ndarray
    """(n,) bool (time limit)."""
    valid: np.ndarray
    """(n,) bool: False where the physics diverged (the environment was reset; drop it)."""
    obs_after: np.ndarray | None = None
    """(n, obs_dim) observations after the step, as the policy sees them next: equal to
    ``next_obs`` except where an episode ended and the environment was reset."""
    episode_return: np.ndarray | None = None
    """(n,) running episode returns including this step (``info["episode_return"]``)."""
    t: int = 0
    """Index of this step in its rollout call."""

    @property
    def ended(self) -> np.ndarray:
        """Environments whose episode ended in this step (they start a new one)."""
        return self.terminated | self.truncated | ~self.valid


Sink = Callable[[PoolStep], bool | None]
"""Receives every step; returning True stops the rollout after that step."""


def rollout(pool: SimPool, policy: Callable[[np.ndarray], np.ndarray], steps: int, *,
            replay: ReplayRing | None = None, sink: Sink | None = None,
            obs: np.ndarray | None = None) -> np.ndarray:
    """Step ``pool`` up to ``steps`` times with ``policy(obs)``'s actions.

    Starts from ``obs`` (the pool's current observations, to continue a rollout) or, when
    None, from ``pool.reset()``. With ``replay`` the C++ step also stores every transition
    (see :meth:`SimPool.step`). Each step goes to ``sink`` as a :class:`PoolStep`; a sink
    returning True ends the rollout there. Returns the observations after the last step
    (auto-reset environments show their new episode's first one).
    """
    if obs is None:
        obs = pool.reset()
    for t in range(steps):
        action = policy(obs)
        next_obs, reward, terminated, truncated, info = pool.step(action, replay=replay)
        stop = sink is not None and sink(PoolStep(
            obs=obs, action=action, reward=reward, next_obs=info["final_obs"],
            terminated=terminated, truncated=truncated, valid=~info["unstable"],
            obs_after=next_obs, episode_return=info["episode_return"], t=t))
        obs = next_obs
        if stop:
            break
    return obs


@lru_cache(maxsize=8)
def _cached_pool(fidelity: FidelitySpec, num_envs: int, seed: int, max_episode_steps: int,
                 num_threads: int) -> SimPool:
    return SimPool(fidelities=[fidelity], num_envs=num_envs, num_threads=num_threads,
                   seed=seed, max_episode_steps=max_episode_steps, obs_dtype=np.float32)


def fresh_pool(fidelity: FidelitySpec, *, num_envs: int, seed: int, max_episode_steps: int,
               num_threads: int) -> tuple[SimPool, np.ndarray]:
    """A float32 pool of one fidelity in the state a newly built one has, and its first
    observations, reusing a cached pool (up to 8) of the same shape: it is re-seeded and
    reset twice, as a new pool resets once when built and once more by ``reset()``, so
    every call sees the same initial states a new pool would."""
    pool = _cached_pool(fidelity, num_envs, seed, max_episode_steps, num_threads)
    pool.reset(seed=seed)
    return pool, pool.reset()


__all__ = ["PoolStep", "Sink", "fresh_pool", "rollout"]
