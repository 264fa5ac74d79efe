"""Correlated high- and low-fidelity segments from one policy (MFPG's rollouts).

The n high-fidelity environments (the true dynamics) run their episodes across
updates. Before each segment, every low-fidelity environment is put with ``set_state``
into the exact MuJoCo state of a high-fidelity one: environment i (i < n) into high
environment i, and extra environment j into high environment j mod n. Paired
environment i then reuses high environment i's action noise, step by step, so its
segment differs from the high-fidelity one only by the dynamics; the extra environments
draw their own noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..fidelity import FidelitySpec
from ..rollout import PoolStep, rollout
from ..sim_pool import SimPool
from .config import MFPGConfig
from .policy import GaussianPolicy


@dataclass
class Segment:
    """T steps of N environments: ``obs`` (T, N, obs_dim), ``action`` (T, N, act_dim) as
    drawn (unclipped), ``reward`` (T, N), ``noise`` (T, N, act_dim)."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    noise: torch.Tensor


class SegmentSampler:
    """Draws (high, paired low, extra low) segments of ``config.horizon`` steps."""

    def __init__(self, config: MFPGConfig, low: FidelitySpec | None) -> None:
        c = self.config = config
        n, m = c.high_episodes, c.extra_low_episodes
        self.high = SimPool(fidelities=[FidelitySpec()], num_envs=n, seed=c.seed,
                            num_threads=c.num_threads, obs_dtype=np.float32,
                            max_episode_steps=c.episode_steps)
        self.low = None if low is None else SimPool(
            fidelities=[low], num_envs=n + m, seed=c.seed + n, num_threads=c.num_threads,
            obs_dtype=np.float32, max_episode_steps=c.horizon)
        self.source = np.concatenate([np.arange(n), np.arange(m) % n])
        self.reset(c.seed)

    def reset(self, seed: int) -> None:
        """Fresh high-fidelity episodes and noise, all from ``seed``."""
        self.rng = np.random.default_rng(seed)
        self.obs = self.high.reset(seed=seed)
        if self.low is not None:
            self.low.reset(seed=seed + self.high.num_envs)

    def _run(self, pool: SimPool, obs: np.ndarray, policy: GaussianPolicy,
             noise: np.ndarray) -> tuple[Segment, np.ndarray]:
        steps, out = [], {}
        clock = iter(range(len(noise)))

        def act(o: np.ndarray) -> np.ndarray:
            t = next(clock)
            a = policy.sample(torch.from_numpy(o), torch.from_numpy(noise[t])).numpy()
            steps.append((o.copy(), a))
            return np.clip(a, -1.0, 1.0)

        def sink(step: PoolStep) -> None:
            out.setdefault("reward", []).append(step.reward.astype(np.float32))

        last = rollout(pool, act, len(noise), sink=sink, obs=obs)
        obs_t, act_t = (torch.from_numpy(np.stack(x)) for x in zip(*steps, strict=True))
        return Segment(obs_t, act_t, torch.from_numpy(np.stack(out["reward"])),
                       torch.from_numpy(noise)), last

    def sample(self, policy: GaussianPolicy) -> tuple[Segment, Segment | None, Segment | None]:
        """The next high segment and, with a low-fidelity pool, its paired and extra ones."""
        c, n = self.config, self.config.high_episodes
        shape = (c.horizon, n, self.high.act_dim)
        noise = self.rng.standard_normal(shape).astype(np.float32)
        qpos, qvel = self.high.get_state()
        high, self.obs = self._run(self.high, self.obs, policy, noise)
        if self.low is None:
            return high, None, None
        low_obs = self.low.set_state(qpos[self.source], qvel[self.source])
        paired = noise if c.share_noise else self.rng.standard_normal(shape).astype(np.float32)
        extra = self.rng.standard_normal((c.horizon, c.extra_low_episodes, shape[2]))
        low, _ = self._run(self.low, low_obs, policy,
                           np.concatenate([paired, extra.astype(np.float32)], axis=1))
        return high, *split(low, n)


def split(segment: Segment, n: int) -> tuple[Segment, Segment]:
    """The first n environments of a segment and the rest."""
    fields = ("obs", "action", "reward", "noise")
    return (Segment(*(getattr(segment, f)[:, :n] for f in fields)),
            Segment(*(getattr(segment, f)[:, n:] for f in fields)))
