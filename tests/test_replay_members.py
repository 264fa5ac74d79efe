"""ReplayRing.sample_members: member l draws only, and uniformly, from transitions with bit l."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from scipy import stats

from mfhrl_fast import _core


def test_members_draw_only_their_transitions(rh):
    members = 5
    ring = rh.new_ring(capacity=300, num_members=members, seed=2)
    ids = np.arange(200)
    rh.add_ids(ring, ids[:123], mask="uint64")
    rh.add_ids(ring, ids[123:], mask="bool")
    batch = ring.sample_members(1000)
    assert batch["obs"].shape == (members, 1000, rh.OBS_DIM)
    assert batch["action"].shape == (members, 1000, rh.ACT_DIM)
    assert batch["reward"].shape == (members, 1000)
    assert batch["fidelity"].shape == (members, 1000)
    assert batch["mask"].shape == (members, 1000, members)
    drawn = rh.check_rows(batch, num_members=members)  # every field, mask included
    bits = rh.unpack_bits(rh.mask_bits(ids, members), members)
    for member in range(members):
        assert batch["mask"][member, :, member].all()
        own = set(ids[bits[:, member]].tolist())
        assert set(drawn[member].tolist()) == own  # only, and all, of the member's rows
        assert ring.member_count(member) == len(own)


def test_member_draws_are_uniform(rh):
    members, n, draws = 3, 50, 20000
    ring = rh.new_ring(capacity=n, num_members=members, seed=12345)
    rh.add_ids(ring, np.arange(n))
    bits = rh.unpack_bits(rh.mask_bits(np.arange(n), members), members)
    batch = ring.sample_members(draws)
    ids = rh.check_rows(batch, num_members=members)
    for member in range(members):
        own = np.flatnonzero(bits[:, member])
        assert len(own) >= 10
        counts = np.bincount(ids[member], minlength=n)
        assert counts[~bits[:, member]].sum() == 0
        result = stats.chisquare(counts[own])
        assert result.pvalue > 1e-3, (member, result)
    # The plain sample is uniform over all stored rows.
    counts = np.bincount(rh.batch_ids(ring.sample(draws)), minlength=n)
    assert stats.chisquare(counts).pvalue > 1e-3


def _tracked_counts(tracked, members, fidelities=None):
    rows = [(fid, bits) for fid, bits in tracked if fidelities is None or fid in fidelities]
    return [sum(bits[m] for _, bits in rows) for m in range(members)]


@pytest.mark.parametrize("mask", ["bool", "uint64"])
def test_member_lists_follow_fifo_overwrites(rh, mask):
    members, capacity, num_fidelities = 4, 37, 3
    ring = rh.new_ring(capacity=capacity, num_members=members, seed=5)
    tracked = collections.deque(maxlen=capacity)  # (fidelity, mask bits) of the stored rows
    rng = np.random.default_rng(0)
    start = 0
    while start < 400:
        size = int(rng.integers(1, 30))
        ids = np.arange(start, start + size)
        start += size
        rh.add_ids(ring, ids, mask=mask, num_fidelities=num_fidelities)
        bits = rh.unpack_bits(rh.mask_bits(ids, members), members)
        tracked.extend(zip((ids % num_fidelities).tolist(), bits.tolist(), strict=True))
        assert len(ring) == len(tracked)
        assert ring.total_added == start
        for fidelities in (None, [0], [1, 2]):
            assert [
                ring.member_count(m, fidelities=fidelities) for m in range(members)
            ] == _tracked_counts(tracked, members, fidelities)
    # After many wrap-arounds every member still draws exactly from its stored rows.
    stored = np.arange(start - capacity, start)
    bits = rh.unpack_bits(rh.mask_bits(stored, members), members)
    drawn = rh.check_rows(ring.sample_members(3000), num_members=members)
    for member in range(members):
        assert set(drawn[member].tolist()) == set(stored[bits[:, member]].tolist())


def test_member_lists_with_drawn_masks_after_wrap_around(rh):
    members, capacity = 6, 50
    ring = rh.new_ring(capacity=capacity, num_members=members, mask_prob=0.3, seed=21)
    rng = np.random.default_rng(1)
    start = 0
    while start < 333:
        size = int(rng.integers(1, 17))
        rh.add_ids(ring, np.arange(start, start + size), mask=None)
        start += size
    rows = rh.stored_rows(ring)  # every stored row with its drawn mask
    np.testing.assert_array_equal(rh.batch_ids(rows), np.arange(start - capacity, start))
    for member in range(members):
        own = rh.batch_ids(rows)[rows["mask"][:, member]]
        assert ring.member_count(member) == len(own)
        for fid in range(3):
            assert ring.member_count(member, fidelities=[fid]) == np.sum(own % 3 == fid)
        if len(own):
            drawn = rh.batch_ids(ring.sample_members(2000))[member]
            assert set(drawn.tolist()) == set(own.tolist())


def test_member_without_transitions_raises(rh):
    ring = rh.new_ring(capacity=10, num_members=3)
    rows = rh.transitions(np.arange(6))
    with pytest.raises(ValueError):
        ring.sample_members(4)  # empty ring
    # Member 2 never set; member 1 only in the first two rows.
    ring.add(**rows, mask=np.array([0b011, 0b011, 1, 1, 1, 1], dtype=np.uint64))
    assert ring.member_count(2) == 0
    with pytest.raises(ValueError, match="2") as info:
        ring.sample_members(4)
    assert isinstance(info.value, _core.EmptySampleError)
    ring.sample(4)  # the plain sample is fine
    assert ring.member_count(1) == 2
    # Overwrite the two rows that held member 1's bit: member 1 becomes empty too.
    ring.add(**rh.transitions(np.arange(6, 12)), mask=np.full(6, 0b101, dtype=np.uint64))
    assert ring.member_count(1) == 0 and ring.member_count(2) == 6
    with pytest.raises(ValueError):
        ring.sample_members(4)
    # A member with transitions, but none of the requested fidelity.
    ring2 = rh.new_ring(capacity=10, num_members=2)
    ring2.add(**rh.transitions(np.arange(4), fidelity=[0, 0, 1, 1]),
              mask=np.array([3, 3, 1, 1], dtype=np.uint64))
    ring2.sample_members(4, fidelities=[0])
    with pytest.raises(ValueError):
        ring2.sample_members(4, fidelities=[1])
    ring2.sample_members(4, fidelities=[0, 1])


def test_members_with_fidelity_restriction(rh):
    members, n, draws = 4, 120, 12000
    ring = rh.new_ring(capacity=n, num_members=members, seed=77)
    ids = np.arange(n)
    rh.add_ids(ring, ids, num_fidelities=3)  # fidelity = id % 3
    bits = rh.unpack_bits(rh.mask_bits(ids, members), members)
    allowed = np.isin(ids % 3, [0, 2])
    batch = ring.sample_members(draws, fidelities=[0, 2])
    drawn = rh.check_rows(batch, num_members=members)
    assert set(np.unique(batch["fidelity"]).tolist()) == {0, 2}
    for member in range(members):
        own = bits[:, member] & allowed
        assert ring.member_count(member, fidelities=[0, 2]) == own.sum()
        counts = np.bincount(drawn[member], minlength=n)
        assert counts[~own].sum() == 0
        assert stats.chisquare(counts[own]).pvalue > 1e-3  # uniform over member x fidelities


def test_sample_members_out_and_reuse(rh):
    ring = rh.new_ring(capacity=40, num_members=3, seed=1)
    twin = rh.new_ring(capacity=40, num_members=3, seed=1)
    for r in (ring, twin):
        rh.add_ids(r, np.arange(40))
    a = ring.sample_members(10)
    b = ring.sample_members(10)
    assert all(a[key] is b[key] for key in rh.FIELDS)
    twin.sample_members(10)
    rh.assert_batches_equal(b, twin.sample_members(10))
    out = ring.empty_batch(10, members=True)
    assert ring.sample_members(10, out=out, fidelities=[1]) is out
    rh.assert_batches_equal(out, twin.sample_members(10, fidelities=[1]))
    rh.check_rows(out, num_members=3)


def test_member_count_validates_member(rh):
    ring = rh.new_ring(capacity=10, num_members=3)
    for bad in (-1, 3, 64):
        with pytest.raises(ValueError):
            ring.member_count(bad)
