"""The vectorised ensemble actor-critic that SAC, CQL and H2O share (docs/algorithm.md).

One ``EnsembleLearner`` holds L members: an ensemble tanh-Gaussian actor, 2L
critic heads (twins folded into the member batch), their Polyak targets and a
temperature per member. ``train_step`` runs one forward/backward over every
member and one Adam step; member l only ever sees its own batch row, its own
weights and its own random stream, so the ensemble computes what L
single-member learners with the same member seeds compute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from . import losses
from .batch import TRANSITION_KEYS, member_batch, metrics_to_floats
from .config import SACConfig, annealed
from .loss_types import CriticLoss, LossBatch, LossOutput, Metrics
from .nets import EnsembleMLP, tanh_gaussian, twin_input
from .precision import compute_dtype, resolve_precision
from .seeding import draw_normal, member_generators
from .seeding import member_seeds as derive_member_seeds
from .state import LearnerStateMixin


def default_device() -> torch.device:
    """CUDA when present, the CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class EnsembleLearner(LearnerStateMixin):
    """Base of the ensemble learners; subclasses define the critic loss.

    Args:
        obs_dim, act_dim: observation and action sizes (actions live in [-1, 1]^act_dim).
        num_members: L, the ensemble size.
        config: the algorithm's config dataclass (defaults: ``config_class()``).
        seed: derives the member seeds (``member_seeds(seed, L)``) unless ``member_seeds``.
        member_seeds: one int per member; member l's initial weights and random streams
            depend only on it.
        device: torch device; None picks CUDA when present, else the CPU.
        precision: the networks' matmul precision, ``"fp32"``, ``"bf16"`` (float32 master
            weights, losses and Adam) or ``"auto"`` (bf16 where the device has fast bf16
            matmuls); see :mod:`.precision`. ``self.precision`` is the resolved one.
        compile: wrap the loss computation in ``torch.compile``: True for inductor's default
            mode, or a mode name (``"reduce-overhead"``: CUDA graphs of the forward and
            backward on a GPU). On this package's CPU steps it does not help (measured: the
            same time per step at 64-64 and a minute of compilation).
    """

    config_class: type[SACConfig] = SACConfig

    def __init__(
        self, obs_dim: int, act_dim: int, *, num_members: int = 1,
        config: SACConfig | None = None, seed: int = 0,
        member_seeds: Sequence[int] | None = None,
        device: str | torch.device | None = None, precision: str = "fp32",
        compile: bool | str = False,
    ) -> None:
        if obs_dim < 1 or act_dim < 1 or num_members < 1:
            raise ValueError(f"obs_dim, act_dim and num_members must be >= 1, got "
                             f"{obs_dim}, {act_dim}, {num_members}")
        config = self.config_class() if config is None else config
        if not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}, "
                            f"got {type(config).__name__}")
        seeds = (list(member_seeds) if member_seeds is not None
                 else derive_member_seeds(seed, num_members))
        if len(seeds) != num_members:
            raise ValueError(f"{len(seeds)} member_seeds for {num_members} members")
        self.obs_dim, self.act_dim, self.num_members = obs_dim, act_dim, num_members
        self.config, self.member_seeds, self.seed = config, seeds, seed
        self.device = torch.device(device) if device is not None else default_device()
        self.target_entropy = (-float(act_dim) if config.target_entropy is None
                               else config.target_entropy)
        self.nets = self._build_nets()
        init_gens, self.generators = member_generators(seeds, self.device)
        for m, gen in enumerate(init_gens):
            self._init_member(m, gen)
        self.nets["critic_target"].load_state_dict(self.nets["critic"].state_dict())
        self.nets["critic_target"].requires_grad_(False)
        self.nets.to(self.device)
        self.sync_averaged_actor()
        self.precision = resolve_precision(precision, self.device)
        for net in ("actor", "actor_avg", "actor_ref", "critic", "critic_target"):
            if net in self.nets:
                self.nets[net].compute_dtype = compute_dtype(self.precision)
        self.optimizer = torch.optim.Adam(self._param_groups(), **_adam_kwargs(self.device))
        self._base_lrs = [group["lr"] for group in self.optimizer.param_groups]
        self.num_updates = 0
        self._losses = self._compute_losses
        if compile:
            mode = compile if isinstance(compile, str) else None
            self._losses = torch.compile(self._compute_losses, mode=mode)

    # ----------------------------------------------------------------- structure
    def _build_nets(self) -> nn.ModuleDict:
        c, L = self.config, self.num_members
        nets = nn.ModuleDict({
            "actor": EnsembleMLP(L, self.obs_dim, c.hidden_sizes, 2 * self.act_dim),
            "critic": EnsembleMLP(2 * L, self.obs_dim + self.act_dim, c.hidden_sizes, 1,
                                  layer_norm=c.critic_layer_norm),
            "critic_target": EnsembleMLP(2 * L, self.obs_dim + self.act_dim, c.hidden_sizes, 1,
                                         layer_norm=c.critic_layer_norm),
        })
        copies = {"actor_avg": c.policy_averaging > 0, "actor_ref": c.trust_region > 0}
        for copy, used in copies.items():
            if used:
                nets[copy] = EnsembleMLP(L, self.obs_dim, c.hidden_sizes, 2 * self.act_dim)
                nets[copy].requires_grad_(False)
        nets.register_parameter("log_alpha", nn.Parameter(torch.full((L,), math.log(c.alpha_init))))
        nets.register_buffer("obs_mean", torch.zeros(self.obs_dim))
        nets.register_buffer("obs_std", torch.ones(self.obs_dim))
        return nets

    def _init_member(self, m: int, gen: torch.Generator) -> None:
        kw = {"orthogonal": self.config.orthogonal_init, "last_gain": self.config.last_layer_gain}
        self.nets["actor"].init_member(m, gen, **kw)
        for twin in range(2):
            self.nets["critic"].init_member(twin * self.num_members + m, gen, **kw)

    def _param_groups(self) -> list[dict[str, Any]]:
        c = self.config
        groups = [
            {"params": list(self.nets["actor"].parameters()), "lr": c.actor_lr},
            {"params": list(self.nets["critic"].parameters()), "lr": c.critic_lr},
        ]
        if c.auto_alpha:
            groups.append({"params": [self.nets.log_alpha], "lr": c.alpha_lr or c.actor_lr})
        return groups

    # ----------------------------------------------------------------- networks
    def set_obs_normalization(self, mean: Any, std: Any, eps: float = 1e-3) -> None:
        """Standardise observations (s - mean) / (std + eps) before every network, as CORL's
        ``normalize`` (typically the offline dataset's statistics)."""
        mean_t = torch.as_tensor(np.asarray(mean, dtype=np.float32)).reshape(-1)
        std_t = torch.as_tensor(np.asarray(std, dtype=np.float32)).reshape(-1)
        if mean_t.numel() != self.obs_dim or std_t.numel() != self.obs_dim:
            raise ValueError(f"mean and std must have {self.obs_dim} entries")
        finite = torch.isfinite(mean_t).all() and torch.isfinite(std_t).all()
        if not (finite and (std_t >= 0).all()):
            raise ValueError("mean and std must be finite and std >= 0")
        self.nets.obs_mean.copy_(mean_t)
        self.nets.obs_std.copy_(std_t + eps)

    def _norm(self, obs: torch.Tensor) -> torch.Tensor:
        return (obs - self.nets.obs_mean) / self.nets.obs_std

    def _policy(self, obs: torch.Tensor, members: slice | None = None, net: str = "actor"):
        """(M, N, obs) -> mean, log std (M, N, A) of the pre-tanh Gaussian of actor ``net``."""
        out = self.nets[net](self._norm(obs), members=members)
        mean, log_std = out.split(self.act_dim, dim=-1)
        return mean, log_std.clamp(self.config.log_std_min, self.config.log_std_max)

    def _q(self, net: str, obs: torch.Tensor, act: torch.Tensor, *,
           detach_weights: bool = False) -> torch.Tensor:
        """Twin Q values (2, L, N) of every member on its own (L, N) rows."""
        x = torch.cat([self._norm(obs), act], dim=-1)
        q = self.nets[net](twin_input(x), detach_weights=detach_weights)
        return q.view(2, self.num_members, -1)

    # ----------------------------------------------------------------- losses
    def _noise_shapes(self, data: LossBatch) -> dict[str, tuple[int, ...]]:
        n_pi, n_next = data.pi_obs.shape[1], data.next_obs.shape[1]
        return {"pi": (n_pi, self.act_dim), "next": (n_next, self.act_dim)}

    def _prepare(self, batches: tuple[Any, ...], gens: list[torch.Generator]) -> LossBatch:
        """The loss's inputs from ``train_step``'s arguments (subclasses: several batches)."""
        if len(batches) != 1:
            raise TypeError(f"{type(self).__name__}.train_step takes one batch, got {len(batches)}")
        data = self._member_batch(batches[0], "batch")
        return LossBatch(**data, pi_obs=data["obs"])

    def _member_batch(self, batch: Any, name: str, keys: tuple[str, ...] = TRANSITION_KEYS
                      ) -> dict[str, torch.Tensor]:
        return member_batch(batch, members=self.num_members, obs_dim=self.obs_dim,
                            act_dim=self.act_dim, device=self.device, keys=keys, name=name)

    def _compute_losses(self, data: LossBatch, noise: dict[str, torch.Tensor]
                        ) -> tuple[torch.Tensor, torch.Tensor, Metrics]:
        """SAC's actor, temperature and Bellman target, plus the subclass's critic loss.

        Returns (total loss to back-propagate, per-member critic loss (L,), metrics).
        """
        c = self.config
        mean, log_std = self._policy(data.pi_obs)
        action_pi, log_pi = tanh_gaussian(mean, log_std, noise["pi"])
        q_pi = self._q("critic", data.pi_obs, action_pi, detach_weights=True)
        alpha = self.nets.log_alpha.exp()
        actor_loss, metrics = losses.sac_actor_loss(q_pi, log_pi, alpha.detach(),
                                                    data.actor_weight)
        total = actor_loss.sum()
        if c.trust_region > 0:
            with torch.no_grad():
                ref_mean, ref_log_std = self._policy(data.pi_obs, net="actor_ref")
            floor = c.trust_region_std_floor
            kl = losses.gaussian_kl(mean, losses.floored_log_std(log_std, floor), ref_mean,
                                    losses.floored_log_std(ref_log_std, floor)).mean(-1)
            weight = annealed(c.trust_region, c.trust_region_decay_steps, self.num_updates)
            total = total + weight * kl.sum()
            metrics = metrics | {"kl_ref": kl.detach(), "trust_region": kl.new_tensor(weight)}
        if c.auto_alpha:
            alpha_loss, m = losses.temperature_loss(
                self.nets.log_alpha, log_pi, self.target_entropy)
            total, metrics = total + alpha_loss.sum(), metrics | m
        with torch.no_grad():
            next_mean, next_log_std = self._policy(data.next_obs)
            next_action, next_log_pi = tanh_gaussian(next_mean, next_log_std, noise["next"])
            next_q = self._q("critic_target", data.next_obs, next_action)
            target = losses.bellman_target(
                data.reward, data.terminated, next_q, next_log_pi, alpha,
                gamma=c.gamma, backup_entropy=c.backup_entropy)
        policy = {"mean": mean.detach(), "log_std": log_std.detach(),
                  "next_mean": next_mean, "next_log_std": next_log_std}
        critic = self._critic_loss(data, noise, target, policy)
        metrics = metrics | critic.metrics
        total = total + critic.per_member.sum() + critic.extra
        return total, critic.per_member.detach(), metrics

    def _critic_loss(self, data: LossBatch, noise: dict[str, torch.Tensor],
                     target: torch.Tensor, policy: dict[str, torch.Tensor]) -> CriticLoss:
        """The critics' term given the Bellman target (L, N) and the actor's detached
        Gaussian on ``obs`` and ``next_obs``; SAC's by default."""
        q = self._q("critic", data.obs, data.action)
        loss, metrics = losses.sac_critic_loss(q, target)
        return CriticLoss(loss, 0.0, metrics)

    # ----------------------------------------------------------------- updates
    def compute_loss(self, *batches: Any) -> LossOutput:
        """What one update computes, without its optimizer step: the typed inputs, the
        total loss (with its graph), each member's critic loss and the metrics. Draws
        the update's noise from the training streams, as ``train_step`` does."""
        gens = self.generators["train"]
        data = self._prepare(batches, gens)
        noise = draw_normal(gens, self._noise_shapes(data), self.device)
        total, critic, metrics = self._losses(data, noise)
        return LossOutput(total, critic, metrics, data, noise)

    def train_step(self, *batches: Any, as_float: bool = True) -> dict[str, Any]:
        """One gradient step of every member on its row of the batch(es):
        :meth:`compute_loss`, then one Adam step of all the networks.

        Returns the metrics as floats (``as_float``; one host sync), or as detached
        tensors (per-member (L,) or 0-d) to convert later with ``metrics_to_floats``.
        """
        out = self.compute_loss(*batches)
        metrics = out.metrics
        self.optimizer.zero_grad(set_to_none=True)
        out.total.backward()
        self._before_step()
        self.optimizer.step()
        self.num_updates += 1
        if self.num_updates % self.config.target_update_period == 0:
            self._polyak()
        if self.config.policy_averaging > 0:
            self._average_actor("actor_avg", self.config.policy_averaging)
        if self.config.trust_region > 0 and self.config.trust_region_rate > 0:
            self._average_actor("actor_ref", self.config.trust_region_rate)
        return metrics_to_floats(metrics, "losses/") if as_float else metrics

    def _before_step(self) -> None:
        """Hook run before every Adam step (learning-rate schedules); nothing by default."""

    @torch.no_grad()
    def _average_actor(self, copy: str, rate: float) -> None:
        """Polyak step of the actor's frozen ``copy`` towards the actor."""
        torch._foreach_lerp_(list(self.nets[copy].parameters()),
                             list(self.nets["actor"].parameters()), rate)

    @torch.no_grad()
    def sync_averaged_actor(self) -> None:
        """Restart the actor's frozen copies, the averaged actor (``config.policy_averaging``)
        and the trust region's reference (``config.trust_region``), from the actor, e.g.
        after loading the actor's weights from elsewhere; nothing without them."""
        for copy in ("actor_avg", "actor_ref"):
            if copy in self.nets:
                self.nets[copy].load_state_dict(self.nets["actor"].state_dict())

    @torch.no_grad()
    def _polyak(self) -> None:
        target = list(self.nets["critic_target"].parameters())
        torch._foreach_lerp_(target, list(self.nets["critic"].parameters()), self.config.tau)

    @torch.no_grad()
    def member_losses(self, *batches: Any) -> np.ndarray:
        """Each member's critic loss on the batch(es), per transition, no gradient: (L,).

        A batch without the member dimension is scored by every member (eq. 7's
        L_l(B)); the random draws come from the members' scoring streams, so training
        is unaffected.
        """
        gens = self.generators["score"]
        data = self._prepare(batches, gens)
        noise = draw_normal(gens, self._noise_shapes(data), self.device)
        _, critic, _ = self._compute_losses(data, noise)
        return critic.double().cpu().numpy()

    # ----------------------------------------------------------------- acting
    @torch.no_grad()
    def act(self, obs: Any, *, member: int | Sequence[int] | np.ndarray = 0,
            deterministic: bool = False, averaged: bool = False) -> Any:
        """Actions (N, A) in [-1, 1] for observations (N, obs_dim) (or one (obs_dim,)).

        ``member`` is one member for every row or an array of N member ids (one call for
        many environments, each run by its own member); ``averaged`` acts with the
        averaged actor (``config.policy_averaging`` > 0). Stochastic actions draw the
        noise of row i from the generator of member ``member[i]``. Returns the type of
        ``obs``: a float32 NumPy array, or a tensor on the learner's device.
        """
        is_tensor = isinstance(obs, torch.Tensor)
        x = obs if is_tensor else torch.from_numpy(np.asarray(obs, dtype=np.float32))
        single = x.ndim == 1
        x = x.reshape(1, -1) if single else x
        if x.ndim != 2 or x.shape[1] != self.obs_dim:
            raise ValueError(f"obs must be shaped (N, {self.obs_dim}), got {tuple(x.shape)}")
        x = x.to(self.device, torch.float32)
        ids = self._member_ids(member, x.shape[0])
        net = "actor_avg" if averaged else "actor"
        if averaged and net not in self.nets:
            raise ValueError("averaged=True needs config.policy_averaging > 0")
        if len(ids) == 0:
            empty = torch.empty(0, self.act_dim)
            return empty if is_tensor else empty.numpy()
        if ids.min() == ids.max():
            m = int(ids[0])
            mean, log_std = self._policy(x[None], members=slice(m, m + 1), net=net)
            mean, log_std = mean[0], log_std[0]
        else:
            mean, log_std = self._policy(x.expand(self.num_members, -1, -1), net=net)
            rows = torch.arange(x.shape[0], device=self.device)
            index = torch.as_tensor(ids, device=self.device)
            mean, log_std = mean[index, rows], log_std[index, rows]
        if deterministic:
            action = torch.tanh(mean)
        else:
            eps = torch.empty_like(mean)
            for m in np.unique(ids):
                rows_m = torch.as_tensor(np.flatnonzero(ids == m), device=self.device)
                eps[rows_m] = torch.randn(len(rows_m), self.act_dim, device=self.device,
                                          generator=self.generators["act"][int(m)])
            action, _ = tanh_gaussian(mean, log_std, eps)
        action = action[0] if single else action
        return action if is_tensor else action.cpu().numpy()

    def _member_ids(self, member: Any, n: int) -> np.ndarray:
        ids = np.asarray(member)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"member must be an int or ints, got {member!r}")
        ids = np.broadcast_to(ids, (n,)) if ids.ndim == 0 else ids
        if ids.shape != (n,):
            raise ValueError(f"member must be one int or {n} ints, got shape {ids.shape}")
        if n and (ids.min() < 0 or ids.max() >= self.num_members):
            raise ValueError(f"member ids must be in [0, {self.num_members}), got {member!r}")
        return ids

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(members={self.num_members}, obs_dim={self.obs_dim}, "
                f"act_dim={self.act_dim}, device={self.device}, precision={self.precision}, "
                f"updates={self.num_updates})")


def _adam_kwargs(device: torch.device) -> dict[str, Any]:
    """Fused Adam (one kernel over all parameters) where PyTorch has it, else foreach."""
    return {"fused": True} if device.type in ("cpu", "cuda") else {"foreach": True}
