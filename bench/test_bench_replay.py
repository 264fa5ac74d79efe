"""ReplayRing against a NumPy ring, cpprb and TorchRL, measured in one run.

Targets: sample(256) of all fields from a full 1e6 ring >= 3x the
NumPy ring and >= 5x cpprb; add of 1000-transition batches at least as fast
as cpprb; sample_members(256), L = 5, p = 0.5 >= 3x five NumPy masked samples.
"""

from __future__ import annotations

import numpy as np
import pytest

from mfhrl_fast import ReplayRing
from mfhrl_fast.benchmarks.timing import best_time

from replay_peers import (
    ACT,
    MEMBERS,
    OBS,
    NumpyRing,
    as_tensordict,
    cpprb_buffer,
    torchrl_buffer,
    transitions,
)

CAPACITY = 1_000_000
BATCH = 256
ADD = 1000


def report(benchmark, name: str, ours: float, peer: float, target: float) -> float:
    ratio = peer / ours
    benchmark.extra_info[f"speedup_vs_{name}"] = ratio
    print(f"\n[replay] {name}: ours {ours * 1e6:.1f} us, peer {peer * 1e6:.1f} us -> "
          f"{ratio:.2f}x (target {target}x)")
    return ratio


@pytest.fixture(scope="module")
def data():
    return transitions(CAPACITY)


@pytest.fixture(scope="module")
def ring(data):
    ring = ReplayRing(capacity=CAPACITY, obs_dim=OBS, act_dim=ACT, num_members=MEMBERS,
                      mask_prob=0.5, seed=0, num_threads=2)
    for i in range(0, CAPACITY, 100_000):
        ring.add(**{k: v[i:i + 100_000] for k, v in data.items()}, fidelity=0)
    return ring


@pytest.fixture(scope="module")
def numpy_ring(data):
    ring = NumpyRing(CAPACITY)
    ring.add(data)
    return ring


def check_rows(batch, data) -> None:
    """Every sampled row is one stored transition, all fields together."""
    ids = np.asarray(batch["obs"])[..., 0].astype(np.int64).ravel()
    np.testing.assert_array_equal(np.asarray(batch["next_obs"]).reshape(-1, OBS),
                                  data["next_obs"][ids])
    np.testing.assert_array_equal(np.asarray(batch["action"]).reshape(-1, ACT), data["action"][ids])
    np.testing.assert_array_equal(np.asarray(batch["reward"]).ravel(), data["reward"][ids])


@pytest.mark.benchmark(group="replay-sample")
def test_sample_vs_numpy_and_cpprb(benchmark, ring, numpy_ring, data):
    check_rows(ring.sample(BATCH), data)
    benchmark.pedantic(ring.sample, args=(BATCH,), rounds=200, iterations=10, warmup_rounds=5)
    ours = best_time(lambda: ring.sample(BATCH), 500)
    report(benchmark, "numpy_ring", ours, best_time(lambda: numpy_ring.sample(BATCH), 200), 3)
    cpprb = pytest.importorskip("cpprb")
    del cpprb
    rb = cpprb_buffer(CAPACITY)
    rb.add(**data)
    check_rows(rb.sample(BATCH), data)
    report(benchmark, "cpprb", ours, best_time(lambda: rb.sample(BATCH), 200), 5)


@pytest.mark.benchmark(group="replay-sample")
def test_sample_vs_torchrl(benchmark, ring, data):
    pytest.importorskip("torchrl")
    rb = torchrl_buffer(CAPACITY, BATCH)
    rb.extend(as_tensordict(data))
    check_rows({k: v.numpy() for k, v in rb.sample().items()}, data)
    benchmark.pedantic(rb.sample, rounds=50, iterations=5, warmup_rounds=2)
    ours = best_time(lambda: ring.sample(BATCH), 500)
    report(benchmark, "torchrl", ours, best_time(rb.sample, 100), 1)


@pytest.mark.benchmark(group="replay-members")
def test_sample_members_vs_numpy(benchmark, ring, numpy_ring, data):
    batch = ring.sample_members(BATCH)
    assert batch["obs"].shape == (MEMBERS, BATCH, OBS)
    assert all(batch["mask"][m, :, m].all() for m in range(MEMBERS))
    check_rows(batch, data)
    benchmark.pedantic(ring.sample_members, args=(BATCH,), rounds=100, iterations=5,
                       warmup_rounds=5)
    ours = best_time(lambda: ring.sample_members(BATCH), 200)
    peer = best_time(lambda: numpy_ring.sample_members(BATCH), 100)
    report(benchmark, "numpy_masked_x5", ours, peer, 3)


@pytest.mark.benchmark(group="replay-add")
def test_add_vs_cpprb(benchmark, data):
    chunks = [{k: v[i:i + ADD] for k, v in data.items()} for i in range(0, 200 * ADD, ADD)]
    ring = ReplayRing(capacity=CAPACITY, obs_dim=OBS, act_dim=ACT, num_members=MEMBERS)
    cursor = iter(range(10**9))

    def add_ours():
        ring.add(**chunks[next(cursor) % len(chunks)], fidelity=0)

    benchmark.pedantic(add_ours, rounds=200, iterations=1, warmup_rounds=5)
    # every call added one batch (the number of runs varies with --benchmark-disable)
    assert len(ring) == next(cursor) * ADD
    check_rows(ring.sample(BATCH), data)
    ours = best_time(add_ours, 100)
    cpprb = pytest.importorskip("cpprb")
    del cpprb
    rb = cpprb_buffer(CAPACITY)
    peer_cursor = iter(range(10**9))
    peer = best_time(lambda: rb.add(**chunks[next(peer_cursor) % len(chunks)]), 100)
    report(benchmark, "cpprb_add", ours, peer, 1)
    numpy_ring = NumpyRing(CAPACITY)
    np_cursor = iter(range(10**9))
    report(benchmark, "numpy_ring_add", ours,
           best_time(lambda: numpy_ring.add(chunks[next(np_cursor) % len(chunks)]), 100), 1)
