"""A short ensemble CQL run on a small scripted-gait dataset improves its return."""

from __future__ import annotations

import numpy as np

from mfhrl_fast import ReplayRing, SimPool
from mfhrl_fast.learners import CQLConfig, EnsembleCQL
from mfhrl_fast.learners.online import evaluate

from learn_support import ACT, OBS

# An open-loop sinusoid gait (found by random search) that runs forward at about 1.4 reward/step.
PERIOD = 7
PHASE = np.array([0.86, 3.98, 2.7, 3.39, 3.87, 1.77])
AMPLITUDE = np.array([0.3, 0.75, 0.71, 0.53, 0.64, 0.92])
STEPS, ENVS = 250, 16


def gait_dataset(members: int) -> tuple[ReplayRing, float]:
    """16 episodes of 250 steps of the gait plus N(0, 0.1^2) action noise; bootstrap masks
    with p = 0.5. Returns the ring and the behaviour's mean return."""
    ring = ReplayRing(capacity=STEPS * ENVS, obs_dim=OBS, act_dim=ACT, num_members=members,
                      mask_prob=0.5, seed=0)
    pool = SimPool(num_envs=ENVS, num_threads=2, seed=0, max_episode_steps=STEPS)
    pool.reset()
    rng = np.random.default_rng(0)
    returns = np.zeros(ENVS)
    for t in range(STEPS):
        gait = AMPLITUDE * np.sin(2 * np.pi * t / PERIOD + PHASE)
        action = np.clip(gait + 0.1 * rng.normal(size=(ENVS, ACT)), -1, 1)
        returns += pool.step(action, replay=ring)[1]
    return ring, float(returns.mean())


def test_cql_learns_from_a_gait_dataset():
    ring, behaviour = gait_dataset(members=2)
    config = CQLConfig(hidden_sizes=(64, 64), actor_lr=1e-3, critic_lr=1e-3, n_actions=4)
    cql = EnsembleCQL(OBS, ACT, num_members=2, config=config, seed=0, device="cpu")
    states = ring.sample(4000)["obs"]
    cql.set_obs_normalization(states.mean(0), states.std(0))

    def score() -> np.ndarray:
        return evaluate(cql, members=[0, 1], n_episodes=3, max_episode_steps=STEPS).mean(1)

    untrained = score()
    for _ in range(1500):
        metrics = cql.train_step(ring.sample_members(128))
    trained = score()
    assert np.isfinite(list(metrics.values())).all()
    assert behaviour > 100
    assert trained.mean() > untrained.mean() + 100, (untrained, trained, behaviour)
