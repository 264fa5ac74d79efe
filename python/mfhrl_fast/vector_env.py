"""A Gymnasium ``VectorEnv`` over :class:`SimPool`, and the registered id
``mfhrl_fast/HalfCheetah-v5`` for ``gymnasium.make_vec``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .fidelity import FidelitySpec
from .sim_pool import SimPool

ENV_ID = "mfhrl_fast/HalfCheetah-v5"
"""The id ``gymnasium.make_vec`` knows once ``mfhrl_fast`` is imported."""


class SimPoolVectorEnv(VectorEnv):
    """Gymnasium vector env backed by a :class:`SimPool`, in either autoreset mode.

    - ``NEXT_STEP`` (Gymnasium's default): the step in which an environment ends
      returns its last observation; the next step resets it (its action is ignored,
      reward 0, flags False) and returns its first new observation. The pool holds
      that environment still for the step (``SimPool.step(hold=...)``).
    - ``SAME_STEP``: an environment that ends is reset in the same step; ``obs`` holds
      its first new observation and ``info["final_obs"]`` / ``info["_final_obs"]`` its
      last one and the mask of environments that ended (``final_obs`` is a dense
      (num_envs, obs_dim) array whose other rows equal ``obs``).

    ``info`` also holds the pool's ``unstable``, ``episode_return`` and
    ``episode_length``. Keyword arguments go to SimPool.
    """

    def __init__(self, pool: SimPool | None = None, *,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                 **pool_kwargs: Any) -> None:
        mode = AutoresetMode(autoreset_mode)
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
            raise ValueError(f"autoreset_mode must be NEXT_STEP or SAME_STEP, got {mode}")
        self.metadata = {"autoreset_mode": mode}
        self.pool = pool if pool is not None else SimPool(**pool_kwargs)
        self.num_envs = self.pool.num_envs
        low, high = self.pool.action_bounds
        self.single_action_space = gym.spaces.Box(low.astype(np.float32), high.astype(np.float32))
        self.single_observation_space = gym.spaces.Box(
            -np.inf, np.inf, shape=(self.pool.obs_dim,), dtype=self.pool.obs_dtype
        )
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._ended = np.zeros(self.num_envs, dtype=bool)

    @property
    def autoreset_mode(self) -> AutoresetMode:
        return self.metadata["autoreset_mode"]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if options:
            raise ValueError(f"SimPoolVectorEnv.reset takes no options, got {sorted(options)}")
        if seed is not None:
            self._np_random, _ = gym.utils.seeding.np_random(seed)
            self.action_space.seed(seed)
        self._ended[:] = False
        return self.pool.reset(seed=seed), {}

    def step(self, actions: np.ndarray):
        if self.autoreset_mode is AutoresetMode.SAME_STEP:
            obs, reward, terminated, truncated, info = self.pool.step(actions)
            info["_final_obs"] = terminated | truncated
            return obs, reward, terminated, truncated, info
        hold = self._ended if self._ended.any() else None
        obs, reward, terminated, truncated, info = self.pool.step(actions, hold=hold)
        ended = terminated | truncated
        if ended.any():  # show the last observation now; the pool already reset them
            obs = np.where(ended[:, None], info["final_obs"], obs)
        self._ended = ended
        del info["final_obs"]
        return obs, reward, terminated, truncated, info


def make_vector_env(num_envs: int = 1, *, gravity_scale: float = 1.0,
                    friction_scale: float = 1.0, action_noise_std: float = 0.0,
                    autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                    **pool_kwargs: Any) -> SimPoolVectorEnv:
    """``num_envs`` HalfCheetah-v5 environments of one fidelity as a Gymnasium vector env:
    the vector entry point of ``gymnasium.make_vec("mfhrl_fast/HalfCheetah-v5", ...)``.
    Other keyword arguments (``num_threads``, ``seed``, ``max_episode_steps``,
    ``obs_dtype``...) go to :class:`SimPool`."""
    spec = FidelitySpec(gravity_scale=gravity_scale, friction_scale=friction_scale,
                        action_noise_std=action_noise_std)
    return SimPoolVectorEnv(autoreset_mode=autoreset_mode, fidelities=[spec],
                            num_envs=num_envs, **pool_kwargs)


def register_envs() -> None:
    """Register :data:`ENV_ID` with Gymnasium (once; ``import mfhrl_fast`` does it)."""
    if ENV_ID not in gym.registry:
        gym.register(ENV_ID, vector_entry_point=make_vector_env, max_episode_steps=1000)


__all__ = ["ENV_ID", "SimPoolVectorEnv", "make_vector_env", "register_envs"]
