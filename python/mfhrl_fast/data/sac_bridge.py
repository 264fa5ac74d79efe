"""The ensemble SAC of ``mfhrl_fast.learners`` behind ``collect``'s interfaces.

Imported lazily: without ``mfhrl_fast.learners`` every entry point raises
:class:`SACUnavailableError` saying so, and ``collect`` still works with any
other :class:`~.policies.Policy` / :class:`~.policies.PolicyTrainer`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..fidelity import FidelitySpec
from ..replay import ReplayRing
from .policies import PoolStep


class SACUnavailableError(ImportError):
    """``mfhrl_fast.learners`` (the ensemble SAC) is not installed."""


def learners() -> tuple[Any, Any]:
    """The ``mfhrl_fast.learners`` package and its ``online`` module, or a clear error."""
    try:
        from .. import learners as package
        from ..learners import online
    except ImportError as e:
        raise SACUnavailableError(
            "SAC is unavailable: this needs mfhrl_fast.learners (the ensemble SAC), which is not "
            f"in this installation ({e}). Use kind='random', or pass your own policy / "
            "PolicyTrainer to mfhrl_fast.data.collect.") from e
    return package, online


class LearnerPolicy:
    """One member of an ensemble learner (``EnsembleSAC``, ``EnsembleCQL``, ...) as a Policy."""

    def __init__(self, learner: Any, *, member: int = 0, deterministic: bool = False) -> None:
        self.learner, self.member, self.deterministic = learner, member, deterministic

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.learner.act(np.asarray(obs, dtype=np.float32), member=self.member,
                                deterministic=self.deterministic)

    def save(self, path: str | os.PathLike[str]) -> None:
        """``torch.save`` the learner's ``state_dict`` (what ``mfhrl-fast train-sac --save``
        writes), loadable with :meth:`load`."""
        import torch

        torch.save(self.learner.state_dict(), path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, member: int = 0, deterministic: bool = False,
             device: str | None = None) -> LearnerPolicy:
        """A learner checkpoint (``state_dict``) as a policy acting with ``member``."""
        import torch

        package, _ = learners()
        state = torch.load(path, weights_only=True, map_location=device or "cpu")
        learner_class = getattr(package, state["class"], None)
        if learner_class is None:
            raise ValueError(f"{path}: unknown learner class {state['class']!r}")
        config = learner_class.config_class(**{
            k: tuple(v) if isinstance(v, list) else v for k, v in state["config"].items()})
        learner = learner_class(state["obs_dim"], state["act_dim"],
                                num_members=state["num_members"], config=config,
                                member_seeds=state["member_seeds"], device=device)
        learner.load_state_dict(state)
        if not 0 <= member < learner.num_members:
            raise ValueError(f"member {member} not in [0, {learner.num_members})")
        return cls(learner, member=member, deterministic=deterministic)

    def __repr__(self) -> str:
        return f"LearnerPolicy({self.learner!r}, member={self.member})"


class SACTrainer:
    """Online ensemble SAC as a ``PolicyTrainer``, with the schedule of
    ``learners.online.train_online_sac``: uniform random actions for the first
    ``learning_starts`` environment steps, then environment i acts with member i mod L and
    every pool step of n environments is followed by ``updates_per_step * n`` gradient steps
    on ``batch_size`` transitions per member.

    ``online`` is a ``learners.config.OnlineSACConfig`` (its ``steps`` sizes the replay; its
    evaluation fields drive ``evaluate``), ``sac`` a ``SACConfig``; ``fidelity`` is the
    environment ``evaluate`` runs (default: the true HalfCheetah-v5).
    """

    def __init__(self, online: Any = None, *, sac: Any = None,
                 fidelity: FidelitySpec | None = None, device: str | None = None,
                 obs_dim: int = 17, act_dim: int = 6) -> None:
        package, self._online = learners()
        from ..learners.config import OnlineSACConfig

        c = self.config = online if online is not None else OnlineSACConfig(num_members=1)
        self.fidelity, self.act_dim = fidelity or FidelitySpec(), act_dim
        self.learner = package.EnsembleSAC(obs_dim, act_dim, num_members=c.num_members,
                                           config=sac, seed=c.seed, device=device)
        self.ring = ReplayRing(capacity=c.steps + c.num_envs, obs_dim=obs_dim, act_dim=act_dim,
                               num_members=c.num_members, mask_prob=c.mask_prob, seed=c.seed)
        self.rng = np.random.default_rng(c.seed)
        self.env_steps, self.best_member, self._pending = 0, 0, 0.0

    def act(self, obs: np.ndarray) -> np.ndarray:
        if self.env_steps < self.config.learning_starts:
            return self.rng.uniform(-1.0, 1.0, (len(obs), self.act_dim)).astype(np.float32)
        members = np.arange(len(obs)) % self.config.num_members
        return self.learner.act(np.asarray(obs, dtype=np.float32), member=members)

    def observe(self, step: PoolStep) -> None:
        v = step.valid
        if v.any():
            self.ring.add(obs=step.obs[v], action=step.action[v], reward=step.reward[v],
                          next_obs=step.next_obs[v],
                          terminated=step.terminated[v].astype(np.float32),
                          truncated=step.truncated[v].astype(np.float32))
        self.env_steps += len(step.obs)
        if self.env_steps < self.config.learning_starts:
            return
        self._pending += self.config.updates_per_step * len(step.obs)
        while self._pending >= 1.0:
            self.learner.train_step(self.ring.sample_members(self.config.batch_size),
                                    as_float=False)
            self._pending -= 1.0

    def evaluate(self) -> float:
        """Deterministic return of the best member (averaged over ``eval_episodes``)."""
        c = self.config
        returns = self._online.evaluate(
            self.learner, members=range(c.num_members), fidelity=self.fidelity,
            n_episodes=c.eval_episodes, max_episode_steps=c.max_episode_steps,
            seed=c.eval_seed, num_threads=c.num_threads).mean(1)
        self.best_member = int(np.argmax(returns))
        return float(returns[self.best_member])

    def policy(self, *, deterministic: bool = False) -> LearnerPolicy:
        """A copy of the best member (as of the last ``evaluate``), acting stochastically."""
        return LearnerPolicy(self.learner.select_members([self.best_member]),
                             deterministic=deterministic)

    def __repr__(self) -> str:
        return f"SACTrainer({self.learner!r}, env_steps={self.env_steps})"
