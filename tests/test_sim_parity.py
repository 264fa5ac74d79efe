"""SimPool against Gymnasium's HalfCheetah-v5 and a plain mujoco.mj_step loop, bit for bit.

One pool holds one environment per preset (true dynamics, H2O presets, paper ladder),
stepped on two threads; environment i is compared with its own Gymnasium env, whose
model is perturbed the same way and which starts from the same state.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from conftest import (
    CONTROL_PERIOD,
    CTRL_COST_WEIGHT,
    PRESET_PARAMS,
    PRESETS,
    TRUE,
    make_gym_env,
    make_pool,
    perturb_model,
    random_actions,
    rollout,
)

from mfhrl_fast import FidelitySpec, half_cheetah_xml

STEPS = 1000  # one full HalfCheetah-v5 episode; the pool truncates and auto-resets at the last

CHEAP = [
    pytest.param(FidelitySpec(frame_skip=2), id="frame_skip-2"),
    pytest.param(FidelitySpec(solver_iterations=1, ls_iterations=1), id="iterations-1"),
    pytest.param(FidelitySpec(gravity_scale=1.5, frame_skip=3, solver_iterations=4), id="mixed"),
]


def gym_rollout(envs, actions: np.ndarray) -> dict[str, np.ndarray]:
    """Steps env i with actions[:, i]; returns obs/reward/terminated/truncated, (steps, n, ...)."""
    per_env = [[env.step(a)[:4] for a in actions[:, i]] for i, env in enumerate(envs)]
    keys = ("obs", "reward", "terminated", "truncated")
    return {
        key: np.stack([np.array([step[k] for step in steps]) for steps in per_env], axis=1)
        for k, key in enumerate(keys)
    }


@pytest.fixture(scope="module")
def episode() -> dict:
    """One 1000-step episode of several multi-fidelity pools and of each env's Gymnasium twin."""
    n = len(PRESETS)
    pools = {
        "f64": make_pool(PRESETS, num_threads=2, seed=11),
        "f32": make_pool(PRESETS, num_threads=2, seed=11, obs_dtype=np.float32),
        # Every row on the true dynamics, to show each preset really changes them.
        "true": make_pool([TRUE] * n, num_threads=2, seed=11),
    }
    gym_envs = [make_gym_env(spec, seed=100 + i) for i, spec in enumerate(PRESETS)]
    envs, gym_initial = zip(*gym_envs, strict=True)
    qpos = np.stack([env.unwrapped.data.qpos for env in envs])
    qvel = np.stack([env.unwrapped.data.qvel for env in envs])
    initial = {name: pool.set_state(qpos, qvel) for name, pool in pools.items()}

    actions = random_actions(0, STEPS, n)
    out = {name: rollout(pool, actions) for name, pool in pools.items()}
    for name in pools:
        out[name]["initial"] = initial[name]
    noisy = np.array([spec.action_noise_std > 0 for spec in PRESETS])
    out["gym"] = gym_rollout(envs, np.where(noisy[:, None], out["f64"]["applied"], actions))
    out["gym"]["initial"] = np.stack(gym_initial)
    out["actions"] = actions
    for env in envs:
        env.close()
    return out


def col(spec: FidelitySpec) -> int:
    return next(i for i, s in enumerate(PRESETS) if s is spec)


@pytest.mark.parametrize("spec", PRESET_PARAMS)
def test_initial_obs_matches_gymnasium(episode, spec):
    i = col(spec)
    np.testing.assert_array_equal(episode["f64"]["initial"][i], episode["gym"]["initial"][i])


@pytest.mark.parametrize("spec", PRESET_PARAMS)
def test_obs_match_gymnasium(episode, spec):
    i = col(spec)
    np.testing.assert_array_equal(episode["f64"]["final_obs"][:, i], episode["gym"]["obs"][:, i])


@pytest.mark.parametrize("spec", PRESET_PARAMS)
def test_reward_matches_gymnasium(episode, spec):
    i = col(spec)
    np.testing.assert_array_equal(episode["f64"]["reward"][:, i], episode["gym"]["reward"][:, i])


@pytest.mark.parametrize("spec", PRESET_PARAMS)
def test_truncated_exactly_at_time_limit(episode, spec):
    i = col(spec)
    expected = np.arange(1, STEPS + 1) == STEPS
    np.testing.assert_array_equal(episode["gym"]["truncated"][:, i], expected)
    assert not episode["gym"]["terminated"][:, i].any()
    for name in ("f64", "f32"):
        np.testing.assert_array_equal(episode[name]["truncated"][:, i], expected)
        assert not episode[name]["terminated"][:, i].any()
        assert not episode[name]["unstable"][:, i].any()


@pytest.mark.parametrize("spec", PRESET_PARAMS)
def test_float32_obs_are_float64_obs_cast(episode, spec):
    i = col(spec)
    f32, f64 = episode["f32"], episode["f64"]
    for key in ("initial", "obs", "final_obs"):
        assert f32[key].dtype == np.float32
        np.testing.assert_array_equal(f32[key][..., i, :], f64[key][..., i, :].astype(np.float32))
    np.testing.assert_array_equal(f32["reward"][:, i], f64["reward"][:, i])


@pytest.mark.parametrize("spec", PRESET_PARAMS)
def test_applied_actions_are_action_plus_fidelity_noise(episode, spec):
    i = col(spec)
    # Including the last step, where every env auto-resets.
    applied = episode["f64"]["applied"][:, i]
    given = episode["actions"][:, i]
    if spec.action_noise_std == 0:
        np.testing.assert_array_equal(applied, given)
    else:
        noise = (applied - given) / spec.action_noise_std
        assert abs(noise.mean()) < 0.05 and abs(noise.std() - 1.0) < 0.05


@pytest.mark.parametrize("spec", PRESET_PARAMS)
def test_preset_changes_dynamics_unless_true(episode, spec):
    i = col(spec)
    same = np.array_equal(episode["f64"]["final_obs"][:, i], episode["true"]["final_obs"][:, i])
    is_true = (spec.gravity_scale, spec.friction_scale, spec.action_noise_std) == (1.0, 1.0, 0.0)
    assert same == is_true


def mj_step_reference(spec: FidelitySpec, qpos, qvel, actions) -> tuple[np.ndarray, np.ndarray]:
    """Plain-Python mujoco.mj_step loop with the spec applied: (obs, reward) per step."""
    model = mujoco.MjModel.from_xml_path(half_cheetah_xml())
    frame_skip = perturb_model(model, spec)
    data = mujoco.MjData(model)
    data.qpos[:], data.qvel[:] = qpos, qvel
    mujoco.mj_forward(model, data)
    obs, reward = [], []
    for action in actions:
        data.ctrl[:] = action
        x_before = data.qpos[0]
        mujoco.mj_step(model, data, nstep=frame_skip)
        velocity = (data.qpos[0] - x_before) / (model.opt.timestep * frame_skip)
        reward.append(velocity - CTRL_COST_WEIGHT * np.sum(np.square(action)))
        obs.append(np.concatenate([data.qpos[1:], data.qvel]))
    return np.array(obs), np.array(reward)


@pytest.mark.parametrize("spec", CHEAP)
def test_cheap_fidelity_matches_mj_step_loop(spec):
    pool = make_pool([spec], seed=2)
    qpos, qvel = pool.get_state()
    actions = random_actions(1, 200, 1)
    out = rollout(pool, actions)
    obs, reward = mj_step_reference(spec, qpos[0], qvel[0], actions[:, 0])
    np.testing.assert_array_equal(out["final_obs"][:, 0], obs)
    np.testing.assert_array_equal(out["reward"][:, 0], reward)


@pytest.mark.parametrize("spec", CHEAP)
def test_cheap_fidelity_runs_and_differs_from_true(spec):
    pool = make_pool([TRUE, spec], num_threads=2, seed=3)
    qpos, qvel = pool.get_state()
    pool.set_state(qpos[[0, 0]], qvel[[0, 0]])  # both envs start from the same state
    out = rollout(pool, random_actions(2, 200, 1).repeat(2, axis=1))
    assert np.isfinite(out["obs"]).all() and np.isfinite(out["reward"]).all()
    assert not out["unstable"].any()
    assert np.abs(out["obs"][:, 0] - out["obs"][:, 1]).max() > 1e-3


@pytest.mark.parametrize("spec", CHEAP)
def test_cheap_fidelity_keeps_control_period(spec):
    """reward = (x_after - x_before) / 0.05 - 0.1 |a|^2 whatever the frame skip."""
    pool = make_pool([spec], seed=4)
    actions = random_actions(3, 50, 1)
    x_start = pool.get_state()[0][0, 0]
    out = rollout(pool, actions, with_state=True)
    x = np.concatenate([[x_start], out["qpos"][:, 0, 0]])
    ctrl_cost = CTRL_COST_WEIGHT * np.sum(np.square(actions[:, 0]), axis=1)
    expected = np.diff(x) / CONTROL_PERIOD - ctrl_cost
    np.testing.assert_allclose(out["reward"][:, 0], expected, rtol=1e-12, atol=1e-12)
