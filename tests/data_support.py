"""Shared helpers of the dataset tests: a local Minari root that cannot download, small
collections, and a scripted PolicyTrainer."""

from __future__ import annotations

import numpy as np
import pytest

from mfhrl_fast import SimPool
from mfhrl_fast.data import (
    CollectConfig,
    EpisodeRecorder,
    PoolStep,
    SinusoidGait,
    collect,
    run_pool,
)

SMALL = dict(num_envs=3, max_episode_steps=50, num_threads=1)
"""A small pool: episodes of 50 steps, 3 environments."""


@pytest.fixture
def minari_home(tmp_path, monkeypatch):
    """MINARI_DATASETS_PATH in tmp_path; every remote entry point of Minari raises, and the
    test fails if any was called."""
    import minari
    import minari.namespace
    import minari.storage.hosting

    calls: list[str] = []

    def refuse(name):
        def remote(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"minari tried to reach the network: {name}{args}")
        return remote

    root = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    for module in (minari, minari.storage.hosting):
        monkeypatch.setattr(module, "download_dataset", refuse("download_dataset"))
        monkeypatch.setattr(module, "list_remote_datasets", refuse("list_remote_datasets"))
    for module in (minari.storage.hosting, minari.namespace):
        monkeypatch.setattr(module, "get_cloud_storage", refuse("get_cloud_storage"))
    yield root
    assert calls == [], f"remote Minari calls: {calls}"


def collect_small(kind: str = "random", *, policy=None, trainer=None, **config):
    """``collect`` on the small pool (300 steps unless ``steps`` is given)."""
    config = SMALL | {"steps": 300} | config
    return collect(CollectConfig(kind=kind, **config), policy=policy, trainer=trainer)


def episode_returns(policy, *, episodes: int = 2, max_episode_steps: int = 50,
                    seed: int = 123) -> np.ndarray:
    """Returns of ``episodes`` episodes of ``policy`` in a fresh pool."""
    pool = SimPool(num_envs=episodes, seed=seed, max_episode_steps=max_episode_steps)
    recorder = EpisodeRecorder(pool)
    run_pool(pool, policy, episodes * max_episode_steps, recorder=recorder)
    return np.array([e.rewards.sum() for e in recorder.episodes])


class GaitTrainer:
    """A scripted PolicyTrainer: a sinusoid gait whose amplitude grows with the steps it has
    observed (0.2 -> 1.0 over ``ramp`` steps). ``evaluate`` reports the steps observed, so
    tests can predict when a target is reached."""

    def __init__(self, ramp: int = 600) -> None:
        self.ramp, self.steps, self.evaluations = ramp, 0, 0
        self.gait = SinusoidGait(amplitude=0.2)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.gait.act(obs)

    def observe(self, step: PoolStep) -> None:
        self.gait.observe(step)
        self.steps += len(step.obs)
        self.gait.amplitude = min(1.0, 0.2 + 0.8 * self.steps / self.ramp)

    def evaluate(self) -> float:
        self.evaluations += 1
        return float(self.steps)

    def policy(self, *, deterministic: bool = False) -> SinusoidGait:
        return SinusoidGait(amplitude=self.gait.amplitude)
