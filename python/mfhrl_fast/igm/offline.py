"""The offline phase (docs/algorithm.md): the dataset D_off and L bootstrapped CQL members.

:func:`load_dataset` obtains D_off from the run's :class:`~.config.DatasetConfig`; the
default 'gait' source collects a small mixed-quality dataset of the true dynamics once
(a scripted gait with per-environment action noise, a quick stand-in for D4RL's
medium-replay) and reuses it from the local Minari store afterwards.
:func:`train_offline` trains the CQL ensemble on the members' bootstrap shares.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from filelock import FileLock

from .._allocator import retain_freed_memory
from ..data import CollectConfig, OfflineDataset, PoolStep, SinusoidGait, collect, from_minari
from ..data.dataset import from_npz
from ..data.loaders import from_d4rl_hdf5
from ..data.recorder import dataset_path
from ..learners import EnsembleCQL, metrics_to_floats
from ..replay import ReplayRing
from .checkpoint import save_torch_atomic
from .config import DatasetConfig, RunConfig
from .guard import FiniteWatch
from .run_log import Progress


class NoisyGait:
    """:class:`~mfhrl_fast.data.SinusoidGait` plus N(0, std_i^2) action noise, clipped to
    [-1, 1]; environment i uses ``stds[i % len(stds)]`` (the behaviour policy of 'gait')."""

    def __init__(self, stds: tuple[float, ...], seed: int = 0) -> None:
        self.gait, self.stds = SinusoidGait(), np.asarray(stds, dtype=np.float64)
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray) -> np.ndarray:
        base = self.gait.act(obs)
        std = np.resize(self.stds, len(obs))[:, None]
        noisy = base + std * self.rng.standard_normal(base.shape)
        return np.clip(noisy, -1.0, 1.0).astype(np.float32)

    def observe(self, step: PoolStep) -> None:
        self.gait.observe(step)

    def __repr__(self) -> str:
        return f"NoisyGait(stds={tuple(float(s) for s in self.stds)})"


def gait_dataset_id(config: DatasetConfig) -> str:
    """The Minari id of a 'gait' dataset: a digest of what determines its contents."""
    key = json.dumps({"steps": config.steps, "noise_stds": list(config.noise_stds),
                      "seed": config.seed}, sort_keys=True)
    return f"mfhrl/halfcheetah/gait{hashlib.sha256(key.encode()).hexdigest()[:10]}-v0"


def load_dataset(config: DatasetConfig, *, progress: bool = False) -> OfflineDataset:
    """D_off as ``config`` says; a 'gait' dataset is collected only if not stored yet."""
    if config.source == "minari":
        return from_minari(config.path)
    if config.source == "d4rl":
        return from_d4rl_hdf5(config.path)
    if config.source == "npz":
        return from_npz(config.path)
    dataset_id = gait_dataset_id(config)
    path = dataset_path(dataset_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Runs that start together (a sweep's workers) would each collect it: one does, under
    # a lock beside the dataset's folder, and the others wait for it and read it.
    with FileLock(path.with_name(path.name + ".lock")):
        if not path.exists():
            collect(CollectConfig(kind="medium", steps=config.steps, dataset_id=dataset_id,
                                  num_envs=len(config.noise_stds), seed=config.seed),
                    policy=NoisyGait(config.noise_stds, config.seed), progress=progress)
    return from_minari(dataset_id)


def offline_ring(dataset: OfflineDataset, config: RunConfig, num_threads: int = 1) -> ReplayRing:
    """D_off in a ring with the L bootstrap masks m_l ~ Bernoulli(p)^N, drawn
    from the run's seed (the same masks in the offline and the online phase)."""
    o = config.offline
    return dataset.to_replay(num_members=o.num_members, mask_prob=o.mask_prob,
                             seed=config.seed, num_threads=num_threads)


def offline_learner(config: RunConfig, dataset: OfflineDataset) -> EnsembleCQL:
    """The untrained CQL ensemble of the offline phase, its observations standardised with
    D_off's statistics."""
    o = config.offline
    cql = EnsembleCQL(dataset.obs_dim, dataset.act_dim, num_members=o.num_members,
                      config=o.cql, seed=config.seed, device=config.device,
                      precision=config.precision)
    cql.set_obs_normalization(*dataset.state_stats())
    return cql


def train_offline(config: RunConfig, dataset: OfflineDataset, *,
                  callback: Callable[[int, dict[str, float]], None] | None = None,
                  every: int = 100, learner: EnsembleCQL | None = None) -> EnsembleCQL:
    """(pi_l, Q_l) by CQL on D_l for every member l, as one ensemble.

    Trains ``learner`` (default: a fresh :func:`offline_learner`), e.g. one the
    ``callback`` also evaluates. ``callback(step, metrics)`` runs every ``every`` steps
    and after the last.
    """
    retain_freed_memory()
    o = config.offline
    ring = offline_ring(dataset, config)
    cql = learner if learner is not None else offline_learner(config, dataset)
    batch = ring.empty_batch(o.batch_size, members=True, index=o.cql.calibrated)
    # Cal-QL's reference values, by the ring's slots (the ring holds D_off in its order)
    to_go = dataset.returns_to_go(o.cql.gamma) if o.cql.calibrated else None
    watch = FiniteWatch("CQL step")
    for step in range(1, o.gradient_steps + 1):
        ring.sample_members(o.batch_size, out=batch)
        if to_go is not None:
            batch["return_to_go"] = to_go[batch["index"]]
        metrics = cql.train_step(batch, as_float=False)
        watch.observe(metrics)
        if step % every == 0 or step == o.gradient_steps:
            watch.check("offline phase", cql.nets)
            if callback is not None:
                callback(step, metrics_to_floats(metrics, "losses/"))
    return cql


_LATER_CQL_FIELDS = {"trust_region": 0.0, "trust_region_rate": 0.005,
                     "trust_region_decay_steps": 0, "trust_region_std_floor": 0.0,
                     "calibrated": False}
"""CQL config fields newer than caches in use, left out of the key at these defaults."""


def offline_key(config: RunConfig) -> str:
    """A digest of everything the offline phase depends on (dataset, offline config, seed,
    device, precision), naming cached offline results shared by runs of other strategies
    and budgets."""
    offline = asdict(config.offline)
    for name, default in _LATER_CQL_FIELDS.items():  # at their defaults: the older keys
        if offline["cql"][name] == default:
            del offline["cql"][name]
    parts = {"dataset": asdict(config.dataset), "offline": offline,
             "seed": config.seed, "device": config.device}
    if config.precision != "fp32":  # fp32 keeps the keys of caches made before the option
        parts["precision"] = config.precision
    key = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def offline_state(cql: EnsembleCQL) -> dict[str, Any]:
    """What the online phase takes from the offline phase: the networks' weights and the
    Adam state (``online.carry_optimizer``)."""
    return {"nets": cql.nets.state_dict(), "optimizer": cql.optimizer.state_dict(),
            "num_members": cql.num_members}


def get_offline(config: RunConfig, dataset: OfflineDataset, *, cache_dir: str | Path | None = None,
                progress: bool = False) -> dict[str, Any]:
    """The offline phase's weights: loaded from ``cache_dir`` when a run with the same
    dataset, offline config, seed and device stored them there, else trained (and stored)."""
    path = Path(cache_dir) / f"offline-{offline_key(config)}.pt" if cache_dir else None
    if path is not None and path.exists():
        return torch.load(path, weights_only=True)
    bar = Progress("offline CQL", config.offline.gradient_steps, enabled=progress, unit="steps")
    cql = train_offline(config, dataset, callback=bar.offline_step if progress else None)
    bar.close()
    state = offline_state(cql)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_torch_atomic(state, path)
    return state
