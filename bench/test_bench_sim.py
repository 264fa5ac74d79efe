"""Simulator step benchmarks: SimPool and its peers on HalfCheetah-v5.

Unit of ``extra_info["env_steps_per_sec"]``: env-steps/s, one env-step being
one agent step = 5 MuJoCo physics steps; a call stepping n environments counts
n env-steps (EnvPool's FPS formula). It is computed from the median round,
``env_steps_per_sec_best`` from the fastest.

Every benchmark first checks its system against a plain ``mujoco.mj_step``
loop where the system can be put in a given state, and checks the output of
the benchmarked calls (shapes, finite values). The last test measures SimPool
against every peer in one interleaved run and prints the ratios.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from mfhrl_fast.benchmarks import sim_systems
from mfhrl_fast.benchmarks.sim_common import UNIT, System, make_actions, single_env_actions
from mfhrl_fast.benchmarks.sim_compare import TARGETS, compare
from mfhrl_fast.benchmarks.sim_table import format_table

NUM_ENVS = 64
"""Environments of the batched rows (group sim-64)."""
NUM_THREADS = 2
STEPS = 50
"""Pre-generated pool-steps of actions; step benchmarks cycle through them."""
ROUNDS = 30
WARMUP_ROUNDS = 3
SINGLE_ITERATIONS = 100
"""A single-env step takes 30-40 us: time it in loops, never one call per round."""
SINGLE_ROUNDS = 10


@pytest.fixture(scope="module")
def actions() -> np.ndarray:
    """(STEPS, NUM_ENVS, 6) uniform actions in [-1, 1], made once for every system."""
    return make_actions(STEPS, NUM_ENVS, seed=0)


@pytest.fixture(scope="module")
def single_actions(actions: np.ndarray) -> np.ndarray:
    """The same actions as one environment's sequence, (STEPS * NUM_ENVS, 1, 6)."""
    return single_env_actions(actions)


def _record(benchmark, system: System, env_steps_per_call: int) -> None:
    info = benchmark.extra_info
    info.update(
        unit=UNIT,
        system=system.label,
        num_envs=system.num_envs,
        num_threads=system.num_threads,
        check=system.check_note,
    )
    if benchmark.stats is not None:  # None under --benchmark-disable
        stats = benchmark.stats.stats
        info["env_steps_per_sec"] = env_steps_per_call / stats.median
        info["env_steps_per_sec_best"] = env_steps_per_call / stats.min


def _bench(benchmark, system: System, env_steps_per_call: int, fn, **pedantic: Any) -> None:
    """Verify the system, time ``fn`` with benchmark.pedantic, check its output, record."""
    with system:
        system.verify()
        out = benchmark.pedantic(fn, **pedantic)
        system.check(out)
        _record(benchmark, system, env_steps_per_call)


def _bench_step(benchmark, system: System) -> None:
    """One pool-step per round (0.8-3 ms here); setup hands each round the next actions."""
    rows = itertools.cycle(system.actions)
    _bench(
        benchmark,
        system,
        system.num_envs,
        system.step,
        setup=lambda: ((next(rows),), {}),
        rounds=ROUNDS,
        warmup_rounds=WARMUP_ROUNDS,
    )


def _cycling(system: System) -> Callable[[], Any]:
    """A no-argument step over the system's actions in turn, for looped timing."""
    rows = itertools.cycle(system.actions)
    step = system.step
    return lambda: step(next(rows))


def _bench_single_step(benchmark, system: System) -> None:
    _bench(
        benchmark,
        system,
        1,
        _cycling(system),
        rounds=SINGLE_ROUNDS,
        warmup_rounds=1,
        iterations=SINGLE_ITERATIONS,
    )


def _bench_rollout(benchmark, system: sim_systems.RolloutSystem) -> None:
    """A whole open-loop rollout per round: steps * num_envs env-steps.

    Its own group ("-limit"): a round is not one pool-step, so only
    extra_info["env_steps_per_sec"] compares with the step benchmarks.
    """
    _bench(benchmark, system, system.steps * system.num_envs, system.run, rounds=3, warmup_rounds=1)


# -- group sim-64: NUM_ENVS environments per call


@pytest.mark.benchmark(group=f"sim-{NUM_ENVS}")
@pytest.mark.parametrize("num_threads", [1, NUM_THREADS])
def test_simpool(benchmark, actions: np.ndarray, num_threads: int) -> None:
    _bench_step(benchmark, sim_systems.SimPoolSystem(actions, num_threads))


@pytest.mark.benchmark(group=f"sim-{NUM_ENVS}")
def test_gym_sync_vector(benchmark, actions: np.ndarray) -> None:
    pytest.importorskip("gymnasium")
    _bench_step(benchmark, sim_systems.GymSyncVectorSystem(actions))


@pytest.mark.benchmark(group=f"sim-{NUM_ENVS}")
def test_mujoco_batch(benchmark, actions: np.ndarray) -> None:
    pytest.importorskip("mujoco.batch")
    _bench_step(benchmark, sim_systems.MujocoBatchSystem(actions, NUM_THREADS))


@pytest.mark.benchmark(group=f"sim-{NUM_ENVS}")
def test_envpool(benchmark, actions: np.ndarray) -> None:
    pytest.importorskip("envpool")
    _bench_step(benchmark, sim_systems.EnvPoolSystem(actions, NUM_THREADS))


@pytest.mark.benchmark(group=f"sim-{NUM_ENVS}-limit")
def test_rollout_limit(benchmark, actions: np.ndarray) -> None:
    pytest.importorskip("mujoco.rollout")
    _bench_rollout(benchmark, sim_systems.RolloutSystem(actions, NUM_THREADS))


# -- group sim-1: one environment


@pytest.mark.benchmark(group="sim-1")
def test_simpool_single(benchmark, single_actions: np.ndarray) -> None:
    _bench_single_step(benchmark, sim_systems.SimPoolSystem(single_actions, 1))


@pytest.mark.benchmark(group="sim-1")
def test_gym_single(benchmark, single_actions: np.ndarray) -> None:
    pytest.importorskip("gymnasium")
    _bench_single_step(benchmark, sim_systems.GymSingleSystem(single_actions))


@pytest.mark.benchmark(group="sim-1-limit")
def test_rollout_single(benchmark, single_actions: np.ndarray) -> None:
    pytest.importorskip("mujoco.rollout")
    _bench_rollout(benchmark, sim_systems.RolloutSystem(single_actions, 1))


# -- SimPool against every peer, interleaved in one run


@pytest.mark.benchmark(group="sim-ratios")
def test_simpool_vs_peers(benchmark, report) -> None:
    """Ratios of one interleaved run; printed and recorded, targets reported, not asserted.

    The targets (SimPool/EnvPool >= 1.3, SimPool/rollout >= 0.9, SimPool-1/Gymnasium
    >= 2) are throughput goals on a noisy shared machine; `mfhrl-fast bench-sim`
    prints whether they were met. This test fails only on wrong results.
    """
    quick = benchmark.disabled
    steps, repeats = (4, 1) if quick else (STEPS * 2, 3)
    result = benchmark.pedantic(
        compare,
        kwargs=dict(num_envs=NUM_ENVS, num_threads=NUM_THREADS, steps=steps, repeats=repeats),
        rounds=1,
        iterations=1,
    )
    failed = [f"{r.system}: {r.skipped}" for r in result.rows if r.failed]
    assert not failed, failed
    measured = {r.key: r.env_steps_per_sec for r in result.rows if r.env_steps_per_sec}
    assert "simpool" in measured and all(v > 0 for v in measured.values())
    benchmark.extra_info.update(
        unit=UNIT,
        env_steps_per_sec=measured,
        ratios=result.headline(),
        targets=TARGETS,
        quick=quick,
    )
    table = format_table(result)
    if quick:
        table = "(--benchmark-disable: a tiny smoke run, the ratios mean nothing)\n" + table
    report(table)
    print(table)
