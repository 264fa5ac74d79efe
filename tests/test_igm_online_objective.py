"""The pieces around the online objective: warm-up, carried Adam state, the critic's
calibration against Monte-Carlo returns, the diagnostics in rounds.csv, the named
variants, the ablation command and the study preset's grid."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch

from mfhrl_fast._allocator import retain_freed_memory
from mfhrl_fast.igm import cli as igm_cli
from mfhrl_fast.igm.ablation import ablate, ablation_table
from mfhrl_fast.igm.calibration import critic_calibration, flipped_states
from mfhrl_fast.igm.config import override
from mfhrl_fast.igm.offline import (
    load_dataset,
    offline_key,
    offline_learner,
    offline_state,
    train_offline,
)
from mfhrl_fast.igm.presets import PRESET_GRIDS, STUDY_BUDGETS, demo, study, study_g600
from mfhrl_fast.igm.run_log import DIAGNOSTICS, OPTION_DIAGNOSTICS
from mfhrl_fast.igm.runner import Experiment, run
from mfhrl_fast.igm.variants import VARIANTS
from mfhrl_fast.learners import H2OConfig
from mfhrl_fast.learners.online import evaluate

from igm_support import tiny_config
from learn_support import make_learner, random_batch


def test_lr_warmup_scales_actor_and_critic_steps_only():
    learner = make_learner("h2o", 2, seed=1, lr_warmup_steps=4)
    base = [g["lr"] for g in learner.optimizer.param_groups]
    seen = []
    for step in range(6):
        learner.train_step(random_batch(2, 8, seed=step), random_batch(2, 8, seed=50 + step))
        seen.append([g["lr"] for g in learner.optimizer.param_groups])
    for k, lrs in enumerate(seen):
        scale = min(1.0, (k + 1) / 4)
        assert lrs[0] == pytest.approx(base[0] * scale) and lrs[1] == pytest.approx(base[1] * scale)
        assert lrs[2] == base[2]  # the temperature is not warmed up


def test_actor_warmup_holds_actor_and_temperature_while_the_critics_learn():
    """actor_warmup_steps = 3: the actor and log alpha keep their offline values for 3
    updates while the critics move; from update 4 on all three train at their rates."""
    learner = make_learner("h2o", 2, seed=1, actor_warmup_steps=3)
    base = [g["lr"] for g in learner.optimizer.param_groups]
    state = {k: v.clone() for k, v in learner.nets.state_dict().items()}
    for step in range(3):
        learner.train_step(random_batch(2, 8, seed=step), random_batch(2, 8, seed=50 + step))
    now = learner.nets.state_dict()
    actor = [k for k in now if k.startswith("actor.")]
    assert actor and all(torch.equal(now[k], state[k]) for k in actor + ["log_alpha"])
    assert not torch.equal(now["critic.weights.0"], state["critic.weights.0"])
    learner.train_step(random_batch(2, 8, seed=3), random_batch(2, 8, seed=53))
    assert [g["lr"] for g in learner.optimizer.param_groups] == base
    now = learner.nets.state_dict()
    assert not any(torch.equal(now[k], state[k]) for k in actor + ["log_alpha"])


def test_cql_weight_decays_linearly_to_zero_then_the_term_is_skipped():
    """cql_decay_steps = 4: the conservative weight is 2 (1 - t / 4) at update t, logged as
    losses/cql_weight; from update 4 on the term (and its sampled actions) is gone."""
    learner = make_learner("h2o", 2, seed=1, cql_weight=2.0, cql_n_actions=2,
                           cql_decay_steps=4)
    seen = []
    for step in range(6):
        real, sim = random_batch(2, 8, seed=step), random_batch(2, 8, seed=50 + step)
        expected = learner.cql_weight_now()
        metrics = learner.train_step(real, sim)
        seen.append((expected, metrics.get("losses/cql_weight")))
    assert [w for w, _ in seen] == [2.0, 1.5, 1.0, 0.5, 0.0, 0.0]
    assert [m for _, m in seen[:4]] == [2.0, 1.5, 1.0, 0.5] and seen[4][1] is None
    constant = make_learner("h2o", 2, seed=1, cql_weight=2.0)
    constant.num_updates = 10**6
    assert constant.cql_weight_now() == 2.0


@pytest.mark.parametrize("bad", [{"cql_states": "some"}, {"cql_weight": -1.0},
                                 {"cql_n_actions": 0}, {"lr_warmup_steps": -1},
                                 {"cql_decay_steps": -1}, {"actor_warmup_steps": -1}])
def test_online_objective_config_errors(bad):
    with pytest.raises(ValueError):
        H2OConfig(**bad)


def test_defaults_faithful_learner_trust_region_run():
    """EnsembleH2O alone is faithful H2O; the MF-HRL-IGM runs keep its critic loss and add
    LayerNorm critics (offline too), the actor's trust region and exploration noise."""
    assert H2OConfig().cql_weight == 0.0 and H2OConfig().trust_region == 0.0
    for config in (demo(), study(), study_g600()):
        h2o = config.online.h2o
        assert h2o.cql_weight == 0.0 and h2o.trust_region == 1.0 and h2o.critic_layer_norm
        assert config.offline.cql.critic_layer_norm and config.online.explore_std == 0.3
        assert config.online.disc_steps == 200
    rounds = {name: (c.budget, [c.online.round_steps(k) for k in c.costs], c.online.real_batch,
                     c.online.sim_batch) for name, c in (("demo", demo()), ("study", study()),
                                                          ("study-g600", study_g600()))}
    assert rounds == {"demo": (48.0, [600, 1200, 2400, 4800], 64, 64),
                      "study": (48.0, [600, 1200, 2400, 4800], 64, 64),
                      "study-g600": (24.0, [600] * 4, 128, 128)}
    assert study() == demo()  # the same run, at three budgets
    previous = override(demo(), VARIANTS["ours-cql"])
    assert previous.online.h2o.cql_weight == 5.0 and previous.online.h2o.cql_states == "all"
    assert not previous.offline.cql.critic_layer_norm and previous.online.explore_std == 0.0
    assert previous.online.gradient_steps == previous.online.disc_steps == 200
    assert override(demo(), VARIANTS["h2o"]).online.h2o.cql_weight == 0.0
    for name, changes in VARIANTS.items():  # every named variant is a valid override
        assert override(demo(), changes).online.h2o.hidden_sizes == (64, 64), name


def test_the_default_is_the_measured_variant():
    """'ours' over the study-g600 preset (the demo's rounds when it was measured) is the
    ablation's ln-h2o-tr-g600-explore, up to the fields of the conservative term, which
    weight 0 switches off; a fixed-G variant keeps its G over the demo's steps per cost."""
    def effective(config):
        d = config.to_dict()
        for name in ("cql_states", "cql_n_actions"):
            d["online"]["h2o"].pop(name)
        return d

    measured = override(study_g600(), VARIANTS["ln-h2o-tr-g600-explore"])
    assert effective(measured) == effective(override(study_g600(), VARIANTS["ours"]))
    assert override(demo(), VARIANTS["ours-g2400"]).online.round_steps(8.0) == 2400


def test_carry_optimizer_starts_from_the_offline_adam_state(tmp_path):
    config = tiny_config(tmp_path, online={"carry_optimizer": True})
    dataset = load_dataset(config.dataset)
    state = offline_state(train_offline(config, dataset))
    exp = Experiment(config, dataset, state)
    mine = exp.learner.optimizer.state_dict()
    for key, value in state["optimizer"]["state"].items():
        torch.testing.assert_close(mine["state"][key]["exp_avg"], value["exp_avg"])
    with pytest.raises(ValueError, match="carry_optimizer"):
        Experiment(config, dataset, {k: v for k, v in state.items() if k != "optimizer"})


def test_carry_alpha_false_restarts_the_online_temperature(tmp_path):
    """By default the online members keep the offline temperature; carry_alpha = False
    starts it at online.h2o.alpha_init and loads every other weight as before."""
    config = tiny_config(tmp_path)
    dataset = load_dataset(config.dataset)
    state = offline_state(train_offline(config, dataset))
    offline_alpha = state["nets"]["log_alpha"].exp()
    assert not torch.allclose(offline_alpha, torch.tensor(0.05))  # the test can tell
    carried = Experiment(config, dataset, state).learner.nets
    torch.testing.assert_close(carried.log_alpha.detach().exp(), offline_alpha)
    fresh_config = override(config, {"online": {"carry_alpha": False, "h2o": {"alpha_init": 0.05}}})
    fresh = Experiment(fresh_config, dataset, state).learner.nets
    torch.testing.assert_close(fresh.log_alpha.detach().exp(), torch.full_like(offline_alpha, 0.05))
    for key, value in state["nets"].items():
        if key != "log_alpha" and key in fresh.state_dict():
            torch.testing.assert_close(fresh.state_dict()[key], value)


def test_sim_mask_prob_sets_the_simulated_replays_masks(tmp_path):
    """online.sim_mask_prob = 1 gives every member every simulated transition; None keeps the
    offline phase's p (0.5 in the tiny config, so the members' bits differ); out of (0, 1]
    is an error."""
    config = tiny_config(tmp_path)
    dataset = load_dataset(config.dataset)
    state = offline_state(train_offline(config, dataset))
    for p in (None, 1.0):
        exp = Experiment(override(config, {"online": {"sim_mask_prob": p}}), dataset, state)
        assert exp.sim.mask_prob == (config.offline.mask_prob if p is None else p)
        exp.play_round()
        mask = exp.sim.rows()["mask"]
        assert len(mask) > 0 and mask.all() == (p == 1.0)
    with pytest.raises(ValueError, match="sim_mask_prob"):
        override(config, {"online": {"sim_mask_prob": 0.0}})


def test_explore_std_adds_seeded_clipped_noise_to_the_rollouts_only(tmp_path):
    """online.explore_std adds N(0, std^2) to the members' actions in the collected rollouts
    (the same noise for the same round seed), clipped to the action box; 0 adds none."""
    dataset = None
    actions = {}
    for std in (0.0, 0.3, 3.0):
        config = tiny_config(tmp_path, online={"explore_std": std})
        dataset = dataset or load_dataset(config.dataset)
        exp = Experiment(config, dataset, offline_state(train_offline(config, dataset)))
        exp.learner.act = lambda obs, member: np.zeros((len(obs), 6), np.float32)
        members = np.zeros(config.online.episodes_per_round, dtype=np.int64)
        actions[std] = [exp.rollouts(0, members, seed)["action"] for seed in (5, 5, 6)]
    assert all(not a.any() for a in actions[0.0])
    first, again, other = actions[0.3]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert abs(first.std() - 0.3) < 0.03 and abs(first.mean()) < 0.05
    wide = actions[3.0][0]
    assert wide.min() == -1.0 and wide.max() == 1.0 and np.isin(wide, (-1.0, 1.0)).mean() > 0.6
    with pytest.raises(ValueError, match="explore_std"):
        override(demo(), {"online": {"explore_std": -0.1}})


def test_averaged_actor_starts_offline_and_is_the_evaluated_policy(tmp_path, monkeypatch):
    config = tiny_config(tmp_path, online={"h2o": {"policy_averaging": 0.5}})
    dataset = load_dataset(config.dataset)
    state = offline_state(train_offline(config, dataset))
    exp = Experiment(config, dataset, state)
    for key, value in state["nets"].items():
        if key.startswith("actor."):
            torch.testing.assert_close(exp.learner.nets.state_dict()["actor_avg" + key[5:]], value)
    import mfhrl_fast.igm.runner as runner_module

    seen = {}
    real_evaluate = runner_module.evaluate

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(runner_module, "evaluate", spy)
    exp.evaluate_map()
    assert seen["averaged"] is True


def test_critic_calibration_against_hand_computed_returns():
    learner = make_learner("h2o", 2, seed=3)
    rng = np.random.default_rng(0)
    steps, envs, gamma = 6, 2, 0.9
    traj = {"obs": rng.normal(size=(steps, envs, 17)).astype(np.float32),
            "action": rng.uniform(-1, 1, (steps, envs, 6)).astype(np.float32),
            "reward": rng.normal(size=(steps, envs)),
            "alive": np.ones((steps, envs), bool)}
    traj["alive"][4:, 1] = False  # episode 1 ended after 4 steps
    traj["obs"][:, :, 1] = 0.1  # upright (root pitch 0.1 rad)
    out = critic_calibration(learner, 1, traj, gamma)
    to_go = []
    for e, length in ((0, 6), (1, 4)):
        r = traj["reward"][:length, e]
        to_go += [sum(gamma**j * r[t + j] for j in range(length - t)) for t in range(3)]
    assert out["eval/mc_return"] == pytest.approx(np.mean(to_go))
    obs = torch.as_tensor(traj["obs"][:3].reshape(-1, 17))
    act = torch.as_tensor(traj["action"][:3].reshape(-1, 6))
    with torch.no_grad():
        q = learner._q("critic", obs.expand(2, -1, -1), act.expand(2, -1, -1))[:, 1].min(0).values
    assert out["eval/q"] == pytest.approx(float(q.mean()), rel=1e-5)
    assert out["eval/flipped"] == 0.0 and math.isnan(out["eval/q_flipped"])
    traj["obs"][1:, 0, 1] = 3.0  # episode 0 lies on its back from step 1 on
    out = critic_calibration(learner, 1, traj, gamma)
    assert out["eval/flipped"] == 0.5
    on_back = [sum(gamma**j * traj["reward"][t + j, 0] for j in range(6 - t)) for t in (1, 2)]
    assert out["eval/mc_flipped"] == pytest.approx(np.mean(on_back))
    obs = torch.as_tensor(traj["obs"][1:3, 0])
    with torch.no_grad():
        q = learner._q("critic", obs.expand(2, -1, -1),
                       torch.as_tensor(traj["action"][1:3, 0]).expand(2, -1, -1))
    assert out["eval/q_flipped"] == pytest.approx(float(q[:, 1].min(0).values.mean()), rel=1e-5)
    assert flipped_states(np.array([[0, 1.6, 0], [0, -1.6, 0], [0, 1.5, 0]])).tolist() == [
        True, True, False]


def test_evaluate_returns_the_trajectories_it_scored():
    learner = make_learner("h2o", 2, seed=3)
    traj = {}
    returns = evaluate(learner, members=[0, 1], n_episodes=2, max_episode_steps=20,
                       num_threads=1, trajectories=traj)
    assert traj["obs"].shape == (20, 4, 17) and traj["action"].shape == (20, 4, 6)
    assert traj["alive"].all()
    np.testing.assert_allclose(traj["reward"].sum(0), returns.reshape(-1), rtol=1e-5)


def test_rounds_csv_holds_the_diagnostics(tmp_path):
    config = tiny_config(tmp_path, strategy="highest", budget=16.0)
    run(config, out_dir=tmp_path / "run", tensorboard=False)
    with open(tmp_path / "run" / "rounds.csv") as f:
        rows = list(csv.DictReader(f))
    assert set(DIAGNOSTICS) | set(OPTION_DIAGNOSTICS) <= set(rows[0])
    assert math.isfinite(float(rows[0]["eval/q"])) and math.isnan(float(rows[0]["losses/q_real"]))
    on = [k for k in DIAGNOSTICS if k != "losses/cql_diff"] + ["losses/kl_ref",
                                                              "losses/trust_region"]
    for row in rows[1:]:  # the default has the trust region on and the CQL term off
        assert all(math.isfinite(float(row[k])) for k in on), row
        assert math.isnan(float(row["losses/cql_diff"])), row


def test_ablate_writes_one_row_per_run_and_a_table(tmp_path):
    config = tiny_config(tmp_path, budget=8.0)
    rows = ablate(config, variants=["ours-cql", "h2o"], strategies=["highest"], seeds=[0, 1],
                  out_dir=tmp_path / "abl")
    assert [(r["variant"], r["seed"]) for r in rows] == [
        ("ours-cql", 0), ("ours-cql", 1), ("h2o", 0), ("h2o", 1)]
    for r in rows:
        assert r["final_ratio"] == pytest.approx(r["final_return"] / r["offline_return"])
        assert r["min_ratio"] <= r["final_ratio"] + 1e-12
    # both variants start from the same offline phase of a seed
    assert rows[0]["offline_return"] == rows[2]["offline_return"]
    table = (tmp_path / "abl" / "ablation.md").read_text()
    assert table.strip() == ablation_table(rows) and table.count("\n") == 4
    with open(tmp_path / "abl" / "ablation.csv") as f:
        assert len(list(csv.DictReader(f))) == 4
    with pytest.raises(ValueError, match="unknown variants"):
        ablate(config, variants=["nope"], strategies=["highest"], seeds=[0], out_dir=tmp_path)


def test_ablate_trains_the_offline_phase_the_variants_share(tmp_path):
    """Variants that change the offline phase (the LayerNorm 'ln*' ones, over the previous
    default) run from an offline phase trained with their offline config, not the base's;
    mixing them with variants of another offline phase is refused."""
    config = tiny_config(tmp_path, budget=8.0)
    rows = ablate(config, variants=["ln", "ln-h2o"], strategies=["highest"], seeds=[0],
                  out_dir=tmp_path / "abl")
    assert rows[0]["offline_return"] == rows[1]["offline_return"]
    (cached,) = (tmp_path / "abl" / "offline").glob("offline-*.pt")
    assert any(".norm_scales." in k for k in torch.load(cached, weights_only=True)["nets"])
    with pytest.raises(ValueError, match="share the offline phase"):
        ablate(config, variants=["ours-cql", "ln"], strategies=["highest"], seeds=[0],
               out_dir=tmp_path / "mixed")


def test_compare_takes_the_study_grid_by_default(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr("mfhrl_fast.igm.compare.compare",
                        lambda config, **kw: seen.update(kw, config=config))
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    igm_cli.add_commands(sub)
    args = parser.parse_args(["compare", "--preset", "study", "--out", str(tmp_path)])
    assert args.func(args) == 0
    assert list(seen["budgets"]) == list(STUDY_BUDGETS) and seen["seeds"] == [0, 1, 2]
    assert PRESET_GRIDS["study"]["budgets"][0] == 16.0  # two rounds of the highest level
    assert PRESET_GRIDS["study-g600"]["budgets"][0] == 8.0  # one round of it
    args = parser.parse_args(["compare", "--variant", "h2o", "--budgets", "5", "--out",
                              str(tmp_path)])
    assert args.func(args) == 0
    assert list(seen["budgets"]) == [5.0] and seen["seeds"] == [0]
    assert seen["config"].online.h2o.cql_weight == 0.0


def test_retain_freed_memory_on_linux():
    assert retain_freed_memory() is True


def test_calibrated_offline_phase_reads_each_rows_return_to_go(tmp_path):
    """offline.cql.calibrated (Cal-QL): every CQL step's batch carries the dataset's
    discounted return-to-go of the sampled rows (looked up by the ring's slots); the
    option has its own offline cache key."""
    plain = tiny_config(tmp_path)
    config = override(plain, {"offline": {"cql": {"calibrated": True}}})
    dataset = load_dataset(config.dataset)
    to_go = dataset.returns_to_go(config.offline.cql.gamma)
    learner = offline_learner(config, dataset)
    seen, step = [], learner.train_step

    def spy(batch, **kwargs):
        rows = batch["obs"].reshape(-1, dataset.obs_dim)
        found = (dataset.observations[batch["index"].reshape(-1)] == rows).all()
        seen.append(found and np.array_equal(batch["return_to_go"], to_go[batch["index"]]))
        return step(batch, **kwargs)

    learner.train_step = spy
    train_offline(config, dataset, learner=learner)
    assert len(seen) == config.offline.gradient_steps and all(seen)
    assert offline_key(config) != offline_key(plain)  # the older keys: test_learn_precision
