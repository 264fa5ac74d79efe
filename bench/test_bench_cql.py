"""Ensemble CQL against one d3rlpy CQL agent, alternately in one run, and against matmul.

Sizes of CQL on HalfCheetah (CORL, d3rlpy's defaults for it): 256-256 MLPs, batch 256,
10 sampled actions per source, twin critics. Measured: one d3rlpy 2.8 ``CQL.update``,
one ``EnsembleCQL`` update with L = 1 and with L = 5 (default precision and, where the
device multiplies bf16 fast, bf16), each timed in turn so that a busy spell of the shared
machine hits every system. Printed: the per-update and per-member times, the L = 5
update over one d3rlpy update (target: <= 1.5), and the FLOP rate of our
update as a fraction of the run's ``torch.mm`` 2048 x 2048 rate in the learner's matmul
dtype (FLOPs: ``mfhrl_fast.benchmarks.flops.update_flops``). The test fails only on wrong
results: non-finite losses, or a d3rlpy agent whose critic does not fit a fixed batch.

    pytest bench/test_bench_cql.py -s          # measure, print the ratios
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfhrl_fast.benchmarks.batches import random_transitions
from mfhrl_fast.benchmarks.flops import update_flops
from mfhrl_fast.benchmarks.timing import best_time
from mfhrl_fast.learners import CQLConfig, EnsembleCQL, bf16_is_fast
from mfhrl_fast.learners.precision import compute_dtype

d3rlpy = pytest.importorskip("d3rlpy")

OBS, ACT, BATCH, N_ACTIONS, HIDDEN, MM = 17, 6, 256, 10, (256, 256), 2048


def _dataset(rng: np.random.Generator, n: int = 4000):
    return d3rlpy.dataset.MDPDataset(
        observations=rng.normal(size=(n, OBS)).astype(np.float32),
        actions=rng.uniform(-1, 1, (n, ACT)).astype(np.float32),
        rewards=rng.normal(size=n).astype(np.float32), terminals=np.zeros(n),
        timeouts=(np.arange(n) % 1000 == 999).astype(np.float32))


class Setup:
    """A d3rlpy CQL agent and EnsembleCQL learners of 1 and 5 members, with fixed batches."""

    def __init__(self, precisions: tuple[str, ...]) -> None:
        rng = np.random.default_rng(0)
        encoder = d3rlpy.models.encoders.VectorEncoderFactory(list(HIDDEN))
        self.d3 = d3rlpy.algos.CQLConfig(
            batch_size=BATCH, n_action_samples=N_ACTIONS, n_critics=2,
            actor_encoder_factory=encoder, critic_encoder_factory=encoder,
        ).create(device="cpu:0")
        dataset = _dataset(rng)
        self.d3.build_with_dataset(dataset)
        self.d3_batch = dataset.sample_transition_batch(BATCH)
        config = CQLConfig(hidden_sizes=HIDDEN, n_actions=N_ACTIONS)
        self.ours = {(members, p): EnsembleCQL(OBS, ACT, num_members=members, config=config,
                                               device="cpu", precision=p)
                     for members in (1, 5) for p in precisions}
        self.batches = {members: random_transitions(rng, (members, BATCH), OBS, ACT)
                        for members in (1, 5)}
        self.mm = {p: (torch.randn(MM, MM, dtype=compute_dtype(p)),) * 2 for p in precisions}

    def d3rlpy_update(self) -> dict[str, float]:
        return self.d3.update(self.d3_batch)

    def ours_update(self, key: tuple[int, str]) -> dict[str, torch.Tensor]:
        return self.ours[key].train_step(self.batches[key[0]], as_float=False)

    def matmul(self, precision: str) -> torch.Tensor:
        a, b = self.mm[precision]
        return torch.mm(a, b)


def _precisions() -> tuple[str, ...]:
    return ("fp32", "bf16") if bf16_is_fast("cpu") else ("fp32",)


def test_cql_update_vs_d3rlpy(benchmark, report):
    quick = benchmark.disabled
    precisions = _precisions()
    setup = Setup(precisions)
    first = setup.d3rlpy_update()
    number, repeats = (1, 1) if quick else (3, 4)
    keys = list(setup.ours)

    def compare() -> dict[str, float]:
        best = {"d3rlpy": float("inf")} | {f"L{m}-{p}": float("inf") for m, p in keys}
        best |= {f"mm-{p}": float("inf") for p in precisions}
        for _ in range(repeats):
            best["d3rlpy"] = min(best["d3rlpy"], best_time(setup.d3rlpy_update, number, 1))
            for m, p in keys:
                best[f"L{m}-{p}"] = min(best[f"L{m}-{p}"],
                                        best_time(lambda k=(m, p): setup.ours_update(k), number, 1))
            for p in precisions:
                best[f"mm-{p}"] = min(best[f"mm-{p}"],
                                      best_time(lambda p=p: setup.matmul(p), 1, 1))
        return best

    best = benchmark.pedantic(compare, rounds=1, iterations=1)
    last = setup.d3rlpy_update()
    for _ in range(20):
        last = setup.d3rlpy_update()
    assert np.isfinite(list(first.values())).all() and last["critic_loss"] < first["critic_loss"]
    for key in keys:
        metrics = setup.ours_update(key)
        assert torch.isfinite(metrics["critic"]).all()
    lines = [f"CQL update, 256-256, batch {BATCH}, {N_ACTIONS} actions per source "
             f"(bf16 fast here: {bf16_is_fast('cpu')}):",
             f"  d3rlpy {d3rlpy.__version__}, one agent: {best['d3rlpy'] * 1e3:.1f} ms"]
    for m, p in keys:
        t = best[f"L{m}-{p}"]
        flops = update_flops(setup.ours[(m, p)], BATCH)
        rate = 2 * MM**3 / best[f"mm-{p}"]
        lines.append(f"  EnsembleCQL L={m} {p}: {t * 1e3:.1f} ms "
                     f"({t / m * 1e3:.1f} ms per member), "
                     f"{t / best['d3rlpy']:.2f}x one d3rlpy update, "
                     f"{flops / t / rate:.0%} of the run's {p} torch.mm rate "
                     f"({rate / 1e9:.0f} GFLOP/s)")
        benchmark.extra_info[f"L{m}_{p}_vs_d3rlpy"] = t / best["d3rlpy"]
    lines.append("  target: L=5 at the default precision <= 1.5x one d3rlpy update")
    report("\n".join(lines))
