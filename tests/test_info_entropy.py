"""info.entropy / entropy_counts against scipy.stats.entropy and the Miller-Madow formula.

Tolerances: our rows are normalised exactly as scipy's (p / p.sum()), the
logarithm is within 1 ulp of libm's and sums differ only in order, so results
agree to rtol 1e-12 (atol 1e-14 for entropies near 0).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mfhrl_fast import info

RTOL = 1e-12
ATOL = 1e-14


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    ("shape", "axis"),
    [
        ((5,), -1),
        ((1, 5), -1),
        ((1000, 5), -1),
        ((1000, 5), 0),
        ((37, 300), 1),
        ((4, 2000), -1),
        ((3, 4, 6), 1),
        ((3, 4, 6), 0),
        ((3, 4, 6), -1),
        ((2, 1), -1),
    ],
)
@pytest.mark.parametrize("base", [None, 2, 10, np.e])
def test_matches_scipy(shape, axis, base):
    rng = np.random.default_rng(hash((shape, axis)) % 2**32)
    p = rng.random(shape)
    p[p < 0.2] = 0.0  # zero entries contribute 0
    p[(slice(None),) * (p.ndim - 1) + (0,)] += 0.1  # no all-zero distribution
    if axis not in (-1, p.ndim - 1):
        p = np.moveaxis(p, -1, axis).copy()
    _close(info.entropy(p, axis=axis, base=base), scipy.stats.entropy(p, axis=axis, base=base))


def test_one_dimensional_gives_a_scalar_and_accepts_lists():
    h = info.entropy([1, 2, 3, 0])
    assert isinstance(h, np.float64)
    _close(h, scipy.stats.entropy([1, 2, 3, 0]))


def test_known_values():
    for m in (1, 2, 5, 7, 64, 1000):
        _close(info.entropy(np.ones(m)), np.log(m))
        _close(info.entropy(np.ones(m), base=2), np.log2(m))
    assert info.entropy([0.0, 3.0, 0.0]) == 0.0
    assert np.signbit(info.entropy([1.0])) == np.False_  # +0.0, not -0.0


def test_extreme_magnitudes():
    # Subnormal, tiny and huge weights (the kernel's log handles subnormals).
    rows = np.array(
        [
            [5e-324, 1e-310, 1.0, 0.0],
            [1e-300, 2e-300, 3e-300, 4e-300],
            [1e300, 1e299, 1e-300, 0.0],
            [1.0, 1e-17, 1e-200, 1e-320],
        ]
    )
    _close(info.entropy(rows), scipy.stats.entropy(rows, axis=-1))


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40),
        elements=st.one_of(
            st.just(0.0),
            st.floats(min_value=0.0, max_value=1e100, allow_subnormal=True),
        ),
    )
)
def test_property_matches_scipy(p):
    p[:, 0] += 1.0  # every row has mass
    _close(info.entropy(p), scipy.stats.entropy(p, axis=-1))


def test_non_contiguous_and_other_dtypes():
    rng = np.random.default_rng(1)
    p = rng.random((50, 12))
    expected = scipy.stats.entropy(p[::2, ::3], axis=-1)
    _close(info.entropy(p[::2, ::3]), expected)  # strided view
    p32 = p.astype(np.float32)  # converted exactly; computed in float64 (scipy would use float32)
    _close(info.entropy(p32), scipy.stats.entropy(p32.astype(np.float64), axis=-1))
    counts = rng.integers(0, 9, (20, 6)) + np.eye(20, 6, dtype=np.int64)
    _close(info.entropy(counts), scipy.stats.entropy(counts, axis=-1))
    _close(info.entropy(p.T, axis=0), scipy.stats.entropy(p.T, axis=0))  # Fortran order


@pytest.mark.parametrize("m", [5, 8, 300])
def test_thread_count_does_not_change_bits(m):
    rng = np.random.default_rng(m)
    p = rng.random((400_000 // m * 5, m))
    ref = info.entropy(p, num_threads=1)
    for threads in (2, 3, 8):
        np.testing.assert_array_equal(info.entropy(p, num_threads=threads), ref)
    np.testing.assert_array_equal(info.entropy(p), ref)


# ---------------------------------------------------------------- counts


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64, np.uint8, np.int16])
def test_counts_plugin_matches_scipy(dtype):
    rng = np.random.default_rng(7)
    c = rng.integers(0, 50, (200, 9)).astype(dtype)
    c[:, 0] += 1
    _close(info.entropy_counts(c), scipy.stats.entropy(c, axis=-1))
    _close(info.entropy_counts(c, base=2), scipy.stats.entropy(c, axis=-1, base=2))


def _miller_madow(c, axis=-1):
    c = np.moveaxis(np.asarray(c, dtype=np.float64), axis, -1)
    n = c.sum(-1)
    nonzero = (c > 0).sum(-1)
    return scipy.stats.entropy(c, axis=-1) + (nonzero - 1) / (2 * n)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64])
@pytest.mark.parametrize("shape", [(300, 4), (10, 1000), (1, 1), (6, 5, 3)])
def test_counts_miller_madow_matches_formula(dtype, shape):
    rng = np.random.default_rng(11)
    c = rng.integers(0, 5, shape).astype(dtype)
    c[..., 0] += 1
    _close(info.entropy_counts(c, estimator="miller_madow"), _miller_madow(c))
    _close(info.entropy_counts(c, estimator="miller_madow", base=2), _miller_madow(c) / np.log(2))
    _close(info.entropy_counts(c, axis=0, estimator="miller_madow"), _miller_madow(c, axis=0))


def test_counts_thread_count_does_not_change_bits():
    c = np.random.default_rng(3).integers(0, 20, (300_000, 5)).astype(np.int32)
    c[:, 0] += 1
    ref = info.entropy_counts(c, estimator="miller_madow", num_threads=1)
    np.testing.assert_array_equal(
        info.entropy_counts(c, estimator="miller_madow", num_threads=2), ref
    )


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("p", "match"),
    [
        ([0.5, np.nan, 0.5], r"p must hold finite, non-negative .* p\[0, 1\] is nan"),
        ([[0.5, 0.5], [0.5, -0.1]], r"p\[1, 1\] is -0\.1"),
        ([[0.5, 0.5], [1.0, -0.0], [-1.0, 3.0]], r"p\[2, 0\] is -1\.0"),  # -0.0 is fine
        ([0.5, np.inf], r"p\[0, 1\] is inf"),
        ([-np.inf, 1.0], r"p\[0, 0\] is -inf"),
        ([[1.0, 1.0], [0.0, 0.0]], r"p row 1 sums to 0"),
        ([1e308, 1e308], r"sums to infinity"),
        ([], r"p is empty"),
        (np.zeros((0, 5)), r"p is empty"),
        (np.zeros((5, 0)), r"p is empty"),
        (3.0, r"at least one dimension"),
    ],
)
def test_bad_probabilities_raise_value_error(p, match):
    with pytest.raises(ValueError, match=match):
        info.entropy(p)


@pytest.mark.parametrize(
    "p", [np.ones(3, dtype=complex), np.array(["a", "b"]), np.array([None, 1])]
)
def test_bad_dtype_raises_type_error(p):
    with pytest.raises(TypeError, match="p must hold real numbers"):
        info.entropy(p)


@pytest.mark.parametrize("base", [0, 1, -2, np.nan, np.inf])
def test_bad_base(base):
    with pytest.raises(ValueError, match="base must be"):
        info.entropy([1.0, 2.0], base=base)


def test_bad_threads_and_axis():
    with pytest.raises(ValueError, match="num_threads"):
        info.entropy([1.0, 2.0], num_threads=0)
    with pytest.raises(TypeError, match="num_threads must be None or an int, got float"):
        info.entropy([1.0, 2.0], num_threads=2.5)
    with pytest.raises(TypeError, match="base must be a real number, got str"):
        info.entropy([1.0, 2.0], base="2")
    with pytest.raises(np.exceptions.AxisError):
        info.entropy(np.ones((2, 3)), axis=2)


def test_bad_counts():
    with pytest.raises(
        ValueError, match=r"counts must hold finite, non-negative counts; counts\[0, 1\] is -1"
    ):
        info.entropy_counts(np.array([3, -1, 2], dtype=np.int32))
    with pytest.raises(ValueError, match=r"counts\[1, 0\] is -5"):
        info.entropy_counts(np.array([[3, 1], [-5, 2]], dtype=np.int64))
    with pytest.raises(ValueError, match="counts row 0 sums to 0"):
        info.entropy_counts([0, 0, 0])
    with pytest.raises(ValueError, match="estimator must be 'plugin' or 'miller_madow'"):
        info.entropy_counts([1, 2], estimator="grassberger")
    with pytest.raises(ValueError, match=r"counts must hold finite, .* is nan"):
        info.entropy_counts([1.0, np.nan])
    with pytest.raises(TypeError, match="counts must hold integers or floats"):
        info.entropy_counts(np.array([1 + 1j]))
    with pytest.raises(ValueError, match="counts is empty"):
        info.entropy_counts(np.zeros(0, dtype=np.int64))


def _peak_bytes(fn):
    """Peak of NumPy/Python allocations while fn runs (NumPy reports to tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_native_dtypes_are_read_in_place():
    p = np.random.default_rng(0).random((200_000, 5))  # 8 MB in, 1.6 MB out
    out_bytes = 200_000 * 8
    assert _peak_bytes(lambda: info.entropy(p)) < 1.5 * out_bytes
    c = np.random.default_rng(1).integers(1, 9, (200_000, 5)).astype(np.int32)
    assert _peak_bytes(lambda: info.entropy_counts(c)) < 1.5 * out_bytes
    # A dtype that needs conversion is copied (so the measurement does see copies).
    assert _peak_bytes(lambda: info.entropy(p.astype(np.float32))) > 5 * out_bytes
