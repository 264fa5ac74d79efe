"""Shared helpers of the ReplayRing tests (tests/test_replay_*.py), registered by conftest.py.

The helpers are reached through the ``rh`` fixture (a namespace), so the tests
work whatever pytest's import mode is.

Test transitions are a function of an integer id: ``obs[:, 0] == id`` and
every other field (and, when given explicitly, the mask) is derived from the
id with values exact in float32. A sampled row can therefore be checked field
by field against the row it claims to be.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

from mfhrl_fast import ReplayRing

OBS_DIM = 4
ACT_DIM = 3
FIELDS = ("obs", "action", "reward", "next_obs", "terminated", "truncated", "fidelity", "mask")


def mask_bits(ids, num_members: int) -> np.ndarray:
    """A pseudo-random uint64 bit mask per id (a SplitMix64 finaliser), kept to num_members bits."""
    x = np.asarray(ids, dtype=np.int64).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    keep = np.uint64((1 << num_members) - 1) if num_members < 64 else np.uint64(2**64 - 1)
    return x & keep


def unpack_bits(bits, num_members: int) -> np.ndarray:
    """(n,) uint64 bit masks -> (n, num_members) bools."""
    bits = np.asarray(bits, dtype=np.uint64)
    shifts = np.arange(num_members, dtype=np.uint64)
    return ((bits[:, None] >> shifts) & np.uint64(1)).astype(bool)


def transitions(ids, *, obs_dim=OBS_DIM, act_dim=ACT_DIM, num_fidelities=3, fidelity=None):
    """Float64 rows derived from integer ids (the ring stores them as float32, exactly)."""
    ids = np.asarray(ids, dtype=np.int64)
    f = ids.astype(np.float64)
    j = np.arange(obs_dim)
    sign = np.where(j % 2 == 0, 1.0, -1.0)
    obs = sign * (f[:, None] + j / 8.0)  # column 0 is the id
    next_obs = -obs - 0.5
    action = ((ids[:, None] % 11) - 5) / 4.0 + np.arange(act_dim) / 16.0
    reward = f * 0.5 - 3.0
    terminated = (ids % 2).astype(np.float64)
    truncated = (ids % 3 == 0).astype(np.float64)
    if fidelity is None:
        fid = ids % num_fidelities
    else:
        fid = np.broadcast_to(np.asarray(fidelity, dtype=np.int64), ids.shape).copy()
    return {
        "obs": obs,
        "action": action,
        "reward": reward,
        "next_obs": next_obs,
        "terminated": terminated,
        "truncated": truncated,
        "fidelity": fid,
    }


def add_ids(ring, ids, *, mask="bool", num_fidelities=3, fidelity=None):
    """Adds the transitions of ids.

    mask: "bool" or "uint64" (masks derived from the ids, in that form) or None (drawn).
    """
    rows = transitions(
        ids,
        obs_dim=ring.obs_dim,
        act_dim=ring.act_dim,
        num_fidelities=num_fidelities,
        fidelity=fidelity,
    )
    if mask == "bool":
        rows["mask"] = unpack_bits(mask_bits(ids, ring.num_members), ring.num_members)
    elif mask == "uint64":
        rows["mask"] = mask_bits(ids, ring.num_members)
    else:
        assert mask is None
    ring.add(**rows)
    return rows


def batch_ids(batch) -> np.ndarray:
    """The ids of a batch's rows (any leading shape), checked to be integers."""
    col = np.asarray(batch["obs"])[..., 0]
    ids = col.astype(np.int64)
    assert np.array_equal(ids, col), "obs[:, 0] is not an id: rows were mixed up"
    return ids


def check_rows(batch, *, num_members, num_fidelities=3, masks_from_ids=True, fidelity=None):
    """Every row of the batch equals the stored row of its id, field by field; returns the ids."""
    ids = batch_ids(batch)
    lead = ids.shape
    flat = ids.reshape(-1)
    obs_dim = np.asarray(batch["obs"]).shape[-1]
    act_dim = np.asarray(batch["action"]).shape[-1]
    want = transitions(
        flat, obs_dim=obs_dim, act_dim=act_dim, num_fidelities=num_fidelities, fidelity=fidelity
    )
    for key in ("obs", "action", "reward", "next_obs", "terminated", "truncated"):
        got = np.asarray(batch[key])
        assert got.dtype == np.float32, key
        np.testing.assert_array_equal(
            got.reshape((-1,) + got.shape[len(lead):]), want[key].astype(np.float32), err_msg=key
        )
    fid = np.asarray(batch["fidelity"])
    assert fid.dtype == np.uint8
    np.testing.assert_array_equal(fid.reshape(-1), want["fidelity"].astype(np.uint8))
    mask = np.asarray(batch["mask"])
    assert mask.dtype == np.bool_ and mask.shape == lead + (num_members,)
    if masks_from_ids:
        np.testing.assert_array_equal(
            mask.reshape(-1, num_members), unpack_bits(mask_bits(flat, num_members), num_members)
        )
    return ids


def copy_batch(batch) -> dict[str, np.ndarray]:
    return {key: np.array(np.asarray(batch[key]), copy=True) for key in FIELDS}


def assert_batches_equal(a, b) -> None:
    assert set(a) >= set(FIELDS) and set(b) >= set(FIELDS)
    for key in FIELDS:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        assert x.dtype == y.dtype, key
        np.testing.assert_array_equal(x, y, err_msg=key)


def stored_rows(ring, *, batch_size=4096, max_batches=200) -> dict[str, np.ndarray]:
    """Every stored row, found by sampling until len(ring) distinct ids were seen; sorted by id.

    Consumes draws of the ring's generator.
    """
    want = len(ring)
    seen: dict[int, int] = {}
    parts = []
    for _ in range(max_batches):
        batch = copy_batch(ring.sample(batch_size))
        ids = batch_ids(batch)
        offset = sum(len(p["reward"]) for p in parts)
        parts.append(batch)
        for row, i in enumerate(ids.tolist()):
            seen.setdefault(i, offset + row)
        if len(seen) == want:
            break
    assert len(seen) == want, f"saw {len(seen)} distinct rows of {want}"
    rows = {key: np.concatenate([p[key] for p in parts]) for key in FIELDS}
    order = [seen[i] for i in sorted(seen)]
    return {key: value[order] for key, value in rows.items()}


def new_ring(**kwargs) -> ReplayRing:
    config = {"capacity": 100, "obs_dim": OBS_DIM, "act_dim": ACT_DIM, "num_members": 3, "seed": 0}
    config.update(kwargs)
    return ReplayRing(**config)


@pytest.fixture
def rh():
    """The helpers of this module as a namespace."""
    return types.SimpleNamespace(
        OBS_DIM=OBS_DIM,
        ACT_DIM=ACT_DIM,
        FIELDS=FIELDS,
        mask_bits=mask_bits,
        unpack_bits=unpack_bits,
        transitions=transitions,
        add_ids=add_ids,
        batch_ids=batch_ids,
        check_rows=check_rows,
        copy_batch=copy_batch,
        assert_batches_equal=assert_batches_equal,
        stored_rows=stored_rows,
        new_ring=new_ring,
    )
