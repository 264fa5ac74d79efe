"""A Gymnasium ``VectorEnv`` over :class:`SimPool`, for Gymnasium-based code."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .sim_pool import SimPool


class SimPoolVectorEnv(VectorEnv):
    """Gymnasium vector env backed by a :class:`SimPool`.

    Autoreset is Gymnasium's ``SAME_STEP`` mode: an environment that ends is
    reset in the same step, ``obs`` holds its first new observation, and
    ``info["final_obs"]`` / ``info["_final_obs"]`` hold the last observation
    and the mask of environments that ended (``final_obs`` is a dense
    (num_envs, obs_dim) array; rows of environments that did not end equal ``obs``). Keyword arguments go to SimPool.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, pool: SimPool | None = None, **pool_kwargs: Any) -> None:
        self.pool = pool if pool is not None else SimPool(**pool_kwargs)
        self.num_envs = self.pool.num_envs
        low, high = self.pool.action_bounds
        self.single_action_space = gym.spaces.Box(low.astype(np.float32), high.astype(np.float32))
        self.single_observation_space = gym.spaces.Box(
            -np.inf, np.inf, shape=(self.pool.obs_dim,), dtype=self.pool.obs_dtype
        )
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if options:
            raise ValueError(f"SimPoolVectorEnv.reset takes no options, got {sorted(options)}")
        if seed is not None:
            self._np_random, _ = gym.utils.seeding.np_random(seed)
            self.action_space.seed(seed)
        return self.pool.reset(seed=seed), {}

    def step(self, actions: np.ndarray):
        obs, reward, terminated, truncated, info = self.pool.step(actions)
        info["_final_obs"] = terminated | truncated
        return obs, reward, terminated, truncated, info
