"""Long learner runs, excluded by default: run them with ``pytest -m slow``."""

from __future__ import annotations

import pytest
import torch

from mfhrl_fast.learners.config import OnlineSACConfig
from mfhrl_fast.learners.online import train_online_sac

from learn_support import batches_for, make_learner


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sac", "cql", "h2o"])
def test_compiled_losses_match_eager(kind):
    """``compile=True`` wraps the loss in torch.compile: same losses, same training."""
    eager, compiled = make_learner(kind, 2, seed=3), make_learner(kind, 2, seed=3)
    compiled._losses = torch.compile(compiled._compute_losses)
    for step in range(3):
        batches = batches_for(kind, 2, 16, seed=step)
        a, b = eager.train_step(*batches), compiled.train_step(*batches)
        assert a.keys() == b.keys()
        for key in a:
            assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-5), key


@pytest.mark.slow
def test_compile_option_builds_a_compiled_learner():
    from mfhrl_fast.learners import EnsembleSAC

    learner = EnsembleSAC(17, 6, num_members=2, device="cpu", compile=True)
    assert learner._losses is not learner._compute_losses
    metrics = learner.train_step(batches_for("sac", 2, 8, seed=0)[0])
    assert all(v == v for v in metrics.values())


@pytest.mark.slow
def test_online_ensemble_sac_reaches_3000_in_100k_steps(tmp_path):
    """The online SAC target: the mean deterministic return of L = 3 members on the true
    HalfCheetah-v5 reaches 3000 within 100k environment steps (about an hour on 2 cores)."""
    _, history = train_online_sac(OnlineSACConfig(steps=100_000, num_members=3),
                                  log_path=tmp_path / "curve.jsonl")
    best = max(row["eval/mean"] for row in history)
    assert history[-1]["env_steps"] == 100_000
    assert best >= 3000, [round(row["eval/mean"]) for row in history]
