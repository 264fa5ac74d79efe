"""The policy-gradient estimators: REINFORCE and MFPG's control-variate estimator.

For a segment i of T steps, the score-function sample is

    g_i = (1/T) sum_t grad log pi(a_t|s_t) (G_t - b_t),   G_t = sum_{t'>=t} gamma^(t'-t) r_t',

with b_t a per-step baseline fixed before the batch is drawn. REINFORCE averages the n
high-fidelity samples. MFPG (Liu et al. 2025) adds a control variate built from
low-fidelity segments that start in the same states as the high-fidelity ones:

    g_MFPG = mean_i g_i^high + c (mean_i g_i^low - mu_low),

where g_i^low reuses segment i's action noise (so it is correlated with g_i^high) and
mu_low, the mean over those and M further low-fidelity segments from the same states,
estimates E[g^low]. For any c fixed before the batch, E[g_MFPG] = E[g_REINFORCE]: the
estimator is unbiased. Its variance is lowest at c* = -Cov(g^high, g^low) / Var(g^low);
we take the trace-optimal scalar c = -sum_j Cov_j / sum_j Var_j over the parameters,
from moments averaged (EMA) over earlier batches (MFPG's code averages rho and the stds).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.func import functional_call, grad, vmap

from .policy import GaussianPolicy


def returns_to_go(reward: torch.Tensor, gamma: float) -> torch.Tensor:
    """G_t of every step of (T, N) rewards, truncated at the segment's end."""
    out = torch.empty_like(reward)
    running = torch.zeros_like(reward[0])
    for t in range(reward.shape[0] - 1, -1, -1):
        running = reward[t] + gamma * running
        out[t] = running
    return out


def segment_gradients(policy: GaussianPolicy, obs: torch.Tensor, action: torch.Tensor,
                      weight: torch.Tensor) -> torch.Tensor:
    """g_i = grad (1/T) sum_t log pi(a_t|s_t) weight_t of each segment: (N, parameters).

    ``obs`` (T, N, obs_dim), ``action`` (T, N, act_dim), ``weight`` (T, N), e.g. G_t - b_t.
    """
    params = {k: v.detach() for k, v in policy.named_parameters()}

    def surrogate(p, o, a, w):
        return (functional_call(policy, p, (o, a)) * w).mean()

    grads = vmap(grad(surrogate), in_dims=(None, 1, 1, 1))(params, obs, action, weight)
    return torch.cat([grads[k].reshape(obs.shape[1], -1) for k, _ in policy.named_parameters()],
                     dim=1)


def mfpg_estimate(g_high: torch.Tensor, g_low: torch.Tensor, g_extra: torch.Tensor,
                  c: float) -> torch.Tensor:
    """mean g^high + c (mean g^low - mu_low), mu_low the mean of g_low and g_extra."""
    mu_low = torch.cat([g_low, g_extra]).mean(0)
    return g_high.mean(0) + c * (g_low.mean(0) - mu_low)


def moments(g_high: torch.Tensor, g_low: torch.Tensor) -> tuple[float, float, float]:
    """(sum_j Cov_j, sum_j Var_j of g^low, sum_j Var_j of g^high) over the n pairs."""
    dh, dl = g_high - g_high.mean(0), g_low - g_low.mean(0)
    n = max(len(g_high) - 1, 1)
    return (float((dh * dl).sum() / n), float(dl.square().sum() / n),
            float(dh.square().sum() / n))


def variance_ratio(g_high: torch.Tensor, g_low: torch.Tensor, c: float) -> float:
    """Per-pair sample variance (trace) of g^high + c g^low over that of g^high (MFPG's
    logged ``var_ratio``)."""
    cov, var_low, var_high = moments(g_high, g_low)
    return (var_high + 2 * c * cov + c * c * var_low) / max(var_high, 1e-30)


@dataclass
class ControlVariate:
    """EMAs of the pair moments; :meth:`c` uses only batches already seen."""

    rate: float = 0.95
    cov: float = 0.0
    var_low: float = 0.0
    seen: int = 0

    def c(self) -> float:
        return -self.cov / self.var_low if self.seen and self.var_low > 0 else 0.0

    def update(self, g_high: torch.Tensor, g_low: torch.Tensor) -> None:
        cov, var_low, _ = moments(g_high, g_low)
        if self.seen == 0:
            self.cov, self.var_low = cov, var_low
        else:
            self.cov = self.rate * self.cov + (1 - self.rate) * cov
            self.var_low = self.rate * self.var_low + (1 - self.rate) * var_low
        self.seen += 1
