"""Seeds and random streams.

Each ensemble member owns its generators, derived from its own integer seed, so
an ensemble of L members with seeds s_1..s_L computes what L single-member
learners seeded s_1..s_L compute.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence

import numpy as np
import torch

STREAMS = ("train", "act", "score")
"""Per-member generators: training noise, exploration noise in ``act``, ``member_losses``."""


def set_seed(seed: int, deterministic_torch: bool = False) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and CUDA).

    ``deterministic_torch`` also calls ``torch.use_deterministic_algorithms`` (and sets
    the cuBLAS workspace variable it needs). Simulators are seeded by their own
    ``seed`` argument (``SimPool(seed=...)``) and learners by theirs.
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic_torch:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(deterministic_torch)


def member_seeds(seed: int, members: int) -> list[int]:
    """Independent 32-bit seeds of ``members`` members derived from one seed (SeedSequence)."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    children = np.random.SeedSequence(seed).spawn(members)
    return [int(child.generate_state(1, np.uint32)[0]) for child in children]


def member_generators(
    seeds: Sequence[int], device: torch.device
) -> tuple[list[torch.Generator], dict[str, list[torch.Generator]]]:
    """For each member seed: a CPU generator for the initial weights and one generator on
    ``device`` per stream of :data:`STREAMS`."""
    init, streams = [], {name: [] for name in STREAMS}
    for seed in seeds:
        state = np.random.SeedSequence(int(seed)).generate_state(1 + len(STREAMS), np.uint64)
        init.append(torch.Generator().manual_seed(int(state[0])))
        for name, s in zip(STREAMS, state[1:], strict=True):
            streams[name].append(torch.Generator(device=device).manual_seed(int(s)))
    return init, streams


def draw_normal(
    generators: Sequence[torch.Generator], shapes: dict[str, tuple[int, ...]], device: torch.device,
) -> dict[str, torch.Tensor]:
    """Standard normal noise shaped (L, *shape) for each name; member l's rows come from
    its own generator, drawn in one call per member (names in the given order)."""
    sizes = [int(np.prod(shape)) for shape in shapes.values()]
    flat = torch.empty(len(generators), sum(sizes), device=device)
    for row, gen in zip(flat, generators, strict=True):
        torch.randn(row.shape, generator=gen, device=device, out=row)
    out, start = {}, 0
    for (name, shape), size in zip(shapes.items(), sizes, strict=True):
        out[name] = flat[:, start:start + size].view(len(generators), *shape)
        start += size
    return out
