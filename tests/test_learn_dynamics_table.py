"""w and u once per round (online.gap_table): ReplayRing.rows, EnsembleH2O.dynamics_table,
sim batches that carry their rows' w and u, and the runner's use of them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfhrl_fast import ReplayRing
from mfhrl_fast.igm import run
from mfhrl_fast.igm.config import override
from mfhrl_fast.igm.round_data import DynamicsTable

from igm_support import tiny_config
from learn_support import ACT, OBS, make_discriminators, make_learner, random_batch


def _ring(capacity: int, added: int, members: int = 3) -> ReplayRing:
    """A ring whose i-th added transition has reward i, obs i and fidelity i % 2."""
    ring = ReplayRing(capacity=capacity, obs_dim=OBS, act_dim=ACT, num_members=members, seed=4)
    rng = np.random.default_rng(0)
    ids = np.arange(added)
    ring.add(obs=np.repeat(ids[:, None], OBS, 1).astype(np.float32),
             action=rng.uniform(-1, 1, (added, ACT)), reward=ids.astype(np.float32),
             next_obs=rng.normal(size=(added, OBS)), terminated=np.zeros(added),
             truncated=np.zeros(added), fidelity=ids % 2)
    return ring


def test_rows_are_the_stored_slots_and_samples_index_them():
    ring = _ring(capacity=50, added=70)  # slots 0-19 overwritten by transitions 50-69
    rows = ring.rows()
    np.testing.assert_array_equal(rows["index"], np.arange(50))
    np.testing.assert_array_equal(rows["reward"], np.r_[np.arange(50, 70), np.arange(20, 50)])
    np.testing.assert_array_equal(rows["fidelity"], rows["reward"].astype(int) % 2)
    np.testing.assert_array_equal(rows["obs"][:, 0], rows["reward"])
    part = ring.rows(5, 9)
    np.testing.assert_array_equal(part["reward"], rows["reward"][5:9])
    np.testing.assert_array_equal(part["index"], np.arange(5, 9))
    out = ring.empty_batch(40, members=True, index=True)
    ring.sample_members(40, out=out)
    for key in ("obs", "action", "reward", "next_obs", "fidelity"):
        np.testing.assert_array_equal(out[key], rows[key][out["index"]])
    rows["reward"][:] = -1  # fresh arrays: the ring keeps its own
    assert ring.rows()["reward"].min() >= 20
    assert len(ring.rows(7, 7)["reward"]) == 0
    assert len(ReplayRing(capacity=4, obs_dim=OBS, act_dim=ACT).rows()["obs"]) == 0


@pytest.mark.parametrize("start, stop", [(-1, None), (0, 51), (9, 8), (51, None)])
def test_rows_out_of_range_is_a_value_error(start, stop):
    with pytest.raises(ValueError, match="start <= stop <= size"):
        _ring(capacity=50, added=70).rows(start, stop)


def test_table_holds_the_per_row_ratio_and_gap_of_each_fidelity():
    """w is a function of (s, a, s') and the pair of the row's fidelity: the table's equals
    ratio_and_gap's on the same rows, in any chunking; without next-state noise
    (s_prime_std_ratio 0) u is exact too."""
    learner = make_learner("h2o", 2, discriminators=make_discriminators(fidelities=(0, 1)),
                           s_prime_std_ratio=0.0)
    rows = _ring(capacity=64, added=64).rows()
    ratio, gap = learner.dynamics_table(rows, torch.Generator().manual_seed(0), chunk=10)
    c = learner.config
    t = {k: torch.as_tensor(rows[k]) for k in ("obs", "action", "next_obs")}
    noise = torch.randn(64, c.n_next_samples, OBS)
    want_w, want_u = learner.discriminators.ratio_and_gap(
        t["obs"], t["action"], t["next_obs"], noise, rows["fidelity"],
        ratio_clip=c.ratio_clip, gap_clip=c.gap_clip, std_ratio=0.0)
    torch.testing.assert_close(ratio, want_w, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(gap, want_u, rtol=1e-6, atol=1e-7)
    assert ratio[rows["fidelity"] == 0].mean() != ratio[rows["fidelity"] == 1].mean()
    noisy = make_learner("h2o", 2, discriminators=learner.discriminators)  # std ratio 1
    whole_w, whole_u = noisy.dynamics_table(rows, torch.Generator().manual_seed(0))
    torch.testing.assert_close(whole_w, want_w, rtol=1e-6, atol=1e-7)
    again = noisy.dynamics_table(rows, torch.Generator().manual_seed(0))[1]
    torch.testing.assert_close(again, whole_u, rtol=0, atol=0)  # seeded: reproducible
    lo, hi = c.gap_clip
    assert torch.isfinite(whole_u).all() and (whole_u >= lo).all() and (whole_u <= hi).all()


def test_a_sim_batch_carrying_ratio_and_gap_trains_with_them():
    learner = make_learner("h2o", 2)
    real, sim = random_batch(2, 16, 1), random_batch(2, 16, 2)
    ratio = torch.linspace(0.1, 1.0, 32).view(2, 16)
    gap = torch.full((2, 16), 0.5)
    out = learner.compute_loss(real, {**sim, "ratio": ratio, "gap": gap})
    torch.testing.assert_close(out.metrics["ratio"], ratio.mean(-1))
    torch.testing.assert_close(out.metrics["gap"], gap.mean(-1))
    other = learner.compute_loss(real, {**sim, "ratio": ratio.flip(-1), "gap": gap})
    assert not torch.equal(other.critic, out.critic)  # the rows' own w weighs their error
    with pytest.raises(ValueError, match="ratio and gap must be shaped"):
        learner.compute_loss(real, {**sim, "ratio": ratio[:, :8], "gap": gap[:, :8]})


def test_table_attach_looks_rows_up_by_slot():
    learner = make_learner("h2o", 3, discriminators=make_discriminators(fidelities=(0, 1)))
    ring = _ring(capacity=40, added=55)
    table = DynamicsTable(learner, ring, seed=3)
    out = ring.empty_batch(8, members=True, index=True)
    batch = table.attach(ring.sample_members(8, out=out))
    torch.testing.assert_close(batch["ratio"], table.ratio[torch.from_numpy(out["index"])])
    assert batch["gap"].shape == (3, 8) and batch["obs"] is out["obs"]


def test_runner_ratio_matches_the_per_step_path(tmp_path):
    """The table changes u's next-state draws only: in the first round (same discriminator
    steps, same sampled rows) the last H2O step's mean w is the per-step path's, and u agrees
    within the Monte-Carlo spread of its samples; both runs spend the same ledger."""
    config = override(tiny_config(tmp_path), {"strategy": "highest", "budget": 8.0})
    table = run(config, tensorboard=False)
    per_step = run(override(config, {"online": {"gap_table": False}}), tensorboard=False)
    a, b = table.records[1].metrics, per_step.records[1].metrics
    assert a["losses/ratio"] == pytest.approx(b["losses/ratio"], rel=1e-5)
    assert a["losses/gap"] == pytest.approx(b["losses/gap"], rel=0.3)
    assert [r.fidelity for r in table.records] == [r.fidelity for r in per_step.records]


def test_runner_builds_the_table_only_while_it_costs_less(tmp_path, monkeypatch):
    """A round uses the table while the replay holds at most G x L x sim_batch transitions
    (what its steps would evaluate), the per-step way beyond that."""
    built = []
    real_init = DynamicsTable.__init__

    def counting(self, learner, ring, seed):
        built.append(len(ring))
        real_init(self, learner, ring, seed)

    monkeypatch.setattr(DynamicsTable, "__init__", counting)
    config = override(tiny_config(tmp_path), {"strategy": "lowest", "budget": 6.0})
    n = config.online
    sampled = n.gradient_steps * config.offline.num_members * n.sim_batch  # 6 x 3 x 16 = 288
    result = run(config, tensorboard=False)
    sizes = [r.env_steps for r in result.records[1:]]  # replay size in each round
    assert sizes == [60 * (i + 1) for i in range(6)]
    assert built == [s for s in sizes if s <= sampled] == [60, 120, 180, 240]
