"""Batches in, metrics out: validation and conversion shared by the learners.

A batch is a mapping with the keys of ``ReplayRing.sample`` (``obs``, ``action``,
``reward``, ``next_obs``, ``terminated``; others are ignored unless needed)
holding NumPy arrays or PyTorch tensors, shaped (L, B, ...) as from
``ReplayRing.sample_members`` or (B, ...), which every member then shares.
CPU arrays are wrapped without a copy (and used in place on a CPU device); on CUDA
each is copied once into pinned host memory and from there to the device without
blocking the host (the ring may reuse its sample arrays as soon as the call returns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

TRANSITION_KEYS = ("obs", "action", "reward", "next_obs", "terminated")


def to_tensor(value: Any, name: str, device: torch.device) -> torch.Tensor:
    """float32 tensor on ``device`` (zero-copy for float32 CPU arrays on a CPU device)."""
    if isinstance(value, torch.Tensor):
        tensor = value
        if tensor.is_complex():
            raise TypeError(f"batch['{name}'] must be real, got dtype {tensor.dtype}")
    else:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"batch['{name}'] must be numeric, got dtype {array.dtype}")
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    tensor = tensor.to(dtype=torch.float32)
    if device.type == "cuda" and tensor.device.type == "cpu":
        # The pinned copy frees the source at once (the ring reuses its sample arrays);
        # the host-to-device copy then runs asynchronously on the current stream.
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device=device)


def _expected_tail(key: str, obs_dim: int, act_dim: int) -> tuple[int, ...]:
    return {"obs": (obs_dim,), "next_obs": (obs_dim,), "action": (act_dim,)}.get(key, ())


def member_batch(
    batch: Mapping[str, Any], *, members: int, obs_dim: int, act_dim: int,
    device: torch.device, keys: tuple[str, ...] = TRANSITION_KEYS, name: str = "batch",
) -> dict[str, torch.Tensor]:
    """The transition keys as float32 tensors shaped (members, B, ...) on ``device``.

    A batch without the member dimension is shared by every member (expanded,
    not copied). Raises KeyError for a missing key, TypeError for a non-numeric
    or non-mapping batch and ValueError for inconsistent shapes.
    """
    if not isinstance(batch, Mapping):
        raise TypeError(f"{name} must be a mapping of arrays, got {type(batch).__name__}")
    out: dict[str, torch.Tensor] = {}
    size = None
    for key in keys:
        if key not in batch:
            raise KeyError(f"{name} is missing '{key}' (has {sorted(batch)})")
        tensor = to_tensor(batch[key], key, device)
        tail = _expected_tail(key, obs_dim, act_dim)
        shape = tuple(tensor.shape)
        if shape[len(shape) - len(tail):] != tail or len(shape) - len(tail) not in (1, 2):
            raise ValueError(
                f"{name}['{key}'] must be shaped (L, B{', ' if tail else ''}"
                f"{', '.join(map(str, tail))}) or (B{', ' if tail else ''}"
                f"{', '.join(map(str, tail))}), got {shape}"
            )
        if len(shape) - len(tail) == 1:
            tensor = tensor.unsqueeze(0).expand(members, *shape)
        elif shape[0] != members:
            raise ValueError(f"{name}['{key}'] has {shape[0]} members, the learner {members}")
        if size is None:
            size = tensor.shape[1]
        elif tensor.shape[1] != size:
            raise ValueError(f"{name}['{key}'] has {tensor.shape[1]} transitions, not {size}")
        out[key] = tensor
    if size == 0:
        raise ValueError(f"{name} is empty")
    return out


def host_fidelity(batch: Mapping[str, Any], shape: tuple[int, ...]) -> np.ndarray | None:
    """The batch's fidelity ids as a host int array broadcast to ``shape``, or None.

    NumPy arrays and CPU tensors cost nothing; a CUDA tensor costs one copy to the host
    (pass the ids as a CPU array to avoid it).
    """
    if "fidelity" not in batch:
        return None
    value = batch["fidelity"]
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    ids = np.asarray(value)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"fidelity ids must be integers, got dtype {ids.dtype}")
    try:
        return np.broadcast_to(ids, shape)
    except ValueError:
        raise ValueError(
            f"fidelity ids shaped {ids.shape} do not match the batch {shape}") from None


def metrics_to_floats(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Host floats from metric tensors (one sync): 0-d -> ``key``; per-member (L,) ->
    ``key`` (the mean over members) and ``key/<l>`` for each member."""
    out: dict[str, float] = {}
    values = {k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in metrics.items()}
    for key, value in values.items():
        name = prefix + key
        if isinstance(value, torch.Tensor) and value.ndim > 0:
            out[name] = float(value.float().mean())
            for i, v in enumerate(value.reshape(-1).tolist()):
                out[f"{name}/{i}"] = float(v)
        else:
            out[name] = float(value)
    return out
