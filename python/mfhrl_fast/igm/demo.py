"""``mfhrl-fast demo``: the package's main job on its small default.

Obtains the small 'gait' offline dataset (collected once, then reused from the local
Minari store), trains the offline CQL ensemble once, runs ``igm`` and the paper's three
baselines (``lowest``, ``highest``, ``uniform``) at one budget from that ensemble, and
writes a report folder (:func:`~.report.write_report`): return vs round and vs spent
cost per strategy, the fidelity timeline, the posterior entropy and a markdown summary.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .compare import run_grid
from .config import RunConfig
from .offline import load_dataset
from .parallel import ParallelConfig
from .presets import demo
from .records import RunResult
from .report import summary_table, write_report

DEMO_STRATEGIES = ("igm", "lowest", "highest", "uniform")


def run_demo(out_dir: str | os.PathLike[str] = "mfhrl-demo", *, config: RunConfig | None = None,
             strategies: Sequence[str] = DEMO_STRATEGIES,
             parallel: ParallelConfig | None = None,
             log: Callable[[str], None] = print,
             resume: bool = False) -> tuple[Path, list[RunResult]]:
    """Run the demo into ``out_dir`` (report files, plus ``runs/`` with each run's logs).

    ``config``: the base run (default :func:`~.presets.demo`, whose budget and seed are
    used); ``parallel``: how the runs are spread (default: a local pool of 2 workers with
    1 torch thread each); ``resume`` keeps the finished runs of an earlier, interrupted
    call and continues the others (:func:`~.compare.run_grid`). Returns the report folder
    and the results.
    """
    config = config or demo()
    parallel = parallel or ParallelConfig(backend="local", workers=2, threads_per_worker=1)
    start = time.perf_counter()
    log(f"dataset: {config.dataset.source} ({config.dataset.steps} transitions)")
    dataset = load_dataset(config.dataset, progress=False)
    log(f"dataset ready: {len(dataset)} transitions, mean episode return "
        f"{dataset.episode_returns().mean():.1f} ({time.perf_counter() - start:.0f} s)")
    results = run_grid(config, strategies=strategies, budgets=[config.budget],
                       seeds=[config.seed], parallel=parallel, out_dir=out_dir,
                       dataset=dataset, log=log, resume=resume)
    folder = write_report(results, out_dir, title=f"MF-HRL-IGM demo, budget {config.budget:g}")
    log(summary_table(results))
    log(f"report: {folder.resolve()} ({time.perf_counter() - start:.0f} s in all)")
    return folder, results
