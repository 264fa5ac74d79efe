"""H2O steps with w and u from the per-round table (``online.gap_table``, the default) against
their per-step computation (H2O's way), at the study-g600 preset's sizes (the demo's networks,
128 + 128 rows), in one run.

The same experiment plays the same H2O steps both ways, alternating, from the same sampled
rows (both rings reseeded before each pass): the mean w of the last step must be equal, as
the table changes only the draws of u's next-state samples. The ratio of the step times is
printed.

    pytest bench/test_bench_gap_table.py
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
import torch

from mfhrl_fast.igm.config import override
from mfhrl_fast.igm.offline import load_dataset
from mfhrl_fast.igm.presets import study_g600
from mfhrl_fast.igm.runner import Experiment, get_offline

STEPS = 150
"""H2O steps per timed pass (the study-g600 round has 600)."""
REPEATS = 3


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINARI_DATASETS_PATH", str(tmp_path_factory.mktemp("minari")))
        torch.set_num_threads(1)  # the presets' torch_threads
        config = override(study_g600(), {"device": "cpu", "dataset": {"steps": 4000},
                                   "offline": {"gradient_steps": 20}})
        dataset = load_dataset(config.dataset)
        exp = Experiment(config, dataset, get_offline(config, dataset))
    for round_, level in enumerate((0, 0, 1, 1, 2, 3)):  # a replay of several levels
        exp.rollouts(level, np.arange(config.online.episodes_per_round) % 5, seed=round_)
        exp.train_discriminators(level)
    return exp


def _pass(exp: Experiment, gap_table: bool) -> tuple[float, dict]:
    online = dataclasses.replace(exp.config.online, gap_table=gap_table, gradient_steps=STEPS)
    exp.config = dataclasses.replace(exp.config, online=online)
    exp.sim.reseed(11)
    exp.real.reseed(12)
    t0 = time.perf_counter()
    metrics = exp.train_members(cost=1.0)
    return (time.perf_counter() - t0) / STEPS, metrics


def test_gap_table_step_vs_per_step(experiment, benchmark, report):
    times = {True: [], False: []}
    metrics = {}
    for _ in range(REPEATS):
        for gap_table in (True, False):
            seconds, metrics[gap_table] = _pass(experiment, gap_table)
            times[gap_table].append(seconds)
    benchmark.pedantic(_pass, args=(experiment, True), rounds=1, iterations=1)
    ratio = {k: float(v["ratio"].mean()) for k, v in metrics.items()}
    assert ratio[True] == pytest.approx(ratio[False], rel=1e-5)
    assert all(torch.isfinite(v["gap"]).all() for v in metrics.values())
    fast, slow = min(times[True]), min(times[False])
    report(f"H2O step at the study-g600 sizes (L=5, 64-64, 128 + 128 rows, {len(experiment.sim)} "
           f"simulated transitions of 4 levels, best of {REPEATS} x {STEPS} steps): per-round "
           f"table {1e3 * fast:.1f} ms vs per-step w and u {1e3 * slow:.1f} ms: "
           f"{slow / fast:.2f}x")
    assert fast < slow
