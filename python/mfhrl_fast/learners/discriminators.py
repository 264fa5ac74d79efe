"""Dynamics discriminators, one D_sa / D_sas pair per fidelity (H2O eq. 7, DARC).

Class 0 is "real" (the offline data of the true dynamics M), class 1 "sim"
(fidelity k). H2O turns the pair into the dynamics ratio w and the gap u of
each simulated transition; DARC into its reward correction. A simulated batch
with transitions of several fidelities is split by fidelity id on the host
(the ids arrive as NumPy arrays from the replay), so no device sync is needed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
from torch import nn

from . import losses
from .batch import metrics_to_floats, to_tensor
from .config import DiscriminatorConfig
from .nets import EnsembleMLP
from .seeding import member_seeds


class FidelityDiscriminators:
    """D_sa(s, a) and D_sas(s, a, s') (MLPs, 2 logits bounded by ``logit_bound`` tanh) for
    each fidelity id in ``fidelity_ids``, each pair with its own Adam optimizer.

    :meth:`set_real_states` sets sigma_D, the per-dimension std of the real dataset's
    states used by the gap's next-state samples, and (``normalize_inputs``) the
    standardisation of the state inputs.
    """

    def __init__(
        self, obs_dim: int, act_dim: int, fidelity_ids: Iterable[int],
        config: DiscriminatorConfig | None = None, *, seed: int = 0,
        device: str | torch.device | None = None,
    ) -> None:
        ids = sorted({int(k) for k in fidelity_ids})
        if not ids or ids[0] < 0 or ids[-1] > 255:
            raise ValueError(f"fidelity_ids must be a non-empty set of ints in [0, 256), got {ids}")
        self.config = config or DiscriminatorConfig()
        self.obs_dim, self.act_dim, self.fidelity_ids = obs_dim, act_dim, ids
        self.device = torch.device(device) if device is not None else (
            torch.device("cuda" if torch.cuda.is_available() else "cpu"))
        c = self.config
        self.nets = nn.ModuleDict()
        for k, s in zip(ids, member_seeds(seed, len(ids)), strict=True):
            init = torch.Generator().manual_seed(s)
            pair = nn.ModuleDict({
                "sa": EnsembleMLP(1, obs_dim + act_dim, c.hidden_sizes, 2,
                                  output_bound=c.logit_bound),
                "sas": EnsembleMLP(1, 2 * obs_dim + act_dim, c.hidden_sizes, 2,
                                   output_bound=c.logit_bound),
            })
            for net in pair.values():
                net.init_member(0, init)
            self.nets[str(k)] = pair
        self.nets.register_buffer("state_mean", torch.zeros(obs_dim))
        self.nets.register_buffer("state_std", torch.ones(obs_dim))
        self.nets.to(self.device)
        self.optimizers = {k: torch.optim.Adam(self.nets[str(k)].parameters(), lr=c.lr)
                           for k in ids}
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.num_updates = dict.fromkeys(ids, 0)

    def set_real_states(self, real_obs: Any) -> None:
        """From the real dataset's states: sigma_D, their per-dimension std (H2O's), and
        the mean and std that standardise the networks' state inputs (``normalize_inputs``)."""
        obs = to_tensor(real_obs, "real_obs", self.device).reshape(-1, self.obs_dim)
        if obs.shape[0] < 2 or not torch.isfinite(obs).all():
            raise ValueError("need at least 2 finite real states")
        self.nets.state_mean.copy_(obs.mean(dim=0))
        self.nets.state_std.copy_(obs.std(dim=0))

    def _standardise(self, obs: torch.Tensor) -> torch.Tensor:
        if not self.config.normalize_inputs:
            return obs
        return (obs - self.nets.state_mean) / (self.nets.state_std + 1e-3)

    def _pair(self, fidelity: int) -> nn.ModuleDict:
        if int(fidelity) not in self.num_updates:
            raise KeyError(f"no discriminators for fidelity {fidelity}; have {self.fidelity_ids}")
        return self.nets[str(int(fidelity))]

    def logits(self, fidelity: int, obs: torch.Tensor, action: torch.Tensor,
               next_obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """D_sa(s, a) and D_sas(s, a, s') logits (N, 2) of fidelity ``fidelity``'s pair."""
        pair = self._pair(fidelity)
        obs, next_obs = self._standardise(obs), self._standardise(next_obs)
        sa = pair["sa"](torch.cat([obs, action], -1)[None])[0]
        sas = pair["sas"](torch.cat([obs, action, next_obs], -1)[None])[0]
        return sa, sas

    def _transitions(self, batch: Mapping[str, Any], name: str) -> list[torch.Tensor]:
        if not isinstance(batch, Mapping):
            raise TypeError(f"{name} must be a mapping of arrays, got {type(batch).__name__}")
        out = []
        dims = (("obs", self.obs_dim), ("action", self.act_dim), ("next_obs", self.obs_dim))
        for key, dim in dims:
            if key not in batch:
                raise KeyError(f"{name} is missing '{key}'")
            t = to_tensor(batch[key], key, self.device)
            if t.ndim < 2 or t.shape[-1] != dim:
                raise ValueError(
                    f"{name}['{key}'] must end in dimension {dim}, got {tuple(t.shape)}")
            out.append(t.reshape(-1, dim))
        if not out[0].shape[0] == out[1].shape[0] == out[2].shape[0] > 0:
            raise ValueError(f"{name}'s arrays must hold the same, non-zero number of transitions")
        return out

    def train_step(self, fidelity: int, real_batch: Mapping[str, Any],
                   sim_batch: Mapping[str, Any], *, as_float: bool = True) -> dict[str, Any]:
        """One Adam step of fidelity ``fidelity``'s pair on real vs simulated transitions
        (keys obs, action, next_obs), with N(0, noise_std^2) noise on every input."""
        self._pair(fidelity)
        real = self._transitions(real_batch, "real_batch")
        sim = self._transitions(sim_batch, "sim_batch")
        if self.config.noise_std > 0:
            real = [x + self.config.noise_std * self._randn(x) for x in real]
            sim = [x + self.config.noise_std * self._randn(x) for x in sim]
        sa_real, sas_real = self.logits(fidelity, *real)
        sa_sim, sas_sim = self.logits(fidelity, *sim)
        loss, metrics = losses.discriminator_loss(sa_real, sa_sim, sas_real, sas_sim)
        optimizer = self.optimizers[int(fidelity)]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        self.num_updates[int(fidelity)] += 1
        return metrics_to_floats(metrics, "disc/") if as_float else metrics

    def _randn(self, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(like.shape, generator=self.generator, device=self.device)

    @torch.no_grad()
    def accuracy(self, fidelity: int, real_batch: Mapping[str, Any],
                 sim_batch: Mapping[str, Any]) -> dict[str, float]:
        """Held-out accuracy of p(.|s,a) and p(.|s,a,s') (no input noise), both classes pooled."""
        real = self._transitions(real_batch, "real_batch")
        sim = self._transitions(sim_batch, "sim_batch")
        sa_real, sas_real = self.logits(fidelity, *real)
        sa_sim, sas_sim = self.logits(fidelity, *sim)

        def acc(real_logits: torch.Tensor, sim_logits: torch.Tensor) -> float:
            hits = (real_logits.argmax(-1) == 0).sum() + (sim_logits.argmax(-1) == 1).sum()
            return float(hits) / (len(real_logits) + len(sim_logits))

        return {"acc_sa": acc(sa_real, sa_sim),
                "acc_sas": acc(sas_real + sa_real, sas_sim + sa_sim)}

    def _selections(self, fidelity: Any, n: int) -> list[tuple[int, Any]]:
        """(fidelity id, row selection: a slice or an index tensor) for ``n`` rows."""
        if fidelity is None:
            if len(self.fidelity_ids) != 1:
                raise ValueError("the sim batch needs fidelity ids: discriminators exist for "
                                 f"fidelities {self.fidelity_ids}")
            return [(self.fidelity_ids[0], slice(None))]
        ids = np.asarray(fidelity)
        ids = np.broadcast_to(ids, (n,)) if ids.ndim == 0 else ids.reshape(-1)
        if ids.shape != (n,) or ids.dtype.kind not in "iu":
            raise ValueError(f"need {n} integer fidelity ids, got {ids.dtype} {np.shape(fidelity)}")
        present = np.unique(ids)
        for k in present:
            self._pair(int(k))
        if len(present) == 1:
            return [(int(present[0]), slice(None))]
        return [(int(k), torch.as_tensor(np.flatnonzero(ids == k), device=self.device))
                for k in present]

    @torch.no_grad()
    def log_ratio(self, obs: Any, action: Any, next_obs: Any, fidelity: Any = None) -> torch.Tensor:
        """log P_M/P_Mk (s'|s, a) of each transition (H2O eq. 7), shape (N,),
        from the pair of the transition's fidelity (an int, N ids, or None with one pair)."""
        rows = self._transitions({"obs": obs, "action": action, "next_obs": next_obs}, "batch")
        out = torch.empty(rows[0].shape[0], device=self.device)
        for k, sel in self._selections(fidelity, len(out)):
            out[sel] = losses.log_dynamics_ratio(*self.logits(k, *(x[sel] for x in rows)))
        return out

    def reward_correction(self, obs: Any, action: Any, next_obs: Any,
                          fidelity: Any = None) -> torch.Tensor:
        """DARC's reward correction Delta r = log w (H2O's DARC / DARC+ references), (N,)."""
        return losses.darc_reward_correction(self.log_ratio(obs, action, next_obs, fidelity))

    def darc_batch(self, batch: Mapping[str, Any], fidelity: Any = None) -> dict[str, Any]:
        """DARC's simulated batch: a copy of ``batch`` whose ``reward`` is r + Delta r(s,a,s')
        (a tensor on the device, any leading shape), for SAC in the simulator (H2O's DARC
        and DARC+ references). ``fidelity`` defaults to the batch's ``fidelity`` ids."""
        if fidelity is None and "fidelity" in batch:
            value = batch["fidelity"]
            fidelity = value.cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        reward = to_tensor(batch["reward"], "reward", self.device)
        ids = None if fidelity is None else np.broadcast_to(fidelity, reward.shape)
        correction = self.reward_correction(batch["obs"], batch["action"], batch["next_obs"], ids)
        return {**batch, "reward": reward + correction.view(reward.shape)}

    @torch.no_grad()
    def ratio_and_gap(self, obs: torch.Tensor, action: torch.Tensor, next_obs: torch.Tensor,
                      noise: torch.Tensor, fidelity: Any, *, ratio_clip: tuple[float, float],
                      gap_clip: tuple[float, float], std_ratio: float = 1.0,
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """H2O's w(s,a,s') and u(s,a) of simulated transitions (H2O eq. 7's ratio and the gap).

        ``obs``/``action``/``next_obs`` shaped (..., d) on the device; ``noise`` (..., n, obs_dim)
        standard normal, giving the n samples s'_j = s' + std_ratio * sigma_D * noise_j.
        Returns w and u shaped like the leading dims.
        """
        lead = obs.shape[:-1]
        s, a, s2 = obs.reshape(-1, self.obs_dim), action.reshape(-1, self.act_dim), \
            next_obs.reshape(-1, self.obs_dim)
        z = noise.reshape(s.shape[0], -1, self.obs_dim)
        log_w = torch.empty(s.shape[0], device=self.device)
        u = torch.empty(s.shape[0], device=self.device)
        for k, sel in self._selections(fidelity, s.shape[0]):
            sa, sas, sas_n = self._sample_logits(k, s[sel], a[sel], s2[sel], z[sel], std_ratio)
            log_w[sel] = losses.log_dynamics_ratio(sa, sas)
            u[sel] = losses.dynamics_gap(losses.log_dynamics_ratio(sa[:, None], sas_n), gap_clip)
        return losses.dynamics_ratio(log_w, ratio_clip).view(lead), u.view(lead)

    def _sample_logits(self, fidelity: int, s: torch.Tensor, a: torch.Tensor, s2: torch.Tensor,
                       z: torch.Tensor, std_ratio: float
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """D_sa(s, a) (N, 2), D_sas(s, a, s') (N, 2) and D_sas(s, a, s'_j) (N, n, 2) for the n
        samples s'_j = s' + std_ratio * sigma_D * z_j of ``z`` (N, n, obs_dim).

        The samples differ from s' only in D_sas's s' inputs, and the input standardisation
        is affine, so their first-layer pre-activations are D_sas's on (s, a, s') plus
        z_j @ (c * W_s'), with c = std_ratio * sigma_D (divided by the standardisation's
        scale): an obs_dim-wide product per sample instead of the full input's.
        """
        pair = self._pair(fidelity)
        obs, next_in = self._standardise(s), self._standardise(s2)
        sa = pair["sa"](torch.cat([obs, a], -1)[None])[0]
        net = pair["sas"]
        first = net.first_layer(torch.cat([obs, a, next_in], -1)[None])[0]
        scale = std_ratio * self.nets.state_std
        if self.config.normalize_inputs:
            scale = scale / (self.nets.state_std + 1e-3)
        w_next = net.weights[0][0, -self.obs_dim:] * scale[:, None]
        n = z.shape[1]
        h_n = (z.reshape(-1, self.obs_dim) @ w_next).view(-1, n, w_next.shape[1])
        h_n += first[:, None]
        sas_n = net.after_first(h_n.view(1, -1, w_next.shape[1]))[0].view(-1, n, 2)
        return sa, net.after_first(first[None])[0], sas_n

    def state_dict(self) -> dict[str, Any]:
        """A snapshot (copies) of weights, statistics, Adam states, generator and counters."""
        return copy.deepcopy({
            "config": asdict(self.config), "fidelity_ids": list(self.fidelity_ids),
            "nets": self.nets.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "rng": self.generator.get_state(), "num_updates": dict(self.num_updates)})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        same = list(state["fidelity_ids"]) == self.fidelity_ids
        if not same or state["config"] != asdict(self.config):
            raise ValueError("state was saved by discriminators of other fidelities or config")
        self.nets.load_state_dict(state["nets"])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        self.generator.set_state(state["rng"])
        self.num_updates = {int(k): int(v) for k, v in state["num_updates"].items()}
