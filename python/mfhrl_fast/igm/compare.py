"""Strategies against each other over budgets and seeds: the paper's Fig. 2.

:func:`compare` runs one experiment per (strategy, budget, seed) with
:func:`~.parallel.parallel_map` (serial, a local process pool, or Ray tasks). D_off is
loaded once here and the offline phase runs once per seed (as tasks too); every run of
that seed starts from the same offline ensemble, so the strategies differ only online.
It writes ``runs.jsonl`` (every :class:`~.records.RunResult`), ``final_returns.csv`` and
``budget_curve.png`` / ``budget_curve.csv`` (final MAP return vs budget, mean and spread
over seeds, one curve per strategy).

Sweeps resume (``resume=True``, ``--resume``): a finished run leaves ``result.json`` in its
folder with the digest of its config, and is kept when the digest matches; an unfinished
run of the same config continues from its newest intact checkpoint; any other folder is
started afresh. The offline phases are cached in ``out_dir/offline`` and shared.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data import OfflineDataset
from .checkpoint import same_config, write_text_atomic
from .config import RunConfig
from .offline import load_dataset, offline_state, train_offline
from .parallel import ParallelConfig, parallel_map
from .records import RunResult
from .report import write_budget_curve


@dataclass(frozen=True)
class _OfflineTask:
    config: RunConfig
    dataset: OfflineDataset
    cache_dir: str | None = None


@dataclass(frozen=True)
class _RunTask:
    config: RunConfig
    dataset: OfflineDataset
    offline: dict[str, Any]
    out_dir: str | None
    resume: bool = False


def offline_task(task: _OfflineTask) -> dict[str, Any]:
    """The offline phase of one seed (a picklable top-level task); with ``cache_dir``,
    loaded from there when stored by an earlier call, else trained and stored."""
    from .runner import get_offline

    if task.cache_dir is not None:
        return get_offline(task.config, task.dataset, cache_dir=task.cache_dir)
    return offline_state(train_offline(task.config, task.dataset))


RESULT = "result.json"


def config_digest(config: RunConfig) -> str:
    """SHA-256 of a run's config, naming what a finished run folder holds."""
    text = json.dumps(config.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def finished_result(folder: Path, config: RunConfig) -> dict[str, Any] | None:
    """The result a finished run of ``config`` left in ``folder``, or None."""
    try:
        saved = json.loads((folder / RESULT).read_text())
    except (OSError, ValueError):
        return None
    return saved["result"] if saved.get("digest") == config_digest(config) else None


def run_task(task: _RunTask) -> dict[str, Any]:
    """One online run from a given offline state; returns ``RunResult.to_dict()``. With
    ``resume``, a folder holding an unfinished run of the same config continues it."""
    from .runner import run

    folder = Path(task.out_dir) if task.out_dir is not None else None
    resume = task.resume and folder is not None and same_config(folder, task.config)
    if folder is not None and not resume:
        shutil.rmtree(folder, ignore_errors=True)
    result = run(task.config, out_dir=folder, dataset=task.dataset, offline=task.offline,
                 tensorboard=folder is not None, resume=resume).to_dict()
    if folder is not None:
        write_text_atomic(folder / RESULT, json.dumps(
            {"digest": config_digest(task.config), "result": result}))
    return result


def expected_rounds(config: RunConfig) -> float:
    """About how many rounds a run takes: its budget over the cost of the level its strategy
    pays for each round (the lowest's, the highest's, else the mean cost). Only orders the
    runs of :func:`run_grid`."""
    costs = config.costs
    per_round = {"lowest": costs[0], "highest": costs[-1]}.get(config.strategy,
                                                                 sum(costs) / len(costs))
    return config.budget / per_round


def run_grid(base: RunConfig, *, strategies: Sequence[str], budgets: Sequence[float],
             seeds: Sequence[int], parallel: ParallelConfig | None = None,
             out_dir: str | os.PathLike[str] | None = None, dataset: OfflineDataset | None = None,
             offline: dict[int, dict[str, Any]] | None = None,
             log: Callable[[str], None] | None = None, resume: bool = False) -> list[RunResult]:
    """Every (strategy, budget, seed) run of ``base``, returned in that order (and started
    longest first, :func:`expected_rounds`); each run's own folder
    (logs, checkpoints) is ``out_dir/runs/<strategy>-b<budget>-s<seed>`` when given. A
    folder left there by an earlier call is replaced, unless ``resume``: then finished runs
    of the same config are kept and unfinished ones continue (see the module doc).
    ``offline`` maps seeds to offline states already trained (:func:`offline_states`);
    missing seeds are trained here (cached in ``out_dir/offline``)."""
    if not strategies or not budgets or not seeds:
        raise ValueError("need at least one strategy, budget and seed")
    say = log or (lambda _: None)
    parallel = parallel or ParallelConfig()
    dataset = dataset if dataset is not None else load_dataset(base.dataset)
    start = time.perf_counter()
    offline = dict(offline or {})
    missing = [int(s) for s in seeds if int(s) not in offline]
    cache = Path(out_dir) / "offline" if out_dir is not None else None
    configs = [(base.replace(strategy=strategy, budget=float(budget), seed=int(seed)),
                str(Path(out_dir) / "runs" / f"{strategy}-b{budget:g}-s{seed}")
                if out_dir is not None else None)
               for strategy in strategies for budget in budgets for seed in seeds]
    kept = {i: finished_result(Path(folder), config) for i, (config, folder) in
            enumerate(configs) if resume and folder is not None}
    kept = {i: r for i, r in kept.items() if r is not None}
    if kept:
        say(f"resume: {len(kept)} of {len(configs)} runs already finished")
    needed = {config.seed for i, (config, _) in enumerate(configs) if i not in kept}
    missing = sorted(s for s in needed if s not in offline)
    if missing:
        offline |= offline_states(base, missing, dataset, parallel, log=say, cache_dir=cache)
    # longest first (LPT scheduling), so that a long run does not start last
    todo = sorted((i for i in range(len(configs)) if i not in kept),
                  key=lambda i: -expected_rounds(configs[i][0]))
    tasks = [_RunTask(configs[i][0], dataset, offline[configs[i][0].seed], configs[i][1],
                      resume) for i in todo]

    def done(i: int, row: dict[str, Any]) -> None:
        say(f"{row['strategy']:>8} budget {row['budget']:g} seed {row['seed']}: "
            f"{len(row['records']) - 1} rounds, final return {row['final_return']:.1f} "
            f"({time.perf_counter() - start:.0f} s)")

    rows = dict(kept) | dict(zip(todo, parallel_map(run_task, tasks, parallel, on_result=done),
                                 strict=True))
    return [RunResult.from_dict(rows[i]) for i in range(len(configs))]


def offline_states(base: RunConfig, seeds: Sequence[int], dataset: OfflineDataset,
                   parallel: ParallelConfig | None = None,
                   log: Callable[[str], None] | None = None,
                   cache_dir: str | os.PathLike[str] | None = None) -> dict[int, dict[str, Any]]:
    """The offline phase of ``base`` for every seed (as parallel tasks): seed -> state;
    ``cache_dir`` keeps the trained states for later calls (see :func:`offline_task`)."""
    say, start = log or (lambda _: None), time.perf_counter()
    configs = [base.replace(seed=int(s)) for s in seeds]
    cache = str(cache_dir) if cache_dir is not None else None
    states = parallel_map(offline_task, [_OfflineTask(c, dataset, cache) for c in configs],
                          parallel or ParallelConfig(), on_result=lambda i, _: say(
                              f"offline phase of seed {seeds[i]} done "
                              f"({time.perf_counter() - start:.0f} s)"))
    return dict(zip((int(s) for s in seeds), states, strict=True))


def final_rows(results: Sequence[RunResult]) -> list[dict[str, Any]]:
    """One row per run: strategy, budget, seed, final MAP return, rounds, spent."""
    return [{"strategy": r.strategy, "budget": r.budget, "seed": r.seed,
             "final_return": r.final_return, "rounds": r.rounds, "spent": r.spent}
            for r in results]


def compare(base: RunConfig, *, strategies: Sequence[str], budgets: Sequence[float],
            seeds: Sequence[int], out_dir: str | os.PathLike[str],
            parallel: ParallelConfig | None = None,
            log: Callable[[str], None] | None = None, resume: bool = False) -> list[RunResult]:
    """:func:`run_grid`, then the paper's Fig. 2 and the tables in ``out_dir``."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    results = run_grid(base, strategies=strategies, budgets=budgets, seeds=seeds,
                       parallel=parallel, out_dir=folder, log=log, resume=resume)
    with open(folder / "runs.jsonl", "w") as f:
        for r in results:
            f.write(json.dumps(r.to_dict()) + "\n")
    rows = final_rows(results)
    with open(folder / "final_returns.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    write_budget_curve(rows, folder / "budget_curve.png", folder / "budget_curve.csv")
    return results
