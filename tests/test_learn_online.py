"""Acting through SimPool: evaluation, collection, online SAC and its command line (item 5)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from mfhrl_fast import FidelitySpec, ReplayRing
from mfhrl_fast.cli import main as cli_main
from mfhrl_fast.learners import SACConfig
from mfhrl_fast.learners.config import OnlineSACConfig
from mfhrl_fast.learners.online import collect, evaluate, train_online_sac

from learn_support import ACT, OBS, make_learner

TINY = dict(steps=160, num_envs=4, num_members=2, learning_starts=80, batch_size=16,
            eval_every=80, eval_episodes=2, max_episode_steps=40)


def test_evaluate_any_member_in_any_fidelity():
    learner = make_learner("sac", 3)
    returns = evaluate(learner, members=[2, 0], n_episodes=3, max_episode_steps=30)
    assert returns.shape == (2, 3) and np.isfinite(returns).all()
    again = evaluate(learner, members=[2, 0], n_episodes=3, max_episode_steps=30)
    np.testing.assert_array_equal(returns, again)  # deterministic actions, fixed seed
    heavy = evaluate(learner, members=[2, 0], n_episodes=3, max_episode_steps=30,
                     fidelity=FidelitySpec(gravity_scale=2.0))
    assert not np.array_equal(returns, heavy)
    assert evaluate(learner, members=1, n_episodes=2, max_episode_steps=5).shape == (1, 2)
    with pytest.raises(ValueError, match="member ids"):
        evaluate(learner, members=[3])
    with pytest.raises(ValueError, match="n_episodes"):
        evaluate(learner, n_episodes=0)


def test_collect_stores_transitions_of_the_members():
    learner = make_learner("sac", 2)
    ring = ReplayRing(capacity=1000, obs_dim=OBS, act_dim=ACT, num_members=2)
    returns = collect(learner, ring, steps=100, num_envs=8, max_episode_steps=10)
    assert len(ring) == 104 and len(returns) == 8  # 13 pool steps: one 10-step episode per env
    batch = ring.sample(50)
    assert (np.abs(batch["action"]) <= 1).all() and (batch["fidelity"] == 0).all()
    random_ring = ReplayRing(capacity=1000, obs_dim=OBS, act_dim=ACT)
    collect(None, random_ring, steps=16, num_envs=8, fidelity=FidelitySpec(gravity_scale=2.0))
    assert len(random_ring) == 16


def test_online_sac_smoke(tmp_path):
    rows = []
    learner, history = train_online_sac(OnlineSACConfig(**TINY),
                                        sac=SACConfig(hidden_sizes=(32, 32)),
                                        device="cpu", log_path=tmp_path / "curve.jsonl",
                                        log=rows.append)
    assert [row["env_steps"] for row in history] == [80, 160]
    assert history == rows
    assert learner.num_updates == 160 - 80 + 4  # one update per env step from learning_starts
    logged = [json.loads(line) for line in (tmp_path / "curve.jsonl").read_text().splitlines()]
    assert [row["eval/mean"] for row in logged] == [row["eval/mean"] for row in history]
    assert {"eval/member0", "eval/member1", "time/sps", "losses/critic"} <= logged[-1].keys()


def test_online_sac_is_reproducible():
    config = OnlineSACConfig(**{**TINY, "steps": 120, "eval_every": 120})
    first = train_online_sac(config, sac=SACConfig(hidden_sizes=(16,)), device="cpu")[0]
    second = train_online_sac(config, sac=SACConfig(hidden_sizes=(16,)), device="cpu")[0]
    for (name, a), b in zip(first.nets.state_dict().items(), second.nets.state_dict().values(),
                              strict=True):
        assert torch.equal(a, b), name


def test_train_sac_command_lines(tmp_path, capsys):
    args = ["--steps", "48", "--num-envs", "4", "--members", "2", "--learning-starts", "24",
            "--batch-size", "8", "--eval-every", "24", "--eval-episodes", "1",
            "--max-episode-steps", "12", "--threads", "1"]
    assert cli_main(["train-sac", *args, "--log", str(tmp_path / "a.jsonl"),
                     "--save", str(tmp_path / "a.pt")]) == 0
    assert "final eval mean" in capsys.readouterr().out
    assert torch.load(tmp_path / "a.pt", weights_only=True)["num_members"] == 2
    done = subprocess.run([sys.executable, "-m", "mfhrl_fast.learners.train_sac", *args,
                           "--gravity-scale", "2.0", "--backup-entropy"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("eval mean") == 3


def test_online_config_errors():
    with pytest.raises(ValueError, match="num_envs"):
        OnlineSACConfig(num_envs=0)
    with pytest.raises(ValueError, match="mask_prob"):
        OnlineSACConfig(mask_prob=0.0)
