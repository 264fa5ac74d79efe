"""Benchmarks of mfhrl_fast.info against the usual Python peers (pytest-benchmark).

Run (all in one run): ``python -m pytest bench/test_bench_info.py``
(add ``--benchmark-json=out.json`` to keep the numbers).

Each of our benchmarks first checks its result against the peer, then times the
peer itself (best of several calls, ``time.perf_counter``, the same statistic
pytest-benchmark reports as ``min``), and stores ``speedup = peer_min / our_min``
in ``benchmark.extra_info`` (also printed). Targets (``target_speedup`` in
extra_info) are reported, not asserted: the machine is shared and noisy.

Units: seconds per call; one call = one MI of n = 1e6 pairs, or the entropies of
1e6 rows of length 5.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import mutual_info_score

from mfhrl_fast import info
from mfhrl_fast.benchmarks.timing import best_time

N_PAIRS = 1_000_000
N_ROWS = 1_000_000


def numpy_bincount_mi(x: np.ndarray, y: np.ndarray) -> float:
    """Plug-in MI with one np.bincount over x * ky + y: a fast vectorised NumPy peer."""
    kx, ky = int(x.max()) + 1, int(y.max()) + 1
    joint = np.bincount(x * ky + y, minlength=kx * ky).reshape(kx, ky)
    a, b = joint.sum(1), joint.sum(0)
    nz = joint > 0
    c = joint[nz]
    outer = np.outer(a, b)[nz]
    return float(np.sum(c * np.log(x.size * c / outer)) / x.size)


@pytest.fixture(scope="module")
def pairs() -> tuple[np.ndarray, np.ndarray]:
    """1e6 paired int64 labels over 64 x 64 values, correlated (MI ~ 2 nats)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 64, N_PAIRS)
    y = (x + rng.integers(0, 8, N_PAIRS)) % 64
    return x, y


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    """1e6 probability rows of length 5 (unnormalised, as scipy accepts)."""
    return np.random.default_rng(1).random((N_ROWS, 5))


def _record(benchmark, capsys, peer: str, peer_time: float, target: float) -> None:
    if benchmark.disabled:  # --benchmark-disable: nothing was timed
        return
    ours = benchmark.stats.stats.min
    speedup = peer_time / ours
    benchmark.extra_info.update(
        peer=peer,
        peer_min_s=peer_time,
        ours_min_s=ours,
        speedup=speedup,
        target_speedup=target,
        target_met=bool(speedup >= target),
    )
    with capsys.disabled():
        print(
            f"\n  [{benchmark.group} / {benchmark.name}] ours {ours * 1e3:.3f} ms, "
            f"{peer} {peer_time * 1e3:.3f} ms -> speedup {speedup:.1f}x "
            f"(target >= {target:g}x: {'met' if speedup >= target else 'NOT met'})"
        )


def _mi_vs_peer(benchmark, capsys, pairs, num_threads, peer, peer_mi, peer_rounds, target):
    """Our MI of ``pairs`` against ``peer_mi`` (named ``peer``, timed as the best of
    ``peer_rounds`` calls): checked, then timed, then the speedup recorded."""
    x, y = pairs
    expected = peer_mi(x, y)
    assert info.mutual_information(x, y, num_threads=num_threads) == pytest.approx(
        expected, rel=1e-10
    )
    peer_time = best_time(lambda: peer_mi(x, y), number=1, repeats=peer_rounds)
    result = benchmark.pedantic(
        info.mutual_information,
        args=(x, y),
        kwargs={"num_threads": num_threads},
        rounds=200,
        warmup_rounds=5,
    )
    assert result == pytest.approx(expected, rel=1e-10)
    _record(benchmark, capsys, peer, peer_time, target)


@pytest.mark.benchmark(group="mi-1e6-pairs-64x64")
@pytest.mark.parametrize("num_threads", [1, 2])
def test_mi_vs_sklearn(benchmark, capsys, pairs, num_threads):
    peer = "sklearn.metrics.mutual_info_score"
    _mi_vs_peer(benchmark, capsys, pairs, num_threads, peer, mutual_info_score, 3, 50.0)


@pytest.mark.benchmark(group="mi-1e6-pairs-64x64")
@pytest.mark.parametrize("num_threads", [1, 2])
def test_mi_vs_numpy_bincount(benchmark, capsys, pairs, num_threads):
    peer = "numpy bincount MI"
    _mi_vs_peer(benchmark, capsys, pairs, num_threads, peer, numpy_bincount_mi, 50, 2.0)


@pytest.mark.benchmark(group="entropy-1e6-rows-x5")
@pytest.mark.parametrize("num_threads", [1, 2])
def test_entropy_vs_scipy(benchmark, capsys, rows, num_threads):
    expected = scipy.stats.entropy(rows, axis=-1)
    peer = best_time(lambda: scipy.stats.entropy(rows, axis=-1), number=1, repeats=10)
    result = benchmark.pedantic(
        info.entropy, args=(rows,), kwargs={"num_threads": num_threads}, rounds=40, warmup_rounds=3
    )
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-14)
    _record(benchmark, capsys, "scipy.stats.entropy(axis=-1)", peer, target=5.0)


@pytest.mark.benchmark(group="peers")
def test_peer_sklearn_mi(benchmark, pairs):
    """The peers on their own, for the pytest-benchmark table."""
    x, y = pairs
    benchmark.pedantic(mutual_info_score, args=(x, y), rounds=3, warmup_rounds=1)


@pytest.mark.benchmark(group="peers")
def test_peer_numpy_bincount_mi(benchmark, pairs):
    x, y = pairs
    benchmark.pedantic(numpy_bincount_mi, args=(x, y), rounds=50, warmup_rounds=2)


@pytest.mark.benchmark(group="peers")
def test_peer_scipy_entropy(benchmark, rows):
    benchmark.pedantic(
        scipy.stats.entropy, args=(rows,), kwargs={"axis": -1}, rounds=10, warmup_rounds=1
    )
