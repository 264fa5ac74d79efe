"""Ensemble networks: M independent MLPs evaluated together (docs/algorithm.md, "Building blocks").

Weights are shaped (M, in, out) and biases (M, 1, out), so one
``torch.baddbmm`` per layer evaluates every member on its own batch. The twin
critics of L members are one ``EnsembleMLP`` of M = 2L heads, laid out
(twin, member): head ``q * L + l`` is twin q of member l.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

LOG_2 = math.log(2.0)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class EnsembleMLP(nn.Module):
    """M MLPs with ReLU hidden layers: input (M, N, in) -> output (M, N, out).

    ``output_bound`` > 0 makes the output ``output_bound * tanh(.)`` (the discriminators'
    bounded logits). Weights start at zero; :meth:`init_member` fills one member
    from a generator, so each member's initial weights depend only on its own seed.
    """

    def __init__(
        self, members: int, in_dim: int, hidden: Sequence[int], out_dim: int, *,
        output_bound: float = 0.0, layer_norm: bool = False,
    ) -> None:
        super().__init__()
        if members < 1:
            raise ValueError(f"members must be >= 1, got {members}")
        sizes = [in_dim, *hidden, out_dim]
        self.members = members
        self.in_dim, self.out_dim = in_dim, out_dim
        self.output_bound = output_bound
        self.compute_dtype = torch.float32
        """Dtype of the matrix products (:mod:`.precision`); weights stay float32."""
        self.weights = nn.ParameterList(
            nn.Parameter(torch.zeros(members, i, o))
            for i, o in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.zeros(members, 1, o)) for o in sizes[1:]
        )
        self.layer_norm = layer_norm
        """Normalise every hidden layer's pre-activations over its units (per member
        scale ``norm_scales`` and shift ``norm_shifts``, starting at 1 and 0)."""
        if layer_norm:
            self.norm_scales = nn.ParameterList(
                nn.Parameter(torch.ones(members, 1, h)) for h in hidden)
            self.norm_shifts = nn.ParameterList(
                nn.Parameter(torch.zeros(members, 1, h)) for h in hidden)

    @torch.no_grad()
    def init_member(
        self, m: int, generator: torch.Generator, *, orthogonal: bool = True,
        last_gain: float = 1e-2,
    ) -> None:
        """CORL's ``init_module_weights``: orthogonal hidden layers (gain sqrt 2, bias 0)
        and a last layer with gain ``last_gain``; ``orthogonal=False`` uses PyTorch's
        nn.Linear default (Kaiming-uniform) for the hidden layers instead."""
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            # Initialise a CPU (out, in) matrix as nn.Linear does, then store it transposed.
            block = torch.empty(w.shape[2], w.shape[1])
            if orthogonal or k == last:
                nn.init.orthogonal_(block, gain=last_gain if k == last else math.sqrt(2.0),
                                    generator=generator)
                b[m].zero_()
            else:
                bound = 1.0 / math.sqrt(w.shape[1])
                nn.init.kaiming_uniform_(block, a=math.sqrt(5.0), generator=generator)
                b[m].copy_(torch.empty(b.shape[2]).uniform_(-bound, bound, generator=generator))
            w[m].copy_(block.T)

    def forward(self, x: torch.Tensor, *, detach_weights: bool = False,
                members: slice | None = None) -> torch.Tensor:
        """x (M, N, in) -> (M, N, out). ``detach_weights`` blocks gradients to the weights
        (gradients still reach x); ``members`` evaluates a slice of the members."""
        weights, biases = list(self.weights), list(self.biases)
        if members is not None:
            weights = [w[members] for w in weights]
            biases = [b[members] for b in biases]
        if detach_weights:
            weights = [w.detach() for w in weights]
            biases = [b.detach() for b in biases]
        last = len(weights) - 1
        if self.compute_dtype != torch.float32:
            return self._forward_low(x, weights, biases, members, detach_weights)
        for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
            # In place is safe under autograd: baddbmm's backward does not need its output.
            x = torch.baddbmm(b, x, w)
            if k < last:
                x = self._normalise(x, k, members, detach_weights).relu_()
        return self._bound(x)

    def _normalise(self, x: torch.Tensor, k: int, members: slice | None,
                   detach_weights: bool) -> torch.Tensor:
        """Hidden layer k's LayerNorm (identity without ``layer_norm``)."""
        if not self.layer_norm:
            return x
        scale, shift = self.norm_scales[k], self.norm_shifts[k]
        if members is not None:
            scale, shift = scale[members], shift[members]
        if detach_weights:
            scale, shift = scale.detach(), shift.detach()
        x = nn.functional.layer_norm(x, x.shape[-1:])
        return torch.addcmul(shift.to(x.dtype), x, scale.to(x.dtype))

    def _forward_low(self, x: torch.Tensor, weights: list[torch.Tensor],
                     biases: list[torch.Tensor], members: slice | None,
                     detach_weights: bool) -> torch.Tensor:
        """The forward in ``compute_dtype``: input and weights cast down (autograd carries the
        gradients back to the float32 weights), the output cast back to float32."""
        dtype, last = self.compute_dtype, len(weights) - 1
        x = x.to(dtype)
        for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
            x = torch.bmm(x, w.to(dtype)).add_(b.to(dtype))
            if k < last:
                x = self._normalise(x, k, members, detach_weights).relu_()
        return self._bound(x.float())

    def _bound(self, x: torch.Tensor) -> torch.Tensor:
        if self.output_bound > 0:
            x = self.output_bound * x.tanh_()
        return x


def twin_input(x: torch.Tensor) -> torch.Tensor:
    """(L, N, d) -> (2L, N, d): each member's rows for both of its twin critic heads."""
    return x.repeat(2, 1, 1)


def tanh_gaussian(
    mean: torch.Tensor, log_std: torch.Tensor, eps: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reparameterised tanh-Gaussian sample a = tanh(mean + std * eps) and its log density.

    log pi(a|s) = sum_i [log N(u_i; mean_i, std_i) - log(1 - tanh(u_i)^2)], with the stable
    form log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)) (SAC's tanh-Gaussian actor).
    ``mean``/``log_std`` (..., A) broadcast against ``eps`` (..., A).
    """
    u = mean + log_std.exp() * eps
    log_normal = -0.5 * eps.square() - log_std - HALF_LOG_2PI
    log_jacobian = 2.0 * (LOG_2 - u - nn.functional.softplus(-2.0 * u))
    return torch.tanh(u), (log_normal - log_jacobian).sum(-1)
