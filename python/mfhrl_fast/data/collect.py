"""``collect``: local Minari datasets of the true HalfCheetah-v5, stepped through ``SimPool``.

Three kinds, after D4RL's:

- ``random``: uniform random actions;
- ``medium``: rollouts of one fixed policy (one given, e.g. a saved SAC checkpoint, or one
  trained here until its evaluation return reaches ``target_return``), its return recorded;
- ``replay``: every transition seen while training a policy online for ``steps`` steps
  (optionally stopping at ``target_return``): D4RL's medium-replay analogue.

The same config and seed give the same dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..rollout import rollout
from ..sim_pool import SimPool
from .dataset import D4RL_HALFCHEETAH_REF_MAX_SCORE, D4RL_HALFCHEETAH_REF_MIN_SCORE
from .policies import Policy, PolicyTrainer, PoolStep, UniformRandomPolicy
from .recorder import Episode, EpisodeRecorder, check_writable, write_minari

KINDS = ("random", "medium", "replay")
TRAIN_SEED_OFFSET = 1_000_000
"""``medium`` trains in a pool seeded ``seed + TRAIN_SEED_OFFSET`` (rollouts use ``seed``)."""


@dataclass(frozen=True)
class CollectConfig:
    """What ``collect`` records (all defaults ours; D4RL's datasets hold 1M transitions)."""

    kind: str = "random"
    """'random': uniform actions; 'medium': rollouts of one fixed policy; 'replay': every
    transition a policy sees while it is trained online."""
    steps: int = 1_000_000
    """Transitions in the dataset; for 'replay' the training steps recorded (at most)."""
    dataset_id: str | None = None
    """Minari id; None is ``mfhrl/halfcheetah/<kind>-v0``."""
    num_envs: int = 10
    """Environments stepped per pool call (each runs its own episodes)."""
    num_threads: int = 2
    """SimPool threads (results do not depend on it)."""
    seed: int = 0
    """Seeds the pool (environment i: seed + i), random actions and the trainer."""
    max_episode_steps: int = 1000
    """Time limit of an episode (HalfCheetah-v5's)."""
    target_return: float | None = None
    """'medium' without a policy: train until the evaluation return reaches this; 'replay':
    stop training once it does (D4RL's medium-replay stops at the medium level)."""
    train_steps: int = 1_000_000
    """'medium': most training steps spent reaching ``target_return``."""
    eval_every: int = 10_000
    """Training environment steps between evaluations ('medium', 'replay')."""
    deterministic: bool = False
    """'medium': roll out the trained policy's mean actions (default: sampled, as D4RL)."""
    overwrite: bool = False
    """Replace an existing dataset of the same id."""
    ref_min_score: float = D4RL_HALFCHEETAH_REF_MIN_SCORE
    """Minari ``ref_min_score`` (D4RL's HalfCheetah random return)."""
    ref_max_score: float = D4RL_HALFCHEETAH_REF_MAX_SCORE
    """Minari ``ref_max_score`` (D4RL's HalfCheetah expert return)."""
    author: str = "mfhrl_fast"
    """Minari ``author``."""
    author_email: str = "unknown"
    """Minari ``author_email``."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        for name in ("steps", "num_envs", "num_threads", "max_episode_steps", "train_steps",
                     "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")

    @property
    def id(self) -> str:
        """The Minari dataset id written."""
        return self.dataset_id or f"mfhrl/halfcheetah/{self.kind}-v0"


@dataclass(frozen=True)
class CollectResult:
    """What ``collect`` wrote."""

    dataset_id: str
    """Load it with ``mfhrl_fast.data.from_minari(dataset_id)`` or ``minari.load_dataset``."""
    episodes: int
    """Episodes written."""
    transitions: int
    """Transitions written."""
    metadata: dict[str, Any]
    """The ``"mfhrl_fast"`` entry of the dataset's Minari metadata."""
    policy: Policy | None = None
    """The behaviour policy of a 'medium' dataset (e.g. to save it)."""


def run_pool(pool: SimPool, policy: Policy, steps: int, *,
             recorder: EpisodeRecorder | None = None,
             callback: Callable[[int], bool] | None = None,
             progress: bool = False, desc: str | None = None) -> int:
    """Reset ``pool`` and step it with ``policy`` for ``steps`` transitions (in the last pool
    step only the first environments count, so exactly ``steps`` are recorded).

    ``policy.observe(step)`` (when defined) sees every pool step; ``callback(env_steps)``
    runs after each and stops the run by returning True. Returns the steps taken.
    """
    from tqdm.auto import tqdm

    observe = getattr(policy, "observe", None)
    obs = pool.reset()
    if recorder is not None:
        recorder.begin(obs)
    envs, done = np.arange(pool.num_envs), 0

    def act(obs: np.ndarray) -> np.ndarray:
        action = np.asarray(policy.act(obs), dtype=np.float32)
        if action.shape != (pool.num_envs, pool.act_dim):
            raise ValueError(f"policy.act returned shape {action.shape}, expected "
                             f"{(pool.num_envs, pool.act_dim)}")
        return np.clip(action, -1.0, 1.0)

    def sink(step: PoolStep) -> bool:
        nonlocal done
        count = min(pool.num_envs, steps - done)
        if recorder is not None:
            recorder.add(step, step.obs_after, envs < count)
        if observe is not None:
            observe(step)
        done += count
        bar.update(count)
        stop = callback is not None and callback(done)
        return stop or done >= steps

    with tqdm(total=steps, desc=desc, unit="step", disable=not progress, smoothing=0.1) as bar:
        rollout(pool, act, -(-steps // pool.num_envs), sink=sink, obs=obs)
    if recorder is not None:
        recorder.close()
    return done


def _make_pool(config: CollectConfig, seed: int) -> SimPool:
    return SimPool(num_envs=config.num_envs, num_threads=config.num_threads, seed=seed,
                   max_episode_steps=config.max_episode_steps)


def _evaluations(trainer: PolicyTrainer, every: int, target: float | None,
                 history: list[tuple[int, float]]) -> Callable[[int], bool]:
    """A ``run_pool`` callback evaluating ``trainer`` every ``every`` steps into ``history``;
    it stops the run once the return reaches ``target``."""
    def callback(env_steps: int) -> bool:
        if env_steps < (len(history) + 1) * every:
            return False
        history.append((env_steps, float(trainer.evaluate())))
        return target is not None and history[-1][1] >= target
    return callback


def _default_trainer(config: CollectConfig, steps: int, seed: int) -> PolicyTrainer:
    from .sac_bridge import SACTrainer, learners

    learners()  # a clear error before importing its config
    from ..learners.config import OnlineSACConfig

    return SACTrainer(OnlineSACConfig(steps=steps, num_envs=config.num_envs, num_members=1,
                                      num_threads=config.num_threads, seed=seed,
                                      max_episode_steps=config.max_episode_steps))


def _return_stats(episodes: list[Episode]) -> dict[str, float | int]:
    """Return statistics of the episodes that ran to their end (not cut by the recording)."""
    returns = np.array([e.rewards.sum() for e in episodes if not e.cut])
    if len(returns) == 0:
        return {"count": 0}
    return {"count": len(returns), "mean": float(returns.mean()), "std": float(returns.std()),
            "min": float(returns.min()), "max": float(returns.max())}


def collect(config: CollectConfig = CollectConfig(), *, policy: Policy | None = None,
            trainer: PolicyTrainer | None = None, progress: bool = False) -> CollectResult:
    """Write the local Minari dataset ``config.id`` (see the module docstring).

    ``policy``: the 'medium' behaviour policy (else ``trainer`` is trained to
    ``config.target_return``); ``trainer``: the learner of 'replay' and of 'medium' without a
    policy (default: ``SACTrainer``, which needs ``mfhrl_fast.learners``). ``progress`` shows
    tqdm bars. Every episode stores its initial MuJoCo state in its Minari episode metadata.
    """
    c = config
    check_writable(c.id, c.overwrite)
    if c.kind == "random" and (policy is not None or trainer is not None):
        raise ValueError("kind='random' takes no policy or trainer")
    if c.kind == "medium" and policy is not None and trainer is not None:
        raise ValueError("kind='medium' rolls out a policy, or trains a trainer: not both")
    if c.kind == "medium" and policy is None and c.target_return is None:
        raise ValueError("kind='medium' needs a policy, or a target_return to train one to")
    if c.kind == "replay" and policy is not None:
        raise ValueError("kind='replay' records what a trainer sees: pass trainer=, not policy=")
    seeds: dict[str, Any] = {"pool": c.seed, "env_i": "pool + i"}
    meta: dict[str, Any] = {}
    pool = _make_pool(c, c.seed)
    recorder = EpisodeRecorder(pool)
    if c.kind == "random":
        policy = UniformRandomPolicy(pool.act_dim, seed=c.seed)
        seeds["actions"] = c.seed
        run_pool(pool, policy, c.steps, recorder=recorder, progress=progress, desc="random")
    elif c.kind == "replay":
        trainer = trainer if trainer is not None else _default_trainer(c, c.steps, c.seed)
        seeds["trainer"] = c.seed
        history: list[tuple[int, float]] = []
        meta["steps_trained"] = run_pool(
            pool, trainer, c.steps, recorder=recorder, progress=progress, desc="replay",
            callback=_evaluations(trainer, c.eval_every, c.target_return, history))
        meta["evaluations"] = history
        policy = trainer
    else:
        if policy is None:
            train_seed = c.seed + TRAIN_SEED_OFFSET
            trainer = trainer if trainer is not None else _default_trainer(
                c, c.train_steps, train_seed)
            seeds["train_pool"] = seeds["trainer"] = train_seed
            history = []
            meta["steps_trained"] = run_pool(
                _make_pool(c, train_seed), trainer, c.train_steps, progress=progress,
                desc="train", callback=_evaluations(trainer, c.eval_every, c.target_return,
                                                    history))
            if not history or history[-1][0] != meta["steps_trained"]:
                history.append((meta["steps_trained"], float(trainer.evaluate())))
            meta["evaluations"] = history
            meta["policy_eval_return"] = history[-1][1]
            if history[-1][1] < c.target_return:
                raise RuntimeError(f"the trained policy reached {history[-1][1]:.1f} < "
                                   f"target_return {c.target_return} in {c.train_steps} steps")
            policy = trainer.policy(deterministic=c.deterministic)
        run_pool(pool, policy, c.steps, recorder=recorder, progress=progress, desc="medium")
    episodes = recorder.episodes
    meta = {"kind": c.kind, "steps": int(sum(len(e.rewards) for e in episodes)),
            "episodes": len(episodes), "policy": repr(policy),
            "policy_returns": _return_stats(episodes), **meta, "seeds": seeds,
            **_versions(), "ref_min_score": c.ref_min_score, "ref_max_score": c.ref_max_score,
            "initial_states": "episode metadata 'initial_qpos' / 'initial_qvel'",
            "config": asdict(c)}
    write_minari(c.id, episodes, metadata=meta, max_episode_steps=c.max_episode_steps,
                 overwrite=c.overwrite, algorithm_name=f"mfhrl_fast.collect:{c.kind}",
                 author=c.author, author_email=c.author_email,
                 code_permalink=f"mfhrl_fast {meta['package_version']}: mfhrl_fast.data.collect",
                 ref_min_score=c.ref_min_score, ref_max_score=c.ref_max_score,
                 description=f"HalfCheetah-v5 '{c.kind}' dataset written by mfhrl-fast collect")
    return CollectResult(dataset_id=c.id, episodes=len(episodes), transitions=meta["steps"],
                         metadata=meta, policy=policy if c.kind == "medium" else None)


def _versions() -> dict[str, str]:
    import gymnasium
    import mujoco

    from .. import __version__

    return {"package_version": __version__, "mujoco_version": mujoco.__version__,
            "gymnasium_version": gymnasium.__version__}
