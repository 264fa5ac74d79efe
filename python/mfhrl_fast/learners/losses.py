"""The learners' objectives, one function per equation of docs/algorithm.md, "Building blocks".

Shapes: L members, N transitions per member, the twin critics stacked first:
Q values are (2, L, N). Every loss function returns ``(loss, metrics)``: ``loss``
is the (L,) vector of the members' losses (the learners back-propagate its sum,
so member l's gradient is exactly the gradient of its own loss) and ``metrics``
holds detached tensors, per member (L,) or 0-d, never floats: converting them
is the caller's choice (``metrics_to_floats``), so no host-device sync happens
inside a training step.
"""

from __future__ import annotations

import math

import torch

Metrics = dict[str, torch.Tensor]


def bellman_target(
    reward: torch.Tensor, terminated: torch.Tensor, next_q: torch.Tensor,
    next_log_pi: torch.Tensor, alpha: torch.Tensor, *, gamma: float, backup_entropy: bool,
) -> torch.Tensor:
    """SAC: B^pi Qbar(s, a) = r + gamma (1 - terminated) min_q Qbar_q(s', a'), a' ~ pi(.|s').

    ``next_q`` (2, L, N) from the target critics; with ``backup_entropy`` the
    soft value subtracts alpha log pi(a'|s') (off by default: docs/algorithm.md has no
    entropy term in the backup). Returns (L, N) without gradient.
    """
    value = next_q.min(dim=0).values
    if backup_entropy:
        value = value - alpha[:, None] * next_log_pi
    return (reward + gamma * (1.0 - terminated) * value).detach()


def squared_bellman_error(
    q: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """1/2 E[w (Q - B^pi Qbar)^2] per twin and member: (2, L). CQL's and H2O's Bellman terms."""
    err = (q - target).square()
    if weight is not None:
        err = err * weight
    return 0.5 * err.mean(dim=-1)


def sac_critic_loss(q: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, Metrics]:
    """SAC: sum over twins of 1/2 E_D[(Q_q(s, a) - B^pi Qbar(s, a))^2]."""
    per_member = squared_bellman_error(q, target).sum(0)
    return per_member, {"critic": per_member.detach(), "q": q.detach().mean((0, 2))}


def sac_actor_loss(
    q_pi: torch.Tensor, log_pi: torch.Tensor, alpha: torch.Tensor,
    weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, Metrics]:
    """SAC: E_s[alpha log pi(a|s) - min_q Q_q(s, a)], a ~ pi(.|s) reparameterised.

    ``q_pi`` (2, L, N) from critics whose weights are detached; ``alpha`` (L,) detached.
    ``weight`` (L, N), if given, makes E_s a weighted mean over the states (sum w_i x_i /
    sum w_i; ``EnsembleH2O``'s ``actor_states``).
    """
    per_state = alpha[:, None] * log_pi - q_pi.min(dim=0).values
    if weight is None:
        per_member = per_state.mean(-1)
    else:
        per_member = (weight * per_state).sum(-1) / weight.sum(-1).clamp_min(1e-8)
    return per_member, {"actor": per_member.detach(), "entropy": -log_pi.detach().mean(-1)}


def gaussian_kl(mean: torch.Tensor, log_std: torch.Tensor, ref_mean: torch.Tensor,
                ref_log_std: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, std^2) || N(ref_mean, ref_std^2)) of diagonal Gaussians, summed over the
    last dim. Both policies squash their Gaussian by the same tanh, a bijection, so this is
    also the KL of the squashed action distributions (the actor's trust region)."""
    var_ratio = (2 * (log_std - ref_log_std)).exp()
    mahalanobis = ((mean - ref_mean) / ref_log_std.exp()).square()
    return 0.5 * (var_ratio + mahalanobis - 1.0).sum(-1) - (log_std - ref_log_std).sum(-1)


def floored_log_std(log_std: torch.Tensor, floor: float) -> torch.Tensor:
    """``log_std`` raised to at least log ``floor`` (the trust region's
    ``trust_region_std_floor``); ``floor`` 0 returns it unchanged. Below the floor a KL of
    floored stds no longer depends on the std, so only the temperature sets it there."""
    return log_std.clamp_min(math.log(floor)) if floor > 0 else log_std


def temperature_loss(
    log_alpha: torch.Tensor, log_pi: torch.Tensor, target_entropy: float
) -> tuple[torch.Tensor, Metrics]:
    """SAC's automatic entropy tuning: E_s[-log alpha (log pi(a|s) + target_entropy)]."""
    per_member = -(log_alpha[:, None] * (log_pi.detach() + target_entropy)).mean(-1)
    return per_member, {"alpha": log_alpha.detach().exp(), "alpha_loss": per_member.detach()}


def cql_critic_loss(
    q_data: torch.Tensor, target: torch.Tensor, q_sampled: torch.Tensor,
    log_mu: torch.Tensor, alpha_cql: torch.Tensor | float,
) -> tuple[torch.Tensor, Metrics]:
    """Kumar et al. 2020 (CQL(H) importance-sampled), per twin q:

        1/2 E_D[(Q - B^pi Qbar)^2]
        + alpha_cql E_{s~D}[ log sum_j exp(Q(s, a_j) - log mu(a_j|s)) - Q(s, a_data) ]

    ``q_data`` (2, L, N); ``q_sampled`` (2, L, N, J) at the J = 3n sampled actions
    (n uniform, n from pi(.|s), n from pi(.|s')) with their log densities
    ``log_mu`` (L, N, J). ``alpha_cql`` is a float or (L,) (the Lagrange multiplier
    times alpha_cql, detached). ``metrics["cql_diff"]`` (L,) is the conservative gap
    averaged over the twins, the input of :func:`cql_lagrange_loss`.
    """
    bellman = squared_bellman_error(q_data, target)
    diff = cql_penalty(q_data, q_sampled, log_mu)
    weight = alpha_cql if isinstance(alpha_cql, float) else alpha_cql[None, :]
    per_member = (bellman + weight * diff).sum(0)
    metrics = {"critic": per_member.detach(), "bellman": bellman.detach().sum(0),
               "cql_diff": diff.detach().mean(0), "q": q_data.detach().mean((0, 2))}
    return per_member, metrics


def cql_penalty(q_data: torch.Tensor, q_sampled: torch.Tensor, log_mu: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
    """CQL(H)'s conservative gap per twin and member, (2, L):
    E_{s~D}[ c(s, a) (log sum_j exp(Q(s, a_j) - log mu(a_j|s)) - Q(s, a_data)) ]
    with ``q_data`` (2, L, N), ``q_sampled`` (2, L, N, J), ``log_mu`` (L, N, J) and
    optional per-transition weights c = ``weight`` (L, N) (CQL: c = 1)."""
    gap = torch.logsumexp(q_sampled - log_mu, dim=-1) - q_data
    return (gap if weight is None else gap * weight).mean(-1)


def calibrated_q(q_sampled: torch.Tensor, reference: torch.Tensor, first: int) -> torch.Tensor:
    """Cal-QL (Nakamoto et al. 2023, eq. 5): the sampled-action Q values from index ``first``
    on (the policy's actions) raised to at least the reference value V^mu(s), so that
    CQL's term stops pushing down a policy action whose value is already below the data's.
    ``q_sampled`` (2, L, N, J), ``reference`` (L, N); the uniform actions before ``first``
    are left as they are."""
    policy = torch.maximum(q_sampled[..., first:], reference[None, :, :, None])
    return torch.cat([q_sampled[..., :first], policy], dim=-1)


def cql_lagrange_loss(
    log_alpha_prime: torch.Tensor, cql_diff: torch.Tensor, alpha_cql: float, target_gap: float,
) -> tuple[torch.Tensor, Metrics]:
    """CQL's optional Lagrange version (CQL paper eq. 30, CORL):
    maximise alpha' alpha_cql (gap - tau) over alpha' = exp(log alpha') in [0, 1e6], i.e.
    minimise -alpha' alpha_cql (cql_diff - tau) with ``cql_diff`` (L,), the twins' mean gap,
    detached (CORL's -1/2 sum over the twins).
    """
    alpha_prime = log_alpha_prime.exp().clamp(0.0, 1e6)
    per_member = -alpha_prime * alpha_cql * (cql_diff.detach() - target_gap)
    return per_member, {"alpha_prime": alpha_prime.detach()}


def h2o_critic_loss(
    q_real: torch.Tensor, target_real: torch.Tensor, q_sim: torch.Tensor,
    target_sim: torch.Tensor, ratio: torch.Tensor, log_omega: torch.Tensor, beta: float,
) -> tuple[torch.Tensor, Metrics]:
    """MF-HRL-IGM eq. (1) (H2O eqs. 6 and 8), per twin q:

        beta (log sum_{(s,a) in B} omega(s,a) exp Q(s,a) - E_D[Q(s,a)])
        + 1/2 E_D[(Q - B^pi Qbar)^2] + 1/2 E_B[w(s,a,s') (Q - B^pi Qbar)^2]

    ``q_real`` (2, L, Nr) on the real batch D, ``q_sim`` (2, L, Ns) on the simulated
    batch B; ``ratio`` w and ``log_omega`` = log omega (L, Ns) come from
    :func:`dynamics_ratio` and :func:`gap_weights`. The weighted log-sum-exp is
    computed as logsumexp(Q + log omega).
    """
    penalty = torch.logsumexp(q_sim + log_omega, dim=-1) - q_real.mean(-1)
    bellman_real = squared_bellman_error(q_real, target_real)
    bellman_sim = squared_bellman_error(q_sim, target_sim, ratio)
    per_member = (beta * penalty + bellman_real + bellman_sim).sum(0)
    metrics = {"critic": per_member.detach(), "h2o_penalty": penalty.detach().mean(0),
               "bellman_real": bellman_real.detach().sum(0),
               "bellman_sim": bellman_sim.detach().sum(0),
               "q_real": q_real.detach().mean((0, 2)), "q_sim": q_sim.detach().mean((0, 2))}
    return per_member, metrics


def discriminator_loss(
    sa_real: torch.Tensor, sa_sim: torch.Tensor, sas_real: torch.Tensor, sas_sim: torch.Tensor
) -> tuple[torch.Tensor, Metrics]:
    """H2O / DARC: cross-entropy of p(.|s,a) = softmax(D_sa) and
    p(.|s,a,s') = softmax(D_sas + D_sa) between real (class 0) and simulated (class 1)
    transitions; logits (N, 2). Returns CE_sa + CE_sas (each averaged over both classes'
    samples and summed over the classes, as H2O's code), a 0-d loss: the pair is one network."""
    def cross_entropy(real: torch.Tensor, sim: torch.Tensor) -> torch.Tensor:
        return -(real.log_softmax(-1)[:, 0].mean() + sim.log_softmax(-1)[:, 1].mean())

    loss_sa = cross_entropy(sa_real, sa_sim)
    loss_sas = cross_entropy(sas_real + sa_real, sas_sim + sa_sim)
    return loss_sa + loss_sas, {"loss_sa": loss_sa.detach(), "loss_sas": loss_sas.detach()}


def log_dynamics_ratio(sa_logits: torch.Tensor, sas_logits: torch.Tensor) -> torch.Tensor:
    """H2O eq. 7: log P_M/P_Mk (s'|s,a) =
    log [p(real|s,a,s') / p(sim|s,a,s')] - log [p(real|s,a) / p(sim|s,a)]
    with p(.|s,a) = softmax(D_sa) and p(.|s,a,s') = softmax(D_sas + D_sa); logits (..., 2).

    For two classes log [p(real|x) / p(sim|x)] = z_real - z_sim exactly, so the ratios are
    differences of logits (no softmax, no log of a probability that may underflow).
    """
    sas = sas_logits + sa_logits
    return (sas[..., 0] - sas[..., 1]) - (sa_logits[..., 0] - sa_logits[..., 1])


def dynamics_ratio(log_ratio: torch.Tensor, clip: tuple[float, float]) -> torch.Tensor:
    """H2O: w(s,a,s') = P_M / P_Mk, clipped to ``clip`` ([1e-5, 1])."""
    return log_ratio.exp().clamp(*clip)


def darc_reward_correction(log_ratio: torch.Tensor) -> torch.Tensor:
    """DARC (Eysenbach et al. 2021), H2O's reference runs: Delta r(s,a,s') = log w =
    log p(real|s,a,s') - log p(sim|s,a,s') - log p(real|s,a) + log p(sim|s,a), unclipped."""
    return log_ratio


def dynamics_gap(log_ratio_samples: torch.Tensor, clip: tuple[float, float]) -> torch.Tensor:
    """H2O: u(s,a) = E_{s'~N(s'_sim, diag sigma_D^2)} log(P_Mk / P_M)(s,a,s'),
    the mean over the last dim of samples of log P_M/P_Mk negated, clipped to ``clip``
    ([1e-45, 10]; clamping to 1e-45 in float32 gives the smallest subnormal)."""
    return (-log_ratio_samples.mean(-1)).clamp(*clip)


def gap_weights(u: torch.Tensor) -> torch.Tensor:
    """H2O: log omega(s,a) = log [u(s,a) / sum_{B} u] over the last dim (the sim batch)."""
    log_u = u.log()
    return log_u - torch.logsumexp(log_u, dim=-1, keepdim=True)


def uniform_log_density(act_dim: int) -> float:
    """log density of U([-1, 1]^|A|): log 0.5^|A| (CQL(H)'s uniform actions)."""
    return act_dim * math.log(0.5)
