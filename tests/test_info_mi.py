"""mfhrl_fast.info.mutual_information against sklearn.metrics.mutual_info_score and formulas.

Tolerances: sklearn zeroes joint terms below machine epsilon and sums in
another order; we agree to rtol 1e-10 with atol 1e-13 (observed differences are
~1e-15). Our own code paths (dense table, remapped labels, sorted pairs, any
thread count) agree bit for bit where the data allow comparing them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mutual_info_score

from mfhrl_fast import info

RTOL = 1e-10
ATOL = 1e-13


def _close(actual, expected, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def _entropy_of_labels(v):
    _, counts = np.unique(v, return_counts=True)
    q = counts / counts.sum()
    return float(-(q * np.log(q)).sum())


def _support(v):
    return len(np.unique(v))


def _miller_madow_mi(x, y):
    pairs = np.stack([x, y], axis=1)
    n = len(x)
    mxy = len(np.unique(pairs, axis=0))
    return mutual_info_score(x, y) + (_support(x) + _support(y) - mxy - 1) / (2 * n)


def _correlated(rng, n, kx, ky, noise):
    x = rng.integers(0, kx, n)
    y = (x * ky // kx + rng.integers(0, noise + 1, n)) % ky
    return x, y


@pytest.mark.parametrize(
    ("n", "kx", "ky", "noise"),
    [(10, 3, 3, 1), (1000, 64, 64, 8), (100_000, 64, 64, 8), (50_000, 5, 300, 40), (2, 2, 2, 0)],
)
def test_plugin_matches_sklearn(n, kx, ky, noise):
    x, y = _correlated(np.random.default_rng(n), n, kx, ky, noise)
    _close(info.mutual_information(x, y), mutual_info_score(x, y))
    _close(info.mutual_information(x, y, base=2), mutual_info_score(x, y) / np.log(2))


def test_independent_and_identical():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, 200_000)
    _close(info.mutual_information(x, x), _entropy_of_labels(x), rtol=1e-12)
    assert info.mutual_information(np.zeros(100, np.int64), x[:100]) == 0.0  # constant X
    # Independent samples: plug-in MI is small but positive (bias ~ (kx-1)(ky-1)/(2n)).
    mi = info.mutual_information(x, rng.integers(0, 10, 200_000))
    assert 0.0 <= mi < 1e-3


@pytest.mark.parametrize(
    ("xd", "yd"),
    [
        (np.int32, np.int32),
        (np.int32, np.int64),
        (np.int64, np.int32),
        (np.uint8, np.int16),
        (np.uint32, np.uint64),
        (bool, np.int64),
    ],
)
def test_dtypes(xd, yd):
    x, y = _correlated(np.random.default_rng(5), 5000, 2, 200, 30)
    expected = info.mutual_information(x, y)
    np.testing.assert_array_equal(info.mutual_information(x.astype(xd), y.astype(yd)), expected)


def test_sparse_labels_use_remapping_and_give_the_same_bits():
    x, y = _correlated(np.random.default_rng(9), 100_000, 64, 64, 8)
    dense = info.mutual_information(x, y)
    # Huge, sparse label values: remapped to 0..k-1, visited in the same order.
    assert info.mutual_information(x * 1_000_003 + 7, y * (2**40) + 1) == dense
    assert info.mutual_information(x * 1000, y) == dense  # lookup-table remap
    _close(dense, mutual_info_score(x, y))


def test_many_distinct_pairs_counted_by_sorting():
    # 1000 x 1000 possible pairs > the dense-table limit for n = 30 000.
    rng = np.random.default_rng(2)
    x = rng.integers(0, 1000, 30_000)
    y = (x + rng.integers(0, 50, 30_000)) % 1000
    _close(info.mutual_information(x, y), mutual_info_score(x, y))
    _close(info.mutual_information(x * 12_345, y), mutual_info_score(x, y))


def test_growing_tables_across_chunks():
    # Sorted labels: the first chunk sees small labels, later ones larger, so
    # per-chunk tables grow and are merged into the final shape.
    rng = np.random.default_rng(4)
    x = np.sort(rng.integers(0, 500, 400_000))
    y = (x // 3 + rng.integers(0, 4, 400_000)).astype(np.int32)
    expected = mutual_info_score(x, y)
    for threads in (1, 2, 3, 5):
        _close(info.mutual_information(x, y, num_threads=threads), expected)


def test_thread_count_does_not_change_bits():
    x, y = _correlated(np.random.default_rng(8), 2_000_000, 64, 64, 8)
    ref = info.mutual_information(x, y, num_threads=1)
    for threads in (2, 3, 8, None):
        assert info.mutual_information(x, y, num_threads=threads) == ref
    ref_mm = info.mutual_information(x, y, estimator="miller_madow", num_threads=1)
    assert info.mutual_information(x, y, estimator="miller_madow", num_threads=2) == ref_mm


@pytest.mark.parametrize(("n", "kx", "ky"), [(50, 4, 6), (3000, 20, 20), (100_000, 64, 64)])
def test_miller_madow_matches_formula(n, kx, ky):
    x, y = _correlated(np.random.default_rng(n), n, kx, ky, 3)
    _close(info.mutual_information(x, y, estimator="miller_madow"), _miller_madow_mi(x, y))
    _close(
        info.mutual_information(x, y, estimator="miller_madow", base=2),
        _miller_madow_mi(x, y) / np.log(2),
    )


labels = st.lists(st.integers(0, 12), min_size=1, max_size=300)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_property_against_sklearn_and_identities(data):
    x = np.array(data.draw(labels), dtype=np.int64)
    y = np.array(data.draw(st.lists(st.integers(0, 2**40), min_size=len(x), max_size=len(x))))
    y = y % data.draw(st.sampled_from([2, 7, 2**40]))
    mi = info.mutual_information(x, y)
    _close(mi, mutual_info_score(x, y))
    _close(info.mutual_information(y, x), mi)  # symmetric
    assert 0.0 <= mi <= min(_entropy_of_labels(x), _entropy_of_labels(y)) + 1e-12
    _close(info.mutual_information(x, y, estimator="miller_madow"), _miller_madow_mi(x, y))


# ---------------------------------------------------------------- bad input


def test_bad_labels():
    good = np.arange(10)
    with pytest.raises(
        ValueError, match="x must hold non-negative integer labels; its minimum is -3"
    ):
        info.mutual_information(good - 3, good)
    with pytest.raises(ValueError, match="y must hold non-negative .* minimum is -1"):
        info.mutual_information(good, np.full(10, -1, dtype=np.int32))
    with pytest.raises(TypeError, match="x must hold integer labels, got dtype float64"):
        info.mutual_information(good.astype(float), good)
    with pytest.raises(ValueError, match="x and y must have the same length, got 10 and 9"):
        info.mutual_information(good, good[:9])
    with pytest.raises(ValueError, match="x is empty"):
        info.mutual_information(np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match="y must be 1-D"):
        info.mutual_information(good, good.reshape(2, 5))
    with pytest.raises(ValueError, match="estimator must be"):
        info.mutual_information(good, good, estimator="chao_shen")
    with pytest.raises(TypeError, match="y must hold integer labels"):
        info.mutual_information(good, np.array(["a"] * 10))


# ------------------------------------------------------- threads and processes


def test_concurrent_calls_from_python_threads():
    """GIL-free calls from several threads share the worker pools safely."""
    from concurrent.futures import ThreadPoolExecutor

    x, y = _correlated(np.random.default_rng(1), 300_000, 64, 64, 8)
    p = np.random.default_rng(2).random((100_000, 5))
    mi_ref = info.mutual_information(x, y, num_threads=1)
    h_ref = info.entropy(p, num_threads=1)

    def work(i):
        if i % 2:
            return info.mutual_information(x, y, num_threads=2) == mi_ref
        return np.array_equal(info.entropy(p, num_threads=2), h_ref)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(work, range(40)))


def _child_checks(x, y, expected, conn):
    conn.send(info.mutual_information(x, y, num_threads=2) == expected)
    conn.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork() with threads (3.12+)
def test_usable_after_fork():
    """A forked child gets fresh worker threads instead of the parent's (absent) ones."""
    import multiprocessing

    x, y = _correlated(np.random.default_rng(3), 300_000, 64, 64, 8)
    expected = info.mutual_information(x, y, num_threads=2)  # parent pool exists now
    ctx = multiprocessing.get_context("fork")
    parent_conn, child_conn = ctx.Pipe()
    child = ctx.Process(target=_child_checks, args=(x, y, expected, child_conn))
    child.start()
    try:
        assert parent_conn.poll(60), "child process hung"
        assert parent_conn.recv() is True
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join()
    assert child.exitcode == 0


def test_int32_and_int64_labels_are_read_in_place():
    import tracemalloc

    x = np.random.default_rng(0).integers(0, 64, 1_000_000)  # 8 MB
    y = x.astype(np.int32)
    tracemalloc.start()
    try:
        info.mutual_information(x, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
