"""Ensemble CQL(H) (Kumar et al. 2020), the offline phase of MF-HRL-IGM (docs/algorithm.md)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
from torch import nn

from . import losses
from .base import EnsembleLearner
from .config import CQLConfig
from .loss_types import CriticLoss, LossBatch
from .nets import tanh_gaussian


class EnsembleCQL(EnsembleLearner):
    """L CQL(H) learners (importance-sampled, Kumar et al. 2020) as one ensemble.

    Each member's critic minimises :func:`~.losses.cql_critic_loss` over its own
    bootstrap row of ``ReplayRing.sample_members``; with ``config.lagrange`` the
    conservative weight alpha_cql * alpha' is tuned per member by
    :func:`~.losses.cql_lagrange_loss`. Actor and temperature: SAC's. With
    ``config.calibrated`` (Cal-QL) the batch also holds ``return_to_go`` (L, B) or (B,),
    the behaviour policy's Monte-Carlo value of each ``obs``
    (``OfflineDataset.returns_to_go``), which :func:`~.losses.calibrated_q` uses.
    """

    config_class = CQLConfig

    def _build_nets(self) -> nn.ModuleDict:
        nets = super()._build_nets()
        if self.config.lagrange:
            value = math.log(self.config.alpha_prime_init)
            nets.register_parameter(
                "log_alpha_prime", nn.Parameter(torch.full((self.num_members,), value)))
        return nets

    def _param_groups(self) -> list[dict[str, Any]]:
        groups = super()._param_groups()
        if self.config.lagrange:  # CORL: the multiplier's Adam uses qf_lr
            groups.append({"params": [self.nets.log_alpha_prime], "lr": self.config.critic_lr})
        return groups

    def _noise_shapes(self, data: LossBatch) -> dict[str, tuple[int, ...]]:
        shapes = super()._noise_shapes(data)
        shapes["cql"] = (data.obs.shape[1], 3 * self.config.n_actions, self.act_dim)
        return shapes

    def _prepare(self, batches: tuple[Any, ...], gens: list[torch.Generator]) -> LossBatch:
        data = super()._prepare(batches, gens)
        if not self.config.calibrated:
            return data
        (reference,) = self._member_batch(batches[0], "batch", keys=("return_to_go",)).values()
        return dataclasses.replace(data, return_to_go=reference)

    def _critic_loss(self, data: LossBatch, noise: dict[str, torch.Tensor],
                     target: torch.Tensor, policy: dict[str, torch.Tensor]) -> CriticLoss:
        c = self.config
        q, log_mu = sampled_action_q(self, data.obs, data.action, policy, noise["cql"])
        if c.calibrated:  # Cal-QL: after the data action and the n uniform ones
            q = losses.calibrated_q(q, data.return_to_go, 1 + c.n_actions)
        weight: Any = c.alpha_cql
        if c.lagrange:
            weight = c.alpha_cql * self.nets.log_alpha_prime.exp().clamp(0.0, 1e6).detach()
        loss, metrics = losses.cql_critic_loss(q[..., 0], target, q[..., 1:], log_mu, weight)
        extra: Any = 0.0
        if c.lagrange:
            lagrange, m = losses.cql_lagrange_loss(
                self.nets.log_alpha_prime, metrics["cql_diff"], c.alpha_cql, c.target_action_gap)
            extra, metrics = lagrange.sum(), metrics | m
        return CriticLoss(loss, extra, metrics)


def sampled_action_q(learner: EnsembleLearner, obs: torch.Tensor, action: torch.Tensor,
                     policy: dict[str, torch.Tensor], z: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """CQL(H)'s critic evaluations: Q at the data action and at n uniform, n
    pi(.|s) and n pi(.|s') actions, with the sampled actions' log densities log mu.

    ``obs``/``action`` (L, N, .); ``policy`` the detached pre-tanh Gaussians at these states
    (``mean``, ``log_std``) and at their next states (``next_mean``, ``next_log_std``), (L, N, A);
    ``z`` (L, N, 3n, A) standard normal noise of the members. Returns Q (2, L, N, 1 + 3n),
    the data action first, and log mu (L, N, 3n).
    """
    L, batch, n = learner.num_members, obs.shape[1], z.shape[2] // 3
    uniform = 2.0 * torch.special.ndtr(z[:, :, :n]) - 1.0  # U(-1, 1) from the member's normals
    a_pi, log_pi = tanh_gaussian(policy["mean"][:, :, None], policy["log_std"][:, :, None],
                                 z[:, :, n:2 * n])
    a_next, log_next = tanh_gaussian(policy["next_mean"][:, :, None],
                                     policy["next_log_std"][:, :, None], z[:, :, 2 * n:])
    actions = torch.cat([action[:, :, None], uniform, a_pi, a_next], dim=2)
    rows = obs[:, :, None].expand(-1, -1, 1 + 3 * n, -1)
    q = learner._q("critic", rows.reshape(L, -1, learner.obs_dim),
                   actions.reshape(L, -1, learner.act_dim)).view(2, L, batch, 1 + 3 * n)
    log_uniform = torch.full_like(log_pi, losses.uniform_log_density(learner.act_dim))
    return q, torch.cat([log_uniform, log_pi, log_next], dim=-1)
