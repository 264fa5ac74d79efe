"""The ``mfpg`` command: MFPG against high-fidelity-only REINFORCE over seeds.

    mfhrl-fast mfpg --low friction --iterations 300 --seeds 0 1 2 --out mfhrl-mfpg

Both methods run for every seed with the same high-fidelity segments per update. Each run
has its folder ``<out>/<method>-seed<s>/`` (``config.json``, ``rows.jsonl``/``rows.csv``,
checkpoints; a second call with the same ``--out`` resumes or reuses them), and the
summary (final and best return, gradient-variance ratios) goes to
``summary.jsonl``/``summary.md``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

import numpy as np

from ..hybrid.config import SIMS
from .config import MFPGConfig

_SKIP = ("method", "seed", "fixed_c", "hidden_sizes", "low", "share_noise")


def add_arguments(p: argparse.ArgumentParser) -> None:
    for f in fields(MFPGConfig):
        if f.name not in _SKIP:
            p.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=type(f.default),
                           default=f.default, help=f"(default {f.default})")
    p.add_argument("--low", choices=sorted(SIMS), default="gravity",
                   help="the low-fidelity simulator (default gravity x2)")
    p.add_argument("--independent-noise", action="store_true",
                   help="paired segments draw their own noise (the uncorrelated control)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--workers", type=int, default=2, help="parallel runs")
    p.add_argument("--out", default="mfhrl-mfpg")


def summary_markdown(rows: list[dict]) -> str:
    """Mean +- std over seeds of each method's final and best return and variance ratio."""
    lines = ["| method | final return | best return | logged variance ratio | estimator "
             "variance ratio (start / end policy) | high-fidelity steps | low-fidelity steps | "
             "seeds |", "|---|---|---|---|---|---|---|---|"]
    for method in ("mfpg", "reinforce"):
        sel = [r for r in rows if r["method"] == method]
        final, best = (np.array([r[k] for r in sel]) for k in ("final_return", "best_return"))
        ratio = np.array([r["var_ratio"] for r in sel])
        ratio_text, fixed = "1", "1"
        if method == "mfpg":
            ratio_text = f"{ratio.mean():.2f} +- {ratio.std():.2f}"
            start, end = (np.array([r[f"fixed/ratio_{k}"] for r in sel]) for k in ("start", "end"))
            fixed = f"{start.mean():.2f} / {end.mean():.2f}"
        lines.append(f"| {method} | {final.mean():.0f} +- {final.std():.0f} | "
                     f"{best.mean():.0f} +- {best.std():.0f} | {ratio_text} | {fixed} | "
                     f"{sel[0]['high_steps']} | {sel[0]['low_steps']} | {len(sel)} |")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from .trainer import compare_methods

    values = {f.name: getattr(args, f.name) for f in fields(MFPGConfig) if f.name not in _SKIP}
    config = MFPGConfig(low=args.low, share_noise=not args.independent_noise, **values)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = compare_methods(config, args.seeds, workers=args.workers, out_dir=out)
    (out / "summary.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (out / "summary.md").write_text(summary_markdown(rows))
    print(summary_markdown(rows))
    return 0
