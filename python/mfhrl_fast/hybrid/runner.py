"""One run of a reference method: epochs of simulator steps interleaved with updates.

An epoch (H2O's) steps the simulator ``sim_steps_per_epoch`` times, storing every
transition in the simulated replay, and spreads ``updates_per_epoch`` learner steps and
``disc_updates_per_epoch`` discriminator steps evenly between those simulator steps;
cql-real only updates. Every ``eval_every`` epochs all members are evaluated in the true
dynamics. With ``out_dir`` an epoch ends in an atomic checkpoint (learner, discriminators,
replay) and the rows go to ``epochs.jsonl``/``epochs.csv`` (and TensorBoard);
``resume=True`` continues exactly: every epoch starts fresh simulator episodes from a reset
seeded by (seed, epoch) and reseeds the replays, so a resumed run equals an unbroken one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._allocator import retain_freed_memory
from ..data import OfflineDataset
from ..fidelity import FidelitySpec
from ..igm.checkpoint import (
    latest_checkpoint,
    load_state,
    prepare_run_folder,
    save_checkpoint,
    save_torch_atomic,
)
from ..igm.guard import FiniteWatch
from ..igm.offline import load_dataset
from ..igm.round_data import paired_data, round_seed
from ..jsonl import write_row_tables
from ..learners import FidelityDiscriminators, metrics_to_floats
from ..learners.online import evaluate
from ..replay import ReplayRing
from ..rollout import PoolStep, rollout
from ..sim_pool import SimPool
from .config import DISCRIMINATOR_METHODS, SIM_METHODS, HybridConfig, sim_fidelity
from .methods import load_init, make_learner, step_batches


@dataclass
class HybridResult:
    """What a run returns: its evaluation rows and the last evaluation."""

    config: HybridConfig
    rows: list[dict[str, Any]] = field(default_factory=list)
    wall_time: float = 0.0

    @property
    def final_return(self) -> float:
        """Mean deterministic return of the members in the true dynamics at the end."""
        return self.rows[-1]["eval/mean"] if self.rows else float("nan")


class Ticks:
    """``total`` events spread evenly over ``slots`` slots: how many fall in each."""

    def __init__(self, total: int, slots: int) -> None:
        self.total, self.slots, self.done, self.slot = total, max(slots, 1), 0, 0

    def next(self) -> int:
        self.slot += 1
        due = self.total * self.slot // self.slots
        n, self.done = due - self.done, due
        return n


class HybridRun:
    """The state of one run between epochs; :meth:`play_epoch` plays the next epoch."""

    def __init__(self, config: HybridConfig, dataset: OfflineDataset) -> None:
        self.config = c = config
        self.dataset = dataset
        obs_dim, act_dim = dataset.obs_dim, dataset.act_dim
        self.fidelity = sim_fidelity(c.sim)
        self.disc = None
        if c.method in DISCRIMINATOR_METHODS:
            self.disc = FidelityDiscriminators(obs_dim, act_dim, [0], c.discriminator,
                                               seed=c.seed, device=c.device)
            self.disc.set_real_states(dataset.observations)
        self.learner = make_learner(c, obs_dim, act_dim, self.disc)
        self.learner.set_obs_normalization(*dataset.state_stats())
        if c.init:
            load_init(self.learner, c.init)
        self.real = dataset.to_replay(num_members=c.num_members, mask_prob=1.0, seed=c.seed)
        uses_sim = c.method in SIM_METHODS
        capacity = c.epochs * c.sim_steps_per_epoch if uses_sim else 1
        self.sim = ReplayRing(capacity=max(capacity, 1), obs_dim=obs_dim, act_dim=act_dim,
                              num_members=c.num_members, mask_prob=1.0, seed=c.seed)
        self.pool = SimPool(fidelities=[self.fidelity], num_envs=c.num_envs, seed=c.seed,
                            num_threads=c.num_threads, obs_dtype=np.float32,
                            max_episode_steps=c.episode_steps) if uses_sim else None
        self.member_of_env = np.arange(c.num_envs) % c.num_members
        self.draw = step_batches(c, self.learner, self.real, self.sim, self.disc)
        self.paired: tuple[dict[str, np.ndarray], np.ndarray] | None = None
        self.epoch, self.rows = 0, []
        self.metrics: dict[str, Any] = {}
        self.disc_metrics: dict[str, Any] = {}

    # ------------------------------------------------------------------ pieces
    def _disc_draw(self, rng: np.random.Generator):
        """A discriminator step's real and simulated batches."""
        c = self.config
        if c.disc_data == "paired":
            if self.paired is None:
                self.paired = paired_data(self.dataset, self.fidelity, c.paired_transitions,
                                          seed=c.seed, draw_seed=round_seed(c.seed, 0, 6),
                                          num_threads=c.num_threads)
            real_rows, sim_next = self.paired
            index = rng.integers(0, len(sim_next), c.disc_batch)
            real = {k: v[index] for k, v in real_rows.items()}
            return real, {**real, "next_obs": sim_next[index]}
        return self.real.sample(c.disc_batch), self.sim.sample(c.disc_batch)

    def _updates(self, learner_steps: int, disc_steps: int, watch: FiniteWatch,
                 rng: np.random.Generator) -> None:
        c = self.config
        if len(self.sim) < c.warmup and c.method in SIM_METHODS:
            return
        if self.disc is not None and len(self.sim) >= 1:
            for _ in range(disc_steps):
                self.disc_metrics = self.disc.train_step(0, *self._disc_draw(rng), as_float=False)
        for _ in range(learner_steps):
            self.metrics = self.learner.train_step(*self.draw(), as_float=False)
            watch.observe(self.metrics)

    def _simulate(self, epoch: int, watch: FiniteWatch) -> float:
        """The epoch's simulator steps with the updates between them; the mean return of
        the epoch's episodes (their return so far, where the epoch cut them)."""
        c = self.config
        steps = c.sim_steps_per_epoch // c.num_envs
        learner_ticks = Ticks(c.updates_per_epoch, steps)
        disc_ticks = Ticks(c.disc_updates_per_epoch, steps)
        rng = np.random.default_rng(round_seed(c.seed, epoch, 8))
        returns: list[float] = []

        def policy(obs: np.ndarray) -> np.ndarray:
            if len(self.sim) < c.warmup:
                return rng.uniform(-1.0, 1.0, (len(obs), self.pool.act_dim)).astype(np.float32)
            return self.learner.act(obs, member=self.member_of_env)

        def sink(step: PoolStep) -> None:
            ended = step.terminated | step.truncated
            last = step.t == steps - 1
            returns.extend(step.episode_return[ended | last].tolist())
            self._updates(learner_ticks.next(), disc_ticks.next(), watch, rng)

        obs = self.pool.reset(seed=round_seed(c.seed, epoch, 5) % 2**31)
        rollout(self.pool, policy, steps, replay=self.sim, sink=sink, obs=obs)
        return float(np.mean(returns))

    def evaluate(self) -> np.ndarray:
        """Deterministic returns (members, episodes) in the true dynamics."""
        c = self.config
        return evaluate(self.learner, members=range(c.num_members), fidelity=FidelitySpec(),
                        n_episodes=c.eval_episodes, max_episode_steps=c.eval_steps,
                        seed=c.eval_seed, num_threads=c.num_threads)

    # ------------------------------------------------------------------ epochs
    def play_epoch(self) -> dict[str, Any]:
        """One epoch; returns its row (evaluated every ``eval_every`` epochs and last)."""
        c = self.config
        self.epoch += 1
        t0 = time.perf_counter()
        self.real.reseed(round_seed(c.seed, self.epoch, 4))
        self.sim.reseed(round_seed(c.seed, self.epoch, 3))
        watch = FiniteWatch("update")
        if c.method in SIM_METHODS:
            train_return = self._simulate(self.epoch, watch)
        else:
            train_return = float("nan")
            self._updates(c.updates_per_epoch, 0, watch,
                          np.random.default_rng(round_seed(c.seed, self.epoch, 8)))
        watch.check(f"epoch {self.epoch}", self.learner.nets)
        t_train = time.perf_counter() - t0
        row: dict[str, Any] = {
            "epoch": self.epoch, "method": c.method, "sim": c.sim, "seed": c.seed,
            "sim_steps": int(self.sim.total_added) if c.method in SIM_METHODS else 0,
            "updates": self.learner.num_updates, "train_return": train_return,
            "time/train_s": t_train}
        if self.epoch % c.eval_every == 0 or self.epoch == c.epochs:
            t0 = time.perf_counter()
            returns = self.evaluate()
            row |= {"eval/mean": float(returns.mean()), "eval/std": float(returns.std()),
                    **{f"eval/member{m}": float(r) for m, r in enumerate(returns.mean(1))},
                    "time/eval_s": time.perf_counter() - t0}
        row |= metrics_to_floats(self.metrics, "losses/") if self.metrics else {}
        row |= metrics_to_floats(self.disc_metrics, "disc/") if self.disc_metrics else {}
        self.rows.append(row)
        return row

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        state = {"epoch": self.epoch, "rows": self.rows, "learner": self.learner.state_dict()}
        if self.disc is not None:
            state["discriminators"] = self.disc.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any], sim_ring: ReplayRing | None) -> None:
        self.epoch, self.rows = int(state["epoch"]), list(state["rows"])
        self.learner.load_state_dict(state["learner"])
        if self.disc is not None:
            self.disc.load_state_dict(state["discriminators"])
        if sim_ring is not None:
            self.sim = sim_ring
            self.draw = step_batches(self.config, self.learner, self.real, self.sim, self.disc)


def _tensorboard(folder: Path, purge_step: int):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("TensorBoard logs need the 'tensorboard' package "
                          "(pip install tensorboard), or pass tensorboard=False") from e
    return SummaryWriter(log_dir=str(folder), purge_step=purge_step)


def run_hybrid(config: HybridConfig, *, out_dir: str | os.PathLike[str] | None = None,
               resume: bool = False, dataset: OfflineDataset | None = None,
               log: Any = None, tensorboard: bool = True) -> HybridResult:
    """Run ``config.method`` for ``config.epochs`` epochs (see the module docstring).

    ``out_dir`` receives ``config.json``, the rows, TensorBoard events (``tb/``), the
    checkpoints (``checkpoints/``) and, at the end, ``learner.pt`` (the learner's state,
    which ``h2o-cql`` takes as ``init``). ``log(row)`` is called after every epoch.
    """
    retain_freed_memory()
    c = config
    if c.torch_threads is not None:
        torch.set_num_threads(c.torch_threads)
    folder = prepare_run_folder(out_dir, c, resume)
    dataset = dataset if dataset is not None else load_dataset(c.dataset)
    run = HybridRun(c, dataset)
    checkpoint = latest_checkpoint(folder / "checkpoints") if folder and resume else None
    if checkpoint is not None:
        replay = checkpoint / "sim_replay.bin"
        run.load_state_dict(load_state(checkpoint),
                            ReplayRing.load(replay) if replay.exists() else None)
    tb = _tensorboard(folder / "tb", run.epoch + 1) if folder is not None and tensorboard \
        else None
    start = time.perf_counter()
    try:
        while run.epoch < c.epochs:
            row = run.play_epoch()
            if folder is not None:
                extra = (lambda d: run.sim.save(d / "sim_replay.bin")) \
                    if c.method in SIM_METHODS else None
                save_checkpoint(folder / "checkpoints", run.epoch, run.state_dict(), extra=extra)
                write_row_tables(folder, run.rows, "epochs")
            if tb is not None:
                for key, value in row.items():
                    if isinstance(value, float) and np.isfinite(value):
                        tb.add_scalar(key, value, run.epoch)
                tb.flush()
            if log is not None:
                log(row)
        if folder is not None:
            save_torch_atomic(run.learner.state_dict(), folder / "learner.pt")
    finally:
        if tb is not None:
            tb.close()
    return HybridResult(config=c, rows=run.rows, wall_time=time.perf_counter() - start)
