"""Figures and tables of finished runs: the demo report and the paper's Fig. 2.

:func:`write_report` turns the :class:`~mfhrl_fast.igm.records.RunResult` of several
strategies (and seeds) into a folder of PNG figures, a markdown / CSV summary and the raw
results as JSON lines. :func:`write_budget_curve` draws the headline result: the return
after the budget is spent vs the budget Gamma, one curve per strategy, mean and spread
over seeds.

The figures themselves are drawn by :mod:`.figures`.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .figures import (
    Band,
    budget_curve_figure,
    curve_data,
    curve_figure,
    log_l_reference,
    seed_band,
    timeline_figure,
)
from .records import RunResult

__all__ = [
    "BUDGET_CURVE_COLUMNS",
    "BUDGET_CURVE_KEYS",
    "FIGURES",
    "SUMMARY_COLUMNS",
    "Band",
    "budget_curve_table",
    "curve_data",
    "seed_band",
    "summary_rows",
    "summary_table",
    "write_budget_curve",
    "write_report",
]

FIGURES = {
    "return_vs_round.png": "MAP evaluation return vs round",
    "return_vs_cost.png": "MAP evaluation return vs spent budget",
    "fidelity_timeline.png": "Fidelity level used in each round",
    "posterior_entropy.png": "Posterior entropy vs round",
}
"""The PNG files of :func:`write_report` and their captions in ``summary.md``."""

BUDGET_CURVE_KEYS = ("strategy", "budget", "seed", "final_return")
"""The keys every row of :func:`budget_curve_table` needs."""
BUDGET_CURVE_COLUMNS = ("strategy", "budget", "n_seeds", "mean", "std", "min", "max")
"""The columns of :func:`budget_curve_table` rows and of the CSV of :func:`write_budget_curve`."""



def _by_strategy(results: Iterable[RunResult]) -> dict[str, list[RunResult]]:
    """The results grouped by strategy, strategies in order of first appearance; validated."""
    groups: dict[str, list[RunResult]] = {}
    for result in results:
        if not result.records:
            raise ValueError(f"run {result.strategy!r} seed {result.seed} has no records "
                             "(round 0 is required)")
        groups.setdefault(result.strategy, []).append(result)
    if not groups:
        raise ValueError("no results to report")
    for strategy, runs in groups.items():
        if any(r.fidelity_names != runs[0].fidelity_names for r in runs):
            raise ValueError(f"the runs of strategy {strategy!r} use different fidelity ladders")
    return groups


# --------------------------------------------------------------------------------------------
# Summary table


@dataclass(frozen=True)
class _Column:
    key: str
    header: str
    fmt: Callable[[Any], str]


def _num(value: float, spec: str) -> str:
    return "n/a" if isinstance(value, float) and math.isnan(value) else format(value, spec)


def _short(value: float) -> str:
    """A count that is usually whole ("8"), else two decimals at most ("2.5")."""
    return _num(round(value, 2), "g")


SUMMARY_COLUMNS = (
    _Column("strategy", "strategy", str),
    _Column("seeds", "seeds", str),
    _Column("rounds", "rounds", _short),
    _Column("spent", "spent", _short),
    _Column("budget", "budget", _short),
    _Column("rounds_per_level", "rounds per level", str),
    _Column("final_return", "final MAP return", lambda v: _num(v, ".1f")),
    _Column("best_return", "best evaluated return", lambda v: _num(v, ".1f")),
    _Column("offline_return", "offline (round 0) return", lambda v: _num(v, ".1f")),
    _Column("gain", "final / offline", lambda v: _num(v, ".2f")),
    _Column("worst_ratio", "worst round / offline", lambda v: _num(v, ".2f")),
    _Column("updates", "H2O steps", _short),
    _Column("time_sim", "sim s", lambda v: _num(v, ".2f")),
    _Column("time_learn", "learn s", lambda v: _num(v, ".2f")),
    _Column("time_select", "select s", lambda v: _num(v, ".2f")),
    _Column("time_eval", "eval s", lambda v: _num(v, ".2f")),
    _Column("share_outside_learning", "outside learning", lambda v: _num(v, ".0%")),
)
"""The columns of :func:`summary_rows` (also the CSV header) with their markdown header and
format. The markdown table merges ``spent`` and ``budget`` into one "spent / budget" column."""

_TIMES = ("time_sim", "time_learn", "time_select", "time_eval")


def _level_counts(run: RunResult) -> np.ndarray:
    """How many online rounds of ``run`` used each level."""
    levels = len(run.fidelity_names)
    used = [r.fidelity for r in run.records[1:]]
    bad = [k for k in used if not 0 <= k < levels]
    if bad:
        raise ValueError(f"run {run.strategy!r} seed {run.seed} uses levels {bad} outside "
                         f"0..{levels - 1}")
    return np.bincount(np.asarray(used, dtype=int), minlength=levels)


def _run_numbers(run: RunResult) -> dict[str, Any]:
    """The per-run numbers averaged into a summary row."""
    evaluated = [r.eval_return for r in run.records if r.evaluated]
    online = [r.eval_return for r in run.records[1:] if r.evaluated]
    times = {key: sum(getattr(r, key) for r in run.records) for key in _TIMES}
    parts = sum(times.values())
    offline = run.records[0].eval_return
    return {
        "rounds": run.rounds,
        "spent": run.spent,
        "budget": run.budget,
        "final_return": run.final_return,
        "best_return": max(evaluated) if evaluated else math.nan,
        "offline_return": offline,
        "gain": run.final_return / offline if offline > 0 else math.nan,
        "worst_ratio": min(online) / offline if online and offline > 0 else math.nan,
        "updates": run.records[-1].updates,
        **times,
        "time_total": max(sum(r.time_round for r in run.records), parts),
    }


def summary_rows(results: Sequence[RunResult]) -> list[dict[str, Any]]:
    """One row per strategy (order of first appearance), every number the mean over that
    strategy's runs (seeds); keys = :data:`SUMMARY_COLUMNS`.

    Times are seconds summed over the records of a run (round 0 included).
    ``share_outside_learning`` = 1 - learn / total, where total is the rounds' wall time
    (``time_round``) or the sum of the four timed parts if larger (e.g. not recorded);
    NaN when nothing was timed.
    """
    rows = []
    for strategy, runs in _by_strategy(results).items():
        numbers = [_run_numbers(r) for r in runs]
        mean = {key: float(np.mean([n[key] for n in numbers])) for key in numbers[0]}
        counts = np.mean([_level_counts(r) for r in runs], axis=0)
        total = mean.pop("time_total")
        rows.append({
            "strategy": strategy,
            "seeds": len(runs),
            **mean,
            "rounds_per_level": "/".join(_short(c) for c in counts),
            "share_outside_learning": 1.0 - mean["time_learn"] / total if total > 0 else math.nan,
        })
    return [{c.key: row[c.key] for c in SUMMARY_COLUMNS} for row in rows]


def summary_table(results: Sequence[RunResult]) -> str:
    """The markdown table of :func:`summary_rows` (one line per strategy, no trailing newline)."""
    cells = []
    for row in summary_rows(results):
        text = {c.key: c.fmt(row[c.key]) for c in SUMMARY_COLUMNS}
        text["spent"] = f"{text['spent']} / {text.pop('budget')}"
        cells.append(list(text.values()))
    headers = [c.header for c in SUMMARY_COLUMNS if c.key != "budget"]
    headers[headers.index("spent")] = "spent / budget"
    lines = [headers, ["---"] * len(headers), *cells]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays that slipped into a record, as plain Python values."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# --------------------------------------------------------------------------------------------
# The report


def write_report(results: Sequence[RunResult], folder: str | PathLike[str], *,
                 title: str = "MF-HRL-IGM demo") -> Path:
    """Write the figures of :data:`FIGURES`, ``summary.md`` (title, :func:`summary_table`,
    the figures), ``summary.csv`` (:func:`summary_rows`) and ``results.jsonl`` (one
    ``RunResult.to_dict()`` per line; NaN is written as ``NaN``, which Python's json
    reads back) into ``folder`` (created). Returns ``folder`` as a Path."""
    groups = _by_strategy(results)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    names = iter(FIGURES)
    curve_figure(groups, "eval_return", "round", "MAP evaluation return",
                  f"{title}: return vs round", out / next(names))
    curve_figure(groups, "eval_return", "spent", "MAP evaluation return",
                  f"{title}: return vs spent budget", out / next(names))
    timeline_figure(groups, f"{title}: fidelity per round", out / next(names))
    curve_figure(groups, "entropy", "round", "H(p_r) [nats]", f"{title}: posterior entropy",
                  out / next(names), step=True, decorate=log_l_reference(groups))

    runs = [run for group in groups.values() for run in group]
    images = "\n\n".join(f"![{caption}]({name})" for name, caption in FIGURES.items())
    (out / "summary.md").write_text(
        f"# {title}\n\n{len(runs)} runs, {len(groups)} strategies; numbers are means over "
        f"the seeds of a strategy, times in seconds.\n\n{summary_table(runs)}\n\n{images}\n")
    _write_csv(out / "summary.csv", [c.key for c in SUMMARY_COLUMNS], summary_rows(runs))
    with (out / "results.jsonl").open("w") as f:
        for run in runs:
            f.write(json.dumps(run.to_dict(), default=_json_default) + "\n")
    return out


# --------------------------------------------------------------------------------------------
# Paper Fig. 2: final return vs budget


def budget_curve_table(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Aggregate ``final_return`` over seeds per (strategy, budget): dicts with keys
    :data:`BUDGET_CURVE_COLUMNS`, sorted by strategy then budget. ``std`` is the population
    standard deviation (numpy's default, 0 for one seed)."""
    if not rows:
        raise ValueError("no rows for the budget curve")
    groups: dict[tuple[str, float], dict[Any, float]] = {}
    for i, row in enumerate(rows):
        missing = [key for key in BUDGET_CURVE_KEYS if key not in row]
        if missing:
            raise ValueError(f"budget-curve row {i} lacks keys {missing} "
                             f"(needs {list(BUDGET_CURVE_KEYS)})")
        seeds = groups.setdefault((str(row["strategy"]), float(row["budget"])), {})
        if row["seed"] in seeds:
            raise ValueError(f"budget-curve row {i} repeats seed {row['seed']!r} of strategy "
                             f"{row['strategy']!r} at budget {row['budget']!r}")
        seeds[row["seed"]] = float(row["final_return"])
    table = []
    for (strategy, budget), seeds in sorted(groups.items()):
        values = np.array(list(seeds.values()))
        table.append({"strategy": strategy, "budget": budget, "n_seeds": len(values),
                      "mean": float(values.mean()), "std": float(values.std()),
                      "min": float(values.min()), "max": float(values.max())})
    return table


def write_budget_curve(rows: Sequence[Mapping[str, Any]], png: str | PathLike[str],
                       csv: str | PathLike[str]) -> None:
    """Paper Fig. 2: final MAP return vs budget, one curve per strategy (mean over seeds,
    markers at each budget, shaded +-1 std) to ``png``; :func:`budget_curve_table` to
    ``csv``. Parent folders are created."""
    table = budget_curve_table(rows)
    for path in (Path(png), Path(csv)):
        path.parent.mkdir(parents=True, exist_ok=True)
    budget_curve_figure(table, Path(png))
    _write_csv(Path(csv), BUDGET_CURVE_COLUMNS, table)
