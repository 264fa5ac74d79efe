"""Simulator throughput: SimPool against its peers, measured in one run.

Every row steps HalfCheetah-v5 with the same actions and reports
env-steps/s, where one env-step is one agent step = ``frame_skip`` = 5 MuJoCo
physics steps (EnvPool's FPS convention: a pool step of ``n`` environments
counts ``n`` env-steps).

Rows (``key``: system):

- ``simpool``: :class:`mfhrl_fast.SimPool`, ``num_envs`` x ``num_threads``
  (obs + reward + auto-reset); the main row.
- ``simpool-1thread``: the same pool on one thread, for the thread scaling.
- ``simpool-single``: SimPool with one environment.
- ``gym-single``: ``gymnasium.make("HalfCheetah-v5")``, reset when truncated.
- ``gym-sync``: ``gymnasium.vector.SyncVectorEnv`` of ``num_envs`` of them.
- ``mujoco-batch``: ``mujoco.batch.Batch(model, nsim, nthread)``: ctrl written,
  5 physics steps, obs (qpos/qvel) and reward assembled in numpy; no reset.
- ``envpool``: EnvPool ``HalfCheetah-v5``, sync mode (``batch_size ==
  num_envs``); skipped when EnvPool (the optional ``bench`` extra) is missing.
- ``rollout``: ``mujoco.rollout`` on ``num_threads`` threads, open loop from
  ``num_envs`` initial states: physics steps/s / 5, the physical limit.
- ``rollout-single``: one initial state on the calling thread: the physical cap
  of any single-environment row.

Each measurement is the best of ``repeats`` timed runs after a warm-up. A run
is ``steps`` pool-steps of ``num_envs`` environments, and a single-environment
row runs ``steps * num_envs`` steps of its one environment, so every row times
the same number of env-steps and the same actions. :func:`compare` builds all
rows, verifies them and interleaves their runs (repeat 1 of every row, then
repeat 2, ...), so the ratios it reports come from the same stretch of a noisy
machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import mujoco
import numpy as np

from .native_output import clear_native_messages, native_messages
from .sim_common import ENV_ID, UNIT, BenchCheckError, System, make_actions, single_env_actions
from .sim_systems import (
    EnvPoolSystem,
    GymSingleSystem,
    GymSyncVectorSystem,
    MujocoBatchSystem,
    RolloutSystem,
    SimPoolSystem,
)

TARGETS = {
    "simpool/envpool": 1.3,
    "simpool/rollout": 0.9,
    "simpool-single/gym-single": 2.0,
}

HEADLINE = [
    ("simpool", "envpool"),
    ("simpool", "rollout"),
    ("simpool-single", "gym-single"),
    ("rollout-single", "gym-single"),
    ("simpool", "simpool-1thread"),
    ("simpool", "gym-sync"),
    ("simpool", "mujoco-batch"),
    ("rollout", "rollout-single"),
]
"""The ratios the benchmark is about, (numerator, denominator) row keys."""


# ---------------------------------------------------------------------------
# Measuring


def measure(systems: Sequence[System], repeats: int) -> dict[str, list[float]]:
    """Warm up every (verified) system, then interleave ``repeats`` timed runs of each.

    Returns every run's env-steps/s by system key.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for s in systems:
        s.warmup(s.steps // 10)
    samples: dict[str, list[float]] = {s.key: [] for s in systems}
    for _ in range(repeats):
        for s in systems:
            samples[s.key].append(s.timed_run())
    return samples


def _best_of(system_factory: Callable[[], System], repeats: int) -> float:
    with system_factory() as s:
        s.verify()
        return max(measure([s], repeats)[s.key])


def bench_simpool(actions: np.ndarray, *, num_threads: int = 2, repeats: int = 3) -> float:
    """SimPool over actions (steps, num_envs, 6): best env-steps/s of ``repeats`` runs."""
    return _best_of(lambda: SimPoolSystem(actions, num_threads), repeats)


def bench_gym_single(actions: np.ndarray, *, repeats: int = 3) -> float:
    """One Gymnasium HalfCheetah-v5 over actions (steps, 1, 6)."""
    return _best_of(lambda: GymSingleSystem(actions), repeats)


def bench_gym_sync_vector(actions: np.ndarray, *, repeats: int = 3) -> float:
    """Gymnasium SyncVectorEnv of num_envs HalfCheetah-v5 over actions (steps, num_envs, 6)."""
    return _best_of(lambda: GymSyncVectorSystem(actions), repeats)


def bench_mujoco_batch(actions: np.ndarray, *, num_threads: int = 2, repeats: int = 3) -> float:
    """mujoco.batch.Batch with 5 physics steps per env-step, obs and reward in numpy."""
    return _best_of(lambda: MujocoBatchSystem(actions, num_threads), repeats)


def bench_envpool(actions: np.ndarray, *, num_threads: int = 2, repeats: int = 3) -> float:
    """EnvPool HalfCheetah-v5 in sync mode (raises ImportError without envpool)."""
    return _best_of(lambda: EnvPoolSystem(actions, num_threads), repeats)


def bench_rollout(actions: np.ndarray, *, num_threads: int = 2, repeats: int = 3) -> float:
    """mujoco.rollout, open loop: physics steps/s / 5, the physical limit."""
    return _best_of(lambda: RolloutSystem(actions, num_threads), repeats)


# ---------------------------------------------------------------------------
# The comparison


@dataclasses.dataclass
class Row:
    key: str
    system: str
    envs: int
    threads: int
    env_steps_per_sec: float | None
    """Best of the runs; None when the row was skipped or failed."""
    runs: list[float] = dataclasses.field(default_factory=list)
    check: str = ""
    note: str = ""
    skipped: str = ""
    """Why there is no measurement (peer not installed, check failed)."""
    failed: bool = False


@dataclasses.dataclass
class Comparison:
    rows: list[Row]
    meta: dict[str, Any]

    def rate(self, key: str) -> float | None:
        return next((row.env_steps_per_sec for row in self.rows if row.key == key), None)

    def ratio(self, a: str, b: str) -> float | None:
        ra, rb = self.rate(a), self.rate(b)
        return None if ra is None or rb is None else ra / rb

    def headline(self) -> dict[str, float | None]:
        """The ratios the benchmark is about (:data:`HEADLINE`), by 'numerator/denominator'."""
        return {f"{a}/{b}": self.ratio(a, b) for a, b in HEADLINE}

    @property
    def failed(self) -> bool:
        return any(row.failed for row in self.rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "rows": [dataclasses.asdict(r) for r in self.rows],
            "ratios": self.headline(),
            "targets": TARGETS,
        }


def _factories(
    actions: np.ndarray, num_threads: int
) -> list[tuple[str, str, int, int, Callable[[], System]]]:
    """(key, label, envs, threads, factory) of every row, main row first."""
    n = actions.shape[1]
    single = single_env_actions(actions)
    rows = [
        ("simpool", "SimPool", n, num_threads, partial(SimPoolSystem, actions, num_threads)),
    ]
    if num_threads != 1:
        rows.append(
            ("simpool-1thread", "SimPool (1 thread)", n, 1, partial(SimPoolSystem, actions, 1))
        )
    rows += [
        ("simpool-single", "SimPool", 1, 1, partial(SimPoolSystem, single, 1)),
        ("gym-single", "Gymnasium", 1, 1, partial(GymSingleSystem, single)),
        ("gym-sync", "Gymnasium SyncVectorEnv", n, 1, partial(GymSyncVectorSystem, actions)),
        ("mujoco-batch", "mujoco.batch.Batch", n, num_threads,
         partial(MujocoBatchSystem, actions, num_threads)),
        ("envpool", "EnvPool", n, num_threads, partial(EnvPoolSystem, actions, num_threads)),
        ("rollout", "mujoco.rollout (limit)", n, num_threads,
         partial(RolloutSystem, actions, num_threads)),
        ("rollout-single", "mujoco.rollout", 1, 1, partial(RolloutSystem, single, 1)),
    ]  # fmt: skip
    return rows


def _verified(row: Row, system: System, log: Callable[[str], None]) -> bool:
    """Run the system's check; on failure mark its row failed."""
    try:
        system.verify()
    except BenchCheckError as e:
        row.failed, row.skipped = True, f"check failed: {e}"
        log(f"  {system.label}: check failed: {e}")
        return False
    row.check = system.check_note
    return True


def _meta(num_envs: int, num_threads: int, steps: int, repeats: int, seed: int) -> dict[str, Any]:
    meta = {
        "env_id": ENV_ID,
        "unit": UNIT,
        "num_envs": num_envs,
        "num_threads": num_threads,
        "steps": steps,
        "env_steps_per_run": steps * num_envs,
        "repeats": repeats,
        "seed": seed,
        "mujoco": mujoco.__version__,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "native_messages": native_messages(),
    }
    with contextlib.suppress(ImportError):
        import envpool

        meta["envpool"] = envpool.__version__
    return meta


def compare(
    num_envs: int = 64,
    num_threads: int = 2,
    steps: int = 200,
    repeats: int = 3,
    *,
    keys: Sequence[str] | None = None,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> Comparison:
    """Build every row (or those in ``keys``), verify them, and interleave their runs.

    A peer that is not installed is skipped with the reason; a row whose check
    fails is marked failed. Neither stops the others. Bad arguments raise
    ValueError before anything is built; a check failing after a timed run
    raises RuntimeError.
    """
    if steps < 1 or repeats < 1:
        raise ValueError(f"steps and repeats must be >= 1, got {steps} and {repeats}")
    if num_envs < 2:
        raise ValueError(f"num_envs must be >= 2 (single-env rows are built in), got {num_envs}")
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads}")
    log = log or (lambda msg: None)
    clear_native_messages()
    actions = make_actions(steps, num_envs, seed=seed)
    rows: list[Row] = []
    built: list[tuple[Row, System]] = []
    try:
        for key, label, envs, threads, factory in _factories(actions, num_threads):
            if keys is not None and key not in keys:
                continue
            row = Row(key, label, envs, threads, None)
            rows.append(row)
            try:
                log(f"building {label} ({envs} envs, {threads} threads)")
                system = factory()
            except ImportError as e:
                row.skipped = f"not installed ({e})"
                log(f"  skipped: {row.skipped}")
                continue
            built.append((row, system))
            row.note = system.note
        good = [(row, s) for row, s in built if _verified(row, s, log)]
        log(f"measuring {len(good)} systems: {repeats} interleaved runs of "
            f"{steps * num_envs} env-steps each")  # fmt: skip
        try:
            samples = measure([s for _, s in good], repeats)
        except BenchCheckError as e:  # a check after a timed run
            raise RuntimeError(f"a check failed while measuring: {e}") from e
        for row, s in good:
            row.runs = samples[s.key]
            row.env_steps_per_sec = max(row.runs)
    finally:
        for _, s in built:
            s.close()
    return Comparison(rows, _meta(num_envs, num_threads, steps, repeats, seed))
