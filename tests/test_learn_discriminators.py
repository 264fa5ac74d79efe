"""Discriminators per fidelity (H2O eq. 7, DARC): separation, fidelity routing, DARC, state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfhrl_fast import FidelitySpec, ReplayRing, SimPool
from mfhrl_fast.learners import DiscriminatorConfig, FidelityDiscriminators

from learn_support import ACT, OBS, SMALL, make_discriminators, make_learner, random_batch


def random_action_data(spec: FidelitySpec, seed: int, steps: int = 1000,
                       envs: int = 32) -> ReplayRing:
    """``steps`` pool steps of uniform random actions in ``spec``, stored in a ring."""
    ring = ReplayRing(capacity=steps * envs, obs_dim=OBS, act_dim=ACT, seed=seed)
    pool = SimPool(fidelities=[spec], num_envs=envs, num_threads=2, seed=seed)
    pool.reset()
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        pool.step(rng.uniform(-1, 1, (envs, ACT)), replay=ring)
    return ring


def copy(batch) -> dict:
    return {k: np.array(v) for k, v in batch.items()}


def test_separates_double_gravity_from_the_true_dynamics():
    """Held-out accuracy of p(.|s,a,s') > 0.9 after 1500 steps (about 5 s): 128-128 networks
    and Adam 1e-3 keep it short; the input noise is H2O's 0.1."""
    real, sim = random_action_data(FidelitySpec(), 1), random_action_data(
        FidelitySpec(gravity_scale=2.0), 2)
    real_test, sim_test = random_action_data(FidelitySpec(), 3, 100), random_action_data(
        FidelitySpec(gravity_scale=2.0), 4, 100)
    disc = FidelityDiscriminators(OBS, ACT, [2], DiscriminatorConfig(hidden_sizes=(128, 128),
                                  lr=1e-3), seed=0, device="cpu")
    disc.set_real_states(real.sample(5000)["obs"])
    held_out = copy(real_test.sample(2000)), copy(sim_test.sample(2000))
    before = disc.accuracy(2, *held_out)
    for _ in range(1500):
        metrics = disc.train_step(2, real.sample(512), sim.sample(512))
    after = disc.accuracy(2, *held_out)
    assert before["acc_sas"] < 0.7
    assert after["acc_sas"] > 0.9, after
    assert metrics["disc/loss_sas"] < 1.0
    # the dynamics ratio says real transitions are more likely real than simulated ones
    log_w_real = disc.log_ratio(*(held_out[0][k] for k in ("obs", "action", "next_obs")), 2)
    log_w_sim = disc.log_ratio(*(held_out[1][k] for k in ("obs", "action", "next_obs")), 2)
    assert log_w_real.median() > 0 > log_w_sim.median()


def test_mixed_fidelity_batch_uses_each_transitions_own_pair():
    disc = make_discriminators(fidelities=(0, 3))
    batch = random_batch(None, 12, seed=0, fidelity=np.array([0, 3] * 6))
    noise = torch.randn(12, 4, OBS, generator=torch.Generator().manual_seed(0))
    tensors = {k: torch.as_tensor(batch[k]) for k in ("obs", "action", "next_obs")}
    w, u = disc.ratio_and_gap(tensors["obs"], tensors["action"], tensors["next_obs"], noise,
                              batch["fidelity"], ratio_clip=(1e-5, 1.0), gap_clip=(1e-45, 10.0))
    for k in (0, 3):
        rows = batch["fidelity"] == k
        rows_k = (tensors[key][rows] for key in ("obs", "action", "next_obs"))
        w_k, u_k = disc.ratio_and_gap(*rows_k, noise[rows], k, ratio_clip=(1e-5, 1.0),
                                      gap_clip=(1e-45, 10.0))
        torch.testing.assert_close(w[rows], w_k)
        torch.testing.assert_close(u[rows], u_k)
    assert not torch.allclose(w[batch["fidelity"] == 0], w[batch["fidelity"] == 3])
    log_w = disc.log_ratio(batch["obs"], batch["action"], batch["next_obs"], batch["fidelity"])
    torch.testing.assert_close(w, log_w.exp().clamp(1e-5, 1.0))


def test_darc_reward_correction_is_the_log_ratio():
    disc = make_discriminators()
    batch = random_batch(None, 8, seed=1)
    args = (batch["obs"], batch["action"], batch["next_obs"])
    torch.testing.assert_close(disc.reward_correction(*args), disc.log_ratio(*args, 0))


def test_darc_batch_trains_sac_on_corrected_rewards():
    disc = make_discriminators(fidelities=(0, 1))
    batch = random_batch(2, 8, seed=3, fidelity=np.array([0, 1] * 4))
    darc = disc.darc_batch(batch)
    flat = {k: batch[k].reshape(16, -1) for k in ("obs", "action", "next_obs")}
    expected = batch["reward"].reshape(-1) + disc.log_ratio(
        flat["obs"], flat["action"], flat["next_obs"], batch["fidelity"].reshape(-1)).numpy()
    np.testing.assert_allclose(darc["reward"].numpy().reshape(-1), expected, rtol=1e-6)
    assert darc["obs"] is batch["obs"]
    assert np.isfinite(list(make_learner("sac", 2).train_step(darc).values())).all()


def test_training_only_moves_its_own_fidelity():
    disc = FidelityDiscriminators(OBS, ACT, [0, 1], DiscriminatorConfig(hidden_sizes=SMALL),
                                  device="cpu")
    before = {k: v.clone() for k, v in disc.nets.state_dict().items()}
    disc.train_step(1, random_batch(None, 16, 0), random_batch(None, 16, 1))
    after = disc.nets.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("0."))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("1."))
    assert disc.num_updates == {0: 0, 1: 1}


def test_state_round_trip_resumes_identically():
    disc = make_discriminators(fidelities=(0, 1))
    state = disc.state_dict()
    copy_ = make_discriminators(fidelities=(0, 1), seed=77)
    copy_.load_state_dict(state)
    for d in (disc, copy_):
        d.train_step(1, random_batch(None, 16, 5), random_batch(None, 16, 6))
    for k, v in disc.nets.state_dict().items():
        assert torch.equal(v, copy_.nets.state_dict()[k]), k


def test_errors():
    with pytest.raises(ValueError, match="fidelity_ids"):
        FidelityDiscriminators(OBS, ACT, [], device="cpu")
    disc = make_discriminators(fidelities=(0, 1))
    batch = random_batch(None, 4, 0)
    with pytest.raises(KeyError, match="no discriminators for fidelity 5"):
        disc.train_step(5, batch, batch)
    with pytest.raises(KeyError, match="missing 'next_obs'"):
        disc.train_step(0, {k: batch[k] for k in ("obs", "action")}, batch)
    with pytest.raises(ValueError, match="must end in dimension 17"):
        disc.train_step(0, {**batch, "obs": batch["obs"][:, :5]}, batch)
    with pytest.raises(ValueError, match="needs fidelity ids"):
        disc.log_ratio(batch["obs"], batch["action"], batch["next_obs"])
    with pytest.raises(ValueError, match="need 4 integer fidelity ids"):
        disc.log_ratio(batch["obs"], batch["action"], batch["next_obs"], np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="at least 2 finite"):
        disc.set_real_states(batch["obs"][:1])
    with pytest.raises(ValueError, match="other fidelities"):
        make_discriminators(fidelities=(0,)).load_state_dict(disc.state_dict())
