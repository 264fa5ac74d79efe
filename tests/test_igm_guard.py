"""The divergence guard: an injected NaN stops the run, named, with the last good checkpoint."""

from __future__ import annotations

import pytest
import torch

from mfhrl_fast.igm import run
from mfhrl_fast.igm.checkpoint import checkpoint_problem, latest_checkpoint
from mfhrl_fast.igm.guard import DivergenceError, FiniteWatch
from mfhrl_fast.igm.offline import load_dataset, train_offline
from mfhrl_fast.igm.runner import Experiment

from igm_support import tiny_config


def test_finite_watch_names_the_first_bad_step_and_quantity():
    watch = FiniteWatch("H2O step")
    good = {"critic": torch.ones(3), "q_real": torch.ones(3)}
    for _ in range(4):
        watch.observe(good)
    watch.check("round 1")
    watch.observe(good)
    watch.observe({"critic": torch.ones(3), "q_real": torch.tensor([1.0, float("inf"), 1.0])})
    watch.observe({"critic": torch.full((3,), float("nan")), "q_real": torch.ones(3)})
    with pytest.raises(DivergenceError, match=r"round 2, H2O step 6: non-finite q_real"):
        watch.check("round 2")
    net = torch.nn.Linear(2, 2)
    with torch.no_grad():
        net.bias[1] = float("nan")
    with pytest.raises(DivergenceError, match=r"after H2O step 7: non-finite weights bias"):
        watch.check("round 3", net)


def test_a_nan_weight_mid_run_stops_it_and_keeps_the_last_good_checkpoint(tmp_path,
                                                                          monkeypatch):
    config = tiny_config(tmp_path)
    original = Experiment.train_members

    def poisoned(self, cost):
        if self.budget.round == 2:  # a critic weight goes NaN before round 2's updates
            with torch.no_grad():
                self.learner.nets["critic"].weights[1][0, 0, 0] = float("nan")
        return original(self, cost)

    monkeypatch.setattr(Experiment, "train_members", poisoned)
    out = tmp_path / "run"
    with pytest.raises(DivergenceError, match=r"round 2, H2O step 1: non-finite (actor|critic|q_)"):
        run(config, out_dir=out, tensorboard=False)
    latest = latest_checkpoint(out / "checkpoints")
    assert latest.name == "round-000001" and checkpoint_problem(latest) is None


def test_the_offline_phase_is_guarded_too(tmp_path, monkeypatch):
    config = tiny_config(tmp_path)
    dataset = load_dataset(config.dataset)
    from mfhrl_fast.learners import EnsembleCQL

    original = EnsembleCQL.train_step

    def poisoned(self, *batches, **kwargs):
        metrics = original(self, *batches, **kwargs)
        if self.num_updates == 7:
            metrics["critic"] = metrics["critic"] * float("nan")
        return metrics

    monkeypatch.setattr(EnsembleCQL, "train_step", poisoned)
    with pytest.raises(DivergenceError, match=r"offline phase, CQL step 7: non-finite critic"):
        train_offline(config, dataset, every=10)
