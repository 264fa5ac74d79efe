"""state_dict round trips resume training bit-identically on the CPU."""

from __future__ import annotations

import pytest
import torch

from learn_support import batches_for, make_discriminators, make_learner, params, random_batch

KINDS = ["sac", "cql", "cql-lagrange", "h2o"]


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_resumes_bit_identically(kind, tmp_path):
    disc = make_discriminators() if kind == "h2o" else None
    learner = make_learner(kind, 2, seed=1, discriminators=disc)
    for step in range(3):
        learner.train_step(*batches_for(kind, 2, 16, seed=step))
    torch.save(learner.state_dict(), tmp_path / "learner.pt")
    state = torch.load(tmp_path / "learner.pt", weights_only=True)

    def continue_(agent):
        metrics = [agent.train_step(*batches_for(kind, 2, 16, seed=10 + s)) for s in range(3)]
        obs = random_batch(None, 5, 3)["obs"]
        return (metrics, agent.act(obs, member=[0, 1, 1, 0, 1]), agent.member_losses(
            *batches_for(kind, None, 8, seed=4)), params(agent), agent.num_updates)

    first = continue_(learner)
    other_disc = make_discriminators(seed=42) if kind == "h2o" else None
    resumed = make_learner(kind, 2, seed=999, discriminators=other_disc)
    resumed.load_state_dict(state)
    second = continue_(resumed)
    assert first[0] == second[0]
    assert (first[1] == second[1]).all() and (first[2] == second[2]).all()
    assert first[3].keys() == second[3].keys()
    for name in first[3]:
        assert torch.equal(first[3][name], second[3][name]), name
    assert first[4] == second[4] == 6


def test_state_dict_is_a_snapshot():
    learner = make_learner("sac", 1)
    state = learner.state_dict()
    before = state["nets"]["actor.weights.0"].clone()
    learner.train_step(*batches_for("sac", 1, 8, seed=0))
    assert torch.equal(state["nets"]["actor.weights.0"], before)
    assert state["num_updates"] == 0 and learner.num_updates == 1


def test_load_rejects_other_learners():
    state = make_learner("sac", 2).state_dict()
    with pytest.raises(ValueError, match="class"):
        make_learner("cql", 2).load_state_dict(state)
    with pytest.raises(ValueError, match="num_members"):
        make_learner("sac", 3).load_state_dict(state)
    with pytest.raises(ValueError, match="different config"):
        make_learner("sac", 2, gamma=0.5).load_state_dict(state)


def test_load_accepts_a_state_older_than_a_config_field():
    """A state saved before a config field existed ran with that field's default: it loads
    into a learner at the default and is refused by one that sets the field otherwise."""
    state = make_learner("h2o", 1).state_dict()
    del state["config"]["cql_decay_steps"]
    make_learner("h2o", 1).load_state_dict(state)
    with pytest.raises(ValueError, match="cql_decay_steps"):
        make_learner("h2o", 1, cql_decay_steps=10).load_state_dict(state)


def test_select_members_errors():
    learner = make_learner("sac", 2)
    for bad in ([], [2], [-1]):
        with pytest.raises(ValueError, match="members"):
            learner.select_members(bad)
