"""MF-HRL-IGM runs end to end on a tiny configuration (the paper's algorithm)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from mfhrl_fast.igm import RunConfig, run
from mfhrl_fast.igm.checkpoint import latest_checkpoint, load_state
from mfhrl_fast.igm.config import override
from mfhrl_fast.igm.run_log import FLIP_DIAGNOSTICS

from igm_support import tiny_config


def _ledger(result):
    return [(r.round, r.fidelity, r.cost, r.spent, r.remaining) for r in result.records]


def _comparable(result):
    """Everything a record holds except wall times."""
    rows = []
    for r in result.records:
        row = r.to_dict()
        for key in [k for k in row if k.startswith("time_")]:
            del row[key]
        rows.append(json.dumps(row, sort_keys=True))
    return rows


@pytest.fixture(scope="module")
def igm_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("igm")
    config = tiny_config(folder)
    return config, folder, run(config, out_dir=folder / "run")


def test_run_spends_within_budget_and_records_every_round(igm_run):
    config, folder, result = igm_run
    assert result.records[0].round == 0 and result.records[0].fidelity == -1
    assert [r.round for r in result.records] == list(range(result.rounds + 1))
    assert result.spent <= config.budget
    assert result.spent + min(config.costs) > config.budget  # ended: nothing affordable
    spent = np.cumsum([0.0] + [config.costs[r.fidelity] for r in result.records[1:]])
    np.testing.assert_allclose([r.spent for r in result.records], spent)
    for r in result.records[1:]:
        assert len(r.ig) == len(r.ig_per_cost) == 4
        np.testing.assert_allclose(np.asarray(r.ig) / config.costs, r.ig_per_cost)
        assert math.isclose(sum(r.posterior), 1.0, rel_tol=1e-9)
        assert r.map_member == int(np.argmax(r.posterior)) and r.evaluated
        assert r.time_round >= r.time_sim + r.time_learn + r.time_select + r.time_eval - 1e-3
        assert r.metrics and all(math.isfinite(v) for k, v in r.metrics.items()
                                 if k not in FLIP_DIAGNOSTICS)  # NaN: no flips
    # igm: cheap untried levels first (IG_k = H for an untried level)
    assert result.records[1].fidelity == 0
    assert result.records[1].ig[0] == pytest.approx(math.log(3))
    assert result.final_return == result.records[-1].eval_return


def test_run_writes_logs_and_checkpoints(igm_run):
    config, folder, result = igm_run
    out = folder / "run"
    rows = [json.loads(line) for line in (out / "rounds.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rows] == list(range(result.rounds + 1))
    header = (out / "rounds.csv").read_text().splitlines()[0].split(",")
    assert {"round", "fidelity", "ig_0", "ig_per_cost_3", "p_2", "eval_return"} <= set(header)
    assert list((out / "tb").glob("events.out.tfevents.*"))
    assert json.loads((out / "config.json").read_text())["strategy"] == "igm"
    state = load_state(latest_checkpoint(out / "checkpoints"))
    assert state["budget"]["ledger"][-1]["round"] == result.rounds


def test_same_seed_same_run_other_seed_differs(igm_run, tmp_path):
    config, folder, result = igm_run
    again = run(config, tensorboard=False)
    assert _comparable(again) == _comparable(result)
    other = run(config.replace(seed=1), tensorboard=False)
    assert _comparable(other) != _comparable(result)


@pytest.mark.parametrize("strategy", ["lowest", "highest", "uniform", "random"])
def test_baselines_follow_their_rule(igm_run, strategy):
    config, _, _ = igm_run
    result = run(config.replace(strategy=strategy, budget=15.0), tensorboard=False)
    levels = [r.fidelity for r in result.records[1:]]
    # uniform: cumulative shares 3.75, 7.5, 11.25, 15
    expected = {"lowest": [0] * 15, "highest": [3], "uniform": [0, 0, 0, 1, 1, 2]}
    if strategy in expected:
        assert levels == expected[strategy]
    else:
        assert result.spent <= 15.0 and all(0 <= k < 4 for k in levels)


def test_zero_budget_is_the_offline_reference(igm_run):
    config, _, _ = igm_run
    result = run(config.replace(budget=0.0), tensorboard=False)
    assert result.rounds == 0 and result.records[0].evaluated


def test_offline_and_online_sizes_must_match(igm_run):
    config, _, _ = igm_run
    from mfhrl_fast.igm.config import override

    bad = override(config, {"online": {"h2o": {"hidden_sizes": [8, 8]}}})
    with pytest.raises(ValueError, match="hidden_sizes"):
        run(bad, tensorboard=False)


def test_resume_rejects_another_config(igm_run):
    config, folder, _ = igm_run
    with pytest.raises(ValueError, match="another config"):
        run(config.replace(budget=5.0), out_dir=folder / "run", resume=True)


def test_device_option_places_the_learner(igm_run):
    config, _, _ = igm_run
    from mfhrl_fast.igm.offline import load_dataset
    from mfhrl_fast.igm.runner import Experiment, get_offline

    dataset = load_dataset(config.dataset)
    exp = Experiment(config, dataset, get_offline(config, dataset))
    assert exp.learner.device == torch.device("cpu")
    assert isinstance(config, RunConfig)


def test_a_folder_holding_a_run_is_not_overwritten(igm_run):
    config, folder, _ = igm_run
    with pytest.raises(FileExistsError, match="already holds a run"):
        run(config, out_dir=folder / "run")


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    from mfhrl_fast.cli import main

    assert main(["run", "--config", str(tmp_path / "missing.toml"), "--out", "x"]) == 2
    assert "mfhrl-fast run: error:" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("budgt = 3\n")
    assert main(["run", "--config", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "unknown config key 'budgt'" in capsys.readouterr().err


def test_cli_names_missing_optional_packages_before_any_work(tmp_path, capsys, monkeypatch):
    import importlib.util

    from mfhrl_fast.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("tensorboard", "ray") else real(name, *a))
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs tensorboard: pip install tensorboard" in err
    assert not out.exists()  # nothing was started
    assert main(["compare", "--backend", "ray", "--out", str(out)]) == 2
    assert "needs tensorboard and ray" in capsys.readouterr().err
    from argparse import Namespace

    from mfhrl_fast.igm.cli import missing_packages
    assert missing_packages(Namespace(no_tensorboard=True)) == []


def test_gradient_steps_per_cost_scales_each_rounds_updates(igm_run):
    """online.gradient_steps_per_cost = 1.5: a round at cost lambda runs round(1.5 lambda)
    H2O steps (the records' cumulative ``updates``); 0 keeps G per round."""
    config, _, result = igm_run
    fixed = np.diff([r.updates for r in result.records])
    assert (fixed == config.online.gradient_steps).all()
    scaled = override(config, {"budget": 11.0, "strategy": "uniform",
                               "online": {"gradient_steps_per_cost": 1.5}})
    out = run(scaled, tensorboard=False)
    costs = [config.costs[r.fidelity] for r in out.records[1:]]
    assert len(set(costs)) > 1  # the test sees several levels
    np.testing.assert_array_equal(np.diff([r.updates for r in out.records]),
                                  [round(1.5 * c) for c in costs])
    with pytest.raises(ValueError, match="gradient_steps_per_cost"):
        override(config, {"online": {"gradient_steps_per_cost": -1.0}})
