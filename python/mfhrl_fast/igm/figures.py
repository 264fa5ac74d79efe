"""The figures of the report (matplotlib, no pyplot) and the curve data behind them.

Matplotlib is used through :class:`matplotlib.figure.Figure` and
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` only: pyplot is never imported,
so the user's global backend and figure registry are left alone.

Several runs of one strategy (seeds) are averaged. Their curves are put on the union of
their x values; a run's value at x is its latest point at or before x (the policy it
would return at that round / spend), and a run only counts where x lies within its own
range (between its first and last point).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .records import RunResult

AXES = ("round", "spent")
"""The x axes of :func:`curve_data`: the round index or the budget spent after the round."""
VALUES = ("eval_return", "entropy")
"""The y values of :func:`curve_data` (``RoundRecord`` fields)."""

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


def curve_figure(groups: Mapping[str, list[RunResult]], value: str, axis: str,
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


def log_l_reference(groups: Mapping[str, list[RunResult]]) -> Callable[[Axes], None]:
    """Draws log L (the entropy of the uniform p_0) for every ensemble size L in the runs."""
    sizes = sorted({len(r.posterior) for runs in groups.values() for run in runs
                    for r in run.records if r.posterior})

    def decorate(ax: Axes) -> None:
        for size in sizes:
            ax.axhline(math.log(size), color="0.4", linestyle="--", linewidth=1,
                       label=f"log L (L = {size})")

    return decorate


def timeline_figure(groups: Mapping[str, list[RunResult]], title: str, path: Path) -> None:
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


def budget_curve_figure(table: Sequence[Mapping[str, Any]], png: Path) -> None:
    """Paper Fig. 2 from aggregated rows (strategy, budget, n_seeds, mean, std): mean final
    MAP return vs budget per strategy, markers at each budget, shaded +-1 std."""
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
    _save(fig, png)
