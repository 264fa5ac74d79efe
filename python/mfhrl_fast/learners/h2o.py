"""Ensemble H2O (MF-HRL-IGM eq. 1, H2O eqs. 6-8), the online phase of MF-HRL-IGM."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from . import losses
from .base import EnsembleLearner
from .batch import TRANSITION_KEYS, host_fidelity, to_tensor
from .config import H2OConfig, annealed
from .cql import sampled_action_q
from .discriminators import FidelityDiscriminators
from .loss_types import CriticLoss, LossBatch
from .seeding import draw_normal


class EnsembleH2O(EnsembleLearner):
    """L H2O learners as one ensemble: ``train_step(real_batch, sim_batch)``.

    ``real_batch`` comes from the offline data D, ``sim_batch`` from the simulated
    replay B (with its ``fidelity`` ids; a batch without them uses the only pair of
    ``discriminators``). Each simulated transition gets its dynamics ratio w and gap
    u from the discriminators of its own fidelity; the critic minimises
    :func:`~.losses.h2o_critic_loss`, the actor SAC's loss over the real and
    simulated states together. Default 128 real + 128 simulated per member (H2O's)
    is the caller's choice of batch sizes.
    """

    config_class = H2OConfig

    def __init__(self, obs_dim: int, act_dim: int, discriminators: FidelityDiscriminators,
                 **kwargs: Any) -> None:
        if not isinstance(discriminators, FidelityDiscriminators):
            raise TypeError("discriminators must be a FidelityDiscriminators, got "
                            f"{type(discriminators).__name__}")
        if (discriminators.obs_dim, discriminators.act_dim) != (obs_dim, act_dim):
            raise ValueError("the discriminators' obs_dim/act_dim differ from the learner's")
        self.discriminators = discriminators
        super().__init__(obs_dim, act_dim, **kwargs)
        if discriminators.device != self.device:
            raise ValueError(f"the discriminators live on {discriminators.device}, "
                             f"the learner on {self.device}")

    def _prepare(self, batches: tuple[Any, ...], gens: list[torch.Generator]) -> LossBatch:
        if len(batches) != 2:
            raise TypeError(f"EnsembleH2O takes a real and a sim batch, got {len(batches)} batches")
        real = self._member_batch(batches[0], "real_batch")
        sim = self._member_batch(batches[1], "sim_batch")
        n_sim = sim["obs"].shape[1]
        if "ratio" in batches[1] and "gap" in batches[1]:  # looked up in a DynamicsTable
            ratio, gap = (to_tensor(batches[1][k], k, self.device) for k in ("ratio", "gap"))
            if ratio.shape != gap.shape or ratio.shape != (self.num_members, n_sim):
                raise ValueError(f"sim_batch's ratio and gap must be shaped "
                                 f"{(self.num_members, n_sim)}, got {tuple(ratio.shape)} and "
                                 f"{tuple(gap.shape)}")
        else:
            shape = (n_sim, self.config.n_next_samples, self.obs_dim)
            noise = draw_normal(gens, {"s_prime": shape}, self.device)["s_prime"]
            ratio, gap = self._ratio_and_gap(sim["obs"], sim["action"], sim["next_obs"], noise,
                                             host_fidelity(batches[1], (self.num_members, n_sim)))
        data = {k: torch.cat([real[k], sim[k]], dim=1) for k in TRANSITION_KEYS}
        return LossBatch(**data, pi_obs=data["obs"], ratio=ratio, gap=gap,
                         log_omega=losses.gap_weights(gap),
                         actor_weight=self._actor_weight(real["obs"].shape[1], ratio))

    @torch.no_grad()
    def dynamics_table(self, rows: dict[str, Any], generator: torch.Generator, *,
                       chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
        """w and u (H2O eq. 7's ratio and the gap, this learner's clips) of every
        transition of ``rows`` (``obs``, ``action``, ``next_obs``, ``fidelity`` ids; N rows),
        shaped (N,) on the device, u's next-state samples drawn from ``generator``; in
        chunks of ``chunk`` rows. With the discriminators fixed, a sim batch that carries
        its rows' entries as ``ratio`` and ``gap`` trains as one whose w and u are computed
        per step, up to the draw of those samples."""
        n = len(rows["obs"])
        ratio = torch.empty(n, device=self.device)
        gap = torch.empty(n, device=self.device)
        for start in range(0, n, chunk):
            part = slice(start, min(n, start + chunk))
            s, a, s2 = (to_tensor(rows[k][part], k, self.device)
                        for k in ("obs", "action", "next_obs"))
            z = torch.randn((len(s), self.config.n_next_samples, self.obs_dim),
                            generator=generator, device=self.device)
            ratio[part], gap[part] = self._ratio_and_gap(s, a, s2, z,
                                                         np.asarray(rows["fidelity"][part]))
        return ratio, gap

    def _ratio_and_gap(self, obs: torch.Tensor, action: torch.Tensor, next_obs: torch.Tensor,
                       noise: torch.Tensor, fidelity: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """The discriminators' w and u with this learner's clips and next-state std."""
        c = self.config
        return self.discriminators.ratio_and_gap(
            obs, action, next_obs, noise, fidelity, ratio_clip=c.ratio_clip,
            gap_clip=c.gap_clip, std_ratio=c.s_prime_std_ratio)

    def _actor_weight(self, n_real: int, ratio: torch.Tensor) -> torch.Tensor | None:
        """Weights of the real and simulated states in the actor's loss
        (``config.actor_states``): None (all equal, H2O's), 0 on the simulated states
        ('real'), or their dynamics ratio w ('all-w')."""
        mode = self.config.actor_states
        if mode == "all":
            return None
        return _after_real_rows(n_real, ratio if mode == "all-w" else torch.zeros_like(ratio))

    def _noise_shapes(self, data: LossBatch) -> dict[str, tuple[int, ...]]:
        shapes = super()._noise_shapes(data)
        if self.cql_weight_now() > 0:
            shapes["cql"] = (self._cql_rows(data), 3 * self.config.cql_n_actions, self.act_dim)
        return shapes

    def _critic_loss(self, data: LossBatch, noise: dict[str, torch.Tensor],
                     target: torch.Tensor, policy: dict[str, torch.Tensor]) -> CriticLoss:
        c = self.config
        q = self._q("critic", data.obs, data.action)
        n_real = q.shape[-1] - data.ratio.shape[-1]
        loss, metrics = losses.h2o_critic_loss(
            q[..., :n_real], target[..., :n_real], q[..., n_real:], target[..., n_real:],
            data.ratio, data.log_omega, c.beta)
        metrics |= {"ratio": data.ratio.mean(-1), "gap": data.gap.mean(-1),
                    "omega_std": data.log_omega.exp().std(-1)}
        weight_now = self.cql_weight_now()
        if weight_now > 0:
            rows = self._cql_rows(data)
            part = {k: v[:, :rows] for k, v in policy.items()}
            q_c, log_mu = sampled_action_q(self, data.obs[:, :rows], data.action[:, :rows],
                                           part, noise["cql"])
            rows_weight = None
            if c.cql_states == "all-w":  # simulated rows count as much as w trusts them
                rows_weight = _after_real_rows(n_real, data.ratio)
            diff = losses.cql_penalty(q_c[..., 0], q_c[..., 1:], log_mu, rows_weight)
            loss = loss + weight_now * diff.sum(0)
            metrics |= {"critic": loss.detach(), "cql_diff": diff.detach().mean(0),
                        "cql_weight": q.new_tensor(weight_now)}
        return CriticLoss(loss, 0.0, metrics)

    def cql_weight_now(self) -> float:
        """The conservative term's weight at this update: ``cql_weight``, annealed linearly
        to 0 over ``cql_decay_steps`` updates when that is set."""
        c = self.config
        return annealed(c.cql_weight, c.cql_decay_steps, self.num_updates)

    def _cql_rows(self, data: LossBatch) -> int:
        """Rows (real first, then simulated) under the retained CQL term."""
        n_all = data.obs.shape[1]
        return n_all - data.ratio.shape[1] if self.config.cql_states == "real" else n_all

    def _before_step(self) -> None:
        """Adam steps of this update: ``lr_warmup_steps``' ramp on the actor and critics,
        and the actor and temperature held at 0 for ``actor_warmup_steps`` updates."""
        c = self.config
        ramp = min(1.0, (self.num_updates + 1) / c.lr_warmup_steps) if c.lr_warmup_steps else 1.0
        scales = [ramp, ramp, 1.0]  # the actor's, the critics' and (auto_alpha) log alpha's
        if self.num_updates < c.actor_warmup_steps:
            scales[0] = scales[2] = 0.0
        for group, base, scale in zip(self.optimizer.param_groups, self._base_lrs, scales,
                                      strict=False):
            group["lr"] = base * scale

    def _extra_state(self) -> dict[str, Any]:
        return {"discriminators": self.discriminators.state_dict()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        if "discriminators" in state:
            self.discriminators.load_state_dict(state["discriminators"])

    def _init_kwargs(self) -> dict[str, Any]:
        return {"discriminators": self.discriminators}


def _after_real_rows(n_real: int, sim: torch.Tensor) -> torch.Tensor:
    """Row weights (L, n_real + N_sim) of a real-then-simulated batch: 1 on the real rows,
    ``sim`` (L, N_sim) on the simulated ones."""
    return torch.cat([sim.new_ones(sim.shape[0], n_real), sim], dim=1)
