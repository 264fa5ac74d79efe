"""The benchmarked simulators, one :class:`~.sim_common.System` each.

Systems that can be put in a given state (SimPool, Gymnasium, mujoco.batch,
rollout) must reproduce the first :data:`~.sim_common.CHECK_STEPS` env-steps of
a plain ``mujoco.mj_step`` loop from the same state with the same actions
(observation and reward) in ``verify()``; EnvPool, which cannot, is checked
for shapes and finite values only.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mujoco
import numpy as np

from .native_output import quiet_native_output
from .sim_common import (
    CHECK_STEPS,
    ENV_ID,
    FRAME_SKIP,
    BenchCheckError,
    System,
    check_batch,
    gym_model,
    initial_states,
    last_of,
    reward_of,
)


def _check_envs(num_envs: int) -> list[int]:
    """The environments compared with the reference: the first and the last."""
    return sorted({0, num_envs - 1})


class SimPoolSystem(System):
    label = "SimPool"
    note = "obs+reward+auto-reset"

    def __init__(self, actions: np.ndarray, num_threads: int = 2, *, seed: int = 0) -> None:
        super().__init__(actions, num_threads)
        from ..sim_pool import SimPool

        with quiet_native_output():
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
        # pool.step directly: no wrapper call per step in the timed loop
        obs, reward, *_ = last_of(self.pool.step, self.actions if actions is None else actions)
        return obs, reward

    def verify(self) -> None:
        qpos, qvel = self.pool.get_state()
        self.pool.set_state(qpos, qvel)
        self._verify_steps(_check_envs(self.num_envs), qpos, qvel, gym_model())
        self.pool.reset(seed=self.seed)


class _GymSystem(System):
    """A Gymnasium env (``self.env``), verified on its first environment."""

    def __init__(self, actions: np.ndarray, num_threads: int = 1) -> None:
        super().__init__(actions, 1)  # Gymnasium steps on the calling thread
        import gymnasium as gym

        with quiet_native_output():
            self.env = self._make_env(gym)
        self.env.reset(seed=0)

    def _make_env(self, gym: Any) -> Any:
        raise NotImplementedError

    def _first_env(self) -> Any:
        raise NotImplementedError

    def verify(self) -> None:
        self.env.reset(seed=0)
        u = self._first_env().unwrapped
        qpos, qvel = u.data.qpos.copy(), u.data.qvel.copy()
        u.set_state(qpos, qvel)  # zero warm-start, as the reference
        self._verify_steps([0], qpos[None], qvel[None], u.model)
        self.env.reset(seed=0)

    def close(self) -> None:
        self.env.close()


class GymSingleSystem(_GymSystem):
    key = "gym-single"
    label = "Gymnasium"
    note = "gym.make, reset when done"

    def __init__(self, actions: np.ndarray, num_threads: int = 1) -> None:
        num_envs = np.shape(actions)[1]
        if num_envs != 1:
            raise ValueError(f"{self.label} is one environment, got actions for {num_envs}")
        super().__init__(actions)
        self._flat = self.actions[:, 0]

    def _make_env(self, gym):
        return gym.make(ENV_ID)

    def _first_env(self):
        return self.env

    def _step(self, a: np.ndarray):
        obs, reward, terminated, truncated, _ = self.env.step(a)
        if terminated or truncated:
            self.env.reset()
        return obs, reward

    def step(self, action):
        obs, reward = self._step(action[0])
        return obs[None], np.array([reward])

    def run(self, actions=None):
        # the unbatched _step in the timed loop; batch only the last output
        obs, reward = last_of(self._step, self._flat if actions is None else actions[:, 0])
        return obs[None], np.array([reward])


class GymSyncVectorSystem(_GymSystem):
    key = "gym-sync"
    label = "Gymnasium SyncVectorEnv"
    note = "next-step auto-reset"

    def _make_env(self, gym):
        return gym.vector.SyncVectorEnv([partial(gym.make, ENV_ID)] * self.num_envs)

    def _first_env(self):
        return self.env.envs[0]

    def step(self, action):
        obs, reward, _, _, _ = self.env.step(action)
        return obs, reward


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
        return obs, reward_of(x_before, qpos[:, 0], action, self._dt)

    def verify(self) -> None:
        self._set_initial_state()
        self._verify_steps(_check_envs(self.num_envs), self._qpos0, self._qvel0, self.model)
        self._set_initial_state()


class EnvPoolSystem(System):
    key = "envpool"
    label = "EnvPool"
    note = "sync mode; bundled MuJoCo"

    def __init__(self, actions: np.ndarray, num_threads: int = 2) -> None:
        super().__init__(actions, num_threads)
        import envpool

        with quiet_native_output():
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

    def close(self) -> None:
        self.env.close()


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
        self._qpos0, self._qvel0 = initial_states(self.num_envs)
        full_physics = mujoco.mjtState.mjSTATE_FULLPHYSICS
        nstate = mujoco.mj_stateSize(self.model, full_physics)
        self.initial_state = np.empty((self.num_envs, nstate))
        data = self.datas[0]
        for i in range(self.num_envs):
            mujoco.mj_resetData(self.model, data)
            data.qpos[:] = self._qpos0[i]
            data.qvel[:] = self._qvel0[i]
            mujoco.mj_forward(self.model, data)
            mujoco.mj_getState(self.model, data, self.initial_state[i], full_physics)
        # (num_envs, steps * 5, 6): each env-step's action held for its 5 physics steps
        self.control = np.ascontiguousarray(
            np.repeat(self.actions.transpose(1, 0, 2), FRAME_SKIP, axis=1)
        )
        self.state = np.empty((self.num_envs, self.steps * FRAME_SKIP, nstate))
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
        """(..., nstate) FULLPHYSICS rows (time, qpos, qvel) -> (..., 17) observations."""
        nq = self.model.nq
        return np.concatenate((state_rows[..., 2 : 1 + nq], state_rows[..., 1 + nq :]), axis=-1)

    def check(self, out):
        last = out[:, -1]
        if not np.isfinite(last).all():
            raise BenchCheckError(f"{self.label}: non-finite final state")
        check_batch(self.label, self._obs(last), np.zeros(self.num_envs), self.num_envs)

    def verify(self) -> None:
        if self.state.shape[-1] != 1 + self.model.nq + self.model.nv:
            raise BenchCheckError(f"{self.label}: unexpected state layout")
        state = self.run(self.actions[:CHECK_STEPS])[:, : CHECK_STEPS * FRAME_SKIP]
        ends = state[:, FRAME_SKIP - 1 :: FRAME_SKIP]  # (n, k, nstate) after each env-step
        obs = self._obs(ends).transpose(1, 0, 2)
        x = np.concatenate((self._qpos0[None, :, 0], ends[:, :, 1].T))  # (k + 1, n)
        dt = self.model.opt.timestep * FRAME_SKIP
        reward = reward_of(x[:-1], x[1:], self.actions[:CHECK_STEPS], dt)
        self._compare_to_reference(
            _check_envs(self.num_envs), obs, reward, self._qpos0, self._qvel0, self.model
        )

    def close(self) -> None:
        self.rollout.close()
