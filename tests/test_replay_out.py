"""ReplayRing sampling destinations: reused batches, out= NumPy arrays and PyTorch tensors."""

from __future__ import annotations

import numpy as np
import pytest

from mfhrl_fast.replay import torch_batch


def test_sample_reuses_its_arrays(rh):
    ring = rh.new_ring(capacity=50, num_members=2)
    rh.add_ids(ring, np.arange(50))
    first = ring.sample(16)
    first_arrays = {key: first[key] for key in rh.FIELDS}
    first_obs = first["obs"].copy()
    second = ring.sample(16)
    for key in rh.FIELDS:
        assert second[key] is first_arrays[key], key
    assert not np.array_equal(first_obs, second["obs"])  # rewritten in place
    rh.check_rows(second, num_members=2)
    other = ring.sample(17)  # another batch size has its own arrays
    assert other["obs"] is not first_arrays["obs"]
    assert ring.sample(17)["obs"] is other["obs"]
    members = ring.sample_members(16)  # so has the per-member sample
    assert members["obs"] is not first_arrays["obs"]
    assert ring.sample_members(16)["obs"] is members["obs"]
    assert ring.sample(16, fidelities=[1])["obs"] is first_arrays["obs"]


def _twin_rings(rh, seed=8):
    rings = []
    for _ in range(2):
        ring = rh.new_ring(capacity=80, num_members=3, seed=seed)
        rh.add_ids(ring, np.arange(120), mask=None)
        rings.append(ring)
    return rings


@pytest.mark.parametrize("members", [False, True])
def test_out_numpy_arrays(rh, members):
    ring, twin = _twin_rings(rh)
    out = ring.empty_batch(32, members=members)
    assert set(out) == set(rh.FIELDS)
    pointers = {key: out[key].ctypes.data for key in rh.FIELDS}
    sample = ring.sample_members if members else ring.sample
    twin_sample = twin.sample_members if members else twin.sample
    for fidelities in (None, [0, 1], None):
        result = sample(32, fidelities=fidelities, out=out)
        assert result is out
        assert {key: out[key].ctypes.data for key in rh.FIELDS} == pointers
        rh.assert_batches_equal(out, twin_sample(32, fidelities=fidelities))
        rh.check_rows(out, num_members=3, masks_from_ids=False)


@pytest.mark.parametrize("members", [False, True])
def test_out_torch_tensors(rh, members):
    torch = pytest.importorskip("torch")
    ring, twin = _twin_rings(rh)
    out = torch_batch(ring, 64, members=members, pin_memory=False)
    expected_dtypes = {key: torch.float32 for key in rh.FIELDS}
    expected_dtypes.update(fidelity=torch.uint8, mask=torch.bool)
    lead = (3, 64) if members else (64,)
    for key, tensor in out.items():
        assert isinstance(tensor, torch.Tensor) and tensor.device.type == "cpu"
        assert tensor.dtype == expected_dtypes[key], key
        assert tuple(tensor.shape[: len(lead)]) == lead
    pointers = {key: out[key].data_ptr() for key in rh.FIELDS}
    sample = ring.sample_members if members else ring.sample
    twin_sample = twin.sample_members if members else twin.sample
    for _ in range(3):
        result = sample(64, out=out)
        assert result is out
        assert {key: out[key].data_ptr() for key in rh.FIELDS} == pointers
        expected = twin_sample(64)
        for key in rh.FIELDS:
            np.testing.assert_array_equal(out[key].numpy(), expected[key], err_msg=key)


def test_torch_batch_default_pinning_on_cpu(rh):
    torch = pytest.importorskip("torch")
    ring, _ = _twin_rings(rh)
    out = torch_batch(ring, 8)
    if not torch.cuda.is_available():
        assert not any(t.is_pinned() for t in out.values())
    ring.sample(8, out=out)
    rh.check_rows({k: v.numpy() for k, v in out.items()}, num_members=3, masks_from_ids=False)


def _bad_outs(ring, size):
    def with_(key, value):
        out = ring.empty_batch(size)
        out[key] = value
        return out

    def without(key):
        out = ring.empty_batch(size)
        del out[key]
        return out

    readonly = ring.empty_batch(size)
    readonly["reward"].flags.writeable = False
    od, ad, members = ring.obs_dim, ring.act_dim, ring.num_members
    return [
        (TypeError, with_("obs", np.zeros((size, od), np.float64))),
        (TypeError, with_("fidelity", np.zeros(size, np.int64))),
        (TypeError, with_("mask", np.zeros((size, members), np.uint8))),
        (TypeError, with_("reward", [0.0] * size)),
        (ValueError, with_("obs", np.zeros((size + 1, od), np.float32))),
        (ValueError, with_("action", np.zeros((size, ad + 1), np.float32))),
        (ValueError, with_("reward", np.zeros((size, 1), np.float32))),
        (ValueError, with_("mask", np.zeros((size, members + 1), bool))),
        (ValueError, with_("obs", np.zeros((od, size), np.float32).T)),  # Fortran order
        (ValueError, with_("reward", np.zeros(2 * size, np.float32)[::2])),  # strided
        (ValueError, without("next_obs")),
        (ValueError, without("mask")),
        (ValueError, readonly),
    ]


def test_bad_out_raises_and_draws_nothing(rh):
    ring, twin = _twin_rings(rh)
    for error, out in _bad_outs(ring, 12):
        with pytest.raises(error):
            ring.sample(12, out=out)
    with pytest.raises(ValueError):
        ring.sample_members(12, out=ring.empty_batch(12))  # a plain batch for members
    with pytest.raises(ValueError):
        ring.sample(12, out=ring.empty_batch(12, members=True))
    # Rejected destinations consume no draws: the ring still matches its twin.
    rh.assert_batches_equal(ring.sample(12), twin.sample(12))
    rh.assert_batches_equal(ring.sample_members(5), twin.sample_members(5))


def test_bad_torch_out_raises(rh):
    torch = pytest.importorskip("torch")
    ring, _ = _twin_rings(rh)
    cases = []
    out = torch_batch(ring, 8, pin_memory=False)
    out["obs"] = out["obs"].double()
    cases.append((TypeError, out))
    out = torch_batch(ring, 8, pin_memory=False)
    out["obs"] = torch.zeros(ring.obs_dim, 8).t()  # non-contiguous
    cases.append((ValueError, out))
    out = torch_batch(ring, 8, pin_memory=False)
    out["mask"] = out["mask"].to(torch.uint8)
    cases.append((TypeError, out))
    out = torch_batch(ring, 8, pin_memory=False)
    out["action"] = torch.zeros(8, ring.act_dim + 1)
    cases.append((ValueError, out))
    out = torch_batch(ring, 8, pin_memory=False)
    del out["truncated"]
    cases.append((ValueError, out))
    for error, bad in cases:
        with pytest.raises(error):
            ring.sample(8, out=bad)


def test_empty_batch_shapes(rh):
    ring = rh.new_ring(capacity=5, obs_dim=7, act_dim=2, num_members=4)
    plain = ring.empty_batch(3)
    members = ring.empty_batch(3, members=True)
    assert plain["obs"].shape == (3, 7) and members["obs"].shape == (4, 3, 7)
    assert plain["action"].shape == (3, 2) and members["action"].shape == (4, 3, 2)
    assert plain["mask"].shape == (3, 4) and members["mask"].shape == (4, 3, 4)
    assert plain["fidelity"].dtype == np.uint8 and plain["mask"].dtype == np.bool_
    assert members["reward"].shape == (4, 3) and members["reward"].dtype == np.float32


@pytest.mark.parametrize("members, threads, n", [(False, 1, 32), (True, 1, 32), (True, 2, 600)])
def test_out_index_holds_the_drawn_slots(rh, members, threads, n):
    # Never overwritten, slot i holds the i-th added transition (id i).
    ring = rh.new_ring(capacity=700, num_members=3, seed=5, num_threads=threads)
    rh.add_ids(ring, np.arange(700))
    out = ring.empty_batch(n, members=members, index=True)
    assert out["index"].dtype == np.int64 and out["index"].shape == out["reward"].shape
    (ring.sample_members if members else ring.sample)(n, out=out)
    np.testing.assert_array_equal(out["index"], rh.batch_ids(out))
    twin = rh.new_ring(capacity=700, num_members=3, seed=5, num_threads=threads)
    rh.add_ids(twin, np.arange(700))  # asking for the index changes nothing else drawn
    rh.assert_batches_equal(out, (twin.sample_members if members else twin.sample)(n))
    assert "index" not in ring.sample(n)  # the reused batches carry none


def test_out_index_must_be_int64(rh):
    ring = rh.new_ring(capacity=20)
    rh.add_ids(ring, np.arange(20))
    out = ring.empty_batch(4, index=True)
    out["index"] = out["index"].astype(np.int32)
    with pytest.raises(TypeError, match="index"):
        ring.sample(4, out=out)
