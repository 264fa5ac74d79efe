"""Typed inputs and outputs of the learners' losses (d3rlpy's way: a typed batch in, a
typed loss out, the optimizer step apart).

:class:`LossBatch` is what a learner's loss reads, on the device, shaped (L, N, ...) per
member; :class:`CriticLoss` is what a learner's critic term returns; :class:`LossOutput`
is what ``EnsembleLearner.compute_loss`` returns and ``train_step`` back-propagates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

Metrics = dict[str, torch.Tensor]


@dataclass(frozen=True)
class LossBatch:
    """One update's transitions, (L, N, ...) float32 tensors on the learner's device."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor
    pi_obs: torch.Tensor
    """States the actor and temperature losses use (the batch's ``obs``)."""
    ratio: torch.Tensor | None = None
    """H2O: the simulated transitions' dynamics ratio w, (L, N_sim) (real rows come first)."""
    gap: torch.Tensor | None = None
    """H2O: their dynamics gap u, (L, N_sim)."""
    log_omega: torch.Tensor | None = None
    """H2O: log of the gap weights omega over the simulated rows, (L, N_sim)."""
    actor_weight: torch.Tensor | None = None
    """Weights of the ``pi_obs`` states in the actor's loss, (L, N); None weighs them equally."""
    return_to_go: torch.Tensor | None = None
    """Cal-QL: the behaviour policy's Monte-Carlo value of ``obs``, (L, N)."""


@dataclass(frozen=True)
class CriticLoss:
    """A learner's critic term: the per-member loss, any extra scalar (e.g. CQL's Lagrange
    dual) to back-propagate with it, and its metrics."""

    per_member: torch.Tensor
    """(L,) per-member critic loss; its sum is back-propagated."""
    extra: torch.Tensor | float = 0.0
    metrics: Metrics = field(default_factory=dict)


@dataclass(frozen=True)
class LossOutput:
    """Everything one update computes before its optimizer step."""

    total: torch.Tensor
    """0-d: the loss ``train_step`` back-propagates (actor + temperature + critics)."""
    critic: torch.Tensor
    """(L,) per-member critic loss, detached (MF-HRL-IGM eq. 7's L_l(B) for H2O)."""
    metrics: Metrics
    """Detached per-member (L,) or 0-d tensors (``metrics_to_floats`` converts them)."""
    batch: LossBatch
    """The inputs the loss read."""
    noise: dict[str, torch.Tensor]
    """The standard-normal draws it used (the reparameterised and sampled actions)."""


__all__ = ["CriticLoss", "LossBatch", "LossOutput", "Metrics"]
