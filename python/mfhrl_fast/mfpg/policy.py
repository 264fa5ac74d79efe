"""The Gaussian policy of REINFORCE and MFPG: a tanh MLP mean and a state-independent
log std (Stable-Baselines3's ``MlpPolicy`` without its value head)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class GaussianPolicy(nn.Module):
    """pi(a|s) = N(mu(s), diag exp(2 log_std)); actions are clipped to [-1, 1] only when
    stepped, and log-probabilities are those of the unclipped draws (as SB3)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int] = (64, 64),
                 log_std_init: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = obs_dim
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.Tanh()]
            width = size
        layers.append(nn.Linear(width, act_dim))
        self.mean = nn.Sequential(*layers)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(log_std_init)))

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """log pi(action | obs), summed over the action dimensions: shape ``obs.shape[:-1]``."""
        z = (action - self.mean(obs)) * torch.exp(-self.log_std)
        return (-0.5 * z.square() - self.log_std - 0.5 * math.log(2 * math.pi)).sum(-1)

    @torch.no_grad()
    def sample(self, obs: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """The reparameterised draw mu(s) + std * noise (unclipped)."""
        return self.mean(obs) + torch.exp(self.log_std) * noise

    def flat_parameters(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self.parameters()])
