"""Matmul precision of the learners: float32, or bfloat16 matmuls with float32 master weights.

``"fp32"`` computes everything in float32 (bit-identical to the package before the option
existed). ``"bf16"`` runs the networks' matrix products in bfloat16: each layer casts its
input and its float32 weights to bfloat16, multiplies (float32 accumulation inside the
kernel), and the network's output is cast back to float32, so the log-probabilities,
log-sum-exps, losses, Adam and the discriminators' log-ratios stay in float32 and the
parameters, their gradients and the optimizer state are float32. ``"auto"`` is bf16 where
the device multiplies bf16 fast, fp32 elsewhere; it is detected, not guessed:
:func:`bf16_is_fast`.
"""

from __future__ import annotations

import torch

PRECISIONS = ("fp32", "bf16", "auto")


def bf16_is_fast(device: str | torch.device) -> bool:
    """True on a CUDA device with bf16 support, and on a CPU with AMX tiles or AVX512-BF16
    (where oneDNN's bf16 GEMMs beat float32); False elsewhere. Without either, PyTorch's bf16
    CPU matmul is an emulation ~50x slower than float32 (measured on an AVX2 EPYC: 2 GFLOP/s
    against 90 for a (3328 x 64) @ (64 x 64) batched product)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    return False


def resolve_precision(precision: str, device: str | torch.device) -> str:
    """``"fp32"`` or ``"bf16"``: the requested ``precision`` (of :data:`PRECISIONS`) on
    ``device``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "auto":
        return "bf16" if bf16_is_fast(device) else "fp32"
    return precision


def compute_dtype(precision: str) -> torch.dtype:
    """The matmul dtype of a resolved precision."""
    return torch.bfloat16 if precision == "bf16" else torch.float32
