"""Real transitions replayed in a simulator: the same (s, a), the simulator's s'.

A HalfCheetah-v5 observation holds the whole state except the x position (``qpos[1:]``
then ``qvel``), and x does not enter the dynamics, so ``SimPool.set_state`` can put an
environment exactly where a recorded transition started and step it with the recorded
action. In the true dynamics this reproduces the recorded s' (up to the solver's warm
start); in a perturbed simulator the difference is that simulator's dynamics gap alone,
with the same state-action distribution on both sides. The discriminators trained on such
pairs estimate H2O's dynamics ratio w free of the confound between the data's and the
policy's state distributions (see ``OnlineConfig.disc_data``).
"""

from __future__ import annotations

import numpy as np

from .fidelity import FidelitySpec
from .sim_pool import SimPool

QPOS_FROM_OBS = 8
"""Observation entries 0..7 are qpos[1:] (qpos[0], the x position, is not observed)."""


def half_cheetah_state(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(qpos, qvel), shaped (n, 9) each, of HalfCheetah-v5 observations (n, 17), x = 0."""
    obs = np.asarray(obs, dtype=np.float64)
    if obs.ndim != 2 or obs.shape[1] != 17:
        raise ValueError(f"obs must be (n, 17) HalfCheetah-v5 observations, got {obs.shape}")
    qpos = np.zeros((len(obs), 9))
    qpos[:, 1:] = obs[:, :QPOS_FROM_OBS]
    return qpos, np.ascontiguousarray(obs[:, QPOS_FROM_OBS:])


def resimulate(fidelity: FidelitySpec, obs: np.ndarray, action: np.ndarray, *,
               seed: int = 0, num_threads: int = 1, chunk: int = 1000) -> np.ndarray:
    """The next observations (n, 17), float32, that ``fidelity`` reaches from each
    ``obs`` row with the matching ``action`` row (one step each, ``chunk`` at a time in
    one pool). The fidelity's action noise, if any, is drawn from the pool's seeded
    streams, so the same call gives the same result."""
    action = np.asarray(action, dtype=np.float32)
    qpos, qvel = half_cheetah_state(obs)
    if action.shape != (len(qpos), 6):
        raise ValueError(f"action must be ({len(qpos)}, 6), got {action.shape}")
    out = np.empty((len(qpos), 17), dtype=np.float32)
    size = max(1, min(chunk, len(qpos)))
    pool = SimPool(fidelities=[fidelity], num_envs=size, num_threads=num_threads, seed=seed,
                   obs_dtype=np.float32)
    for start in range(0, len(qpos), size):
        rows = slice(start, min(start + size, len(qpos)))
        n = rows.stop - rows.start
        pad = size - n  # the last chunk: fill the pool with copies of its first row
        pool.set_state(np.concatenate([qpos[rows], np.repeat(qpos[rows][:1], pad, 0)]),
                       np.concatenate([qvel[rows], np.repeat(qvel[rows][:1], pad, 0)]))
        _, _, _, _, info = pool.step(np.concatenate([action[rows],
                                                     np.repeat(action[rows][:1], pad, 0)]))
        out[rows] = info["final_obs"][:n]
    return out


__all__ = ["half_cheetah_state", "resimulate"]
