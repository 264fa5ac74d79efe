"""Replay of transitions with fidelity ids and bootstrap masks (the offline phase's D_l).

The storage and sampling are the C++ ``ReplayRing``; this module gives it a
keyword API and lets PyTorch CPU tensors (pinned or not) be sampling
destinations without a copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _core

FIELDS = ("obs", "action", "reward", "next_obs", "terminated", "truncated", "fidelity", "mask")


def _as_arrays(out: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Zero-copy NumPy views of ``out``'s arrays or CPU tensors (``index`` if it has one)."""
    views = {}
    for key in (*FIELDS, "index") if "index" in out else FIELDS:
        if key not in out:
            raise ValueError(f"out is missing '{key}'")
        value = out[key]
        if not isinstance(value, np.ndarray):
            if getattr(value, "device", None) is not None and str(value.device) != "cpu":
                raise TypeError(f"out['{key}'] must live on the CPU, not {value.device}")
            value = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        views[key] = value
    return views


class ReplayRing:
    """Fixed-capacity FIFO replay: float32 struct-of-arrays, fidelity id and L-bit mask.

    Each added transition gets a bootstrap mask of ``num_members`` i.i.d.
    Bernoulli(``mask_prob``) bits drawn from the ring's own generator (seeded
    with ``seed``), unless ``mask`` is given. ``num_threads`` > 1 copies large
    samples (512 rows or more) on several threads; draws stay serial, so
    samples do not depend on it. ``sample`` draws uniformly from
    the stored transitions; ``sample_members`` draws, for each member l, from
    the transitions whose bit l is set. Both can be restricted to a set of
    fidelity ids.

    Sampling writes into arrays the ring reuses between calls of the same
    batch size (copy a batch you want to keep), or into ``out``: a mapping of
    NumPy arrays or PyTorch CPU tensors (see :meth:`empty_batch`, :func:`torch_batch`).
    An ``out`` that also holds ``index`` (int64, shaped as ``reward``) receives the slot
    of every drawn row: the row's position in insertion order while the ring has never
    overwritten, which is how values kept beside the ring (e.g. a dataset's returns-to-go)
    are looked up for a sample.
    """

    def __init__(
        self,
        *,
        capacity: int,
        obs_dim: int,
        act_dim: int,
        num_members: int = 1,
        mask_prob: float = 0.5,
        seed: int = 0,
        num_threads: int = 1,
        _core_ring: _core.ReplayRing | None = None,
    ) -> None:
        if _core_ring is None:
            _core_ring = _core.ReplayRing(
                capacity=capacity,
                obs_dim=obs_dim,
                act_dim=act_dim,
                num_members=num_members,
                mask_prob=mask_prob,
                seed=seed,
                num_threads=num_threads,
            )
        self._ring = _core_ring

    capacity = property(lambda self: self._ring.capacity)
    obs_dim = property(lambda self: self._ring.obs_dim)
    act_dim = property(lambda self: self._ring.act_dim)
    num_members = property(lambda self: self._ring.num_members)
    mask_prob = property(lambda self: self._ring.mask_prob)
    num_threads = property(lambda self: self._ring.num_threads)
    total_added = property(lambda self: self._ring.total_added, doc="Transitions ever added.")

    def __len__(self) -> int:
        return len(self._ring)

    def __repr__(self) -> str:
        return (
            f"ReplayRing(size={len(self)}, capacity={self.capacity}, obs_dim={self.obs_dim}, "
            f"act_dim={self.act_dim}, num_members={self.num_members})"
        )

    def add(
        self,
        *,
        obs: npt.ArrayLike,
        action: npt.ArrayLike,
        reward: npt.ArrayLike,
        next_obs: npt.ArrayLike,
        terminated: npt.ArrayLike,
        truncated: npt.ArrayLike,
        fidelity: npt.ArrayLike | int = 0,
        mask: npt.ArrayLike | None = None,
    ) -> None:
        """Append a batch of n transitions (FIFO-overwriting the oldest when full).

        ``fidelity`` is an int or n ids in [0, 256); ``mask`` is (n, num_members)
        booleans or n uint64 bit masks, or None to draw Bernoulli(mask_prob) bits.
        """
        n = np.shape(obs)[0] if np.ndim(obs) else 0
        if np.ndim(fidelity) == 0:
            if not isinstance(fidelity, int | np.integer) or isinstance(fidelity, bool):
                raise TypeError(f"fidelity must be an int or an array of ints, got {fidelity!r}")
            fidelity = np.full(n, fidelity, dtype=np.int64)
        self._ring.add(
            obs=obs,
            action=action,
            reward=reward,
            next_obs=next_obs,
            terminated=terminated,
            truncated=truncated,
            fidelity=fidelity,
            mask=mask,
        )

    def sample(
        self,
        batch_size: int,
        *,
        fidelities: Iterable[int] | None = None,
        out: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        """Uniform sample: arrays ``obs`` (B, obs_dim), ``action``, ``reward`` (B,), ...,
        ``fidelity`` (B,) uint8, ``mask`` (B, num_members) bool."""
        if out is None:
            return self._ring.sample(batch_size, fidelities=fidelities)
        self._ring.sample(batch_size, fidelities=fidelities, out=_as_arrays(out))
        return out

    def sample_members(
        self,
        batch_size: int,
        *,
        fidelities: Iterable[int] | None = None,
        out: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        """Per-member sample: the keys of :meth:`sample` with a leading ``num_members``
        dimension; row l holds draws from the transitions whose mask bit l is set."""
        if out is None:
            return self._ring.sample_members(batch_size, fidelities=fidelities)
        self._ring.sample_members(batch_size, fidelities=fidelities, out=_as_arrays(out))
        return out

    def rows(self, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
        """Fresh arrays of the stored transitions in slots [start, stop) (``stop`` None: all),
        keys as :meth:`sample` plus ``index``, their slots: the table a value computed once
        per stored transition is built from and looked up in by a sample's ``index``."""
        return self._ring.rows(start, stop)

    def reseed(self, seed: int) -> None:
        """Restart the generator of bootstrap masks and draws with ``seed``; the stored
        transitions stay. What the ring does next then depends only on its contents and
        ``seed`` (e.g. one seed per round, so a resumed run samples as an unbroken one)."""
        if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self._ring.reseed(int(seed))

    def member_count(self, member: int, *, fidelities: Iterable[int] | None = None) -> int:
        """Stored transitions with mask bit ``member`` set (of the given fidelities)."""
        return self._ring.member_count(member, fidelities)

    def empty_batch(self, batch_size: int, *, members: bool = False,
                    index: bool = False) -> dict[str, np.ndarray]:
        """Fresh NumPy arrays shaped for ``sample`` (or ``sample_members``) ``out=``; with
        ``index``, also the int64 ``index`` of the drawn slots."""
        return self._ring.empty_batch(batch_size, members=members, index=index)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically (temp file + rename); sampling resumes exactly after load."""
        self._ring.save(os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, num_threads: int = 1) -> ReplayRing:
        """Read a saved ring; RuntimeError names the problem of a corrupt or truncated file."""
        ring = _core.ReplayRing.load(os.fspath(path), num_threads=num_threads)
        return cls(capacity=0, obs_dim=0, act_dim=0, _core_ring=ring)


def torch_batch(
    ring: ReplayRing, batch_size: int, *, members: bool = False, pin_memory: bool | None = None
) -> dict[str, Any]:
    """PyTorch CPU tensors shaped as a sample, for ``out=``; pinned when CUDA is present
    (``pin_memory=None``), so a later ``.to("cuda", non_blocking=True)`` is asynchronous."""
    import torch

    if pin_memory is None:
        pin_memory = torch.cuda.is_available()
    return {
        key: torch.from_numpy(array).pin_memory() if pin_memory else torch.from_numpy(array)
        for key, array in ring.empty_batch(batch_size, members=members).items()
    }
