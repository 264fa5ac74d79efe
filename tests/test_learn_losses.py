"""The loss functions against references written out by hand (docs/algorithm.md).

The references use plain torch/math operations on one or two samples, the
probability form of the papers' formulas and torch.distributions for densities.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, TanhTransform, TransformedDistribution

from mfhrl_fast.learners import losses
from mfhrl_fast.learners.nets import tanh_gaussian


def t(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def s(value) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float64)


def test_tanh_gaussian_density_matches_torch_distributions():
    mean, log_std = t(0.3, -1.2, 2.0), t(-0.5, 0.1, -2.0)
    eps = t(0.7, -1.5, 0.2)
    action, log_pi = tanh_gaussian(mean, log_std, eps)
    dist = TransformedDistribution(Normal(mean, log_std.exp()), TanhTransform())
    torch.testing.assert_close(action, torch.tanh(mean + log_std.exp() * eps))
    torch.testing.assert_close(log_pi, dist.log_prob(action).sum())


def test_bellman_target_by_hand():
    # one member, two transitions; twin target values (2, 1, 2)
    next_q = t(3.0, -1.0, 2.5, 0.5).view(2, 1, 2)
    reward, terminated = t(1.0, 2.0).view(1, 2), t(0.0, 1.0).view(1, 2)
    next_log_pi, alpha = t(-0.5, 0.3).view(1, 2), t(0.2)
    plain = losses.bellman_target(reward, terminated, next_q, next_log_pi, alpha,
                                  gamma=0.9, backup_entropy=False)
    torch.testing.assert_close(plain, t(1.0 + 0.9 * 2.5, 2.0).view(1, 2))
    soft = losses.bellman_target(reward, terminated, next_q, next_log_pi, alpha,
                                 gamma=0.9, backup_entropy=True)
    torch.testing.assert_close(soft, t(1.0 + 0.9 * (2.5 + 0.2 * 0.5), 2.0).view(1, 2))


def test_actor_and_temperature_by_hand():
    q_pi = t(1.0, 4.0, 2.0, 3.0).view(2, 1, 2)  # min over twins: 1, 3
    log_pi, alpha = t(-1.0, 0.5).view(1, 2), t(0.5)
    actor, metrics = losses.sac_actor_loss(q_pi, log_pi, alpha)
    torch.testing.assert_close(actor, t(((0.5 * -1.0 - 1.0) + (0.5 * 0.5 - 3.0)) / 2))
    torch.testing.assert_close(metrics["entropy"], t(0.25))
    log_alpha = t(math.log(0.5))
    temp, _ = losses.temperature_loss(log_alpha, log_pi, target_entropy=-6.0)
    torch.testing.assert_close(temp, t(-math.log(0.5) * ((-1.0 - 6.0) + (0.5 - 6.0)) / 2))


def test_cql_critic_loss_by_hand():
    q_data = t(1.0, 2.0, 1.5, 0.5).view(2, 1, 2)
    target = t(0.5, 2.5).view(1, 2)
    q_sampled = t(0.1, 0.2, 0.3, -1.0, 0.0, 1.0, 0.4, 0.4, 0.4, 2.0, -2.0, 0.0).view(2, 1, 2, 3)
    log_mu = t(-4.0, -1.0, 0.5, -4.0, 2.0, -3.0).view(1, 2, 3)
    loss, metrics = losses.cql_critic_loss(q_data, target, q_sampled, log_mu, 10.0)
    expected = 0.0
    for q in range(2):
        bellman = 0.5 * sum((q_data[q, 0, i] - target[0, i]) ** 2 for i in range(2)) / 2
        gap = sum(
            math.log(sum(math.exp(q_sampled[q, 0, i, j] - log_mu[0, i, j]) for j in range(3)))
            - q_data[q, 0, i] for i in range(2)) / 2
        expected += bellman + 10.0 * gap
    torch.testing.assert_close(loss, t(expected))
    lagrange, _ = losses.cql_lagrange_loss(t(math.log(2.0)), metrics["cql_diff"], 10.0, -1.0)
    torch.testing.assert_close(lagrange, -2.0 * 10.0 * (metrics["cql_diff"] + 1.0))


def test_h2o_critic_loss_by_hand():
    q_real = t(1.0, 3.0, 2.0, 2.0).view(2, 1, 2)
    q_sim = t(0.5, 4.0, 1.0, -1.0).view(2, 1, 2)
    target_real, target_sim = t(2.0, 2.0).view(1, 2), t(1.0, 1.0).view(1, 2)
    w, u = t(0.5, 1.0).view(1, 2), t(3.0, 1.0).view(1, 2)
    log_omega = losses.gap_weights(u)
    torch.testing.assert_close(log_omega.exp(), t(0.75, 0.25).view(1, 2))
    loss, _ = losses.h2o_critic_loss(q_real, target_real, q_sim, target_sim, w, log_omega, 0.01)
    omega = [0.75, 0.25]
    expected = 0.0
    for q in range(2):
        penalty = math.log(sum(omega[i] * math.exp(q_sim[q, 0, i]) for i in range(2))) \
            - (q_real[q, 0, 0] + q_real[q, 0, 1]) / 2
        real = 0.5 * ((q_real[q, 0, 0] - 2.0) ** 2 + (q_real[q, 0, 1] - 2.0) ** 2) / 2
        sim = 0.5 * (0.5 * (q_sim[q, 0, 0] - 1.0) ** 2 + 1.0 * (q_sim[q, 0, 1] - 1.0) ** 2) / 2
        expected += 0.01 * penalty + real + sim
    torch.testing.assert_close(loss, t(expected))


def softmax_probs(logits):
    e = [math.exp(v) for v in logits]
    return [v / sum(e) for v in e]


def test_dynamics_ratio_gap_and_darc_by_hand():
    sa = t(0.3, -0.4)
    sas_samples = [t(1.0, -0.5), t(-0.2, 0.9), t(0.0, 0.1)]
    p_sa = softmax_probs(sa.tolist())

    def ratio(sas):  # H2O eq. 7: [p(real|s,a,s')/p(sim|s,a,s')] / [p(real|s,a)/p(sim|s,a)]
        p_sas = softmax_probs((sas + sa).tolist())
        return (p_sas[0] / p_sas[1]) / (p_sa[0] / p_sa[1])

    log_w = losses.log_dynamics_ratio(sa, sas_samples[0])
    torch.testing.assert_close(log_w, s(math.log(ratio(sas_samples[0]))))
    torch.testing.assert_close(losses.darc_reward_correction(log_w), log_w)
    w = losses.dynamics_ratio(log_w, (1e-5, 1.0))
    torch.testing.assert_close(w, s(min(1.0, max(1e-5, ratio(sas_samples[0])))))
    stacked = torch.stack([losses.log_dynamics_ratio(sa, s) for s in sas_samples])
    u = losses.dynamics_gap(stacked, (1e-45, 10.0))
    expected = sum(math.log(1.0 / ratio(s)) for s in sas_samples) / 3
    torch.testing.assert_close(u, s(min(10.0, max(1e-45, expected))))


@pytest.mark.parametrize(("log_ratio", "w", "u"), [(-30.0, 1e-5, 10.0), (5.0, 1.0, 1e-45)])
def test_ratio_and_gap_clips(log_ratio, w, u):
    value = torch.tensor([[log_ratio]])
    assert losses.dynamics_ratio(value, (1e-5, 1.0)).item() == pytest.approx(w)
    assert losses.dynamics_gap(value, (1e-45, 10.0)).item() == pytest.approx(u, abs=1e-45)


def test_discriminator_loss_is_cross_entropy():
    torch.manual_seed(0)
    sa_r, sa_s, sas_r, sas_s = (torch.randn(4, 2) for _ in range(4))
    loss, metrics = losses.discriminator_loss(sa_r, sa_s, sas_r, sas_s)
    ce = torch.nn.functional.cross_entropy
    zeros, ones = torch.zeros(4, dtype=torch.long), torch.ones(4, dtype=torch.long)
    expected_sa = ce(sa_r, zeros) + ce(sa_s, ones)
    expected_sas = ce(sas_r + sa_r, zeros) + ce(sas_s + sa_s, ones)
    torch.testing.assert_close(metrics["loss_sa"], expected_sa)
    torch.testing.assert_close(loss, expected_sa + expected_sas)


def test_uniform_log_density():
    assert losses.uniform_log_density(6) == pytest.approx(math.log(0.5 ** 6))
