"""ReplayRing: storage, FIFO, masks, determinism, fidelity restriction and sample destinations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mfhrl_fast import ReplayRing


def test_add_sample_round_trip(rh):
    ring = rh.new_ring(capacity=100, num_members=3, seed=1)
    ids = np.arange(60)
    for chunk in np.split(ids, [7, 8, 31]):  # uneven batches
        rh.add_ids(ring, chunk)
    assert len(ring) == 60
    assert ring.total_added == 60

    batch = ring.sample(3000)
    assert set(batch) == set(rh.FIELDS)
    assert batch["obs"].shape == (3000, rh.OBS_DIM)
    assert batch["action"].shape == (3000, rh.ACT_DIM)
    assert batch["next_obs"].shape == (3000, rh.OBS_DIM)
    for key in ("reward", "terminated", "truncated", "fidelity"):
        assert batch[key].shape == (3000,), key
    assert batch["mask"].shape == (3000, 3)
    got = rh.check_rows(batch, num_members=3)
    assert set(got.tolist()) == set(ids.tolist())  # every stored row can be drawn


def test_add_converts_inputs_to_float32(rh):
    # float64 arrays, Python lists and ints are accepted and stored as float32.
    ring = rh.new_ring(capacity=4, obs_dim=2, act_dim=1, num_members=1)
    ring.add(
        obs=[[1.0, 2.0]],
        action=[[0.1]],
        reward=[1 / 3],
        next_obs=np.array([[3, 4]], dtype=np.int32),
        terminated=[True],
        truncated=[0],
        fidelity=7,
    )
    batch = ring.sample(2)
    np.testing.assert_array_equal(batch["obs"], np.float32([[1, 2]] * 2))
    np.testing.assert_array_equal(batch["action"], np.float32([[0.1]] * 2))
    np.testing.assert_array_equal(batch["reward"], np.float32([1 / 3] * 2))
    np.testing.assert_array_equal(batch["next_obs"], np.float32([[3, 4]] * 2))
    np.testing.assert_array_equal(batch["terminated"], np.float32([1, 1]))
    np.testing.assert_array_equal(batch["truncated"], np.float32([0, 0]))
    np.testing.assert_array_equal(batch["fidelity"], np.uint8([7, 7]))


def test_fifo_wrap_around(rh):
    ring = rh.new_ring(capacity=10, num_members=2)
    start = 0
    for size in (3, 5, 7, 1, 9):  # 25 transitions in odd-sized batches
        rh.add_ids(ring, np.arange(start, start + size))
        start += size
        assert ring.total_added == start
        assert len(ring) == min(start, 10)
        # Only the last min(start, 10) transitions are drawable.
        ids = rh.check_rows(ring.sample(2000), num_members=2)
        assert set(ids.tolist()) == set(range(max(0, start - 10), start))
    assert start == 25
    assert len(ring) == 10
    assert ring.total_added == 25


def test_batch_larger_than_capacity_keeps_its_last_rows(rh):
    ring = rh.new_ring(capacity=10, num_members=2)
    rh.add_ids(ring, np.arange(4))
    rh.add_ids(ring, np.arange(4, 27))
    assert len(ring) == 10 and ring.total_added == 27
    ids = rh.check_rows(ring.sample(2000), num_members=2)
    assert set(ids.tolist()) == set(range(17, 27))
    for member in range(2):
        expected = rh.unpack_bits(rh.mask_bits(np.arange(17, 27), 2), 2)[:, member].sum()
        assert ring.member_count(member) == expected


@pytest.mark.parametrize("form", ["bool", "uint64"])
@pytest.mark.parametrize("num_members", [1, 5, 64])
def test_given_masks_are_stored_exactly(rh, form, num_members):
    ring = rh.new_ring(capacity=300, num_members=num_members, seed=3)
    ids = np.arange(200)
    rh.add_ids(ring, ids[:77], mask=form)
    rh.add_ids(ring, ids[77:], mask=form)
    rh.check_rows(ring.sample(5000), num_members=num_members)  # masks compared per id
    expected = rh.unpack_bits(rh.mask_bits(ids, num_members), num_members).sum(axis=0)
    for member in range(num_members):
        assert ring.member_count(member) == expected[member]


def test_uint64_mask_bits_beyond_num_members_are_ignored(rh):
    ring = rh.new_ring(capacity=10, num_members=3)
    rows = rh.transitions(np.arange(4))
    ring.add(**rows, mask=np.array([0b1000, 0b1111, 2**63 + 1, 2**64 - 1], dtype=np.uint64))
    stored = rh.stored_rows(ring)
    np.testing.assert_array_equal(
        stored["mask"], [[0, 0, 0], [1, 1, 1], [1, 0, 0], [1, 1, 1]]
    )
    assert [ring.member_count(m) for m in range(3)] == [3, 2, 2]


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_drawn_masks_are_bernoulli_p(rh, p):
    n, members = 4000, 8
    ring = rh.new_ring(capacity=n, num_members=members, mask_prob=p, seed=11)
    for chunk in np.array_split(np.arange(n), 7):
        rh.add_ids(ring, chunk, mask=None)
    bound = 5 * np.sqrt(n * p * (1 - p))  # five binomial standard deviations
    counts = np.array([ring.member_count(m) for m in range(members)])
    assert np.all(np.abs(counts - n * p) < bound), counts
    masks = rh.stored_rows(ring)["mask"]
    np.testing.assert_array_equal(masks.sum(axis=0), counts)  # member_count agrees with rows
    # Bits are independent across members: pairs are set with frequency p^2.
    both = (masks[:, :-1] & masks[:, 1:]).sum(axis=0)
    assert np.all(np.abs(both - n * p * p) < 5 * np.sqrt(n * p * p * (1 - p * p))), both


@pytest.mark.parametrize("p, expected", [(0.0, 0), (1.0, 50)])
def test_drawn_masks_at_p_0_and_1(rh, p, expected):
    ring = rh.new_ring(capacity=50, num_members=64, mask_prob=p)
    rh.add_ids(ring, np.arange(50), mask=None)
    assert [ring.member_count(m) for m in range(64)] == [expected] * 64


def test_drawn_masks_are_deterministic_given_the_seed(rh):
    def masks(seed):
        ring = rh.new_ring(capacity=500, num_members=6, seed=seed)
        for chunk in np.array_split(np.arange(500), 3):
            rh.add_ids(ring, chunk, mask=None)
        return rh.stored_rows(ring)["mask"]

    a, b, c = masks(5), masks(5), masks(6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def _sequence(rh, seed, *, num_threads=1, capacity=200, n=150, sizes=(1, 64, 700)):
    ring = rh.new_ring(capacity=capacity, num_members=4, seed=seed, num_threads=num_threads)
    rh.add_ids(ring, np.arange(n), mask=None)
    out = []
    for size in sizes:
        out.append(rh.copy_batch(ring.sample(size)))
        out.append(rh.copy_batch(ring.sample(size, fidelities=[0, 2])))
        out.append(rh.copy_batch(ring.sample_members(size)))
    return out


def test_same_seed_gives_identical_samples(rh):
    a, b = _sequence(rh, 3), _sequence(rh, 3)
    for x, y in zip(a, b, strict=True):
        rh.assert_batches_equal(x, y)


def test_other_seed_gives_other_samples(rh):
    a, b = _sequence(rh, 3), _sequence(rh, 4)
    assert not np.array_equal(a[-1]["obs"], b[-1]["obs"])
    assert not np.array_equal(a[-3]["obs"], b[-3]["obs"])


def test_thread_count_does_not_change_samples(rh):
    sizes = (100, 1024, 4096)
    one = _sequence(rh, 9, num_threads=1, sizes=sizes)
    for threads in (2, 3):
        many = _sequence(rh, 9, num_threads=threads, sizes=sizes)
        for x, y in zip(one, many, strict=True):
            rh.assert_batches_equal(x, y)


def test_thread_count_does_not_change_samples_of_a_large_ring(rh):
    # The one large ring of the suite: 1e5 transitions of HalfCheetah's sizes.
    n = 100_000
    rings = [
        ReplayRing(capacity=n, obs_dim=17, act_dim=6, num_members=5, seed=2, num_threads=t)
        for t in (1, 2, 4)
    ]
    for ring in rings:
        for chunk in np.array_split(np.arange(n + 2500), 4):
            rh.add_ids(ring, chunk, mask=None)
        assert len(ring) == n and ring.total_added == n + 2500
    for size in (1024, 8192):
        batches = [rh.copy_batch(ring.sample(size)) for ring in rings]
        members = [rh.copy_batch(ring.sample_members(size, fidelities=[1])) for ring in rings]
        for other in batches[1:]:
            rh.assert_batches_equal(batches[0], other)
        for other in members[1:]:
            rh.assert_batches_equal(members[0], other)
    rh.check_rows(batches[0], num_members=5, masks_from_ids=False)
    ids = rh.check_rows(members[0], num_members=5, masks_from_ids=False)
    assert ids.min() >= 2500
    assert np.all(members[0]["fidelity"] == 1)
    for member in range(5):
        assert members[0]["mask"][member, :, member].all()


def test_fidelity_restriction_is_uniform_over_the_union(rh):
    ring = rh.new_ring(capacity=200, num_members=2, seed=4)
    # 30 transitions of fidelity 1, 90 of fidelity 3, 80 of fidelity 0.
    rh.add_ids(ring, np.arange(0, 30), fidelity=1)
    rh.add_ids(ring, np.arange(30, 120), fidelity=3)
    rh.add_ids(ring, np.arange(120, 200), fidelity=0)
    draws = 24000
    batch = ring.sample(draws, fidelities=[1, 3])
    ids = rh.batch_ids(batch)
    rh.check_rows(batch, num_members=2, fidelity=np.where(ids < 30, 1, np.where(ids < 120, 3, 0)))
    assert set(batch["fidelity"].tolist()) == {1, 3}
    assert ids.max() < 120
    counts = np.bincount(ids, minlength=120)
    assert stats.chisquare(counts).pvalue > 1e-3  # uniform over the 120 rows of the union
    # ... which makes fidelity 1 a quarter of the draws, not a half.
    share = np.mean(batch["fidelity"] == 1)
    assert abs(share - 0.25) < 5 * np.sqrt(0.25 * 0.75 / draws)


@pytest.mark.parametrize(
    "make, allowed",
    [
        (lambda: [2], {2}),
        (lambda: (0, 2), {0, 2}),
        (lambda: {2, 0}, {0, 2}),
        (lambda: np.array([0, 2], dtype=np.uint8), {0, 2}),
        (lambda: range(3), {0, 1, 2}),
        (lambda: iter([1, 1]), {1}),
        (lambda: (f for f in [0, 1]), {0, 1}),
    ],
)
def test_fidelity_restriction_accepts_iterables(rh, make, allowed):
    ring = rh.new_ring(capacity=60, num_members=1)
    rh.add_ids(ring, np.arange(60))  # fidelity = id % 3
    batch = ring.sample(500, fidelities=make())
    rh.check_rows(batch, num_members=1)
    assert set(batch["fidelity"].tolist()) == allowed
    ids = np.arange(60)
    bit0 = rh.unpack_bits(rh.mask_bits(ids, 1), 1)[:, 0]
    assert ring.member_count(0, fidelities=make()) == np.sum(bit0 & np.isin(ids % 3, list(allowed)))


def test_fidelity_restriction_to_absent_ids(rh):
    ring = rh.new_ring(capacity=30, num_members=1)
    rh.add_ids(ring, np.arange(30))  # fidelities 0, 1, 2
    batch = ring.sample(300, fidelities=[2, 7, 255])  # absent ids are allowed
    assert set(batch["fidelity"].tolist()) == {2}
    with pytest.raises(ValueError):
        ring.sample(4, fidelities=[7])
    with pytest.raises(ValueError):
        ring.sample(4, fidelities=[])
    assert ring.member_count(0, fidelities=[7]) == 0
