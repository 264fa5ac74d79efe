"""A reduced H2O Table 1: every reference method x seeds on one dataset and simulator.

:func:`run_table` runs the methods in parallel processes, h2o-cql after the cql-real run
of its seed (it starts from that run's ``learner.pt``), and writes ``table.csv`` (one row
per run) and ``table.md`` (mean +- std per method next to the H2O paper's row). Every run
keeps its own folder with logs and checkpoints, so an interrupted table resumes.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..igm.parallel import ParallelConfig, parallel_map
from .config import METHODS, HybridConfig

PAPER_TABLE1 = {"sac-sim": 4513.0, "cql-real": 5774.0, "darc": 5105.0, "darc-plus": 4958.0,
                "h2o": 6813.0}
"""H2O paper, Table 1, HalfCheetah medium-replay with the gravity simulator (returns)."""


def run_one(job: tuple[HybridConfig, str]) -> dict[str, Any]:
    """One run (resumed if its folder holds one); a summary row for the table."""
    from .runner import run_hybrid

    config, out = job
    result = run_hybrid(config, out_dir=out, resume=True, tensorboard=False)
    evaluated = [r["eval/mean"] for r in result.rows if "eval/mean" in r]
    return {"method": config.method, "seed": config.seed, "final_return": result.final_return,
            "best_return": max(evaluated), "epochs": config.epochs,
            "sim_steps": result.rows[-1]["sim_steps"], "updates": result.rows[-1]["updates"],
            "wall_s": sum(r["time/train_s"] + r.get("time/eval_s", 0.0) for r in result.rows)}


def run_table(base: HybridConfig, *, methods: Sequence[str] = METHODS,
              seeds: Sequence[int] = (0, 1, 2), out_dir: str | Path = "mfhrl-table1",
              parallel: ParallelConfig | None = None,
              log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Every (method, seed) of ``base``; returns the summary rows (also in the files)."""
    out = Path(out_dir)
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}; choose from {METHODS}")
    if "h2o-cql" in methods and "cql-real" not in methods:
        raise ValueError("h2o-cql starts from the cql-real runs: include cql-real")
    first = [m for m in methods if m != "h2o-cql"]
    jobs = [(base.replace(method=m, seed=s), str(out / m / f"seed{s}"))
            for m in first for s in seeds]
    if "h2o-cql" in methods:  # the long CQL runs first, so that h2o-cql can follow soon
        jobs.sort(key=lambda job: job[0].method != "cql-real")
    start = time.perf_counter()

    def show(_: int, row: dict[str, Any]) -> None:
        log(f"{row['method']:>9} seed {row['seed']}: final {row['final_return']:8.1f}  "
            f"best {row['best_return']:8.1f}  ({time.perf_counter() - start:6.0f} s)")

    parallel = parallel if parallel is not None else ParallelConfig()
    rows = parallel_map(run_one, jobs, parallel, on_result=show)
    if "h2o-cql" in methods:
        late = [(base.replace(method="h2o-cql", seed=s,
                              init=str(out / "cql-real" / f"seed{s}" / "learner.pt")),
                 str(out / "h2o-cql" / f"seed{s}")) for s in seeds]
        rows += parallel_map(run_one, late, parallel, on_result=show)
    write_table(out, rows, wall_time=time.perf_counter() - start)
    return rows


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and std (over seeds) of the final and best returns, per method."""
    out = []
    for method in dict.fromkeys(r["method"] for r in rows):
        final = np.array([r["final_return"] for r in rows if r["method"] == method])
        best = np.array([r["best_return"] for r in rows if r["method"] == method])
        out.append({"method": method, "seeds": len(final), "final_mean": float(final.mean()),
                    "final_std": float(final.std()), "best_mean": float(best.mean()),
                    "paper": PAPER_TABLE1.get(method, float("nan"))})
    return out


def markdown(rows: list[dict[str, Any]], wall_time: float | None = None) -> str:
    """The table as Markdown, ordered by mean final return."""
    lines = ["| method | final return (mean +- std) | best evaluation (mean) | seeds | "
             "H2O paper (1M steps) |", "|---|---|---|---|---|"]
    for s in sorted(summarize(rows), key=lambda s: -s["final_mean"]):
        paper = f"{s['paper']:.0f}" if np.isfinite(s["paper"]) else "-"
        lines.append(f"| {s['method']} | {s['final_mean']:.0f} +- {s['final_std']:.0f} | "
                     f"{s['best_mean']:.0f} | {s['seeds']} | {paper} |")
    if wall_time is not None:
        lines.append(f"\nWall time: {wall_time / 60:.1f} min.")
    return "\n".join(lines) + "\n"


def write_table(out: Path, rows: list[dict[str, Any]], wall_time: float | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "table.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / "table.md").write_text(markdown(rows, wall_time))
