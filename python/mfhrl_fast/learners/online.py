"""Acting in SimPool: evaluation, data collection and online ensemble SAC.

Every function steps many environments per pool call and asks the learner for
all their actions at once (``act`` with one member id per environment).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..fidelity import FidelitySpec
from ..jsonl import JsonLines
from ..replay import ReplayRing
from ..rollout import PoolStep, fresh_pool, rollout
from ..sim_pool import SimPool
from .base import EnsembleLearner
from .batch import metrics_to_floats
from .config import OnlineSACConfig, SACConfig
from .sac import EnsembleSAC


def evaluate(
    learner: EnsembleLearner, *, members: int | Sequence[int] = 0,
    fidelity: FidelitySpec = FidelitySpec(), n_episodes: int = 10,
    max_episode_steps: int = 1000, seed: int = 10_000, num_threads: int = 2,
    deterministic: bool = True, trajectories: dict[str, np.ndarray] | None = None,
    averaged: bool = False,
) -> np.ndarray:
    """Episode returns (len(members), n_episodes) of the given members in ``fidelity``.

    One ``SimPool`` (cached: :func:`~..rollout.fresh_pool`) runs every (member, episode)
    pair as its own environment for one
    episode of ``max_episode_steps`` steps; actions are ``tanh(mean)`` when
    ``deterministic`` (as in CORL and d3rlpy). A fixed ``seed`` gives every call the same
    initial states. An environment whose physics diverged ends with its return so far.
    ``trajectories``, a dict, receives ``obs``, ``action`` and ``reward`` shaped
    (steps, envs, ...) and ``alive`` (steps, envs): whether the step belongs to the episode.
    ``averaged`` evaluates the learner's averaged actor (``config.policy_averaging``).
    """
    ids = np.atleast_1d(np.asarray(members))
    if n_episodes < 1 or max_episode_steps < 1 or ids.ndim != 1 or len(ids) == 0:
        raise ValueError("need n_episodes >= 1, max_episode_steps >= 1 and some members")
    member_of_env = np.repeat(ids, n_episodes)
    learner._member_ids(member_of_env, len(member_of_env))  # validates the ids
    pool, obs = fresh_pool(fidelity, num_envs=len(member_of_env), seed=seed,
                           max_episode_steps=max_episode_steps, num_threads=num_threads)
    returns = np.zeros(len(member_of_env))
    done = np.zeros(len(member_of_env), dtype=bool)
    steps = []

    def sink(step: PoolStep) -> bool:
        if trajectories is not None:
            steps.append((step.obs, step.action, step.reward, ~done))
        ended = (step.terminated | step.truncated) & ~done
        returns[ended] = step.episode_return[ended]
        done[ended] = True
        return bool(done.all())

    def policy(obs: np.ndarray) -> np.ndarray:
        return learner.act(obs, member=member_of_env, deterministic=deterministic,
                           averaged=averaged)

    rollout(pool, policy, max_episode_steps, sink=sink, obs=obs)
    if trajectories is not None:
        for key, column in zip(("obs", "action", "reward", "alive"), zip(*steps, strict=True),
                               strict=True):
            trajectories[key] = np.stack(column)
    return returns.reshape(len(ids), n_episodes)


class Collector:
    """A pool whose environments keep running across calls, storing transitions in a ring.

    Environment i is run by member ``member_of_env[i]`` (default i mod L). ``step``
    does one pool step with the learner's stochastic (or deterministic) actions, or
    uniform random actions when ``learner`` is None; it returns the returns of the
    episodes that ended.
    """

    def __init__(self, *, num_envs: int, fidelity: FidelitySpec = FidelitySpec(),
                 member_of_env: Sequence[int] | None = None, num_members: int = 1,
                 seed: int = 0, num_threads: int = 2, max_episode_steps: int = 1000) -> None:
        self.pool = SimPool(fidelities=[fidelity], num_envs=num_envs, num_threads=num_threads,
                            seed=seed, max_episode_steps=max_episode_steps, obs_dtype=np.float32)
        self.member_of_env = (np.arange(num_envs) % num_members if member_of_env is None
                              else np.asarray(member_of_env))
        self.rng = np.random.default_rng(seed)
        self.obs = self.pool.reset()
        self.env_steps = 0

    def step(self, learner: EnsembleLearner | None, ring: ReplayRing | None, *,
             deterministic: bool = False) -> np.ndarray:
        if learner is None:
            def policy(obs: np.ndarray) -> np.ndarray:
                return self.rng.uniform(-1.0, 1.0, (len(obs), self.pool.act_dim)).astype(
                    np.float32)
        else:
            def policy(obs: np.ndarray) -> np.ndarray:
                return learner.act(obs, member=self.member_of_env, deterministic=deterministic)
        ended: list[np.ndarray] = []

        def sink(step: PoolStep) -> None:
            ended.append(step.episode_return[step.terminated | step.truncated].copy())

        self.obs = rollout(self.pool, policy, 1, replay=ring, sink=sink, obs=self.obs)
        self.env_steps += self.pool.num_envs
        return ended[0]


def collect(
    learner: EnsembleLearner | None, ring: ReplayRing, *, steps: int, num_envs: int = 8,
    fidelity: FidelitySpec = FidelitySpec(), member_of_env: Sequence[int] | None = None,
    deterministic: bool = False, seed: int = 0, num_threads: int = 2,
    max_episode_steps: int = 1000,
) -> np.ndarray:
    """Store ``steps`` environment steps (rounded up to whole pool steps) of the learner's
    members (or of uniform random actions with ``learner=None``) in ``ring``, e.g. to
    build a behaviour dataset. Returns the returns of the episodes that ended."""
    collector = Collector(num_envs=num_envs, fidelity=fidelity, member_of_env=member_of_env,
                          num_members=learner.num_members if learner else 1, seed=seed,
                          num_threads=num_threads, max_episode_steps=max_episode_steps)
    returns = [collector.step(learner, ring, deterministic=deterministic)
               for _ in range(-(-steps // num_envs))]
    return np.concatenate(returns)


def train_online_sac(
    config: OnlineSACConfig = OnlineSACConfig(), *, sac: SACConfig = SACConfig(),
    fidelity: FidelitySpec = FidelitySpec(), device: str | None = None, precision: str = "fp32",
    log_path: str | Path | None = None, log: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[EnsembleSAC, list[dict[str, Any]]]:
    """Online ensemble SAC in ``fidelity`` (the true HalfCheetah-v5 by default).

    Each pool step stores ``num_envs`` transitions through ``pool.step(replay=ring)`` and
    then takes ``updates_per_step * num_envs`` ensemble gradient steps (after
    ``learning_starts`` random steps). Every ``eval_every`` environment steps all members
    are evaluated deterministically in ``fidelity``; the rows (``env_steps``, ``eval/mean``,
    ``eval/member<l>``, ``time/...``, the last ``losses/*``) are returned, passed to ``log``
    and appended as JSON lines to ``log_path``.
    """
    c = config
    collector = Collector(num_envs=c.num_envs, fidelity=fidelity, num_members=c.num_members,
                          seed=c.seed, num_threads=c.num_threads,
                          max_episode_steps=c.max_episode_steps)
    obs_dim, act_dim = collector.pool.obs_dim, collector.pool.act_dim
    learner = EnsembleSAC(obs_dim, act_dim, num_members=c.num_members, config=sac, seed=c.seed,
                          device=device, precision=precision)
    ring = ReplayRing(capacity=c.steps + c.num_envs, obs_dim=obs_dim, act_dim=act_dim,
                      num_members=c.num_members, mask_prob=c.mask_prob, seed=c.seed)
    start, update_time, pending, next_eval = time.perf_counter(), 0.0, 0.0, c.eval_every
    metrics: dict[str, Any] = {}
    train_returns: list[float] = []
    with JsonLines(log_path, log) as history:
        while collector.env_steps < c.steps:
            warm = collector.env_steps < c.learning_starts
            train_returns.extend(collector.step(None if warm else learner, ring))
            if collector.env_steps >= c.learning_starts:
                pending += c.updates_per_step * c.num_envs
                t0 = time.perf_counter()
                while pending >= 1.0:
                    metrics = learner.train_step(ring.sample_members(c.batch_size), as_float=False)
                    pending -= 1.0
                update_time += time.perf_counter() - t0
            if collector.env_steps >= next_eval or collector.env_steps >= c.steps:
                next_eval += c.eval_every
                returns = evaluate(learner, members=range(c.num_members), fidelity=fidelity,
                                   n_episodes=c.eval_episodes,
                                   max_episode_steps=c.max_episode_steps,
                                   seed=c.eval_seed, num_threads=c.num_threads)
                row = {"env_steps": collector.env_steps, "updates": learner.num_updates,
                       "eval/mean": float(returns.mean()),
                       **{f"eval/member{m}": float(r) for m, r in enumerate(returns.mean(1))},
                       "charts/train_return": float(np.mean(train_returns[-20:]))
                       if train_returns else float("nan"),
                       "time/wall_s": time.perf_counter() - start, "time/update_s": update_time,
                       "time/sps": collector.env_steps / (time.perf_counter() - start),
                       **(metrics_to_floats(metrics, "losses/") if metrics else {})}
                history.add(row)
    return learner, history.rows


def config_dict(config: OnlineSACConfig, sac: SACConfig) -> dict[str, Any]:
    """Both configs as one flat dict (for logs)."""
    return {**asdict(config), **{f"sac.{k}": v for k, v in asdict(sac).items()}}


__all__ = ["Collector", "collect", "config_dict", "evaluate", "train_online_sac"]
