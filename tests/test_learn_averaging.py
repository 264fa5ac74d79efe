"""The averaged actor (``policy_averaging``): a Polyak copy of the actor that ``act`` can use."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learn_support import batches_for, make_learner


def _actor(learner, net: str) -> list[torch.Tensor]:
    return [p.detach().clone() for p in learner.nets[net].parameters()]


@pytest.mark.parametrize("kind", ["sac", "h2o"])
def test_averaged_actor_follows_the_actor_by_its_polyak_rate(kind):
    rate = 0.25
    learner = make_learner(kind, 2, seed=1, policy_averaging=rate)
    for a, b in zip(_actor(learner, "actor"), _actor(learner, "actor_avg"), strict=True):
        assert torch.equal(a, b)  # starts as the actor
    batches = batches_for(kind, 2, 32, seed=2)
    avg_before = _actor(learner, "actor_avg")
    learner.train_step(*batches)
    expected = [(1 - rate) * b + rate * a
                for a, b in zip(_actor(learner, "actor"), avg_before, strict=True)]
    for got, want in zip(_actor(learner, "actor_avg"), expected, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-7)
    assert not any(torch.equal(a, b) for a, b in zip(_actor(learner, "actor"),
                                                    _actor(learner, "actor_avg"), strict=True))
    obs = np.random.default_rng(0).normal(size=(4, 17)).astype(np.float32)
    live = learner.act(obs, member=[0, 1, 0, 1], deterministic=True)
    averaged = learner.act(obs, member=[0, 1, 0, 1], deterministic=True, averaged=True)
    assert averaged.shape == live.shape and not np.allclose(averaged, live)
    learner.sync_averaged_actor()
    np.testing.assert_array_equal(learner.act(obs, member=[0, 1, 0, 1], deterministic=True,
                                              averaged=True), live)


def test_averaged_actor_is_saved_sliced_and_checked():
    learner = make_learner("sac", 3, seed=4, policy_averaging=0.1)
    learner.train_step(*batches_for("sac", 3, 16, seed=5))
    state = learner.state_dict()
    assert "actor_avg.weights.0" in state["nets"]
    copy = make_learner("sac", 3, seed=9, policy_averaging=0.1)
    copy.load_state_dict(state)
    obs = np.zeros((2, 17), np.float32)
    np.testing.assert_array_equal(copy.act(obs, member=2, averaged=True, deterministic=True),
                                  learner.act(obs, member=2, averaged=True, deterministic=True))
    single = learner.select_members([2])
    np.testing.assert_array_equal(single.act(obs, averaged=True, deterministic=True),
                                  learner.act(obs, member=2, averaged=True, deterministic=True))
    plain = make_learner("sac", 1)
    assert "actor_avg" not in plain.nets
    with pytest.raises(ValueError, match="policy_averaging > 0"):
        plain.act(obs, averaged=True)
    with pytest.raises(ValueError, match="policy_averaging must be in"):
        make_learner("sac", 1, policy_averaging=1.5)
