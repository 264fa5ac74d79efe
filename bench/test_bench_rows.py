"""The demo's H2O step (64 real + 64 simulated rows per member) against the study-g600
preset's (H2O's 128 + 128), in one run.

Both presets train the same learner (L = 5 members of 64-64 MLPs, LayerNorm critics, trust
region; one torch thread, as their workers run); only the rows of a step differ. The two
steps are timed alternately, so a busy spell of the shared machine hits both; the ratio
(the demo's per-step saving, README "The demo's schedule") is printed. The test fails on
wrong results: the presets must share the learner's config, and both updates must give
finite losses.

    pytest bench/test_bench_rows.py -s
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfhrl_fast.benchmarks.batches import random_transitions
from mfhrl_fast.benchmarks.timing import best_time
from mfhrl_fast.igm.presets import demo, study_g600
from mfhrl_fast.learners import EnsembleH2O, FidelityDiscriminators

OBS, ACT, MEMBERS = 17, 6, 5


def _step(config, rng: np.random.Generator):
    """One H2O update of ``config``'s learner on its own batch sizes, w and u attached as
    the per-round table gives them."""
    n_real, n_sim = config.online.real_batch, config.online.sim_batch
    real = random_transitions(rng, (MEMBERS, n_real), OBS, ACT)
    sim = random_transitions(rng, (MEMBERS, n_sim), OBS, ACT)
    sim["ratio"] = rng.uniform(0.1, 1.0, (MEMBERS, n_sim)).astype(np.float32)
    sim["gap"] = rng.uniform(0.0, 2.0, (MEMBERS, n_sim)).astype(np.float32)
    disc = FidelityDiscriminators(OBS, ACT, [0], config.online.discriminator, seed=0,
                                  device="cpu")
    disc.set_real_states(real["obs"][0])
    learner = EnsembleH2O(OBS, ACT, disc, num_members=MEMBERS, config=config.online.h2o,
                          device="cpu")
    return lambda: learner.train_step(real, sim, as_float=False)


@pytest.mark.benchmark(group="rows-per-step")
def test_demo_rows_vs_study_g600_rows(benchmark, report):
    quick = benchmark.disabled
    presets = {"demo": demo(), "g600": study_g600()}
    assert presets["demo"].online.h2o == presets["g600"].online.h2o
    rows = {k: (c.online.real_batch, c.online.sim_batch) for k, c in presets.items()}
    assert rows == {"demo": (64, 64), "g600": (128, 128)}
    rng = np.random.default_rng(0)
    steps = {k: _step(c, rng) for k, c in presets.items()}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    number, repeats = (1, 1) if quick else (20, 6)

    def compare() -> dict[str, float]:
        best: dict[str, float] = {}
        for _ in range(repeats):
            for name, step in steps.items():
                best[name] = min(best.get(name, float("inf")), best_time(step, number, 1))
        return best

    try:
        best = benchmark.pedantic(compare, rounds=1, iterations=1)
        for step in steps.values():
            metrics = step()
            assert all(bool(torch.isfinite(metrics[k]).all()) for k in ("critic", "actor"))
    finally:
        torch.set_num_threads(threads)
    ratio = best["g600"] / best["demo"]
    line = (f"H2O update, 1 thread: demo 64 + 64 rows {best['demo'] * 1e3:.1f} ms, study-g600 "
            f"128 + 128 rows {best['g600'] * 1e3:.1f} ms -> {ratio:.2f}x per step")
    if quick:
        line += " (--benchmark-disable: one call each, the ratio means nothing)"
    benchmark.extra_info["rows_speedup"] = ratio
    report(line)
    print("\n" + line)
