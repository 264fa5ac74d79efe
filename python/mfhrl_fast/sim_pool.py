"""Python face of the C++ multi-fidelity HalfCheetah pool (docs/algorithm.md, "The problem")."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import numpy as np
import numpy.typing as npt

from . import _core
from .fidelity import FidelitySpec
from .replay import ReplayRing


def half_cheetah_xml() -> str:
    """Path of the HalfCheetah MJCF shipped by the installed Gymnasium package."""
    path = resources.files("gymnasium.envs.mujoco") / "assets" / "half_cheetah.xml"
    return str(path)


class SimPool:
    """Many HalfCheetah-v5 environments of one or several fidelities, stepped in C++.

    Every call steps all environments at once on a persistent thread pool with
    the GIL released. Environment ``i`` runs fidelity ``fidelity_ids[i]`` and
    draws its reset and action noise from its own generator seeded with
    ``seed + i``, so results do not depend on ``num_threads``.

    ``step`` auto-resets environments that end (time limit or unstable physics)
    and returns in ``info``:

    - ``final_obs``: the observation each environment reached in this step,
      before any reset. For environments that did not end it equals ``obs``, so
      ``(obs_prev, action, reward, info["final_obs"])`` is always the right transition.
    - ``unstable``: physics diverged (NaN/Inf state or a MuJoCo warning); the
      environment was reset, its reward is 0 and ``final_obs`` is its last
      valid observation. Such transitions should usually be dropped.
    - ``episode_return`` / ``episode_length``: running totals including this step.
    """

    def __init__(
        self,
        *,
        fidelities: Sequence[FidelitySpec] = (FidelitySpec(),),
        fidelity_ids: npt.ArrayLike | None = None,
        num_envs: int | None = None,
        num_threads: int = 1,
        seed: int = 0,
        obs_dtype: npt.DTypeLike = np.float64,
        max_episode_steps: int = 1000,
        reset_noise_scale: float = 0.1,
        xml_path: str | None = None,
    ) -> None:
        if fidelity_ids is None:
            fidelity_ids = np.zeros(1 if num_envs is None else num_envs, dtype=np.int64)
        ids = np.asarray(fidelity_ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"fidelity_ids must be a 1-D sequence of ints, got {ids.dtype} "
                            f"{ids.shape}")
        if num_envs is not None and num_envs != len(ids):
            raise ValueError(f"num_envs={num_envs} but {len(ids)} fidelity_ids given")
        for spec in fidelities:
            if not isinstance(spec, FidelitySpec):
                raise TypeError(f"fidelities must hold FidelitySpec, got {type(spec).__name__}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self._fidelities = tuple(fidelities)
        self._pool = _core.SimPool(
            xml_path=xml_path or half_cheetah_xml(),
            fidelities=[f.to_core() for f in self._fidelities],
            fidelity_ids=ids.tolist(),
            num_threads=num_threads,
            seed=seed,
            max_episode_steps=max_episode_steps,
            reset_noise_scale=reset_noise_scale,
            obs_dtype=np.dtype(obs_dtype),
        )
        self._fidelity_ids = ids.astype(np.int64)
        self._fidelity_ids.flags.writeable = False
        self.max_episode_steps = max_episode_steps

    @property
    def num_envs(self) -> int:
        return self._pool.num_envs

    @property
    def num_threads(self) -> int:
        return self._pool.num_threads

    @property
    def fidelities(self) -> tuple[FidelitySpec, ...]:
        return self._fidelities

    @property
    def fidelity_ids(self) -> np.ndarray:
        return self._fidelity_ids

    @property
    def obs_dim(self) -> int:
        return self._pool.obs_dim

    @property
    def act_dim(self) -> int:
        return self._pool.act_dim

    @property
    def obs_dtype(self) -> np.dtype:
        return self._pool.obs_dtype

    @property
    def action_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) of the actuators' control range."""
        return self._pool.action_bounds

    def reset(self, *, seed: int | None = None) -> np.ndarray:
        """Reset every environment; with ``seed``, environment i is re-seeded with seed + i."""
        if seed is not None:
            if seed < 0:
                raise ValueError(f"seed must be >= 0, got {seed}")
            self._pool.seed(seed)
        return self._pool.reset()

    def step(
        self, actions: npt.ArrayLike, *, replay: ReplayRing | None = None,
        hold: npt.ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step all environments with ``actions`` of shape (num_envs, act_dim).

        With ``replay``, the C++ core also stores every environment's transition
        (obs, the action as given, reward, ``final_obs`` as next obs, flags and the
        environment's fidelity id) in env order; unstable steps are not stored.
        ``hold``, (num_envs,) bools, leaves the flagged environments where they are:
        their action is ignored, their reward is 0, their flags are False, ``obs`` and
        ``final_obs`` are their current observations, and nothing of theirs is stored
        (Gymnasium's NEXT_STEP autoreset holds the environments that ended last step).
        """
        if replay is not None and not isinstance(replay, ReplayRing):
            raise TypeError(f"replay must be a mfhrl_fast.ReplayRing, got {type(replay).__name__}")
        return self._pool.step(actions, replay=None if replay is None else replay._ring,
                               hold=hold)

    def get_state(self) -> tuple[np.ndarray, np.ndarray]:
        """(qpos, qvel), shaped (num_envs, 9) each."""
        return self._pool.get_state()

    def set_state(self, qpos: npt.ArrayLike, qvel: npt.ArrayLike) -> np.ndarray:
        """Set every environment's state (then mj_forward, as Gymnasium does); returns obs."""
        return self._pool.set_state(qpos, qvel)

    def applied_actions(self) -> np.ndarray:
        """The controls the last step applied, action noise included: (num_envs, act_dim)."""
        return self._pool.applied_actions()

    def __repr__(self) -> str:
        names = [f.name for f in self._fidelities]
        return (f"SimPool(num_envs={self.num_envs}, fidelities={names}, "
                f"num_threads={self.num_threads})")
