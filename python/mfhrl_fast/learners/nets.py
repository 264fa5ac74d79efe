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

from . import fused

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
        return self._layers(x, 0, detach_weights=detach_weights, members=members)

    def first_layer(self, x: torch.Tensor) -> torch.Tensor:
        """The first layer's pre-activation x @ W_0 + b_0 (M, N, hidden[0]) of x (M, N, in)."""
        return torch.baddbmm(self.biases[0], x, self.weights[0])

    def after_first(self, h: torch.Tensor) -> torch.Tensor:
        """The network's output from its first layer's pre-activation h (M, N, hidden[0]),
        :meth:`first_layer`'s: callers that know it more cheaply than from the full input
        (the discriminators' gap, whose inputs differ only in s') start here."""
        if len(self.weights) < 2:
            raise ValueError("after_first needs a network with a hidden layer")
        return self._layers(h, 1)

    def _weights(self, detach_weights: bool, members: slice | None
                 ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        weights, biases = list(self.weights), list(self.biases)
        if members is not None:
            weights = [w[members] for w in weights]
            biases = [b[members] for b in biases]
        if detach_weights:
            weights = [w.detach() for w in weights]
            biases = [b.detach() for b in biases]
        return weights, biases

    def _layers(self, x: torch.Tensor, start: int, *, detach_weights: bool = False,
                members: slice | None = None) -> torch.Tensor:
        """Layers ``start``.. on x: the input (start 0) or layer start-1's pre-activation."""
        weights, biases = self._weights(detach_weights, members)
        last = len(weights) - 1
        if start > 0:  # not in place: x is the caller's
            x = self._activate(x, start - 1, members, detach_weights, in_place=False)
        if self.compute_dtype != torch.float32:
            return self._forward_low(x, weights, biases, start, members, detach_weights)
        for k in range(start, last):
            if self.layer_norm:  # the fused LayerNorm adds the bias
                x = self._activate(torch.bmm(x, weights[k]), k, members, detach_weights,
                                   bias=biases[k])
            else:  # in place is safe under autograd: baddbmm's backward does not need its output
                x = self._activate(torch.baddbmm(biases[k], x, weights[k]), k, members,
                                   detach_weights)
        return self._bound(fused.narrow_linear(x, weights[last], biases[last]))

    def _activate(self, x: torch.Tensor, k: int, members: slice | None,
                  detach_weights: bool, in_place: bool = True,
                  bias: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden layer k's activation of its pre-activation x (+ ``bias``, given only under
        ``layer_norm``): ReLU, after a LayerNorm with per-member scale and shift under
        ``layer_norm`` (:func:`.fused.layer_norm_relu`)."""
        if not self.layer_norm:
            return x.relu_() if in_place else x.relu()
        scale, shift = self.norm_scales[k], self.norm_shifts[k]
        if members is not None:
            scale, shift = scale[members], shift[members]
        if detach_weights:
            scale, shift = scale.detach(), shift.detach()
        return fused.layer_norm_relu(x, scale, shift, bias)

    def _forward_low(self, x: torch.Tensor, weights: list[torch.Tensor],
                     biases: list[torch.Tensor], start: int, members: slice | None,
                     detach_weights: bool) -> torch.Tensor:
        """Layers ``start``.. in ``compute_dtype``: input and weights cast down (autograd
        carries the gradients back to the float32 weights), the output cast back to float32."""
        dtype, last = self.compute_dtype, len(weights) - 1
        x = x.to(dtype)
        for k in range(start, last + 1):
            x = torch.bmm(x, weights[k].to(dtype)).add_(biases[k].to(dtype))
            if k < last:
                x = self._activate(x, k, members, detach_weights)
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
