"""Figures and tables of finished runs: the demo report and the paper's Fig. 2 (SPEC.md 3.5).

:func:`write_report` turns the :class:`~mfhrl_fast.igm.records.RunResult` of several
strategies (and seeds) into a folder of PNG figures, a markdown / CSV summary and the raw
results as JSON lines. :func:`write_budget_curve` draws the headline result: the return
after the budget is spent vs the budget Gamma, one curve per strategy, mean and spread
over seeds.

Matplotlib is used through :class:`matplotlib.figure.Figure` and
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` only: pyplot is never imported,
so the user's global backend and figure registry are left alone.

Several runs of one strategy (seeds) are averaged. Their curves are put on the union of
their x values; a run's value at x is its latest point at or before x (the policy it
would return at that round / spend), and a run only counts where x lies within its own
range (between its first and last point).
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
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

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

AXES = ("round", "spent")
"""The x axes of :func:`curve_data`: the round index or the budget spent after the round."""
VALUES = ("eval_return", "entropy")
"""The y values of :func:`curve_data` (``RoundRecord`` fields)."""

BUDGET_CURVE_KEYS = ("strategy", "budget", "seed", "final_return")
"""The keys every row of :func:`budget_curve_table` needs."""
BUDGET_CURVE_COLUMNS = ("strategy", "budget", "n_seeds", "mean", "std", "min", "max")
"""The columns of :func:`budget_curve_table` rows and of the CSV of :func:`write_budget_curve`."""

_DPI = 110
_PNG_SIZE = (7.0, 4.5)


# --------------------------------------------------------------------------------------------
# Curve data


def curve_data(result: RunResult, value: str = "eval_return",
               axis: str = "round") -> tuple[np.ndarray, np.ndarray]:
    """x and y of one run's curve: ``value`` of every record where it is not NaN (rounds
    without an evaluation are skipped), against the record's ``axis`` ("round" or "spent").
    Round 0, the offline start, is included when it has a value."""
    if axis not in AXES:
        raise ValueError(f"axis must be one of {AXES}, got {axis!r}")
    if value not in VALUES:
        raise ValueError(f"value must be one of {VALUES}, got {value!r}")
    points = [(float(getattr(r, axis)), float(getattr(r, value))) for r in result.records]
    points = [(x, y) for x, y in points if not math.isnan(y)]
    if not points:
        return np.empty(0), np.empty(0)
    x, y = np.array(points).T
    return x, y


@dataclass(frozen=True)
class Band:
    """Several runs' curves on a common x grid: their mean, min and max, and how many runs
    count at each x."""

    x: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    count: np.ndarray


def seed_band(curves: Sequence[tuple[np.ndarray, np.ndarray]]) -> Band:
    """Mean and min-max band of ``(x, y)`` curves (x non-decreasing) over the union of their
    x values; each curve holds its latest value at or before x and counts only within its
    own x range (see the module docstring). Empty curves are ignored."""
    curves = [(np.asarray(x, float), np.asarray(y, float)) for x, y in curves if len(x)]
    if not curves:
        empty = np.empty(0)
        return Band(empty, empty, empty, empty, np.empty(0, int))
    grid = np.unique(np.concatenate([x for x, _ in curves]))
    held = np.full((len(curves), len(grid)), np.nan)
    for row, (x, y) in zip(held, curves, strict=True):
        if np.any(np.diff(x) < 0):
            raise ValueError("curve x values must be non-decreasing")
        inside = (grid >= x[0]) & (grid <= x[-1])
        row[inside] = y[np.searchsorted(x, grid[inside], side="right") - 1]
    counted = ~np.isnan(held)
    count = counted.sum(axis=0)
    total = np.where(counted, held, 0.0).sum(axis=0)
    return Band(grid, total / count, np.where(counted, held, np.inf).min(axis=0),
                np.where(counted, held, -np.inf).max(axis=0), count)


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
# Figures


def _new_figure(size: tuple[float, float] = _PNG_SIZE) -> Figure:
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=_DPI)


def _legend(ax: Axes, **kwargs: Any) -> None:
    """A legend when something is labelled (matplotlib warns on an empty one)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def _color(index: int) -> str:
    return f"C{index % 10}"


def _plot_band(ax: Axes, band: Band, label: str, color: str, step: bool = False) -> None:
    """The mean of ``band`` as a line with markers, its min-max range shaded when wider."""
    if not len(band.x):
        return
    drawstyle = "steps-post" if step else "default"
    ax.plot(band.x, band.mean, marker="o", ms=3, color=color, label=label, drawstyle=drawstyle)
    if np.any(band.hi > band.lo):
        ax.fill_between(band.x, band.lo, band.hi, color=color, alpha=0.2, linewidth=0,
                        step="post" if step else None)


def _curve_figure(groups: Mapping[str, list[RunResult]], value: str, axis: str,
                  ylabel: str, title: str, path: Path, step: bool = False,
                  decorate: Callable[[Axes], None] | None = None) -> None:
    """One figure with the seed band of ``value`` vs ``axis`` of every strategy."""
    fig = _new_figure()
    ax = fig.add_subplot()
    for i, (strategy, runs) in enumerate(groups.items()):
        band = seed_band([curve_data(r, value, axis) for r in runs])
        label = strategy if len(runs) == 1 else f"{strategy} (mean, min-max of {len(runs)})"
        _plot_band(ax, band, label, _color(i), step)
    if decorate is not None:
        decorate(ax)
    if axis == "round":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("round (0 = offline start)" if axis == "round" else "budget spent")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    _legend(ax, fontsize="small")
    _save(fig, path)


def _log_l_reference(groups: Mapping[str, list[RunResult]]) -> Callable[[Axes], None]:
    """Draws log L (the entropy of the uniform p_0) for every ensemble size L in the runs."""
    sizes = sorted({len(r.posterior) for runs in groups.values() for run in runs
                    for r in run.records if r.posterior})

    def decorate(ax: Axes) -> None:
        for size in sizes:
            ax.axhline(math.log(size), color="0.4", linestyle="--", linewidth=1,
                       label=f"log L (L = {size})")

    return decorate


def _timeline_figure(groups: Mapping[str, list[RunResult]], title: str, path: Path) -> None:
    """One row per strategy: the level of every round (y ticks = level names), one step
    line per seed, seeds slightly offset vertically."""
    fig = _new_figure((_PNG_SIZE[0], 1.0 + 1.5 * len(groups)))
    axes = fig.subplots(len(groups), 1, sharex=True, squeeze=False)[:, 0]
    for i, (ax, (strategy, runs)) in enumerate(zip(axes, groups.items(), strict=True)):
        offsets = np.linspace(-0.15, 0.15, len(runs)) if len(runs) > 1 else [0.0]
        for run, offset in zip(runs, offsets, strict=True):
            online = run.records[1:]
            if online:
                ax.step([r.round for r in online], [r.fidelity + offset for r in online],
                        where="mid", marker="o", ms=3, color=_color(i), alpha=0.8,
                        label=f"seed {run.seed}")
        names = runs[0].fidelity_names
        ax.set_yticks(range(len(names)), names)
        ax.set_ylim(-0.5, len(names) - 0.5)
        ax.set_ylabel(strategy)
        ax.grid(alpha=0.3)
        if not any(run.records[1:] for run in runs):
            ax.text(0.5, 0.5, "no online rounds", transform=ax.transAxes, ha="center",
                    va="center", color="0.4")
        if len(runs) > 1:
            _legend(ax, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1].set_xlabel("round")
    fig.suptitle(title)
    _save(fig, path)


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
    times = {key: sum(getattr(r, key) for r in run.records) for key in _TIMES}
    parts = sum(times.values())
    return {
        "rounds": run.rounds,
        "spent": run.spent,
        "budget": run.budget,
        "final_return": run.final_return,
        "best_return": max(evaluated) if evaluated else math.nan,
        "offline_return": run.records[0].eval_return,
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
    _curve_figure(groups, "eval_return", "round", "MAP evaluation return",
                  f"{title}: return vs round", out / next(names))
    _curve_figure(groups, "eval_return", "spent", "MAP evaluation return",
                  f"{title}: return vs spent budget", out / next(names))
    _timeline_figure(groups, f"{title}: fidelity per round", out / next(names))
    _curve_figure(groups, "entropy", "round", "H(p_r) [nats]", f"{title}: posterior entropy",
                  out / next(names), step=True, decorate=_log_l_reference(groups))

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
    fig = _new_figure()
    ax = fig.add_subplot()
    strategies = list(dict.fromkeys(row["strategy"] for row in table))
    for i, strategy in enumerate(strategies):
        mine = [row for row in table if row["strategy"] == strategy]
        budget, mean, std = (np.array([row[key] for row in mine])
                             for key in ("budget", "mean", "std"))
        seeds = sorted({row["n_seeds"] for row in mine})
        ax.plot(budget, mean, marker="o", color=_color(i),
                label=f"{strategy} (n = {'/'.join(map(str, seeds))})")
        ax.fill_between(budget, mean - std, mean + std, color=_color(i), alpha=0.2,
                        linewidth=0)
    ax.set_xlabel("budget Gamma")
    ax.set_ylabel("final MAP return")
    ax.set_title("Return after the budget is spent (mean +- 1 std over seeds)")
    ax.grid(alpha=0.3)
    _legend(ax, fontsize="small")
    for path in (Path(png), Path(csv)):
        path.parent.mkdir(parents=True, exist_ok=True)
    _save(fig, Path(png))
    _write_csv(Path(csv), BUDGET_CURVE_COLUMNS, table)
