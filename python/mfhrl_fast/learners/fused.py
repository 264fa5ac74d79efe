"""Fused CPU kernels of the ensemble networks, with PyTorch's ops as the reference.

:func:`layer_norm_relu` is a LayerNorm critic's hidden-layer tail, relu(scale *
layer_norm(x + bias) + shift) per member, with the layer's bias folded in. On float32 CPU
tensors it runs the C++ kernel ``_core.nn`` (one pass over each row, forward and backward;
README, "Learner speed"); on any other device or dtype, or inside ``torch.compile``, the
same math in PyTorch ops. :func:`narrow_linear` is an ensemble layer with one output (the
critics' Q), as row dot products: MKL's batched matrix product takes a slow path for such
a thin output (measured at (10, 256, 64) -> 1: 2.6x slower forward, 2.5x slower input
gradient; with two outputs the row products were slower than it, so they keep it).
:func:`disabled` switches both off, for parity tests and benchmarks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from .. import _core

EPS = 1e-5
"""LayerNorm's epsilon (torch.nn.functional.layer_norm's default)."""

_enabled = True


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Within the block, every fused op runs its PyTorch reference instead."""
    global _enabled
    previous, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = previous


def layer_norm_relu(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor,
                    bias: torch.Tensor | None = None) -> torch.Tensor:
    """relu(scale * layer_norm(x + bias) + shift) for x (M, N, D) and per-member bias
    (None: 0), scale and shift (M, 1, D); LayerNorm over the last dim without its own
    affine, eps :data:`EPS`."""
    params = (scale, shift) if bias is None else (scale, shift, bias)
    if _use_kernel(x, *params):
        return _LayerNormReLU.apply(x, scale, shift, bias)
    return reference_layer_norm_relu(x, scale, shift, bias)


def reference_layer_norm_relu(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor,
                              bias: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`layer_norm_relu` in PyTorch ops (any device and dtype)."""
    if bias is not None:
        x = x + bias.to(x.dtype)
    x = nn.functional.layer_norm(x, x.shape[-1:], eps=EPS)
    return torch.addcmul(shift.to(x.dtype), x, scale.to(x.dtype)).relu_()


def narrow_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x (M, N, K) @ weight (M, K, O) + bias (M, 1, O), as ``torch.baddbmm``; for one
    output (O = 1) on the CPU, a row dot product (and its gradients) instead."""
    if (_enabled and weight.shape[-1] == 1 and x.device.type == "cpu"
            and not torch.compiler.is_compiling()):
        return _NarrowLinear.apply(x, weight, bias)
    return torch.baddbmm(bias, x, weight)


def _use_kernel(*tensors: torch.Tensor) -> bool:
    return (_enabled and not torch.compiler.is_compiling()
            and all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors)
            and tensors[0].ndim == 3 and tensors[0].numel() > 0)


class _LayerNormReLU(torch.autograd.Function):
    """The C++ forward and backward (``_core.nn.layer_norm_relu_*``), writing into tensors
    allocated here; the backward recomputes the normalised input from x and the rows'
    statistics instead of keeping it."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor,
                bias: torch.Tensor | None) -> torch.Tensor:
        x = x.detach().contiguous()
        members, rows, dim = x.shape
        scale, shift = _vector(scale, members, dim), _vector(shift, members, dim)
        bias = None if bias is None else _vector(bias, members, dim)
        y = torch.empty_like(x)
        mean, rstd = x.new_empty(members, rows), x.new_empty(members, rows)
        _core.nn.layer_norm_relu_forward(
            x.numpy(), scale.numpy(), shift.numpy(), y.numpy(), mean.numpy(), rstd.numpy(),
            bias=_numpy(bias), eps=EPS, num_threads=torch.get_num_threads())
        ctx.save_for_backward(x, scale, shift, mean, rstd, *(() if bias is None else (bias,)))
        return y

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dy: torch.Tensor):
        x, scale, shift, mean, rstd, *bias = ctx.saved_tensors
        want_x, want_scale, want_shift, want_bias = ctx.needs_input_grad
        dx = torch.empty_like(x) if want_x else None
        dbias = torch.empty_like(scale) if want_bias else None
        dscale = dshift = None
        if want_scale or want_shift:
            dscale, dshift = torch.empty_like(scale), torch.empty_like(shift)
        _core.nn.layer_norm_relu_backward(
            dy.contiguous().numpy(), x.numpy(), scale.numpy(), shift.numpy(), mean.numpy(),
            rstd.numpy(), bias=_numpy(bias[0] if bias else None), dx=_numpy(dx),
            dbias=_numpy(dbias), dscale=_numpy(dscale), dshift=_numpy(dshift),
            num_threads=torch.get_num_threads())
        shape = (x.shape[0], 1, x.shape[2])
        return (dx, _shaped(dscale, shape, want_scale), _shaped(dshift, shape, want_shift),
                _shaped(dbias, shape, want_bias))


class _NarrowLinear(torch.autograd.Function):
    """y = sum_k x[..., k] w[:, k, 0] + b for a one-output layer, with the gradients as
    broadcast products and sums over the rows."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        return (x * weight.transpose(1, 2)).sum(-1, keepdim=True).add_(bias)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dy: torch.Tensor):
        x, weight = ctx.saved_tensors
        want_x, want_weight, want_bias = ctx.needs_input_grad
        dx = dy * weight.transpose(1, 2) if want_x else None
        dweight = (x * dy).sum(1).unsqueeze(-1) if want_weight else None
        dbias = dy.sum(1, keepdim=True) if want_bias else None
        return dx, dweight, dbias


def _vector(t: torch.Tensor, members: int, dim: int) -> torch.Tensor:
    """A per-member (M, 1, D) parameter as the kernel's contiguous (M, D)."""
    return t.detach().reshape(members, dim).contiguous()


def _numpy(t: torch.Tensor | None):
    return None if t is None else t.numpy()


def _shaped(grad: torch.Tensor | None, shape: tuple[int, ...], wanted: bool
            ) -> torch.Tensor | None:
    return grad.view(shape) if wanted else None


__all__ = ["EPS", "disabled", "layer_norm_relu", "narrow_linear", "reference_layer_norm_relu"]
