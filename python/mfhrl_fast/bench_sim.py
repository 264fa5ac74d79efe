"""Simulator throughput: SimPool against its peers, measured in one run.

Every row steps HalfCheetah-v5 with the same pre-generated uniform random
float64 actions in [-1, 1] (:func:`make_actions`, made once, outside the timed
region) and reports **env-steps/s**, where one env-step is one agent step =
``frame_skip`` = 5 MuJoCo physics steps (EnvPool's FPS convention: a pool step
of ``n`` environments counts ``n`` env-steps).

Rows (``key``: system):

- ``simpool``: :class:`mfhrl_fast.SimPool`, ``num_envs`` x ``num_threads``
  (obs + reward + auto-reset); the main row.
- ``simpool-1thread``: the same pool on one thread, for the thread scaling.
- ``simpool-single``: SimPool with one environment.
- ``gym-single``: ``gymnasium.make("HalfCheetah-v5")``, reset when truncated.
- ``gym-sync``: ``gymnasium.vector.SyncVectorEnv`` of ``num_envs`` of them.
- ``mujoco-batch``: ``mujoco.batch.Batch(model, nsim, nthread)``: ctrl written,
  5 physics steps, obs (qpos/qvel) and reward assembled in numpy; no reset.
- ``envpool``: EnvPool ``HalfCheetah-v5``, sync mode (``batch_size ==
  num_envs``); skipped when EnvPool (the optional ``bench`` extra) is missing.
- ``rollout``: ``mujoco.rollout`` on ``num_threads`` threads, open loop from
  ``num_envs`` initial states: physics steps/s / 5, the physical limit.
- ``rollout-single``: one initial state on the calling thread: the physical cap
  of any single-environment row.

Each measurement is the best of ``repeats`` timed runs after a warm-up. A run
is ``steps`` pool-steps of ``num_envs`` environments, and a single-environment
row runs ``steps * num_envs`` steps of its one environment, so every row times
the same number of env-steps and the same actions. :func:`compare` builds all
rows and interleaves their runs (repeat 1 of every row, then repeat 2, ...), so
the ratios it reports come from the same stretch of a noisy machine.

Every system is also checked cheaply: systems that can be put in a given state
(SimPool, Gymnasium, mujoco.batch, rollout) must reproduce the first
:data:`CHECK_STEPS` env-steps of a plain ``mujoco.mj_step`` loop from the same
state with the same actions (observation and reward); all must return finite
observations and rewards of the right shapes after every timed run.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import mujoco
import numpy as np

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

TARGETS = {
    "simpool/envpool": 1.3,
    "simpool/rollout": 0.9,
    "simpool-single/gym-single": 2.0,
}


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
    from .sim_pool import SimPool

    with _quiet_native_output():
        pool = SimPool(num_envs=num_envs, seed=seed)
    pool.reset(seed=seed)
    return pool.get_state()


def gym_model() -> mujoco.MjModel:
    """The MjModel of Gymnasium's own HalfCheetah-v5 environment."""
    import gymnasium as gym

    with _quiet_native_output():
        env = gym.make(ENV_ID)
    model = env.unwrapped.model
    env.close()
    return model


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
        x_velocity = (data.qpos[0] - x_before) / dt
        reward.append(FORWARD_REWARD_WEIGHT * x_velocity - CTRL_COST_WEIGHT * np.sum(np.square(a)))
        obs.append(np.concatenate((data.qpos[1:], data.qvel)))
    return np.array(obs), np.array(reward)


def _compare(name: str, got: np.ndarray, want: np.ndarray) -> float:
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
# MuJoCo prints a warning per compiled model (Gymnasium's XML uses the
# deprecated 'settotalmass'): 65 copies for a 64-env SyncVectorEnv. Collect
# native stdout/stderr while systems are built and report each line once.

_native_lines: dict[str, int] = {}


@contextlib.contextmanager
def _quiet_native_output() -> Iterator[None]:
    try:
        libc = ctypes.CDLL(None)
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # no libc handle or no fds: just let it print
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            libc.fflush(None)
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            libc.fflush(None)
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            tmp.seek(0)
            for line in tmp.read().decode(errors="replace").splitlines():
                if line.strip():
                    _native_lines[line.strip()] = _native_lines.get(line.strip(), 0) + 1


def native_messages() -> dict[str, int]:
    """Native lines printed while systems were built (since compare() began), with counts."""
    return dict(_native_lines)


# ---------------------------------------------------------------------------
# Systems: each owns its actions, steps them all in run() and checks itself.


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
        out = self.step(self.actions[0])
        self.check(out)

    def close(self) -> None:
        pass

    # -- shared
    def run(self, actions: np.ndarray | None = None) -> Any:
        """Step through ``actions`` (default: all of them); returns the last output."""
        step = self.step
        out = None
        for a in self.actions if actions is None else actions:
            out = step(a)
        return out

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

    def _verify_against_reference(
        self, envs: Sequence[int], obs: np.ndarray, reward: np.ndarray, qpos, qvel, model
    ) -> None:
        """obs (k, n, 17) and reward (k, n) of the first k steps vs mj_step, for envs."""
        k = obs.shape[0]
        worst = 0.0
        for i in envs:
            ref_obs, ref_rew = reference_steps(model, qpos[i], qvel[i], self.actions[:k, i])
            worst = max(worst, _compare(f"{self.label} obs (env {i})", obs[:, i], ref_obs))
            worst = max(worst, _compare(f"{self.label} reward (env {i})", reward[:, i], ref_rew))
        self.max_ref_diff = worst
        self.check_note = f"{'=' if worst == 0.0 else '~'}mj_step x{k}"

    def __enter__(self) -> System:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_envs(num_envs: int) -> list[int]:
    return sorted({0, num_envs - 1})


class SimPoolSystem(System):
    label = "SimPool"
    note = "obs+reward+auto-reset"

    def __init__(self, actions: np.ndarray, num_threads: int = 2, *, seed: int = 0) -> None:
        super().__init__(actions, num_threads)
        from .sim_pool import SimPool

        with _quiet_native_output():
            self.pool = SimPool(num_envs=self.num_envs, num_threads=num_threads, seed=seed)
        self.seed = seed
        self.pool.reset(seed=seed)
        if self.num_envs == 1:
            self.key = "simpool-single"
        elif num_threads == 1:
            self.key, self.label = "simpool-1thread", "SimPool (1 thread)"
        else:
            self.key = "simpool"

    def step(self, action):
        obs, reward, _, _, _ = self.pool.step(action)
        return obs, reward

    def run(self, actions=None):
        step = self.pool.step
        out = None
        for a in self.actions if actions is None else actions:
            out = step(a)
        return out[0], out[1]

    def verify(self) -> None:
        qpos, qvel = self.pool.get_state()
        self.pool.set_state(qpos, qvel)
        outs = [self.step(a) for a in self.actions[:CHECK_STEPS]]
        for out in outs:
            self.check(out)
        obs = np.stack([o for o, _ in outs])
        reward = np.stack([r for _, r in outs])
        model = gym_model()
        self._verify_against_reference(_check_envs(self.num_envs), obs, reward, qpos, qvel, model)
        self.pool.reset(seed=self.seed)


class GymSingleSystem(System):
    key = "gym-single"
    label = "Gymnasium"
    note = "gym.make, reset when done"

    def __init__(self, actions: np.ndarray, num_threads: int = 1) -> None:
        super().__init__(actions, 1)
        if self.num_envs != 1:
            raise ValueError(f"{self.label} is one environment, got actions for {self.num_envs}")
        import gymnasium as gym

        with _quiet_native_output():
            self.env = gym.make(ENV_ID)
        self.env.reset(seed=0)
        self._flat = self.actions[:, 0]

    def _step(self, a: np.ndarray):
        obs, reward, terminated, truncated, _ = self.env.step(a)
        if terminated or truncated:
            self.env.reset()
        return obs, reward

    def step(self, action):
        obs, reward = self._step(action[0])
        return obs[None], np.array([reward])

    def run(self, actions=None):
        step = self._step
        out = None
        for a in self._flat if actions is None else actions[:, 0]:
            out = step(a)
        return out[0][None], np.array([out[1]])

    def verify(self) -> None:
        self.env.reset(seed=0)
        u = self.env.unwrapped
        qpos, qvel = u.data.qpos.copy(), u.data.qvel.copy()
        u.set_state(qpos, qvel)
        outs = [self.step(a) for a in self.actions[:CHECK_STEPS]]
        obs = np.stack([o for o, _ in outs])
        reward = np.stack([r for _, r in outs])
        self._verify_against_reference([0], obs, reward, qpos[None], qvel[None], u.model)
        self.env.reset(seed=0)

    def close(self) -> None:
        self.env.close()


class GymSyncVectorSystem(System):
    key = "gym-sync"
    label = "Gymnasium SyncVectorEnv"
    note = "next-step auto-reset"

    def __init__(self, actions: np.ndarray, num_threads: int = 1) -> None:
        super().__init__(actions, 1)
        import gymnasium as gym

        with _quiet_native_output():
            self.env = gym.vector.SyncVectorEnv([partial(gym.make, ENV_ID)] * self.num_envs)
        self.env.reset(seed=0)

    def step(self, action):
        obs, reward, _, _, _ = self.env.step(action)
        return obs, reward

    def verify(self) -> None:
        self.env.reset(seed=0)
        u = self.env.envs[0].unwrapped
        qpos, qvel = u.data.qpos.copy(), u.data.qvel.copy()
        u.set_state(qpos, qvel)  # zero warm-start, as the reference
        outs = [self.step(a) for a in self.actions[:CHECK_STEPS]]
        for out in outs:
            self.check(out)
        obs = np.stack([o for o, _ in outs])
        reward = np.stack([r for _, r in outs])
        self._verify_against_reference([0], obs, reward, qpos[None], qvel[None], u.model)
        self.env.reset(seed=0)

    def close(self) -> None:
        self.env.close()


class MujocoBatchSystem(System):
    key = "mujoco-batch"
    label = "mujoco.batch.Batch"
    note = "obs+reward in numpy, no reset"

    def __init__(self, actions: np.ndarray, num_threads: int = 2) -> None:
        super().__init__(actions, num_threads)
        import mujoco.batch

        self.model = gym_model()
        self.batch = mujoco.batch.Batch(self.model, nsim=self.num_envs, nthread=num_threads)
        self._qpos = self.batch.bind("qpos")
        self._qvel = self.batch.bind("qvel")
        self._ctrl = self.batch.bind("ctrl")
        self._dt = self.model.opt.timestep * FRAME_SKIP
        self._qpos0, self._qvel0 = initial_states(self.num_envs)
        self._set_initial_state()

    def _set_initial_state(self) -> None:
        self.batch.reset(stage=mujoco.mjtStage.mjSTAGE_NONE)
        self._qpos[:] = self._qpos0
        self._qvel[:] = self._qvel0
        self.batch.forward()

    def step(self, action):
        qpos = self._qpos
        x_before = qpos[:, 0].copy()
        self._ctrl[:] = action
        self.batch.step(nstep=FRAME_SKIP)
        obs = np.concatenate((qpos[:, 1:], self._qvel), axis=1)
        x_velocity = (qpos[:, 0] - x_before) / self._dt
        reward = FORWARD_REWARD_WEIGHT * x_velocity - CTRL_COST_WEIGHT * np.sum(
            np.square(action), axis=1
        )
        return obs, reward

    def verify(self) -> None:
        self._set_initial_state()
        outs = [self.step(a) for a in self.actions[:CHECK_STEPS]]
        for out in outs:
            self.check(out)
        obs = np.stack([o for o, _ in outs])
        reward = np.stack([r for _, r in outs])
        self._verify_against_reference(
            _check_envs(self.num_envs), obs, reward, self._qpos0, self._qvel0, self.model
        )
        self._set_initial_state()


class EnvPoolSystem(System):
    key = "envpool"
    label = "EnvPool"
    note = "sync mode; bundled MuJoCo"

    def __init__(self, actions: np.ndarray, num_threads: int = 2) -> None:
        super().__init__(actions, num_threads)
        import envpool

        with _quiet_native_output():
            self.env = envpool.make(
                ENV_ID,
                env_type="gymnasium",
                num_envs=self.num_envs,
                batch_size=self.num_envs,
                num_threads=num_threads,
                seed=0,
            )
        self.env.reset()

    def step(self, action):
        obs, reward, _, _, _ = self.env.step(action)
        return obs, reward

    def verify(self) -> None:
        # EnvPool cannot be put in a given state: shapes and finiteness only.
        for a in self.actions[:CHECK_STEPS]:
            self.check(self.step(a))
        self.check_note = "finite"

    def close(self) -> None:
        self.env.close()


def _nstate(model: mujoco.MjModel) -> int:
    return mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_FULLPHYSICS)


class RolloutSystem(System):
    label = "mujoco.rollout"
    note = "open-loop physics only"

    def __init__(self, actions: np.ndarray, num_threads: int = 2) -> None:
        super().__init__(actions, num_threads)
        from mujoco import rollout

        self.key = "rollout-single" if self.num_envs == 1 else "rollout"
        self.model = gym_model()
        # nthread=0 runs on the calling thread; n > 0 starts a pool of n.
        nthread = 0 if num_threads <= 1 else num_threads
        self.rollout = rollout.Rollout(nthread=nthread)
        self.datas = [mujoco.MjData(self.model) for _ in range(max(1, nthread))]
        qpos0, qvel0 = initial_states(self.num_envs)
        self._qpos0, self._qvel0 = qpos0, qvel0
        spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        self.initial_state = np.empty((self.num_envs, _nstate(self.model)))
        data = self.datas[0]
        for i in range(self.num_envs):
            mujoco.mj_resetData(self.model, data)
            data.qpos[:] = qpos0[i]
            data.qvel[:] = qvel0[i]
            mujoco.mj_forward(self.model, data)
            mujoco.mj_getState(self.model, data, self.initial_state[i], spec)
        # (num_envs, steps * 5, 6): each env-step's action held for its 5 physics steps
        self.control = np.ascontiguousarray(
            np.repeat(self.actions.transpose(1, 0, 2), FRAME_SKIP, axis=1)
        )
        self.state = np.empty((self.num_envs, self.steps * FRAME_SKIP, _nstate(self.model)))
        self.sensordata = np.empty((self.num_envs, self.steps * FRAME_SKIP, 0))

    def step(self, action):
        raise NotImplementedError("rollout is open loop: use run()")

    def _rollout(self, control, state, sensordata) -> np.ndarray:
        # The full-length buffers are contiguous and written in place; the
        # wrapper copies the slices that warm-up and verify() pass.
        state, _ = self.rollout.rollout(
            self.model, self.datas, self.initial_state, control, state=state, sensordata=sensordata
        )
        return state

    def run(self, actions=None):
        if actions is None:
            return self._rollout(self.control, self.state, self.sensordata)
        n = len(actions) * FRAME_SKIP
        return self._rollout(self.control[:, :n], self.state[:, :n], self.sensordata[:, :n])

    def _obs(self, state_rows: np.ndarray) -> np.ndarray:
        """(..., nstate) FULLPHYSICS rows -> (..., 17) observations."""
        nq = self.model.nq
        return np.concatenate((state_rows[..., 2 : 1 + nq], state_rows[..., 1 + nq :]), axis=-1)

    def check(self, out):
        last = out[:, -1]
        if not np.isfinite(last).all():
            raise BenchCheckError(f"{self.label}: non-finite final state")
        obs = self._obs(last)
        check_batch(self.label, obs, np.zeros(self.num_envs), self.num_envs)

    def verify(self) -> None:
        nq, nv = self.model.nq, self.model.nv
        if _nstate(self.model) != 1 + nq + nv:
            raise BenchCheckError(f"{self.label}: unexpected state layout")
        state = self.run(self.actions[:CHECK_STEPS])[:, : CHECK_STEPS * FRAME_SKIP]
        ends = state[:, FRAME_SKIP - 1 :: FRAME_SKIP]  # (n, k, nstate) after each env-step
        obs = self._obs(ends).transpose(1, 0, 2)
        x = np.concatenate((self._qpos0[None, :, 0], ends[:, :, 1].T))  # (k + 1, n)
        dt = self.model.opt.timestep * FRAME_SKIP
        ctrl_cost = CTRL_COST_WEIGHT * np.sum(np.square(self.actions[:CHECK_STEPS]), axis=2)
        reward = FORWARD_REWARD_WEIGHT * (np.diff(x, axis=0) / dt) - ctrl_cost
        self._verify_against_reference(
            _check_envs(self.num_envs), obs, reward, self._qpos0, self._qvel0, self.model
        )

    def close(self) -> None:
        self.rollout.close()


# ---------------------------------------------------------------------------
# Measuring


def _warmup_steps(steps: int) -> int:
    return max(1, steps // 10)


def measure(systems: Sequence[System], repeats: int) -> dict[str, list[float]]:
    """Warm up every (verified) system, then interleave ``repeats`` timed runs of each.

    Returns every run's env-steps/s by system key.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for s in systems:
        s.warmup(_warmup_steps(s.steps))
    samples: dict[str, list[float]] = {s.key: [] for s in systems}
    for _ in range(repeats):
        for s in systems:
            samples[s.key].append(s.timed_run())
    return samples


def _best_of(system_factory: Callable[[], System], repeats: int) -> float:
    with system_factory() as s:
        s.verify()
        return max(measure([s], repeats)[s.key])


def bench_simpool(actions: np.ndarray, *, num_threads: int = 2, repeats: int = 3) -> float:
    """SimPool over actions (steps, num_envs, 6): best env-steps/s of ``repeats`` runs."""
    return _best_of(lambda: SimPoolSystem(actions, num_threads), repeats)


def bench_gym_single(actions: np.ndarray, *, repeats: int = 3) -> float:
    """One Gymnasium HalfCheetah-v5 over actions (steps, 1, 6)."""
    return _best_of(lambda: GymSingleSystem(actions), repeats)


def bench_gym_sync_vector(actions: np.ndarray, *, repeats: int = 3) -> float:
    """Gymnasium SyncVectorEnv of num_envs HalfCheetah-v5 over actions (steps, num_envs, 6)."""
    return _best_of(lambda: GymSyncVectorSystem(actions), repeats)


def bench_mujoco_batch(actions: np.ndarray, *, num_threads: int = 2, repeats: int = 3) -> float:
    """mujoco.batch.Batch with 5 physics steps per env-step, obs and reward in numpy."""
    return _best_of(lambda: MujocoBatchSystem(actions, num_threads), repeats)


def bench_envpool(actions: np.ndarray, *, num_threads: int = 2, repeats: int = 3) -> float:
    """EnvPool HalfCheetah-v5 in sync mode (raises ImportError without envpool)."""
    return _best_of(lambda: EnvPoolSystem(actions, num_threads), repeats)


def bench_rollout(actions: np.ndarray, *, num_threads: int = 2, repeats: int = 3) -> float:
    """mujoco.rollout, open loop: physics steps/s / 5, the physical limit."""
    return _best_of(lambda: RolloutSystem(actions, num_threads), repeats)


# ---------------------------------------------------------------------------
# The comparison


@dataclasses.dataclass
class Row:
    key: str
    system: str
    envs: int
    threads: int
    env_steps_per_sec: float | None
    """Best of the runs; None when the row was skipped or failed."""
    runs: list[float] = dataclasses.field(default_factory=list)
    check: str = ""
    note: str = ""
    skipped: str = ""
    """Why there is no measurement (peer not installed, check failed)."""
    failed: bool = False


@dataclasses.dataclass
class Comparison:
    rows: list[Row]
    meta: dict[str, Any]

    def rate(self, key: str) -> float | None:
        for row in self.rows:
            if row.key == key:
                return row.env_steps_per_sec
        return None

    def ratio(self, a: str, b: str) -> float | None:
        ra, rb = self.rate(a), self.rate(b)
        return None if ra is None or rb is None else ra / rb

    def headline(self) -> dict[str, float | None]:
        """The ratios the benchmark is about, by 'numerator/denominator'."""
        pairs = [
            ("simpool", "envpool"),
            ("simpool", "rollout"),
            ("simpool-single", "gym-single"),
            ("rollout-single", "gym-single"),
            ("simpool", "simpool-1thread"),
            ("simpool", "gym-sync"),
            ("simpool", "mujoco-batch"),
            ("rollout", "rollout-single"),
        ]
        return {f"{a}/{b}": self.ratio(a, b) for a, b in pairs}

    @property
    def failed(self) -> bool:
        return any(row.failed for row in self.rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "rows": [dataclasses.asdict(r) for r in self.rows],
            "ratios": self.headline(),
            "targets": TARGETS,
        }


def _factories(
    actions: np.ndarray, num_threads: int
) -> list[tuple[str, str, int, int, Callable[[], System]]]:
    """(key, label, envs, threads, factory) of every row, main row first."""
    n = actions.shape[1]
    single = single_env_actions(actions)
    rows = [
        ("simpool", "SimPool", n, num_threads, partial(SimPoolSystem, actions, num_threads)),
    ]
    if num_threads != 1:
        rows.append(
            ("simpool-1thread", "SimPool (1 thread)", n, 1, partial(SimPoolSystem, actions, 1))
        )
    rows += [
        ("simpool-single", "SimPool", 1, 1, partial(SimPoolSystem, single, 1)),
        ("gym-single", "Gymnasium", 1, 1, partial(GymSingleSystem, single)),
        ("gym-sync", "Gymnasium SyncVectorEnv", n, 1, partial(GymSyncVectorSystem, actions)),
        ("mujoco-batch", "mujoco.batch.Batch", n, num_threads,
         partial(MujocoBatchSystem, actions, num_threads)),
        ("envpool", "EnvPool", n, num_threads, partial(EnvPoolSystem, actions, num_threads)),
        ("rollout", "mujoco.rollout (limit)", n, num_threads,
         partial(RolloutSystem, actions, num_threads)),
        ("rollout-single", "mujoco.rollout", 1, 1, partial(RolloutSystem, single, 1)),
    ]  # fmt: skip
    return rows


def compare(
    num_envs: int = 64,
    num_threads: int = 2,
    steps: int = 200,
    repeats: int = 3,
    *,
    keys: Sequence[str] | None = None,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> Comparison:
    """Build every row (or those in ``keys``), verify them, and interleave their runs.

    A peer that is not installed is skipped with the reason; a row whose check
    fails is marked failed. Neither stops the others.
    """
    if num_envs < 2:
        raise ValueError(f"num_envs must be >= 2 (single-env rows are built in), got {num_envs}")
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads}")
    log = log or (lambda msg: None)
    _native_lines.clear()
    actions = make_actions(steps, num_envs, seed=seed)
    rows: list[Row] = []
    systems: list[System] = []
    try:
        for key, label, envs, threads, factory in _factories(actions, num_threads):
            if keys is not None and key not in keys:
                continue
            row = Row(key, label, envs, threads, None)
            rows.append(row)
            try:
                log(f"building {label} ({envs} envs, {threads} threads)")
                system = factory()
            except ImportError as e:
                row.skipped = f"not installed ({e})"
                log(f"  skipped: {row.skipped}")
                continue
            systems.append(system)
            row.note = system.note
        by_key = {r.key: r for r in rows}
        good: list[System] = []
        for s in systems:
            try:
                s.verify()
                by_key[s.key].check = s.check_note
                good.append(s)
            except BenchCheckError as e:
                by_key[s.key].failed, by_key[s.key].skipped = True, f"check failed: {e}"
                log(f"  {s.label}: check failed: {e}")
        log(f"measuring {len(good)} systems: {repeats} interleaved runs of "
            f"{steps * num_envs} env-steps each")  # fmt: skip
        try:
            samples = measure(good, repeats)
        except BenchCheckError as e:  # a check after a timed run
            for r in rows:
                r.failed = True
            raise RuntimeError(f"a check failed while measuring: {e}") from e
        for s in good:
            row = by_key[s.key]
            row.runs = samples[s.key]
            row.env_steps_per_sec = max(row.runs)
    finally:
        for s in systems:
            s.close()
    meta = {
        "env_id": ENV_ID,
        "unit": UNIT,
        "num_envs": num_envs,
        "num_threads": num_threads,
        "steps": steps,
        "env_steps_per_run": steps * num_envs,
        "repeats": repeats,
        "seed": seed,
        "mujoco": mujoco.__version__,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "native_messages": native_messages(),
    }
    with contextlib.suppress(ImportError):
        import envpool

        meta["envpool"] = envpool.__version__
    return Comparison(rows, meta)


def _fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _fmt3(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _spread(runs: Sequence[float]) -> str:
    """How much slower the slowest run was than the best: a noise gauge."""
    return f"{1 - min(runs) / max(runs):.0%}" if len(runs) > 1 else "-"


def format_table(result: Comparison) -> str:
    """The rows and the headline ratios, as text."""
    m = result.meta
    lines = [
        f"{m['env_id']} throughput in {m['unit']}",
        f"uniform random actions, {m['env_steps_per_run']} env-steps per run, best of "
        f"{m['repeats']} interleaved runs; MuJoCo {m['mujoco']}, {m['cpu_count']} CPUs",
        "spread: 1 - slowest run / best run; /limit: relative to the mujoco.rollout row",
        "",
        f"{'system':<24} {'envs':>4} {'thr':>3} {'env-steps/s':>12} {'spread':>6} "
        f"{'/SimPool':>8} {'/limit':>7}  {'check':<13} note",
    ]
    for r in result.rows:
        if r.env_steps_per_sec is None:
            lines.append(f"{r.system:<24} {r.envs:>4} {r.threads:>3} {'-':>12} {'-':>6} "
                         f"{'-':>8} {'-':>7}  {'-':<13} {r.skipped}")  # fmt: skip
            continue
        lines.append(
            f"{r.system:<24} {r.envs:>4} {r.threads:>3} {r.env_steps_per_sec:>12,.0f} "
            f"{_spread(r.runs):>6} {_fmt_ratio(result.ratio(r.key, 'simpool')):>8} "
            f"{_fmt_ratio(result.ratio(r.key, 'rollout')):>7}  {r.check:<13} {r.note}"
        )
    h = result.headline()
    n, t = m["num_envs"], m["num_threads"]

    def target(key: str) -> str:
        value, goal = h.get(key), TARGETS.get(key)
        if goal is None:
            return ""
        if value is None:
            return f"(target >= {goal:g})"
        return f"(target >= {goal:g}: {'met' if value >= goal else 'MISSED'})"

    ratio_lines = [
        (f"SimPool-{n} / EnvPool-{n}", "simpool/envpool", target("simpool/envpool")),
        (f"SimPool-{n} / rollout limit", "simpool/rollout", target("simpool/rollout")),
        ("SimPool-1 / Gymnasium single", "simpool-single/gym-single",
         target("simpool-single/gym-single")),
        ("  physical cap: rollout-1 / Gymnasium", "rollout-single/gym-single", ""),
        (f"SimPool-{n}: {t} threads / 1 thread", "simpool/simpool-1thread", f"(ideal {t})"),
        (f"SimPool-{n} / SyncVectorEnv-{n}", "simpool/gym-sync", ""),
        (f"SimPool-{n} / mujoco.batch-{n}", "simpool/mujoco-batch", ""),
        (f"machine: rollout {t} threads / 1 thread", "rollout/rollout-single",
         f"(ideal {t}; far below: fewer free CPUs than threads during the run)"),
    ]  # fmt: skip
    width = max(len(label) for label, _, _ in ratio_lines)
    lines += ["", "Ratios (same run):"]
    lines += [
        f"  {label:<{width}}  {_fmt3(h[key]):>6}  {suffix}".rstrip()
        for label, key, suffix in ratio_lines
    ]
    msgs = m.get("native_messages") or {}
    if msgs:
        lines += ["", "Printed by native code while building the systems:"]
        lines += [f"  ({count}x) {text}" for text, count in msgs.items()]
    return "\n".join(lines)


def main(
    num_envs: int = 64,
    num_threads: int = 2,
    steps: int = 200,
    repeats: int = 3,
    json_path: str | None = None,
) -> int:
    """Print the throughput table; 0 on success, 1 if a check failed, 2 for bad arguments."""
    try:
        if steps < 1 or repeats < 1:
            raise ValueError(f"steps and repeats must be >= 1, got {steps} and {repeats}")
        start = time.perf_counter()
        result = compare(
            num_envs, num_threads, steps, repeats, log=lambda msg: print(msg, flush=True)
        )
    except ValueError as e:
        print(f"mfhrl-fast bench-sim: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(f"mfhrl-fast bench-sim: {e}", file=sys.stderr)
        return 1
    result.meta["wall_seconds"] = round(time.perf_counter() - start, 1)
    print()
    print(format_table(result))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result.to_json(), f, indent=2)
        print(f"\nwrote {json_path}")
    return 1 if result.failed else 0
