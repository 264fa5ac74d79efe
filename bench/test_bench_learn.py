"""Ensemble learner updates: one batched update against sequential ones and against matmul.

Shapes of H2O (the H2O paper's): 256-256 MLPs, 128 real + 128 simulated transitions per
member, 10 next-state samples for the gap, L = 5 members. Targets: the
ensemble update >= 1.3x five sequential single-member updates of the same math,
and its achieved FLOP/s >= 60% of a float32 torch.mm 2048 x 2048 on the same
machine. FLOPs are counted analytically (``mfhrl_fast.benchmarks.flops.update_flops``:
2*in*out*rows per linear forward, x3 with weight gradients, x2 through detached critics,
x1 without gradients). Targets are printed, not asserted; the tests fail only on wrong results.

    pytest bench/test_bench_learn.py                  # measure, print the ratios
    pytest bench/test_bench_learn.py --benchmark-disable   # correctness only
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfhrl_fast.benchmarks.batches import random_transitions
from mfhrl_fast.benchmarks.flops import update_flops
from mfhrl_fast.benchmarks.timing import best_time
from mfhrl_fast.learners import EnsembleH2O, FidelityDiscriminators, bf16_is_fast

MEMBERS, REAL, SIM, OBS, ACT, MM = 5, 128, 128, 17, 6, 2048
TARGETS = {"ensemble_vs_sequential": 1.3, "flops_vs_matmul": 0.6}


def batch(seed: int) -> dict[str, np.ndarray]:
    return random_transitions(np.random.default_rng(seed), (MEMBERS, REAL), OBS, ACT)


class Setup:
    """An L = 5 H2O ensemble, its five members as single learners, one batch pair."""

    def __init__(self) -> None:
        disc = FidelityDiscriminators(OBS, ACT, [0], seed=0, device="cpu")
        disc.set_real_states(batch(0)["obs"])
        self.ensemble = EnsembleH2O(OBS, ACT, disc, num_members=MEMBERS, seed=0, device="cpu")
        self.singles = [self.ensemble.select_members([m]) for m in range(MEMBERS)]
        self.real, self.sim = batch(1), batch(2)
        self.rows = [({k: v[m:m + 1] for k, v in self.real.items()},
                      {k: v[m:m + 1] for k, v in self.sim.items()}) for m in range(MEMBERS)]
        self.flops = update_flops(self.ensemble, (REAL, SIM))
        a, b = torch.randn(MM, MM), torch.randn(MM, MM)
        self.matmul = lambda: torch.mm(a, b)
        # bf16 matmuls (float32 master weights), timed only where the CPU multiplies bf16 fast
        self.bf16 = (EnsembleH2O(OBS, ACT, disc, num_members=MEMBERS, seed=0, device="cpu",
                                 precision="bf16") if bf16_is_fast("cpu") else None)
        a16, b16 = a.bfloat16(), b.bfloat16()
        self.matmul_bf16 = lambda: torch.mm(a16, b16)

    def ensemble_update(self):
        return self.ensemble.train_step(self.real, self.sim, as_float=False)

    def bf16_update(self):
        return self.bf16.train_step(self.real, self.sim, as_float=False)

    def sequential_updates(self):
        return [s.train_step(real, sim, as_float=False)
                for s, (real, sim) in zip(self.singles, self.rows, strict=True)]

    def check_in_step(self) -> None:
        """The ensemble and its single-member copies have stayed the same learners."""
        critic = self.ensemble.member_losses(self.real, self.sim)
        assert np.isfinite(critic).all()
        state = self.ensemble.nets.state_dict()
        for m, single in enumerate(self.singles):
            for name in ("actor.weights.1", "log_alpha"):
                torch.testing.assert_close(single.nets.state_dict()[name][0], state[name][m],
                                           atol=1e-4, rtol=1e-3)
        assert self.ensemble.num_updates == self.singles[0].num_updates


@pytest.fixture(scope="module")
def setup() -> Setup:
    return Setup()


@pytest.mark.benchmark(group="learn-update")
def test_ensemble_update(benchmark, setup):
    metrics = benchmark.pedantic(setup.ensemble_update, rounds=10, warmup_rounds=2)
    assert metrics["critic"].shape == (MEMBERS,) and torch.isfinite(metrics["critic"]).all()
    benchmark.extra_info["gflop_per_update"] = setup.flops / 1e9


@pytest.mark.benchmark(group="learn-update")
def test_sequential_updates(benchmark, setup):
    metrics = benchmark.pedantic(setup.sequential_updates, rounds=10, warmup_rounds=2)
    assert len(metrics) == MEMBERS and all(torch.isfinite(m["critic"]).all() for m in metrics)


@pytest.mark.benchmark(group="learn-update")
def test_matmul_reference(benchmark, setup):
    out = benchmark.pedantic(setup.matmul, rounds=10, warmup_rounds=1)
    assert out.shape == (MM, MM) and torch.isfinite(out).all()
    benchmark.extra_info["gflop"] = 2 * MM**3 / 1e9


@pytest.mark.benchmark(group="learn-ratios")
def test_ensemble_vs_sequential_and_matmul(benchmark, report):
    """One interleaved run: ensemble vs sequential updates and vs torch.mm FLOP/s."""
    quick = benchmark.disabled
    local = Setup()  # its own learners, so the ensemble and its copies step in lockstep
    number, repeats = (1, 1) if quick else (5, 6)

    def compare() -> dict[str, float]:
        local.ensemble_update()
        local.sequential_updates()
        best = dict.fromkeys(("ensemble", "sequential", "matmul", "bf16", "matmul_bf16"),
                             float("inf"))
        for _ in range(repeats):  # interleaved, so a busy spell hits every system
            best["matmul"] = min(best["matmul"], best_time(local.matmul, 2, 1))
            if local.bf16 is not None:
                best["matmul_bf16"] = min(best["matmul_bf16"], best_time(local.matmul_bf16, 2, 1))
                best["bf16"] = min(best["bf16"], best_time(local.bf16_update, number, 1))
            best["ensemble"] = min(best["ensemble"], best_time(local.ensemble_update, number, 1))
            best["sequential"] = min(best["sequential"],
                                     best_time(local.sequential_updates, number, 1))
        return best

    best = benchmark.pedantic(compare, rounds=1, iterations=1)
    local.check_in_step()
    mm_rate = 2 * MM**3 / best["matmul"]
    ens_rate = local.flops / best["ensemble"]
    ratios = {"ensemble_vs_sequential": best["sequential"] / best["ensemble"],
              "flops_vs_matmul": ens_rate / mm_rate}
    benchmark.extra_info.update(seconds=best, ratios=ratios, targets=TARGETS,
                                gflop_per_update=local.flops / 1e9, quick=quick,
                                torch_threads=torch.get_num_threads())
    lines = [
        f"ensemble H2O update, L={MEMBERS}, {REAL}+{SIM} transitions, 256-256: "
        f"{best['ensemble'] * 1e3:.1f} ms, {local.flops / 1e9:.2f} GFLOP -> "
        f"{ens_rate / 1e9:.1f} GFLOP/s",
        f"{MEMBERS} sequential single-member updates: {best['sequential'] * 1e3:.1f} ms -> "
        f"ensemble {ratios['ensemble_vs_sequential']:.2f}x (target >= 1.3x)",
        f"torch.mm {MM}x{MM} float32: {mm_rate / 1e9:.1f} GFLOP/s -> ensemble at "
        f"{ratios['flops_vs_matmul']:.0%} of it (target >= 60%), {torch.get_num_threads()} threads",
    ]
    if local.bf16 is not None:
        assert torch.isfinite(local.bf16_update()["critic"]).all()
        bf16_rate = 2 * MM**3 / best["matmul_bf16"]
        ratios["bf16_vs_fp32"] = best["ensemble"] / best["bf16"]
        lines.append(f"the same update with bf16 matmuls: {best['bf16'] * 1e3:.1f} ms, "
                     f"{ratios['bf16_vs_fp32']:.2f}x the float32 one; torch.mm bf16 "
                     f"{bf16_rate / 1e9:.1f} GFLOP/s -> at "
                     f"{local.flops / best['bf16'] / bf16_rate:.0%} of it")
    else:
        lines.append("bf16 update not timed: this CPU has neither AMX nor AVX512-BF16")
    if quick:
        lines.insert(0, "(--benchmark-disable: one call each, the ratios mean nothing)")
    report("\n".join(lines))
    print("\n" + "\n".join(lines))
    assert all(np.isfinite(v) and v > 0 for v in ratios.values())
