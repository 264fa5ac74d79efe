"""The data of a round: its random streams, the buffers its rollouts fill, subsamples of
D_off, and the real transitions replayed in a simulator that the 'paired' discriminators
contrast them with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..data import OfflineDataset
from ..fidelity import FidelitySpec
from ..learners import EnsembleH2O
from ..replay import ReplayRing
from ..resimulate import resimulate


def round_seed(seed: int, round_: int, stream: int) -> int:
    """An independent 63-bit seed for (run seed, round, stream)."""
    return int(np.random.SeedSequence([seed, round_, stream]).generate_state(1, np.uint64)[0]
               >> np.uint64(1))


@dataclass
class RoundBuffers:
    """Arrays one round's rollouts fill: (T, n_e, ...) per field."""

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    valid: np.ndarray

    @classmethod
    def empty(cls, steps: int, envs: int, obs_dim: int, act_dim: int) -> RoundBuffers:
        f32 = np.float32
        return cls(np.empty((steps, envs, obs_dim), f32), np.empty((steps, envs, act_dim), f32),
                   np.empty((steps, envs), f32), np.empty((steps, envs, obs_dim), f32),
                   np.empty((steps, envs), f32), np.empty((steps, envs), bool))


def dataset_batch(dataset: OfflineDataset) -> dict[str, np.ndarray]:
    return {"obs": dataset.observations, "action": dataset.actions, "reward": dataset.rewards,
            "next_obs": dataset.next_observations,
            "terminated": dataset.terminals.astype(np.float32)}


def subsample(batch: dict[str, np.ndarray], size: int, rng: np.random.Generator
               ) -> dict[str, np.ndarray]:
    """``size`` rows drawn without replacement (all rows, in order, if there are fewer)."""
    n = len(batch["obs"])
    if n <= size:
        return {k: np.ascontiguousarray(v) for k, v in batch.items()}
    index = np.sort(rng.choice(n, size=size, replace=False))
    return {k: np.ascontiguousarray(v[index]) for k, v in batch.items()}


def paired_data(dataset: OfflineDataset, fidelity: FidelitySpec, size: int, *, seed: int,
                draw_seed: int, num_threads: int = 1
                ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``size`` real transitions of ``dataset`` (a draw seeded by ``draw_seed``; all if
    fewer) as float32 ``obs``/``action``/``next_obs``, and the next observations that
    ``fidelity`` reaches from each of their (s, a) (:func:`~..resimulate.resimulate`)."""
    real = subsample(dataset_batch(dataset), size, np.random.default_rng(draw_seed))
    real = {k: real[k].astype(np.float32) for k in ("obs", "action", "next_obs")}
    return real, resimulate(fidelity, real["obs"], real["action"], seed=seed,
                            num_threads=num_threads)


class DynamicsTable:
    """w and u of every transition in the simulated replay, computed once per round after
    the round's discriminator steps, which leaves them fixed for its H2O steps
    (:meth:`~..learners.EnsembleH2O.dynamics_table`, u's next-state samples seeded by
    ``seed``): a batch sampled with ``index`` looks its rows' entries up by slot."""

    def __init__(self, learner: EnsembleH2O, ring: ReplayRing, seed: int) -> None:
        generator = torch.Generator(device=learner.device).manual_seed(seed)
        self.ratio, self.gap = learner.dynamics_table(ring.rows(), generator)

    @classmethod
    def if_cheaper(cls, learner: EnsembleH2O, ring: ReplayRing, steps: int, sim_batch: int,
                   seed: int) -> DynamicsTable | None:
        """The table, or None (w and u per sampled row and step) when it would evaluate
        more transitions (all stored) than ``steps`` steps of ``sim_batch`` rows per member
        sample."""
        if len(ring) > steps * learner.num_members * sim_batch:
            return None
        return cls(learner, ring, seed)

    def attach(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        """``batch`` (with ``index``) plus ``ratio`` and ``gap`` shaped like its ``reward``."""
        index = torch.from_numpy(batch["index"]).to(self.ratio.device)
        return {**batch, "ratio": self.ratio[index], "gap": self.gap[index]}


__all__ = ["DynamicsTable", "RoundBuffers", "dataset_batch", "paired_data", "round_seed",
           "subsample"]
