"""CQL's and H2O's critic losses inside the learners, recomputed by hand (docs/algorithm.md).

One member, two transitions: the networks are re-evaluated with plain matrix
products from the learner's weights, the sampled actions and their densities
with torch.distributions, the dynamics ratio with H2O eq. 7's probability form.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal

from mfhrl_fast.learners import losses

from learn_support import ACT, OBS, make_discriminators, make_learner, random_batch


def mlp(net, m: int, x: torch.Tensor) -> torch.Tensor:
    """Member m of an EnsembleMLP with plain ops."""
    layers = list(zip(net.weights, net.biases, strict=True))
    for k, (w, b) in enumerate(layers):
        x = x @ w[m].detach() + b[m, 0].detach()
        if k < len(layers) - 1:
            x = torch.clamp(x, min=0.0)
    if net.output_bound:
        x = net.output_bound * torch.tanh(x)
    return x


def policy(learner, obs):
    out = mlp(learner.nets["actor"], 0, obs)
    mean, log_std = out[..., :ACT], out[..., ACT:]
    return mean, torch.clamp(log_std, learner.config.log_std_min, learner.config.log_std_max)


def squashed(mean, log_std, eps):
    """tanh(u), u = mean + std eps, and log pi via Normal.log_prob - log(1 - tanh(u)^2)."""
    u = mean + log_std.exp() * eps
    a = torch.tanh(u)
    return a, (Normal(mean, log_std.exp()).log_prob(u) - torch.log(1 - a**2)).sum(-1)


def twin_q(learner, net, obs, act):
    return [mlp(learner.nets[net], q, torch.cat([obs, act], -1))[..., 0] for q in range(2)]


def bellman_targets(learner, batch, noise_next):
    obs2 = torch.as_tensor(batch["next_obs"][0])
    a2, _ = squashed(*policy(learner, obs2), noise_next)
    q1, q2 = twin_q(learner, "critic_target", obs2, a2)
    r, d = torch.as_tensor(batch["reward"][0]), torch.as_tensor(batch["terminated"][0])
    return r + learner.config.gamma * (1 - d) * torch.minimum(q1, q2)


def learner_terms(learner, *batches):
    states = [g.get_state() for g in learner.generators["train"]]
    out = learner.compute_loss(*batches)
    return out.critic, out.noise, out.batch, states


def test_cql_critic_loss_in_the_learner():
    learner = make_learner("cql", 1, seed=4)  # n_actions = 3
    batch = random_batch(1, 2, seed=8)
    critic, noise, _, _ = learner_terms(learner, batch)
    n = learner.config.n_actions
    obs, act = torch.as_tensor(batch["obs"][0]), torch.as_tensor(batch["action"][0])
    target = bellman_targets(learner, batch, noise["next"][0])
    z = noise["cql"][0]  # (2, 3n, ACT)
    uniform = 2 * (0.5 * (1 + torch.erf(z[:, :n] / math.sqrt(2)))) - 1
    mean, log_std = policy(learner, obs)
    mean2, log_std2 = policy(learner, torch.as_tensor(batch["next_obs"][0]))
    a_pi, logp_pi = squashed(mean[:, None], log_std[:, None], z[:, n:2 * n])
    a_nx, logp_nx = squashed(mean2[:, None], log_std2[:, None], z[:, 2 * n:])
    sampled = torch.cat([uniform, a_pi, a_nx], 1)
    log_mu = torch.cat([torch.full((2, n), ACT * math.log(0.5)), logp_pi, logp_nx], 1)
    expected = 0.0
    for q in range(2):
        q_data = twin_q(learner, "critic", obs, act)[q]
        q_s = twin_q(learner, "critic", obs[:, None].expand(-1, 3 * n, -1), sampled)[q]
        bellman = 0.5 * ((q_data - target) ** 2).mean()
        gap = (torch.log(torch.exp(q_s - log_mu).sum(1)) - q_data).mean()
        expected = expected + bellman + learner.config.alpha_cql * gap
    torch.testing.assert_close(critic[0], expected, rtol=1e-5, atol=1e-5)


def test_h2o_critic_loss_in_the_learner():
    disc = make_discriminators()
    learner = make_learner("h2o", 1, seed=6, discriminators=disc)  # 4 next-state samples
    real, sim = random_batch(1, 2, seed=11), random_batch(1, 2, seed=12)
    critic, noise, data, states = learner_terms(learner, real, sim)
    c = learner.config
    # the gap's samples were the first draw of the member's training stream
    gen = torch.Generator().manual_seed(0)
    gen.set_state(states[0])
    z = torch.randn(2 * c.n_next_samples * OBS, generator=gen).view(2, c.n_next_samples, OBS)
    s, a, s2 = (torch.as_tensor(sim[k][0]) for k in ("obs", "action", "next_obs"))
    pair, sigma = disc.nets["0"], disc.nets.state_std

    def ratio_real_sim(s_next):  # [p(real|sas)/p(sim|sas)] / [p(real|sa)/p(sim|sa)]
        sa_logits = mlp(pair["sa"], 0, torch.cat([s, a], -1))
        sas_logits = mlp(pair["sas"], 0, torch.cat([s, a, s_next], -1)) + sa_logits
        p_sa, p_sas = torch.softmax(sa_logits, -1), torch.softmax(sas_logits, -1)
        return (p_sas[:, 0] / p_sas[:, 1]) / (p_sa[:, 0] / p_sa[:, 1])

    w = ratio_real_sim(s2).clamp(1e-5, 1.0)
    u = torch.stack([torch.log(1 / ratio_real_sim(s2 + sigma * z[:, j]))
                     for j in range(c.n_next_samples)], 1).mean(1).clamp(1e-45, 10.0)
    torch.testing.assert_close(data.ratio[0], w, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(data.gap[0], u, rtol=1e-4, atol=1e-6)
    omega = u / u.sum()
    # Bellman targets: the real rows then the sim rows, one noise draw over both
    both = {k: torch.cat([torch.as_tensor(real[k]), torch.as_tensor(sim[k])], 1)
            for k in ("next_obs", "reward", "terminated")}
    target = bellman_targets(learner, both, noise["next"][0])
    expected = 0.0
    for q in range(2):
        q_real = twin_q(learner, "critic", torch.as_tensor(real["obs"][0]),
                        torch.as_tensor(real["action"][0]))[q]
        q_sim = twin_q(learner, "critic", s, a)[q]
        penalty = torch.log((omega * torch.exp(q_sim)).sum()) - q_real.mean()
        bellman_real = 0.5 * ((q_real - target[:2]) ** 2).mean()
        bellman_sim = 0.5 * (w * (q_sim - target[2:]) ** 2).mean()
        expected = expected + c.beta * penalty + bellman_real + bellman_sim
    torch.testing.assert_close(critic[0], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("states", ["real", "all", "all-w"])
def test_h2o_retained_conservative_term_in_the_learner(states):
    """Online objective (ours): H2O's critic loss plus cql_weight times CQL(H)'s gap on the
    real rows ('real') or on every row ('all'; 'all-w' weights a simulated row by its w)."""
    disc = make_discriminators()
    weight = 2.0
    ours = make_learner("h2o", 1, seed=6, discriminators=disc, cql_weight=weight,
                        cql_states=states, cql_n_actions=3)
    faithful = make_learner("h2o", 1, seed=6, discriminators=disc)
    real, sim = random_batch(1, 2, seed=11), random_batch(1, 2, seed=12)
    critic, noise, data, _ = learner_terms(ours, real, sim)
    _, critic_h2o, _ = faithful._compute_losses(data, noise)
    rows = 2 if states == "real" else 4
    assert noise["cql"].shape == (1, rows, 9, ACT)
    obs, act = (torch.cat([torch.as_tensor(real[k][0]), torch.as_tensor(sim[k][0])])[:rows]
                for k in ("obs", "action"))
    next_obs = torch.cat([torch.as_tensor(real["next_obs"][0]),
                          torch.as_tensor(sim["next_obs"][0])])[:rows]
    row_weight = torch.ones(rows)
    if states == "all-w":
        row_weight[2:] = data.ratio[0]
    n, z = 3, noise["cql"][0]
    uniform = 2 * (0.5 * (1 + torch.erf(z[:, :n] / math.sqrt(2)))) - 1
    mean, log_std = policy(ours, obs)
    mean2, log_std2 = policy(ours, next_obs)
    a_pi, logp_pi = squashed(mean[:, None], log_std[:, None], z[:, n:2 * n])
    a_nx, logp_nx = squashed(mean2[:, None], log_std2[:, None], z[:, 2 * n:])
    sampled = torch.cat([uniform, a_pi, a_nx], 1)
    log_mu = torch.cat([torch.full((rows, n), ACT * math.log(0.5)), logp_pi, logp_nx], 1)
    expected = 0.0
    for q in range(2):
        q_data = twin_q(ours, "critic", obs, act)[q]
        q_s = twin_q(ours, "critic", obs[:, None].expand(-1, 3 * n, -1), sampled)[q]
        gap = torch.log(torch.exp(q_s - log_mu).sum(1)) - q_data
        expected = expected + (row_weight * gap).mean()
    torch.testing.assert_close(critic[0] - critic_h2o[0], weight * expected, rtol=1e-4,
                               atol=1e-5)


def _actor_grads(learner, real, sim):
    learner.optimizer.zero_grad(set_to_none=True)
    learner.compute_loss(real, sim).total.backward()
    return [p.grad.clone() for p in learner.nets["actor"].parameters()]


def test_h2o_actor_states_real_ignores_the_simulated_states():
    """actor_states='real': the actor's gradient depends on the real states only (the
    simulated batch still shapes the critic); with H2O's 'all' it does not."""
    disc = make_discriminators()
    real = random_batch(1, 4, seed=21)
    sims = [random_batch(1, 4, seed=22), random_batch(1, 4, seed=23)]
    for states, same in (("real", True), ("all", False)):
        grads = [_actor_grads(make_learner("h2o", 1, seed=6, discriminators=disc,
                                           actor_states=states), real, sim) for sim in sims]
        equal = all(torch.equal(a, b) for a, b in zip(*grads, strict=True))
        assert equal is same, states


def test_h2o_actor_states_w_is_the_ratio_weighted_mean():
    """actor_states='all-w': per member, sum_i w_i x_i / sum_i w_i over the states, w = 1
    on the real rows and the dynamics ratio on the simulated ones."""
    disc = make_discriminators()
    real, sim = random_batch(1, 3, seed=31), random_batch(1, 3, seed=32)
    weighted = make_learner("h2o", 1, seed=6, discriminators=disc, actor_states="all-w")
    out = weighted.compute_loss(real, sim)
    w = torch.cat([torch.ones(3), out.batch.ratio[0]])
    torch.testing.assert_close(out.batch.actor_weight[0], w)
    mean, log_std = policy(weighted, out.batch.pi_obs[0])
    a, log_pi = squashed(mean, log_std, out.noise["pi"][0])
    q = torch.minimum(*twin_q(weighted, "critic", out.batch.pi_obs[0], a))
    alpha = weighted.nets.log_alpha.exp().detach()[0]
    expected = (w * (alpha * log_pi - q)).sum() / w.sum()
    torch.testing.assert_close(out.metrics["actor"][0], expected, rtol=1e-5, atol=1e-5)
    # w clipped to 1 everywhere: the weighted mean is H2O's plain mean
    ones = make_learner("h2o", 1, seed=6, discriminators=disc, actor_states="all-w",
                        ratio_clip=(1.0, 1.0))
    plain = make_learner("h2o", 1, seed=6, discriminators=disc, ratio_clip=(1.0, 1.0))
    torch.testing.assert_close(ones.compute_loss(real, sim).total,
                               plain.compute_loss(real, sim).total)


def test_h2o_actor_states_bad_value():
    from mfhrl_fast.learners import H2OConfig

    with pytest.raises(ValueError, match="actor_states"):
        H2OConfig(actor_states="sim")


def test_gaussian_kl_matches_torch_distributions():
    from torch.distributions import Independent, kl_divergence

    from mfhrl_fast.learners.losses import gaussian_kl

    g = torch.Generator().manual_seed(3)
    m1, s1, m2, s2 = (torch.randn(4, 5, ACT, generator=g) for _ in range(4))
    expected = kl_divergence(Independent(Normal(m1, s1.exp()), 1),
                             Independent(Normal(m2, s2.exp()), 1))
    torch.testing.assert_close(gaussian_kl(m1, s1, m2, s2), expected, rtol=1e-5, atol=1e-5)
    assert torch.all(gaussian_kl(m1, s1, m1, s1).abs() < 1e-6)


def test_trust_region_adds_lambda_kl_to_the_reference_actor():
    """trust_region = lambda: the total loss is SAC's plus lambda E_s KL(pi || pi_ref), with
    pi_ref a frozen copy synced to the actor (KL 0 at first) that trails it at
    trust_region_rate, or stays put at rate 0."""
    real, sim = random_batch(2, 6, seed=41), random_batch(2, 6, seed=42)
    disc = make_discriminators()
    plain = make_learner("h2o", 2, seed=6, discriminators=disc)
    tr = make_learner("h2o", 2, seed=6, discriminators=disc, trust_region=2.0,
                      trust_region_rate=0.0)
    assert "actor_ref" not in plain.nets and not any(
        p.requires_grad for p in tr.nets["actor_ref"].parameters())
    torch.testing.assert_close(tr.compute_loss(real, sim).total,
                               plain.compute_loss(real, sim).total)  # KL = 0 at the sync
    for step in range(3):
        tr.train_step(random_batch(2, 6, seed=step), random_batch(2, 6, seed=9 + step))
    ref = [p.clone() for p in tr.nets["actor_ref"].parameters()]
    assert all(torch.equal(a, b)
               for a, b in zip(ref, plain.nets["actor"].parameters(), strict=True))
    out = tr.compute_loss(real, sim)
    obs = out.batch.pi_obs
    with torch.no_grad():
        mean, log_std = tr._policy(obs)
        ref_mean, ref_log_std = tr._policy(obs, net="actor_ref")
    from mfhrl_fast.learners.losses import gaussian_kl

    kl = gaussian_kl(mean, log_std, ref_mean, ref_log_std).mean(-1)
    assert torch.all(kl > 0)
    torch.testing.assert_close(out.metrics["kl_ref"], kl)
    with torch.no_grad():
        total = tr._compute_losses(out.batch, out.noise)[0]
        tr.sync_averaged_actor()  # pi_ref := pi: the same loss without the KL
        torch.testing.assert_close(total - tr._compute_losses(out.batch, out.noise)[0],
                                   2.0 * kl.sum())
    moving = make_learner("h2o", 2, seed=6, discriminators=disc, trust_region=2.0,
                          trust_region_rate=0.25)
    before = [p.clone() for p in moving.nets["actor_ref"].parameters()]
    moving.train_step(real, sim)
    for b, r, a in zip(before, moving.nets["actor_ref"].parameters(),
                       moving.nets["actor"].parameters(), strict=True):
        torch.testing.assert_close(r, b + 0.25 * (a - b))


def test_trust_region_weight_anneals_linearly_to_zero():
    """trust_region_decay_steps = 4: lambda is 1.5 (1 - t / 4) at update t (PROTO-style
    annealing), logged as trust_region; the KL is still logged once lambda is 0."""
    from mfhrl_fast.learners.config import annealed

    assert annealed(2.0, 0, 10**6) == 2.0 and annealed(2.0, 4, 1) == 1.5
    assert annealed(2.0, 4, 9) == 0.0
    learner = make_learner("h2o", 2, seed=1, trust_region=1.5, trust_region_decay_steps=4)
    seen = [learner.train_step(random_batch(2, 6, seed=i), random_batch(2, 6, seed=20 + i))
            for i in range(6)]
    assert [m["losses/trust_region"] for m in seen] == [1.5, 1.125, 0.75, 0.375, 0.0, 0.0]
    assert all("losses/kl_ref" in m for m in seen)


def test_trust_region_std_floor_prices_mean_moves_at_the_floor():
    """trust_region_std_floor = f: the KL is that of the two Gaussians with their std raised
    to f, so a mean move d of a policy with std s < f costs (d / f)^2 / 2 instead of
    (d / s)^2 / 2 (per dim), the std below f is free, and floor 0 is the exact KL."""
    from mfhrl_fast.learners.losses import floored_log_std, gaussian_kl

    def floored_std(mean, log_std, ref_mean, ref_log_std, *, floor):
        return (mean, floored_log_std(log_std, floor), ref_mean,
                floored_log_std(ref_log_std, floor))

    mean, ref_mean = torch.full((1, 1, ACT), 0.2), torch.zeros(1, 1, ACT)
    small, tiny = torch.full((1, 1, ACT), math.log(0.09)), torch.full((1, 1, ACT), -4.0)
    exact = gaussian_kl(mean, small, ref_mean, small)
    floored = gaussian_kl(*floored_std(mean, small, ref_mean, small, floor=0.3))
    torch.testing.assert_close(exact, torch.full((1, 1), ACT * 0.5 * (0.2 / 0.09) ** 2))
    torch.testing.assert_close(floored, torch.full((1, 1), ACT * 0.5 * (0.2 / 0.3) ** 2))
    torch.testing.assert_close(gaussian_kl(*floored_std(mean, tiny, ref_mean, small,
                                                        floor=0.3)), floored)
    assert floored_log_std(tiny, 0.0) is tiny
    # in the learner: the logged KL is the floored one
    real, sim = random_batch(2, 6, seed=41), random_batch(2, 6, seed=42)
    tr = make_learner("h2o", 2, seed=6, discriminators=make_discriminators(), trust_region=1.0,
                      trust_region_std_floor=3.0)  # above the fresh actor's std ~1
    for step in range(3):
        tr.train_step(random_batch(2, 6, seed=step), random_batch(2, 6, seed=9 + step))
    out = tr.compute_loss(real, sim)
    with torch.no_grad():
        args = (*tr._policy(out.batch.pi_obs), *tr._policy(out.batch.pi_obs, net="actor_ref"))
    torch.testing.assert_close(out.metrics["kl_ref"],
                               gaussian_kl(*floored_std(*args, floor=3.0)).mean(-1))
    assert not torch.allclose(out.metrics["kl_ref"], gaussian_kl(*args).mean(-1))


def test_trust_region_std_floor_bad_value():
    from mfhrl_fast.learners import H2OConfig

    with pytest.raises(ValueError, match="trust_region_std_floor"):
        H2OConfig(trust_region_std_floor=-0.1)


def test_calibrated_q_bounds_the_policy_actions_only():
    q = torch.tensor([1.0, -5.0, 2.0, -3.0, 7.0]).expand(2, 1, 1, 5).clone().requires_grad_()
    reference = torch.tensor([[0.0]])
    out = losses.calibrated_q(q, reference, 2)  # the data action and one uniform stay
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([1.0, -5.0, 2.0, 0.0, 7.0]))
    out.sum().backward()  # a bound that holds passes no gradient to its Q
    torch.testing.assert_close(q.grad[0, 0, 0], torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0]))


def test_calibrated_cql_in_the_learner():
    batch = random_batch(2, 6, seed=8)
    plain = make_learner("cql", 2, seed=4)
    low = make_learner("cql", 2, seed=4, calibrated=True)
    high = make_learner("cql", 2, seed=4, calibrated=True)
    base = learner_terms(plain, batch)[0]
    # a reference below every Q binds nothing: exactly CQL
    torch.testing.assert_close(learner_terms(low, batch | {"return_to_go": np.full(6, -1e6)})[0],
                               base)
    # one above them lifts the policy actions' Q in the conservative term: a larger gap
    out = high.compute_loss(batch | {"return_to_go": np.full((2, 6), 50.0, np.float32)})
    assert (out.critic > base + 1.0).all()
    assert out.batch.return_to_go.shape == (2, 6)
    with pytest.raises(KeyError, match="return_to_go"):
        high.train_step(batch)
