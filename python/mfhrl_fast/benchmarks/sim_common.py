"""What every simulator benchmark shares: inputs, the mj_step reference, checks, System.

Every system steps HalfCheetah-v5 with the same pre-generated uniform random
float64 actions in [-1, 1] (:func:`make_actions`, made once, outside the timed
region) and is measured in **env-steps/s** (:data:`UNIT`). A :class:`System`
owns its actions, steps them all in ``run()`` and checks itself: a cheap
``verify()`` before measuring, and finite observations and rewards of the
right shapes after every timed run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import mujoco
import numpy as np

from .native_output import quiet_native_output

ENV_ID = "HalfCheetah-v5"
FRAME_SKIP = 5
"""MuJoCo physics steps per env-step (HalfCheetah-v5's frame_skip)."""
OBS_DIM = 17
ACT_DIM = 6
CTRL_COST_WEIGHT = 0.1
FORWARD_REWARD_WEIGHT = 1.0
CHECK_STEPS = 3
"""Env-steps compared against the mj_step reference before measuring."""
CHECK_TOL = 1e-9
"""Absolute and relative tolerance of that comparison (same libmujoco: expect 0)."""
UNIT = "env-steps/s (1 env-step = 5 MuJoCo physics steps)"


class BenchCheckError(AssertionError):
    """A benchmarked system returned something wrong."""


# ---------------------------------------------------------------------------
# Inputs shared by every system


def make_actions(steps: int, num_envs: int, *, seed: int = 0) -> np.ndarray:
    """Uniform random actions in [-1, 1], float64, shaped (steps, num_envs, 6)."""
    if steps < 1 or num_envs < 1:
        raise ValueError(f"steps and num_envs must be >= 1, got {steps} and {num_envs}")
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=(steps, num_envs, ACT_DIM))


def single_env_actions(actions: np.ndarray) -> np.ndarray:
    """The same actions as one environment's sequence: (steps * num_envs, 1, 6), no copy."""
    return actions.reshape(-1, 1, ACT_DIM)


def initial_states(num_envs: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gymnasium-style reset states (qpos, qvel), (num_envs, 9) each, from SimPool's reset."""
    from ..sim_pool import SimPool

    with quiet_native_output():
        pool = SimPool(num_envs=num_envs, seed=seed)
    pool.reset(seed=seed)
    return pool.get_state()


def gym_model() -> mujoco.MjModel:
    """The MjModel of Gymnasium's own HalfCheetah-v5 environment."""
    import gymnasium as gym

    with quiet_native_output():
        env = gym.make(ENV_ID)
    model = env.unwrapped.model
    env.close()
    return model


# ---------------------------------------------------------------------------
# The mj_step reference and the output checks


def reward_of(x_before: Any, x_after: Any, actions: np.ndarray, dt: float) -> Any:
    """HalfCheetah-v5's reward: forward velocity minus the control cost (last axis of actions)."""
    x_velocity = (x_after - x_before) / dt
    return FORWARD_REWARD_WEIGHT * x_velocity - CTRL_COST_WEIGHT * np.sum(
        np.square(actions), axis=-1
    )


def reference_steps(
    model: mujoco.MjModel, qpos: np.ndarray, qvel: np.ndarray, actions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(obs, reward) of a plain mj_step loop from (qpos, qvel): (k, 17) and (k,)."""
    data = mujoco.MjData(model)
    data.qpos[:] = qpos
    data.qvel[:] = qvel
    mujoco.mj_forward(model, data)
    dt = model.opt.timestep * FRAME_SKIP
    obs, reward = [], []
    for a in actions:
        x_before = data.qpos[0]
        data.ctrl[:] = a
        mujoco.mj_step(model, data, nstep=FRAME_SKIP)
        reward.append(reward_of(x_before, data.qpos[0], a, dt))
        obs.append(np.concatenate((data.qpos[1:], data.qvel)))
    return np.array(obs), np.array(reward)


def compare_to_reference(name: str, got: np.ndarray, want: np.ndarray) -> float:
    """Max |got - want|; raises BenchCheckError beyond CHECK_TOL."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise BenchCheckError(f"{name}: shape {got.shape}, reference {want.shape}")
    diff = float(np.max(np.abs(got - want))) if got.size else 0.0
    if not np.allclose(got, want, rtol=CHECK_TOL, atol=CHECK_TOL):
        raise BenchCheckError(f"{name} differs from the mj_step reference by up to {diff:.3g}")
    return diff


def check_batch(name: str, obs: Any, reward: Any, num_envs: int) -> None:
    """Shapes (num_envs, 17) / (num_envs,) and finite values, else BenchCheckError."""
    obs, reward = np.asarray(obs), np.asarray(reward)
    if obs.shape != (num_envs, OBS_DIM) or reward.shape != (num_envs,):
        raise BenchCheckError(
            f"{name}: obs {obs.shape} / reward {reward.shape}, expected "
            f"({num_envs}, {OBS_DIM}) / ({num_envs},)"
        )
    if not (np.isfinite(obs).all() and np.isfinite(reward).all()):
        raise BenchCheckError(f"{name}: non-finite observation or reward")


# ---------------------------------------------------------------------------
# The interface of a benchmarked system


def last_of(step: Callable[[Any], Any], rows: Iterable[Any]) -> Any:
    """Call ``step`` on every row in turn and return the last result: the timed loop."""
    out = None
    for a in rows:
        out = step(a)
    return out


class System:
    """One benchmarked simulator with its prepared actions (steps, num_envs, 6)."""

    key = ""
    label = ""
    note = ""

    def __init__(self, actions: np.ndarray, num_threads: int) -> None:
        self.actions = np.ascontiguousarray(actions, dtype=np.float64)
        self.steps, self.num_envs = self.actions.shape[:2]
        self.num_threads = num_threads
        self.check_note = "finite"
        self.max_ref_diff: float | None = None

    # -- to override
    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One pool-step with actions (num_envs, 6): (obs, reward)."""
        raise NotImplementedError

    def verify(self) -> None:
        """Cheap correctness check before measuring; raises BenchCheckError."""
        self.check(self.step(self.actions[0]))

    def close(self) -> None:
        pass

    # -- shared
    def run(self, actions: np.ndarray | None = None) -> Any:
        """Step through ``actions`` (default: all of them); returns the last output."""
        return last_of(self.step, self.actions if actions is None else actions)

    def check(self, out: Any) -> None:
        obs, reward = out
        check_batch(self.label, obs, reward, self.num_envs)

    def warmup(self, steps: int) -> None:
        self.check(self.run(self.actions[: max(1, steps)]))

    def timed_run(self) -> float:
        """Env-steps/s of one run over all actions, checked after the clock stops."""
        start = time.perf_counter()
        out = self.run()
        elapsed = time.perf_counter() - start
        self.check(out)
        return self.steps * self.num_envs / elapsed

    def _compare_to_reference(
        self, envs: Sequence[int], obs: np.ndarray, reward: np.ndarray, qpos, qvel, model
    ) -> None:
        """obs (k, n, 17) and reward (k, n) of the first k steps vs mj_step, for envs."""
        k = obs.shape[0]
        worst = 0.0
        for i in envs:
            ref_obs, ref_rew = reference_steps(model, qpos[i], qvel[i], self.actions[:k, i])
            obs_name, rew_name = f"{self.label} obs (env {i})", f"{self.label} reward (env {i})"
            worst = max(worst, compare_to_reference(obs_name, obs[:, i], ref_obs))
            worst = max(worst, compare_to_reference(rew_name, reward[:, i], ref_rew))
        self.max_ref_diff = worst
        self.check_note = f"{'=' if worst == 0.0 else '~'}mj_step x{k}"

    def _verify_steps(self, envs: Sequence[int], qpos, qvel, model) -> None:
        """Step the first CHECK_STEPS actions from the state (qpos, qvel) the system is in,
        check every output, and compare it with mj_step for envs."""
        outs = [self.step(a) for a in self.actions[:CHECK_STEPS]]
        for out in outs:
            self.check(out)
        obs = np.stack([o for o, _ in outs])
        reward = np.stack([r for _, r in outs])
        self._compare_to_reference(envs, obs, reward, qpos, qvel, model)

    def __enter__(self) -> System:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
