"""One online round of the ``paper`` preset at reduced size: where does the time go?

The target: the time outside neural-network math (simulation, replay, selection
arithmetic, Python glue) is at most 10% of a round. The round is the paper's with the
paper preset's networks and round sizes (L = 5 members of 256-256, 10 episodes of 1000
steps, 128 + 128 transitions per H2O step, M = 8 remembered batches per level, all
filled so IG_k re-scores 32 batches), reduced to ``GRADIENT_STEPS`` H2O steps (the
paper preset's 1000 only makes the share smaller) and a short offline phase.

"Neural-network math" is the time inside the learner's and discriminators' calls
(``train_step``, ``member_losses``, ``act``); everything else in ``play_round`` is
outside. The share is printed against the target, and asserted.

    pytest bench/test_bench_round.py                      # measure, print the split
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
import pytest
import torch

from mfhrl_fast.igm import paper, run
from mfhrl_fast.igm.config import override
from mfhrl_fast.igm.offline import load_dataset
from mfhrl_fast.igm.runner import Experiment, get_offline

GRADIENT_STEPS = 250
TARGET_OUTSIDE = 0.10


class Timed:
    """Wraps methods of objects and sums their wall time under a label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, obj, name: str, label: str) -> None:
        inner = getattr(obj, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0

        setattr(obj, name, timed)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("MINARI_DATASETS_PATH", str(tmp_path_factory.mktemp("minari")))
    torch.set_num_threads(2)
    config = override(paper(), {"budget": 64.0, "device": "cpu",
                                "online": {"gradient_steps": GRADIENT_STEPS},
                                "offline": {"gradient_steps": 20}})
    dataset = load_dataset(config.dataset)
    exp = Experiment(config, dataset, get_offline(config, dataset))
    exp.records.append(exp.offline_record())
    for level in range(exp.num_levels):  # a full H_k at every level: the steady state
        for round_ in range(config.online.history):
            batch = exp.rollouts(level, np.zeros(config.online.episodes_per_round, np.int64),
                                 seed=1000 + round_)
            exp.posterior.remember(level, {k: v[:config.online.score_transitions]
                                           for k, v in batch.items()})
    return exp


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_round_time_is_mostly_network_math(experiment, benchmark, report):
    exp = experiment
    timed = Timed()
    for name in ("train_step", "member_losses", "act"):
        timed.wrap(exp.learner, name, "nn")
    timed.wrap(exp.learner.discriminators, "train_step", "nn")
    t0 = time.perf_counter()
    record = benchmark.pedantic(exp.play_round, rounds=1, iterations=1)
    total = time.perf_counter() - t0
    assert record is not None and record.round == 1
    assert all(np.isfinite(record.ig)) and record.updates == GRADIENT_STEPS
    nn = timed.seconds["nn"]
    outside = (total - nn) / total
    report(f"paper-preset round ({GRADIENT_STEPS} H2O steps, 10 x 1000 env steps, 32 batches "
           f"re-scored): {total:.1f} s; network math {nn / total:.1%}, outside {outside:.1%} "
           f"(target <= {TARGET_OUTSIDE:.0%}); sim {record.time_sim:.2f} s, learn "
           f"{record.time_learn:.2f} s, select {record.time_select:.2f} s, eval "
           f"{record.time_eval:.2f} s")
    assert outside <= TARGET_OUTSIDE


def test_reduced_paper_run_completes(tmp_path, monkeypatch):
    """The paper preset end to end at a tiny size: every component at its paper shape."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    config = override(paper(), {"budget": 2.0, "device": "cpu",
                                "online": {"gradient_steps": 5, "episode_steps": 50,
                                           "eval_steps": 50, "eval_episodes": 1},
                                "offline": {"gradient_steps": 5},
                                "dataset": {"steps": 2000}})
    result = run(config, tensorboard=False)
    assert [r.fidelity for r in result.records[1:]] == [0, 0]
