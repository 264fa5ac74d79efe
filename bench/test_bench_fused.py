"""The fused CPU kernels (learners/fused.py) against PyTorch's own ops, in one run.

Sizes of the study-g600 preset (the demo's networks; the demo samples 64 + 64 rows): L = 5
members of 64-64 MLPs with LayerNorm critics; H2O with 128 real + 128 simulated
transitions per member from three fidelities, 10 next-state samples for the gap and the
trust region; CQL with batch 128 and 10 sampled
actions per source; one torch thread, as the presets' workers run. Each update is timed
with the kernels on and off (``fused.disabled()``, PyTorch's layer_norm, addcmul, relu
and baddbmm: the peer), alternately, so a busy spell of the shared machine hits both.
Printed: the time per update each way and their ratio (the fused kernels' speed-up).
The test fails only on wrong results: the two ways must give the same losses.

    pytest bench/test_bench_fused.py -s
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfhrl_fast.benchmarks.batches import random_transitions
from mfhrl_fast.benchmarks.timing import best_time
from mfhrl_fast.igm.presets import demo
from mfhrl_fast.learners import EnsembleCQL, EnsembleH2O, FidelityDiscriminators, fused

OBS, ACT, MEMBERS = 17, 6, 5


class Setup:
    """Two identical H2O and CQL learners of the demo preset (one per way) and batches."""

    def __init__(self) -> None:
        config, rng = demo(), np.random.default_rng(0)
        self.real = random_transitions(rng, (MEMBERS, 128), OBS, ACT)
        self.sim = random_transitions(rng, (MEMBERS, 128), OBS, ACT)
        self.sim["fidelity"] = rng.integers(0, 3, (MEMBERS, 128)).astype(np.uint8)
        self.cql_batch = random_transitions(rng, (MEMBERS, 128), OBS, ACT)
        self.learners = {}
        for way in ("fused", "torch"):
            disc = FidelityDiscriminators(OBS, ACT, [0, 1, 2], config.online.discriminator,
                                          seed=0, device="cpu")
            disc.set_real_states(self.real["obs"][0])
            self.learners[way] = {
                "H2O": EnsembleH2O(OBS, ACT, disc, num_members=MEMBERS,
                                   config=config.online.h2o, device="cpu"),
                "CQL": EnsembleCQL(OBS, ACT, num_members=MEMBERS, config=config.offline.cql,
                                   device="cpu"),
            }

    def update(self, way: str, kind: str) -> dict[str, torch.Tensor]:
        learner = self.learners[way][kind]
        batches = (self.real, self.sim) if kind == "H2O" else (self.cql_batch,)
        if way == "fused":
            return learner.train_step(*batches, as_float=False)
        with fused.disabled():
            return learner.train_step(*batches, as_float=False)


@pytest.mark.benchmark(group="fused-kernels")
def test_fused_kernels_vs_pytorch_ops(benchmark, report):
    quick = benchmark.disabled
    local = Setup()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    number, repeats = (1, 1) if quick else (10, 8)

    def compare() -> dict[tuple[str, str], float]:
        best = {}
        for _ in range(repeats):
            for kind in ("H2O", "CQL"):
                for way in ("fused", "torch"):
                    t = best_time(lambda w=way, k=kind: local.update(w, k), number, 1)
                    best[kind, way] = min(best.get((kind, way), float("inf")), t)
        return best

    try:
        best = benchmark.pedantic(compare, rounds=1, iterations=1)
        # the same learners stepped in lockstep: the same losses either way
        for kind in ("H2O", "CQL"):
            got, want = local.update("fused", kind), local.update("torch", kind)
            for key in ("critic", "actor"):
                torch.testing.assert_close(got[key], want[key], atol=1e-3, rtol=1e-3)
    finally:
        torch.set_num_threads(threads)
    lines = [] if not quick else ["(--benchmark-disable: one call each, the ratios mean nothing)"]
    for kind in ("H2O", "CQL"):
        ratio = best[kind, "torch"] / best[kind, "fused"]
        lines.append(f"{kind} update, demo sizes, 1 thread: fused {best[kind, 'fused'] * 1e3:.1f} "
                     f"ms, PyTorch ops {best[kind, 'torch'] * 1e3:.1f} ms -> {ratio:.2f}x")
        benchmark.extra_info[f"{kind}_speedup"] = ratio
    report("\n".join(lines))
    print("\n" + "\n".join(lines))
