"""The return over the offline start against the H2O steps trained, every evaluated round
of every run (equal-compute.md): do the strategies' curves fall on one line?

    python updates_vs_return.py collect OUT.csv LABEL=ABLATION_DIR...  # rows from runs
    python updates_vs_return.py plot IN.csv OUT.png                    # the figure

``collect`` reads ``<ABLATION_DIR>/*/runs/*/rounds.csv`` (``mfhrl-fast ablate --out``);
``plot`` draws one panel per label, one line per run, coloured by strategy.
"""

import csv
import sys
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

COLUMNS = ("schedule", "strategy", "seed", "round", "fidelity", "updates", "eval_return",
           "ratio")
COLOURS = {"igm": "tab:blue", "lowest": "tab:green", "highest": "tab:red",
           "uniform": "tab:orange"}


def collect(out: str, sources: list[str]) -> None:
    rows = []
    for source in sources:
        label, folder = source.split("=", 1)
        for path in sorted(Path(folder).glob("*/runs/*/rounds.csv")):
            strategy, seed = path.parent.name.split("-")[0], path.parent.name.split("-s")[-1]
            with path.open(newline="") as f:
                records = list(csv.DictReader(f))
            offline = float(records[0]["eval_return"])
            for r in records:
                if r["eval_return"] in ("", "nan"):
                    continue
                rows.append({"schedule": label, "strategy": strategy, "seed": seed,
                             "round": r["round"], "fidelity": r["fidelity"],
                             "updates": r["updates"], "eval_return": r["eval_return"],
                             "ratio": f"{float(r['eval_return']) / offline:.4f}"})
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def plot(source: str, out: str) -> None:
    with open(source, newline="") as f:
        rows = list(csv.DictReader(f))
    labels = list(dict.fromkeys(r["schedule"] for r in rows))
    cols = min(3, len(labels))
    rows_of_panels = -(-len(labels) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.4 * rows_of_panels), layout="constrained")
    axes = fig.subplots(rows_of_panels, cols, sharey=True, squeeze=False).ravel()
    for ax in axes[len(labels):]:
        ax.set_visible(False)
    for ax, label in zip(axes, labels, strict=False):
        runs: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for r in rows:
            if r["schedule"] == label:
                runs.setdefault((r["strategy"], r["seed"]), []).append(
                    (int(r["updates"]), float(r["ratio"])))
        labelled: set[str] = set()
        for (strategy, _), points in sorted(runs.items()):
            x, y = zip(*sorted(points), strict=True)
            ax.plot(x, y, color=COLOURS[strategy], lw=1, marker=".", ms=3,
                    label=None if strategy in labelled else strategy)
            labelled.add(strategy)
        ax.axhline(1.2, color="grey", ls="--", lw=0.8)
        ax.set(title=label, xlabel="H2O steps trained")
        ax.grid(alpha=0.3)
    for ax in axes[::cols]:
        ax.set_ylabel("MAP return / offline return")
    axes[0].legend(fontsize=8)
    FigureCanvasAgg(fig).print_figure(out, dpi=110)


if __name__ == "__main__":
    if sys.argv[1] == "collect":
        collect(sys.argv[2], sys.argv[3:])
    else:
        plot(sys.argv[2], sys.argv[3])
