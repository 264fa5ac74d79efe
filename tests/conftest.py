"""Shared helpers for the SimPool tests."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from mfhrl_fast import FidelitySpec, SimPool, h2o_presets, half_cheetah_xml, paper_ladder

try:  # tiny matrices on several torch threads of a busy 2-core machine cost milliseconds
    import torch

    torch.set_num_threads(1)
except ImportError:
    pass

BASE_FRAME_SKIP = 5  # HalfCheetah-v5
CONTROL_PERIOD = 0.05  # timestep 0.01 * frame_skip 5
CTRL_COST_WEIGHT = 0.1
RESET_NOISE_SCALE = 0.1

NOISE = h2o_presets()["h2o-noise"]
HEAVY = h2o_presets()["h2o-gravity"]
TRUE = FidelitySpec()


_GROUPS = [("default", [TRUE]), ("h2o", list(h2o_presets().values())), ("ladder", paper_ladder())]
# The true dynamics and every named preset, as pytest params with readable ids.
PRESET_PARAMS = [pytest.param(s, id=f"{group}:{s.name}") for group, specs in _GROUPS for s in specs]
PRESETS: list[FidelitySpec] = [p.values[0] for p in PRESET_PARAMS]


def qpos0() -> np.ndarray:
    """HalfCheetah's initial pose (model.qpos0), around which resets draw."""
    return mujoco.MjModel.from_xml_path(half_cheetah_xml()).qpos0.copy()


def perturb_model(model: mujoco.MjModel, spec: FidelitySpec) -> int:
    """Applies ``spec`` to a Python MuJoCo model as SimPool does; returns the frame skip."""
    model.opt.gravity[:] *= spec.gravity_scale
    model.geom_friction[:] *= spec.friction_scale
    if spec.solver_iterations:
        model.opt.iterations = spec.solver_iterations
    if spec.ls_iterations:
        model.opt.ls_iterations = spec.ls_iterations
    if spec.frame_skip and spec.frame_skip != BASE_FRAME_SKIP:
        model.opt.timestep = model.opt.timestep * BASE_FRAME_SKIP / spec.frame_skip
        return spec.frame_skip
    return BASE_FRAME_SKIP


def make_gym_env(spec: FidelitySpec, seed: int) -> tuple[gym.Env, np.ndarray]:
    """``gymnasium.make("HalfCheetah-v5")`` with the spec's gravity and friction, reset with seed.

    Returns the env and its first observation.
    """
    env = gym.make("HalfCheetah-v5")
    perturb_model(env.unwrapped.model, spec)
    obs, _ = env.reset(seed=seed)
    return env, obs


def random_actions(seed: int, steps: int, num_envs: int) -> np.ndarray:
    """float64 actions uniform in [-1, 1]^6, shaped (steps, num_envs, 6)."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(steps, num_envs, 6))


def make_pool(specs: Sequence[FidelitySpec], **kwargs) -> SimPool:
    """A pool with environment i running ``specs[i]``."""
    return SimPool(fidelities=list(specs), fidelity_ids=np.arange(len(specs)), **kwargs)


def copy_state(src: SimPool, *dst: SimPool) -> None:
    """Puts ``src``'s current state into every pool of ``dst``."""
    qpos, qvel = src.get_state()
    for pool in dst:
        pool.set_state(qpos, qvel)


def rollout(
    pool: SimPool, actions: np.ndarray, *, with_state: bool = False
) -> dict[str, np.ndarray]:
    """Steps ``pool`` through ``actions`` (steps, n, 6); returns every output stacked over steps.

    Keys: obs, reward, terminated, truncated, the ``info`` keys, applied (applied_actions()
    after each step) and, with ``with_state``, qpos/qvel (get_state() after each step).
    """
    rows: dict[str, list[np.ndarray]] = {}

    def add(key: str, value: np.ndarray) -> None:
        rows.setdefault(key, []).append(np.array(value, copy=True))

    for action in actions:
        obs, reward, terminated, truncated, info = pool.step(action)
        for key, value in [("obs", obs), ("reward", reward), ("terminated", terminated),
                           ("truncated", truncated), *info.items()]:
            add(key, value)
        add("applied", pool.applied_actions())
        if with_state:
            qpos, qvel = pool.get_state()
            add("qpos", qpos)
            add("qvel", qvel)
    return {key: np.stack(value) for key, value in rows.items()}


def assert_rollouts_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    """Bit-exact equality of two rollouts, key by key."""
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def assert_steps_fine(pool: SimPool) -> None:
    """The pool still steps and returns finite, well-shaped results."""
    obs, reward, terminated, truncated, info = pool.step(np.zeros((pool.num_envs, pool.act_dim)))
    assert obs.shape == (pool.num_envs, pool.obs_dim)
    assert np.isfinite(obs).all() and np.isfinite(reward).all()
    assert not info["unstable"].any()

# The ReplayRing and dataset tests' fixtures live beside their helpers.
from data_support import minari_home  # noqa: E402, F401
from replay_support import rh  # noqa: E402, F401
