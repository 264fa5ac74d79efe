"""An ensemble of L members computes what L single-member learners compute.

Member l of an ensemble and a one-member learner with the same member seed start
from bit-identical weights and draw the same noise; their losses and gradients on
the same rows agree to float32 rounding (the batched matmul sums in another order):
atol 1e-6 + rtol 1e-5, and their weights after a few Adam steps to atol 1e-5.
"""

from __future__ import annotations

import pytest
import torch

from mfhrl_fast.learners.state import slice_members

from learn_support import (
    batches_for,
    losses_and_grads,
    make_discriminators,
    make_learner,
    member_rows,
    params,
    random_batch,
)

KINDS = ["sac", "cql", "cql-lagrange", "h2o"]
SEEDS = [101, 202, 303]
ATOL, RTOL = 1e-6, 1e-5


def ensemble_and_singles(kind: str):
    disc = make_discriminators() if kind == "h2o" else None
    ens = make_learner(kind, len(SEEDS), member_seeds=SEEDS, discriminators=disc)
    singles = [make_learner(kind, 1, member_seeds=[s], discriminators=disc) for s in SEEDS]
    return ens, singles


def single_rows(batches: tuple[dict, ...], m: int) -> tuple[dict, ...]:
    return tuple(member_rows(b, m) for b in batches)


@pytest.mark.parametrize("kind", KINDS)
def test_members_start_from_their_own_seed(kind):
    ens, singles = ensemble_and_singles(kind)
    state = params(ens)
    for m, single in enumerate(singles):
        for name, value in params(single).items():
            expected = slice_members(name, state[name], [m], len(SEEDS))
            torch.testing.assert_close(value, expected, atol=0, rtol=0, msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_same_losses_and_gradients_as_single_members(kind):
    ens, singles = ensemble_and_singles(kind)
    batches = batches_for(kind, len(SEEDS), 16, seed=5)
    _, critic, grads = losses_and_grads(ens, *batches)
    assert critic.shape == (len(SEEDS),)
    for m, single in enumerate(singles):
        _, critic_m, grads_m = losses_and_grads(single, *single_rows(batches, m))
        torch.testing.assert_close(critic_m, critic[m:m + 1], atol=ATOL, rtol=RTOL)
        assert grads_m.keys() == grads.keys()
        for name, grad in grads_m.items():
            expected = slice_members(name, grads[name], [m], len(SEEDS))
            torch.testing.assert_close(grad, expected, atol=ATOL, rtol=RTOL, msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_training_matches_single_members(kind):
    ens, singles = ensemble_and_singles(kind)
    for step in range(3):
        batches = batches_for(kind, len(SEEDS), 16, seed=10 + step)
        metrics = ens.train_step(*batches)
        for m, single in enumerate(singles):
            single_metrics = single.train_step(*single_rows(batches, m))
            assert single_metrics["losses/critic"] == pytest.approx(
                metrics[f"losses/critic/{m}"], rel=1e-4, abs=1e-5)
    state = params(ens)
    for m, single in enumerate(singles):
        for name, value in params(single).items():
            expected = slice_members(name, state[name], [m], len(SEEDS))
            torch.testing.assert_close(value, expected, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_select_members_continues_like_the_member(kind):
    ens, _ = ensemble_and_singles(kind)
    ens.train_step(*batches_for(kind, len(SEEDS), 16, seed=1))
    picked = ens.select_members([2, 0])
    assert picked.num_members == 2 and picked.member_seeds == [SEEDS[2], SEEDS[0]]
    batches = batches_for(kind, len(SEEDS), 16, seed=2)
    ens.train_step(*batches)
    picked.train_step(*(({k: v[[2, 0]] for k, v in b.items()}) for b in batches))
    state = params(ens)
    for name, value in params(picked).items():
        expected = slice_members(name, state[name], [2, 0], len(SEEDS))
        torch.testing.assert_close(value, expected, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_metrics_per_member_or_float(kind):
    learner = make_learner(kind, 2)
    tensors = learner.train_step(*batches_for(kind, 2, 8, seed=0), as_float=False)
    assert all(isinstance(v, torch.Tensor) and not v.requires_grad for v in tensors.values())
    assert tensors["critic"].shape == (2,) and tensors["actor"].shape == (2,)
    floats = learner.train_step(*batches_for(kind, 2, 8, seed=1))
    assert all(isinstance(v, float) for v in floats.values())
    assert {"losses/critic", "losses/critic/0", "losses/critic/1", "losses/actor",
            "losses/alpha"} <= floats.keys()


def test_one_optimizer_step_updates_every_member():
    learner = make_learner("sac", 4)
    before = params(learner)
    learner.train_step(*batches_for("sac", 4, 8, seed=0))
    after = params(learner)
    for name in ("actor.weights.0", "critic.weights.0", "critic_target.weights.0", "log_alpha"):
        changed = (after[name] != before[name]).reshape(after[name].shape[0], -1).any(1)
        assert changed.all(), name
    assert learner.num_updates == 1


def test_critic_layer_norm_normalises_each_members_hidden_units():
    """critic_layer_norm: every hidden layer's pre-activations have zero mean and unit
    variance over the units (before the learned scale and shift; a shift of 10 keeps the
    ReLU from clipping them), member by member; the learner still trains and its state
    round-trips."""
    learner = make_learner("sac", 2, critic_layer_norm=True)
    net = learner.nets["critic"]
    assert net.layer_norm and len(net.norm_scales) == len(net.weights) - 1
    x = torch.randn(4, 7, 23)
    with torch.no_grad():
        h = torch.baddbmm(net.biases[0], x, net.weights[0])
        net.norm_shifts[0].fill_(10.0)
        normed = net._activate(h, 0, None, False)
        net.norm_shifts[0].zero_()
    torch.testing.assert_close(normed.mean(-1), torch.full((4, 7), 10.0), atol=1e-5, rtol=0)
    torch.testing.assert_close(normed.var(-1, unbiased=False), torch.ones(4, 7), atol=1e-3,
                               rtol=0)
    with torch.no_grad():
        net.weights[0][1].add_(1.0)  # member 1 changes; member 0's outputs must not
    before = net(x).detach()
    with torch.no_grad():
        net.norm_scales[0][1].mul_(3.0)
    after = net(x).detach()
    torch.testing.assert_close(after[0], before[0], rtol=0, atol=0)
    assert not torch.equal(after[1], before[1])
    batch = random_batch(2, 16, 0)
    first = learner.train_step(batch)
    assert all(torch.isfinite(torch.tensor(v)) for v in first.values())
    copy = make_learner("sac", 2, critic_layer_norm=True, seed=9)
    copy.load_state_dict(learner.state_dict())
    assert copy.train_step(batch) == learner.train_step(batch)
