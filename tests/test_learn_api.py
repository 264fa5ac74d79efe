"""Learner API: device, batches, act, member_losses, seeding, configs and input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfhrl_fast.learners import (
    CQLConfig,
    DiscriminatorConfig,
    EnsembleH2O,
    EnsembleSAC,
    H2OConfig,
    SACConfig,
    metrics_to_floats,
    set_seed,
)
from mfhrl_fast.learners.base import default_device

from learn_support import ACT, OBS, batches_for, make_discriminators, make_learner, random_batch


def test_device_option_on_cpu():
    assert default_device() == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    learner = EnsembleSAC(OBS, ACT, num_members=2, device="cpu")
    assert learner.device == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in learner.nets.parameters())
    assert all(g.device.type == "cpu" for g in learner.generators["train"])
    metrics = learner.train_step(random_batch(2, 8, 0))
    assert np.isfinite(list(metrics.values())).all()
    with pytest.raises(RuntimeError):
        EnsembleSAC(OBS, ACT, device="no-such-device")


@pytest.mark.parametrize("kind", ["sac", "cql", "h2o"])
def test_numpy_and_torch_batches_agree(kind):
    batches = batches_for(kind, 2, 8, seed=0)
    a, b = make_learner(kind, 2), make_learner(kind, 2)
    as_numpy = a.train_step(*batches)
    as_torch = b.train_step(*({k: torch.from_numpy(v) for k, v in x.items()} for x in batches))
    assert as_numpy == as_torch


def test_a_batch_without_member_axis_is_shared():
    shared = random_batch(None, 8, 0)
    stacked = {k: np.stack([v, v]) for k, v in shared.items()}
    a, b = make_learner("sac", 2), make_learner("sac", 2)
    assert a.train_step(shared) == b.train_step(stacked)


def test_act_shapes_members_and_determinism():
    learner = make_learner("sac", 3)
    obs = random_batch(None, 6, 1)["obs"]
    members = np.array([0, 2, 1, 1, 0, 2])
    det = learner.act(obs, member=members, deterministic=True)
    assert det.shape == (6, ACT) and det.dtype == np.float32
    for m in range(3):  # one call with a member per row = one call per member
        np.testing.assert_allclose(det[members == m],
                                   learner.act(obs[members == m], member=m, deterministic=True),
                                   rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(det, learner.act(obs, member=members, deterministic=True))
    first, second = learner.act(obs, member=members), learner.act(obs, member=members)
    assert (np.abs(first) <= 1).all() and not np.array_equal(first, second)
    single = learner.act(obs[0], member=1)
    assert single.shape == (ACT,)
    as_tensor = learner.act(torch.from_numpy(obs), member=0, deterministic=True)
    assert isinstance(as_tensor, torch.Tensor) and as_tensor.shape == (6, ACT)
    assert learner.act(obs[:0], member=0).shape == (0, ACT)


def test_act_draws_each_members_noise_from_its_own_stream():
    a, b = make_learner("sac", 2, seed=5), make_learner("sac", 2, seed=5)
    obs = random_batch(None, 4, 2)["obs"]
    both = a.act(obs, member=[0, 1, 0, 1])
    only_0 = b.act(obs[[0, 2]], member=0)
    only_1 = b.act(obs[[1, 3]], member=1)
    np.testing.assert_allclose(both[[0, 2]], only_0, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(both[[1, 3]], only_1, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["cql", "h2o"])
def test_member_losses_do_not_disturb_training(kind):
    a, b = make_learner(kind, 3, seed=2), make_learner(kind, 3, seed=2)
    scored = a.member_losses(*batches_for(kind, None, 16, seed=7))
    assert scored.shape == (3,) and scored.dtype == np.float64 and np.isfinite(scored).all()
    assert len(set(scored.tolist())) == 3  # members differ
    batches = batches_for(kind, 3, 16, seed=8)
    assert a.train_step(*batches) == b.train_step(*batches)


def test_set_seed():
    set_seed(3)
    a = (np.random.rand(), torch.rand(2))
    set_seed(3)
    b = (np.random.rand(), torch.rand(2))
    assert a[0] == b[0] and torch.equal(a[1], b[1])
    set_seed(3, deterministic_torch=True)
    assert torch.are_deterministic_algorithms_enabled()
    set_seed(3)
    assert not torch.are_deterministic_algorithms_enabled()
    with pytest.raises(ValueError, match="seed"):
        set_seed(-1)


def test_metrics_to_floats():
    out = metrics_to_floats({"a": torch.tensor(2.0), "b": torch.tensor([1.0, 3.0]), "c": 4}, "x/")
    assert out == {"x/a": 2.0, "x/b": 2.0, "x/b/0": 1.0, "x/b/1": 3.0, "x/c": 4.0}


@pytest.mark.parametrize(("config", "match"), [
    (lambda: SACConfig(actor_lr=0.0), "actor_lr"),
    (lambda: SACConfig(gamma=1.5), "gamma"),
    (lambda: SACConfig(tau=float("nan")), "tau"),
    (lambda: SACConfig(hidden_sizes=()), "hidden_sizes"),
    (lambda: SACConfig(log_std_min=3.0), "log_std_min"),
    (lambda: SACConfig(alpha_lr=-1.0), "alpha_lr"),
    (lambda: CQLConfig(n_actions=0), "n_actions"),
    (lambda: H2OConfig(ratio_clip=(1.0, 0.5)), "ratio_clip"),
    (lambda: H2OConfig(n_next_samples=0), "n_next_samples"),
    (lambda: DiscriminatorConfig(noise_std=-0.1), "noise_std"),
    (lambda: SACConfig(actor_lr="fast"), "actor_lr"),
])
def test_config_errors(config, match):
    with pytest.raises((ValueError, TypeError), match=match):
        config()


def test_bad_inputs():
    learner = make_learner("sac", 2)
    good = random_batch(2, 8, 0)
    cases = [
        ({k: v for k, v in good.items() if k != "reward"}, KeyError, "missing 'reward'"),
        ({**good, "obs": good["obs"][..., :5]}, ValueError, "obs"),
        ({**good, "obs": good["obs"][:1]}, ValueError, "1 members, the learner 2"),
        ({**good, "reward": good["reward"][:, :4]}, ValueError, "4 transitions, not 8"),
        ({**good, "action": good["action"].astype(str)}, TypeError, "numeric"),
        ({**good, "reward": good["reward"][:, :0], "obs": good["obs"][:, :0],
          "action": good["action"][:, :0], "next_obs": good["next_obs"][:, :0],
          "terminated": good["terminated"][:, :0]}, ValueError, "empty"),
        ([1, 2, 3], TypeError, "mapping"),
    ]
    for batch, error, match in cases:
        with pytest.raises(error, match=match):
            learner.train_step(batch)
    with pytest.raises(TypeError, match="one batch"):
        learner.train_step(good, good)
    with pytest.raises(ValueError, match="obs must be shaped"):
        learner.act(np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match="member ids"):
        learner.act(np.zeros((3, OBS), np.float32), member=2)
    with pytest.raises(ValueError, match="3 ints"):
        learner.act(np.zeros((3, OBS), np.float32), member=[0, 1])
    with pytest.raises(TypeError, match="member"):
        learner.act(np.zeros((3, OBS), np.float32), member=0.5)
    with pytest.raises(ValueError, match=">= 1"):
        EnsembleSAC(OBS, ACT, num_members=0)
    with pytest.raises(ValueError, match="member_seeds"):
        EnsembleSAC(OBS, ACT, num_members=2, member_seeds=[1])
    with pytest.raises(TypeError, match="SACConfig"):
        EnsembleSAC(OBS, ACT, config=DiscriminatorConfig())
    with pytest.raises(ValueError, match="mean and std"):
        learner.set_obs_normalization(np.zeros(3), np.ones(3))


def test_h2o_bad_inputs():
    disc = make_discriminators(fidelities=(0, 1))
    h2o = make_learner("h2o", 2, discriminators=disc)
    real, sim = random_batch(2, 8, 0), random_batch(2, 8, 1, fidelity=1)
    assert np.isfinite(list(h2o.train_step(real, sim).values())).all()
    with pytest.raises(TypeError, match="a real and a sim batch"):
        h2o.train_step(real)
    with pytest.raises(KeyError, match="fidelity 7"):
        h2o.train_step(real, {**sim, "fidelity": np.full((2, 8), 7, np.uint8)})
    with pytest.raises(ValueError, match="needs fidelity ids"):
        h2o.train_step(real, {k: v for k, v in sim.items() if k != "fidelity"})
    with pytest.raises(TypeError, match="integers"):
        h2o.train_step(real, {**sim, "fidelity": sim["fidelity"].astype(np.float32)})
    with pytest.raises(TypeError, match="FidelityDiscriminators"):
        EnsembleH2O(OBS, ACT, object(), device="cpu")
    with pytest.raises(ValueError, match="obs_dim"):
        EnsembleH2O(OBS + 1, ACT, disc, device="cpu")


@pytest.mark.parametrize("kind", ["sac", "cql", "h2o"])
def test_compute_loss_is_the_update_without_its_step(kind):
    """compute_loss returns typed inputs and outputs; backward + Adam step on its total
    reproduces train_step exactly (same random streams, same weights after)."""
    from mfhrl_fast.learners.loss_types import LossBatch, LossOutput

    a, b = make_learner(kind, 2), make_learner(kind, 2)
    batches = batches_for(kind, 2, 16, seed=5)
    out = b.compute_loss(*batches)
    assert isinstance(out, LossOutput) and isinstance(out.batch, LossBatch)
    assert out.total.ndim == 0 and out.total.requires_grad and out.critic.shape == (2,)
    assert not out.critic.requires_grad and "pi" in out.noise
    assert (out.batch.ratio is not None) == (kind == "h2o")
    b.optimizer.zero_grad(set_to_none=True)
    out.total.backward()
    b.optimizer.step()
    a.train_step(*batches)
    for (name, p), q in zip(a.nets.named_parameters(), b.nets.parameters(), strict=True):
        if name.startswith(("actor.", "critic.")):
            torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)
