"""Pool steps to Minari episodes: the episode bookkeeping and the Minari writer of ``collect``."""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..sim_pool import SimPool
from .policies import PoolStep


@dataclass(frozen=True)
class Episode:
    """One recorded episode of one environment."""

    observations: np.ndarray
    """(T + 1, obs_dim) float64: o_0 .. o_T, the last one before any reset."""
    actions: np.ndarray
    """(T, act_dim) float32, as stepped."""
    rewards: np.ndarray
    """(T,) float64."""
    terminated: bool
    """The last step terminated."""
    truncated: bool
    """The last step was truncated: by the time limit, or because recording stopped (``cut``)."""
    cut: bool
    """Recording stopped the episode (end of collection, or the physics diverged next)."""
    initial_qpos: np.ndarray
    """(nq,) MuJoCo qpos at o_0 (x position included, which the observation omits)."""
    initial_qvel: np.ndarray
    """(nv,) MuJoCo qvel at o_0."""


class EpisodeRecorder:
    """Cuts the steps of a ``SimPool`` into per-environment episodes.

    Call :meth:`begin` after ``pool.reset()``, :meth:`add` after every ``pool.step`` and
    :meth:`close` at the end. Each episode keeps its exact initial MuJoCo state (read with
    ``pool.get_state()`` at the reset), so it can be replayed in Gymnasium. An environment
    whose physics diverged ends its episode (truncated) before that step; :meth:`close`
    truncates the episodes still running, as Minari's ``DataCollector`` does. Storage is a
    ring of ``max_episode_steps`` pool steps, so memory does not grow with the run.
    """

    def __init__(self, pool: SimPool) -> None:
        n, m = pool.num_envs, pool.max_episode_steps
        self.pool, self.window = pool, m
        self._actions = np.zeros((m, n, pool.act_dim), dtype=np.float32)
        self._rewards = np.zeros((m, n))
        self._next_obs = np.zeros((m, n, pool.obs_dim))
        self._obs0 = np.zeros((n, pool.obs_dim))
        qpos, qvel = pool.get_state()
        self._qpos0, self._qvel0 = np.zeros_like(qpos), np.zeros_like(qvel)
        self._start = np.zeros(n, dtype=np.int64)
        self._step = 0
        self.episodes: list[Episode] = []

    def begin(self, obs: np.ndarray, envs: np.ndarray | None = None) -> None:
        """Start new episodes at ``obs`` for ``envs`` (a bool mask; all by default)."""
        envs = np.ones(len(obs), dtype=bool) if envs is None else envs
        qpos, qvel = self.pool.get_state()
        self._obs0[envs], self._qpos0[envs], self._qvel0[envs] = obs[envs], qpos[envs], qvel[envs]
        self._start[envs] = self._step

    def add(self, step: PoolStep, next_obs: np.ndarray, recorded: np.ndarray | None = None) -> None:
        """Record one pool step; ``next_obs`` is what ``pool.step`` returned (after resets).
        Environments outside ``recorded`` (a bool mask) are not stored: their episodes end."""
        recorded = np.ones(len(step.obs), dtype=bool) if recorded is None else recorded
        slot = self._step % self.window
        self._actions[slot], self._rewards[slot] = step.action, step.reward
        self._next_obs[slot] = step.next_obs
        ended = (step.terminated | step.truncated) & step.valid & recorded
        cut = ~step.valid | ~recorded
        for i in np.flatnonzero(ended):
            self._finish(i, self._step, bool(step.terminated[i]), bool(step.truncated[i]), False)
        for i in np.flatnonzero(cut):
            self._finish(i, self._step - 1, False, True, True)
        self._step += 1
        if (ended | cut).any():
            self.begin(next_obs, ended | cut)

    def close(self) -> None:
        """Truncate every running episode at the last recorded step."""
        for i in range(len(self._start)):
            self._finish(i, self._step - 1, False, True, True)
        self._start[:] = self._step

    def _finish(self, i: int, end: int, terminated: bool, truncated: bool, cut: bool) -> None:
        start = self._start[i]
        if end < start:
            return
        rows = np.arange(start, end + 1) % self.window
        self.episodes.append(Episode(
            observations=np.concatenate([self._obs0[i][None], self._next_obs[rows, i]]),
            actions=self._actions[rows, i].copy(), rewards=self._rewards[rows, i].copy(),
            terminated=terminated, truncated=truncated, cut=cut,
            initial_qpos=self._qpos0[i].copy(), initial_qvel=self._qvel0[i].copy()))
        self._start[i] = end + 1


def dataset_path(dataset_id: str) -> Any:
    """Local folder of a Minari dataset id (validated) under the Minari root."""
    from minari.dataset.minari_dataset import parse_dataset_id
    from minari.storage import get_dataset_path

    parse_dataset_id(dataset_id)  # ValueError on a malformed id
    return get_dataset_path(dataset_id)


def check_writable(dataset_id: str, overwrite: bool) -> None:
    """Raise before any work if ``dataset_id`` is malformed or exists (without ``overwrite``)."""
    if dataset_path(dataset_id).exists() and not overwrite:
        raise FileExistsError(f"Minari dataset {dataset_id!r} already exists at "
                              f"{dataset_path(dataset_id)}; pass overwrite=True (--overwrite)")


def write_minari(dataset_id: str, episodes: list[Episode], *, metadata: dict[str, Any],
                 max_episode_steps: int, overwrite: bool = False, **minari_kwargs: Any) -> Any:
    """Write ``episodes`` as a local Minari dataset of HalfCheetah-v5 with Minari's
    ``create_dataset_from_buffers``; per-episode ``initial_qpos`` / ``initial_qvel`` go to the
    episodes' metadata (``storage.get_episode_metadata``), ``metadata`` to the dataset's
    metadata under ``"mfhrl_fast"``. ``minari_kwargs``: ``algorithm_name``, ``author``,
    ``ref_min_score``, ... of ``create_dataset_from_buffers``. Returns the MinariDataset."""
    import gymnasium as gym
    import minari
    import mujoco
    from minari.data_collector import EpisodeBuffer

    if not episodes:
        raise ValueError("no episode to write (collect at least one step)")
    check_writable(dataset_id, overwrite)
    if dataset_path(dataset_id).exists():
        shutil.rmtree(dataset_path(dataset_id))
    buffers = []
    for e in episodes:
        flags = np.zeros((2, len(e.rewards)), dtype=bool)
        flags[:, -1] = e.terminated, e.truncated
        buffers.append(EpisodeBuffer(observations=e.observations, actions=e.actions,
                                     rewards=e.rewards, terminations=flags[0],
                                     truncations=flags[1], infos={}))
    spec = dataclasses.replace(gym.spec("HalfCheetah-v5"), max_episode_steps=max_episode_steps)
    dataset = minari.create_dataset_from_buffers(
        dataset_id, buffers, env=spec, eval_env=spec, data_format="hdf5",
        requirements=[f"mujoco=={mujoco.__version__}", f"gymnasium>={gym.__version__}"],
        **minari_kwargs)
    dataset.storage.update_episode_metadata(
        [{"initial_qpos": e.initial_qpos, "initial_qvel": e.initial_qvel} for e in episodes])
    dataset.storage.update_metadata({"mfhrl_fast": metadata})
    return dataset
