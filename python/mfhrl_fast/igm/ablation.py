"""Online-objective ablations: which online loss keeps and improves the offline policy.

Each variant is a set of overrides of the run config (``online.h2o`` fields, mostly);
:func:`ablate` runs every (variant, strategy, seed) at one budget from one offline phase
per seed (shared by all variants, which change only the online phase) and reports, per
run, the final MAP return and the lowest evaluated return relative to the offline
(round 0) return. ``mfhrl-fast ablate`` writes ``ablation.csv`` and ``ablation.md``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .compare import offline_states, run_grid
from .config import RunConfig, override
from .offline import load_dataset, offline_key
from .parallel import ParallelConfig
from .records import RunResult
from .variants import VARIANTS


def run_rows(variant: str, results: Sequence[RunResult]) -> list[dict[str, Any]]:
    """One row per run: its final and worst evaluated return against round 0's."""
    rows = []
    for r in results:
        evaluated = [x.eval_return for x in r.records[1:] if x.evaluated]
        offline = r.records[0].eval_return
        rows.append({"variant": variant, "strategy": r.strategy, "budget": r.budget,
                     "seed": r.seed, "rounds": r.rounds, "offline_return": offline,
                     "final_return": r.final_return, "min_return": min(evaluated),
                     "final_ratio": r.final_return / offline,
                     "min_ratio": min(evaluated) / offline})
    return rows


def ablation_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown: per (variant, strategy) the final return and both ratios over seeds."""
    lines = ["| variant | strategy | seeds | offline return | final return | final / offline "
             "| worst final / offline | worst round / offline |",
             "|---|---|---|---|---|---|---|---|"]
    keys = list(dict.fromkeys((r["variant"], r["strategy"]) for r in rows))
    for variant, strategy in keys:
        sel = [r for r in rows if (r["variant"], r["strategy"]) == (variant, strategy)]

        def col(name: str, sel: list[Mapping[str, Any]] = sel) -> np.ndarray:
            return np.array([r[name] for r in sel], dtype=float)

        lines.append(
            f"| {variant} | {strategy} | {len(sel)} | {col('offline_return').mean():.0f} "
            f"| {col('final_return').mean():.0f} ± {col('final_return').std():.0f} "
            f"| {col('final_ratio').mean():.2f} | {col('final_ratio').min():.2f} "
            f"| {col('min_ratio').min():.2f} |")
    return "\n".join(lines)


def ablate(base: RunConfig, *, variants: Sequence[str], strategies: Sequence[str],
           seeds: Sequence[int], out_dir: str | os.PathLike[str],
           parallel: ParallelConfig | None = None,
           log: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Run every variant (names of :data:`VARIANTS`) for ``strategies`` x ``seeds`` at
    ``base.budget``; write ``ablation.csv`` (one row per run) and ``ablation.md``."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants:
        raise ValueError(f"unknown variants {unknown}; choose from {sorted(VARIANTS)}")
    configs = {v: override(base, VARIANTS[v]) for v in variants}
    if len({offline_key(c) for c in configs.values()}) != 1:
        raise ValueError("the variants must share the offline phase (the same offline "
                         "overrides, e.g. only the LayerNorm 'ln*' variants together)")
    shared = configs[variants[0]]  # the offline phase of every variant (maybe not base's)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset(shared.dataset)
    offline = offline_states(shared, list(seeds), dataset, parallel, log=log,
                             cache_dir=folder / "offline")
    rows: list[dict[str, Any]] = []
    for variant, config in configs.items():
        results = run_grid(config, strategies=strategies, budgets=[base.budget], seeds=seeds,
                           parallel=parallel, out_dir=folder / variant, dataset=dataset,
                           offline=offline, log=log)
        rows += run_rows(variant, results)
        with open(folder / "ablation.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        (folder / "ablation.md").write_text(ablation_table(rows) + "\n")
    return rows
