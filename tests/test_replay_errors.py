"""Bad input to ReplayRing gives a clear Python exception, stores nothing, and never crashes."""

from __future__ import annotations

import numpy as np
import pytest

from mfhrl_fast import ReplayRing, _core

N, OBS_DIM, ACT_DIM, MEMBERS = 4, 5, 2, 3


@pytest.fixture
def ring():
    return ReplayRing(capacity=10, obs_dim=OBS_DIM, act_dim=ACT_DIM, num_members=MEMBERS)


def good_rows(n=N) -> dict:
    return {
        "obs": np.zeros((n, OBS_DIM)),
        "action": np.zeros((n, ACT_DIM)),
        "reward": np.zeros(n),
        "next_obs": np.zeros((n, OBS_DIM)),
        "terminated": np.zeros(n),
        "truncated": np.zeros(n),
        "fidelity": np.zeros(n, dtype=np.int64),
    }


def assert_rejected(ring, error, match=None, **changes):
    rows = good_rows()
    rows.update(changes)
    before = ring.total_added
    with pytest.raises(error, match=match):
        ring.add(**rows)
    assert ring.total_added == before and len(ring) == min(before, ring.capacity)


def test_good_rows_are_accepted(ring):
    ring.add(**good_rows())
    ring.add(**good_rows(), mask=np.zeros((N, MEMBERS), bool))
    ring.add(**good_rows(), mask=np.zeros(N, np.uint64))
    ring.add(**{**good_rows(), "fidelity": 255})
    ring.add(**good_rows(0))  # an empty batch is a no-op
    assert ring.total_added == 4 * N


BAD_SHAPES = {
    "obs": [
        (N, OBS_DIM + 1), (N, OBS_DIM - 1), (N + 1, OBS_DIM), (N * OBS_DIM,), (N, OBS_DIM, 1), ()
    ],
    "action": [(N, ACT_DIM + 1), (N - 1, ACT_DIM), (N,), (N, 1, ACT_DIM)],
    "reward": [(N + 1,), (N - 1,), (N, 1), ()],
    "next_obs": [(N, OBS_DIM + 1), (N + 1, OBS_DIM), (OBS_DIM,)],
    "terminated": [(N + 1,), (N, 1), ()],
    "truncated": [(N - 1,), (1, N)],
    "fidelity": [(N + 1,), (N, 1), (N - 1,)],
}


@pytest.mark.parametrize(
    "field, shape", [(field, shape) for field, shapes in BAD_SHAPES.items() for shape in shapes]
)
def test_wrong_shape_raises_value_error(ring, field, shape):
    dtype = np.int64 if field == "fidelity" else np.float64
    # obs sets the row count n, so obs with other rows than the rest may name another field.
    match = "obs|action" if field == "obs" and shape[:1] == (N + 1,) else field
    assert_rejected(ring, ValueError, match=match, **{field: np.zeros(shape, dtype)})


@pytest.mark.parametrize("field", ["obs", "action", "reward", "next_obs"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_values_raise_value_error(ring, field, value):
    rows = good_rows()
    bad = rows[field].copy()
    bad.reshape(-1)[-1] = value  # the last row
    assert_rejected(ring, ValueError, match="finite", **{field: bad})


def test_values_that_overflow_float32_raise(ring):
    obs = np.zeros((N, OBS_DIM))
    obs[1, 2] = 1e39  # finite in float64, inf in float32
    with np.errstate(over="ignore"):
        assert_rejected(ring, ValueError, obs=obs)


@pytest.mark.parametrize("fidelity", [256, -1, 1000, [0, 0, 256, 0], [0, -1, 0, 0]])
def test_fidelity_out_of_range_raises_value_error(ring, fidelity):
    assert_rejected(ring, ValueError, match="fidelity", fidelity=fidelity)


def test_non_integer_fidelity_is_rejected(ring):
    # 1.5 is no fidelity id; it must not be silently truncated to 1.
    assert_rejected(ring, (TypeError, ValueError), fidelity=np.array([0.0, 1.5, 0.0, 0.0]))
    assert_rejected(ring, (TypeError, ValueError), fidelity=1.5)


@pytest.mark.parametrize(
    "mask",
    [
        np.zeros((N, MEMBERS + 1), bool),
        np.zeros((N, MEMBERS - 1), bool),
        np.zeros((N + 1, MEMBERS), bool),
        np.zeros((N - 1,), np.uint64),
        np.zeros((N + 1,), np.uint64),
        np.zeros((N,), bool),
        np.zeros((N, MEMBERS, 1), bool),
        np.zeros((), np.uint64),
    ],
    ids=lambda m: f"{m.dtype}{m.shape}",
)
def test_wrong_mask_shape_raises_value_error(ring, mask):
    assert_rejected(ring, ValueError, match="mask", mask=mask)


@pytest.mark.parametrize(
    "field, value",
    [
        ("obs", np.full((N, OBS_DIM), "x")),
        ("obs", np.full((N, OBS_DIM), "1.5")),  # numeric text is still text
        ("action", np.full((N, ACT_DIM), "0")),
        ("reward", np.array(["1", "2", "3", "4"])),
        ("reward", ["a", "b", "c", "d"]),
        ("terminated", np.full(N, "0")),
        ("fidelity", np.array(["0", "1", "0", "1"])),
        ("fidelity", "1"),
        ("mask", np.full((N, MEMBERS), "1")),
        ("mask", np.full((N, MEMBERS), "x")),
    ],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "dtype", type(v).__name__),
)
def test_string_arrays_raise_type_error(ring, field, value):
    assert_rejected(ring, TypeError, **{field: value})


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": -5}, "capacity"),
        ({"capacity": 2**32}, "capacity"),
        ({"obs_dim": 0}, "obs_dim"),
        ({"act_dim": -1}, "act_dim"),
        ({"num_members": 0}, "num_members"),
        ({"num_members": 65}, "num_members"),
        ({"mask_prob": 1.5}, "mask_prob"),
        ({"mask_prob": -0.1}, "mask_prob"),
        ({"mask_prob": float("nan")}, "mask_prob"),
        ({"num_threads": 0}, "num_threads"),
    ],
)
def test_bad_config_raises_value_error(kwargs, match):
    config = {"capacity": 10, "obs_dim": 3, "act_dim": 2}
    config.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ReplayRing(**config)


@pytest.mark.parametrize("kwargs", [{"capacity": "10"}, {"obs_dim": 2.5}, {"num_members": None}])
def test_config_of_the_wrong_type_raises_type_error(kwargs):
    config = {"capacity": 10, "obs_dim": 3, "act_dim": 2}
    config.update(kwargs)
    with pytest.raises(TypeError):
        ReplayRing(**config)


@pytest.mark.parametrize("seed", [-1, 2**64])
def test_seed_out_of_range_raises(seed):
    with pytest.raises((TypeError, ValueError, OverflowError)):
        ReplayRing(capacity=10, obs_dim=3, act_dim=2, seed=seed)


def test_limits_of_the_config_are_accepted():
    ReplayRing(capacity=1, obs_dim=1, act_dim=1, num_members=64, mask_prob=0.0)
    ReplayRing(capacity=1, obs_dim=1, act_dim=1, num_members=1, mask_prob=1.0, seed=2**64 - 1)


@pytest.mark.parametrize("size", [0, -1, -(2**40)])
def test_bad_batch_size_raises_value_error(ring, size):
    ring.add(**good_rows())
    with pytest.raises(ValueError, match="batch_size"):
        ring.sample(size)
    with pytest.raises(ValueError, match="batch_size"):
        ring.sample_members(size)
    with pytest.raises(ValueError, match="batch_size"):
        ring.empty_batch(size)


def test_sampling_an_empty_ring_raises_value_error(ring):
    assert issubclass(_core.EmptySampleError, ValueError)
    for call in (
        lambda: ring.sample(8),
        lambda: ring.sample(8, fidelities=[0]),
        lambda: ring.sample_members(8),
        lambda: ring.sample_members(8, fidelities=[0, 1]),
        lambda: ring.sample(8, out=ring.empty_batch(8)),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert isinstance(info.value, _core.EmptySampleError)
    assert ring.member_count(0) == 0


@pytest.mark.parametrize("fidelities", [[256], [-1], [0, 300]])
def test_bad_fidelity_filter_raises_value_error(ring, fidelities):
    ring.add(**good_rows())
    with pytest.raises(ValueError, match="fidelity"):
        ring.sample(2, fidelities=fidelities)
    with pytest.raises(ValueError, match="fidelity"):
        ring.member_count(0, fidelities=fidelities)


@pytest.mark.parametrize("fidelities", [5, ["a"], [0.5], "0"])
def test_fidelity_filter_of_the_wrong_type_raises_type_error(ring, fidelities):
    ring.add(**good_rows())
    with pytest.raises(TypeError):
        ring.sample(2, fidelities=fidelities)


def test_wrong_argument_types_raise_type_error(ring):
    ring.add(**good_rows())
    with pytest.raises(TypeError):
        ring.sample(2.0)
    with pytest.raises(TypeError):
        ring.sample("2")
    with pytest.raises(TypeError):
        ring.add(**good_rows(), extra=1)
    rows = good_rows()
    del rows["reward"]
    with pytest.raises(TypeError):
        ring.add(**rows)


def test_errors_leave_the_ring_usable(ring):
    # A bad call in the middle of a batch of good ones changes nothing.
    ring.add(**good_rows())
    for bad in ({"reward": np.full(N, np.nan)}, {"fidelity": 256}, {"obs": np.zeros((N, 1))}):
        with pytest.raises(ValueError):
            ring.add(**{**good_rows(), **bad})
    ring.add(**good_rows())
    assert ring.total_added == 2 * N and len(ring) == 2 * N
    batch = ring.sample(16)
    assert batch["obs"].shape == (16, OBS_DIM) and np.all(batch["obs"] == 0)
