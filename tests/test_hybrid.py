"""The H2O paper's reference methods (mfhrl_fast.hybrid): each runs, trains on the batches
its definition says, resumes exactly, rejects bad configs, and runs from the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mfhrl_fast.cli import main
from mfhrl_fast.hybrid import METHODS, HybridConfig, HybridRun, run_hybrid
from mfhrl_fast.hybrid.methods import step_batches
from mfhrl_fast.igm.config import override

from igm_support import tiny_dataset

SMALL = {"hidden_sizes": [16, 16]}
TINY = {"epochs": 2, "sim_steps_per_epoch": 40, "updates_per_epoch": 6,
        "disc_updates_per_epoch": 3, "num_envs": 2, "episode_steps": 30, "learning_starts": 20,
        "batch_size": 16, "real_batch": 8, "sim_batch": 8, "disc_batch": 16,
        "eval_every": 1, "eval_episodes": 1, "eval_steps": 30, "paired_transitions": 50,
        "sac": SMALL, "h2o": {**SMALL, "n_next_samples": 2},
        "cql": {**SMALL, "n_actions": 2}, "discriminator": SMALL,
        "device": "cpu", "torch_threads": 1}
"""Two epochs of 20 steps of 2 environments, 6 updates each, 16-16 networks."""


@pytest.fixture
def dataset_path(tmp_path):
    path = tmp_path / "tiny.npz"
    tiny_dataset().to_npz(path)
    return path


def tiny(dataset_path, method: str, **changes) -> HybridConfig:
    data = {**TINY, "dataset": {"source": "npz", "path": str(dataset_path)}, **changes}
    return override(HybridConfig(method=method, init=changes.get("init", "")), data)


@pytest.fixture
def cql_init(tmp_path, dataset_path):
    out = tmp_path / "cql"
    run_hybrid(tiny(dataset_path, "cql-real"), out_dir=out, tensorboard=False)
    return out / "learner.pt"


@pytest.mark.parametrize("method", [m for m in METHODS if m != "h2o-cql"])
def test_every_method_runs_and_logs(tmp_path, dataset_path, method):
    config = tiny(dataset_path, method)
    result = run_hybrid(config, out_dir=tmp_path / method, tensorboard=False)
    assert [r["epoch"] for r in result.rows] == [1, 2]
    last = result.rows[-1]
    assert np.isfinite(last["eval/mean"]) and np.isfinite(last["losses/critic"])
    assert last["sim_steps"] == (0 if method == "cql-real" else 80)
    # updates wait for the 20 random-action warm-up transitions (one pool step: 2)
    assert last["updates"] == (12 if method == "cql-real" else 12 - 6 * 9 // 20)
    assert ("disc/loss_sas" in last) == (method in ("darc", "darc-plus", "h2o"))
    lines = (tmp_path / method / "epochs.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    assert (tmp_path / method / "learner.pt").exists()


def test_h2o_cql_starts_from_the_cql_weights(dataset_path, cql_init):
    config = tiny(dataset_path, "h2o-cql", init=str(cql_init), epochs=1, learning_starts=None)
    run = HybridRun(config, dataset=tiny_dataset())
    saved = torch.load(cql_init, weights_only=False)["nets"]
    mine = run.learner.nets.state_dict()
    shared = [k for k in saved if k in mine]
    assert {"obs_mean", "log_alpha"} <= set(shared) and len(shared) > 6
    for key in shared:
        torch.testing.assert_close(mine[key], saved[key])
    assert config.warmup == 0
    run.play_epoch()
    assert run.learner.num_updates == 6  # no warm-up: updates from the first step


def test_a_wrong_init_is_refused(tmp_path, dataset_path, cql_init):
    config = tiny(dataset_path, "h2o-cql", init=str(cql_init),
                  h2o={"hidden_sizes": [8, 8]})
    with pytest.raises(ValueError, match="other sizes"):
        HybridRun(config, dataset=tiny_dataset())


def test_darc_trains_on_the_corrected_reward(dataset_path):
    run = HybridRun(tiny(dataset_path, "darc"), dataset=tiny_dataset())
    run.play_epoch()
    run.sim.reseed(5)
    (batch,) = run.draw()
    run.sim.reseed(5)
    raw = run.sim.sample_members(run.config.batch_size)
    correction = run.disc.reward_correction(raw["obs"], raw["action"], raw["next_obs"])
    torch.testing.assert_close(batch["reward"],
                               torch.as_tensor(raw["reward"]) + correction.view(1, -1))
    assert correction.abs().max() > 0


def test_darc_plus_and_h2o_use_real_and_simulated_rows(dataset_path):
    for method, shapes in (("darc-plus", [(1, 16)]), ("h2o", [(1, 8), (1, 8)])):
        run = HybridRun(tiny(dataset_path, method), dataset=tiny_dataset())
        run.play_epoch()
        draw = step_batches(run.config, run.learner, run.real, run.sim, run.disc)
        assert [tuple(b["reward"].shape) for b in draw()] == shapes


def test_resume_equals_an_unbroken_run(tmp_path, dataset_path):
    config = tiny(dataset_path, "h2o", epochs=3)
    whole = run_hybrid(config, out_dir=tmp_path / "whole", tensorboard=False)
    def kill(row):
        if row["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_hybrid(config, out_dir=tmp_path / "cut", tensorboard=False, log=kill)
    resumed = run_hybrid(config, out_dir=tmp_path / "cut", resume=True, tensorboard=False)
    drop = ("time/train_s", "time/eval_s")
    strip = [{k: v for k, v in r.items() if k not in drop} for r in whole.rows]
    assert [{k: v for k, v in r.items() if k not in drop} for r in resumed.rows] == strip


def test_paired_discriminator_data(dataset_path):
    result = run_hybrid(tiny(dataset_path, "h2o", disc_data="paired"), tensorboard=False)
    assert np.isfinite(result.rows[-1]["disc/loss_sas"])


@pytest.mark.parametrize("changes, message", [
    ({"method": "sac"}, "method must be one of"),
    ({"method": "h2o-cql"}, "needs init"),
    ({"init": "x.pt"}, "init is for method 'h2o-cql'"),
    ({"sim": "wind"}, "sim must be one of"),
    ({"sim_steps_per_epoch": 41}, "multiple of num_envs"),
    ({"disc_data": "model"}, "disc_data"),
    ({"epochs": 0}, "epochs must be >= 1"),
])
def test_bad_configs_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        HybridConfig(**{"num_envs": 2, **changes})


def test_a_folder_with_a_run_is_not_overwritten(tmp_path, dataset_path):
    config = tiny(dataset_path, "sac-sim", epochs=1)
    run_hybrid(config, out_dir=tmp_path / "run", tensorboard=False)
    with pytest.raises(FileExistsError):
        run_hybrid(config, out_dir=tmp_path / "run", tensorboard=False)


def _toml(dataset_path, path):
    lines = [f'{k} = {json.dumps(v)}' for k, v in TINY.items() if not isinstance(v, dict)]
    lines.append(f'[dataset]\nsource = "npz"\npath = "{dataset_path}"')
    for table in ("sac", "h2o", "cql", "discriminator"):
        lines.append(f"[{table}]\n" + "\n".join(f"{k} = {json.dumps(v)}"
                                               for k, v in TINY[table].items()))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_hybrid_and_table(tmp_path, dataset_path, capsys):
    toml = _toml(dataset_path, tmp_path / "tiny.toml")
    assert main(["hybrid", "--method", "darc", "--config", str(toml), "--out",
                 str(tmp_path / "darc"), "--no-tensorboard", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["method"] == "darc" and np.isfinite(summary["final_return"])
    assert main(["hybrid-table", "--config", str(toml), "--methods", "cql-real", "h2o-cql",
                 "sac-sim", "--seeds", "0", "--backend", "serial", "--out",
                 str(tmp_path / "table")]) == 0
    table = (tmp_path / "table" / "table.md").read_text()
    for method in ("cql-real", "h2o-cql", "sac-sim"):
        assert f"| {method} |" in table
    assert (tmp_path / "table" / "h2o-cql" / "seed0" / "learner.pt").exists()


def test_cli_h2o_cql_needs_init(tmp_path, dataset_path, capsys):
    toml = _toml(dataset_path, tmp_path / "tiny.toml")
    assert main(["hybrid", "--method", "h2o-cql", "--config", str(toml), "--out",
                 str(tmp_path / "x"), "--no-tensorboard"]) == 2
    assert "needs init" in capsys.readouterr().err
