"""``mfhrl-fast collect`` and the SAC wiring: a clear error without ``mfhrl_fast.learners``,
replay / medium datasets with it (skipped until it is installed)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from mfhrl_fast.cli import main
from mfhrl_fast.data import LearnerPolicy, SACTrainer, SACUnavailableError, from_minari

from data_support import collect_small

SMALL_FLAGS = ["--num-envs", "3", "--max-episode-steps", "40", "--num-threads", "1"]


def test_cli_random_with_progress_bar(minari_home, capsys):
    assert main(["collect", "--kind", "random", "--steps", "120", *SMALL_FLAGS]) == 0
    out, err = capsys.readouterr()
    assert "wrote mfhrl/halfcheetah/random-v0" in out and "120 transitions, 3 episodes" in out
    assert "120/120" in err  # the tqdm bar
    d = from_minari("mfhrl/halfcheetah/random-v0")
    assert len(d) == 120 and d.metadata["mfhrl_fast"]["config"]["max_episode_steps"] == 40


def test_cli_help_shows_the_config_docs(capsys):
    with pytest.raises(SystemExit):
        main(["collect", "--help"])
    out = capsys.readouterr().out
    assert "--kind {random,medium,replay}" in out and "Time limit of an episode" in out


def test_cli_medium_gait_and_errors(minari_home, capsys):
    args = ["collect", "--kind", "medium", "--policy", "gait", "--steps", "150", "--quiet",
            "--dataset-id", "test/gait-v0", "--seed", "3", *SMALL_FLAGS]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "episode return" in out and err == ""
    assert from_minari("test/gait-v0").metadata["mfhrl_fast"]["seeds"]["pool"] == 3
    for extra, message in ((["--quiet"], "already exists"),
                           (["--overwrite", "--save-policy", "p.pt"], "--save-policy"),
                           (["--overwrite", "--kind", "random"], "--policy is for --kind medium")):
        assert main(args + extra) == 2
        assert message in capsys.readouterr().err


def test_cli_runs_as_a_program(minari_home):
    env = os.environ | {"MINARI_DATASETS_PATH": str(minari_home)}
    run = subprocess.run([sys.executable, "-m", "mfhrl_fast.cli", "collect", "--kind", "random",
                          "--steps", "60", "--quiet", *SMALL_FLAGS], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert len(from_minari("mfhrl/halfcheetah/random-v0")) == 60


def test_without_learners_sac_is_reported_unavailable(minari_home, monkeypatch, capsys, tmp_path):
    import mfhrl_fast

    monkeypatch.setitem(sys.modules, "mfhrl_fast.learners", None)
    monkeypatch.delattr(mfhrl_fast, "learners", raising=False)  # if imported already
    with pytest.raises(SACUnavailableError, match="SAC is unavailable.*mfhrl_fast.learners"):
        collect_small("replay")
    with pytest.raises(SACUnavailableError, match="SAC is unavailable"):
        collect_small("medium", target_return=1000.0)
    with pytest.raises(SACUnavailableError):
        SACTrainer()
    with pytest.raises(SACUnavailableError):
        LearnerPolicy.load(tmp_path / "missing.pt")
    assert main(["collect", "--kind", "replay", "--steps", "10", "--quiet"]) == 2
    assert "SAC is unavailable" in capsys.readouterr().err


@pytest.fixture
def sac_trainer():
    """A tiny ensemble SAC trainer (needs mfhrl_fast.learners), on one torch thread: tiny
    matrices on several threads of a busy machine cost milliseconds per call."""
    pytest.importorskip("mfhrl_fast.learners")
    import torch

    from mfhrl_fast.learners import SACConfig
    from mfhrl_fast.learners.config import OnlineSACConfig

    online = OnlineSACConfig(steps=300, num_envs=3, num_members=2, learning_starts=60,
                             batch_size=16, eval_episodes=1, max_episode_steps=40,
                             num_threads=1, seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield SACTrainer(online, sac=SACConfig(hidden_sizes=(16, 16)), device="cpu")
    torch.set_num_threads(threads)


def test_sac_replay_then_medium_from_its_checkpoint(minari_home, sac_trainer, tmp_path, capsys):
    result = collect_small("replay", steps=150, trainer=sac_trainer, eval_every=75,
                           max_episode_steps=40)
    assert result.transitions == 150 and len(sac_trainer.ring) == 150
    # updates start with the pool step that reaches learning_starts, as in train_online_sac
    assert sac_trainer.learner.num_updates == 150 - 60 + 3
    assert [e[0] for e in result.metadata["evaluations"]] == [75, 150]
    d = from_minari(result.dataset_id)
    assert np.abs(d.actions).max() <= 1.0 and len(d) == 150
    policy = sac_trainer.policy(deterministic=True)
    policy.save(tmp_path / "sac.pt")
    loaded = LearnerPolicy.load(tmp_path / "sac.pt", deterministic=True)
    obs = d.observations[:5]
    np.testing.assert_array_equal(loaded.act(obs), policy.act(obs))
    args = ["collect", "--kind", "medium", "--policy", str(tmp_path / "sac.pt"), "--quiet",
            "--deterministic", "--steps", "80", *SMALL_FLAGS]
    assert main(args) == 0, capsys.readouterr().err
    medium = from_minari("mfhrl/halfcheetah/medium-v0")
    np.testing.assert_allclose(medium.actions, policy.act(medium.observations), atol=1e-6)


def test_default_sac_trainer_is_wired_in(minari_home, sac_trainer):
    replay = collect_small("replay", steps=30, dataset_id="test/sac-replay-v0")
    assert replay.metadata["policy"].startswith("SACTrainer") and replay.transitions == 30
    medium = collect_small("medium", steps=60, target_return=-1e9, train_steps=30,
                           eval_every=30, deterministic=True, dataset_id="test/sac-medium-v0")
    assert medium.metadata["steps_trained"] == 30 and len(medium.metadata["evaluations"]) == 1
    assert isinstance(medium.policy, LearnerPolicy) and medium.policy.deterministic
