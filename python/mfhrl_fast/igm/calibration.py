"""How well a member's critic predicts the returns it earns: Q against the discounted
Monte-Carlo return of the episodes it was evaluated on (logged every evaluated round),
overall and on the states where the cheetah lies flipped over.

A HalfCheetah that flips onto its back (root pitch, observation 1, beyond pi/2) stays
there and earns about -0.3 per step instead of +1 to +1.5; the sudden falls of the
evaluated return are such flips in some of the evaluated episodes. ``eval/flipped`` counts
them, and ``eval/q_flipped`` against ``eval/mc_flipped`` shows whether the critic knows
what a flip costs.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..learners import EnsembleH2O


@torch.no_grad()
def critic_calibration(learner: EnsembleH2O, member: int, traj: dict[str, np.ndarray],
                       gamma: float) -> dict[str, float]:
    """``eval/q`` (member's min-twin Q at the visited states and actions) and
    ``eval/mc_return`` (discounted return-to-go), averaged over the first half of the
    steps of the evaluated episodes; ``eval/q_flipped`` and ``eval/mc_flipped``, the same
    over the flipped states among them (NaN if none), and ``eval/flipped``, the fraction
    of the episodes that flipped at some step."""
    reward, alive = traj["reward"], traj["alive"]
    to_go = np.zeros_like(reward, dtype=np.float64)
    running = np.zeros(reward.shape[1])
    for t in range(len(reward) - 1, -1, -1):
        running = np.where(alive[t], reward[t] + gamma * running, 0.0)
        to_go[t] = running
    half = max(1, len(reward) // 2)
    obs = torch.as_tensor(traj["obs"][:half].reshape(-1, learner.obs_dim), device=learner.device)
    act = torch.as_tensor(traj["action"][:half].reshape(-1, learner.act_dim),
                          device=learner.device)
    L = learner.num_members
    q = learner._q("critic", obs.expand(L, -1, -1), act.expand(L, -1, -1))[:, member]
    q = q.min(0).values.cpu().numpy().reshape(half, -1)
    live = alive[:half]
    flipped = flipped_states(traj["obs"]) & alive
    on_back = flipped[:half] & live
    return {"eval/q": float(q[live].mean()),
            "eval/mc_return": float(to_go[:half][live].mean()),
            "eval/flipped": float(flipped.any(0).mean()),
            "eval/q_flipped": float(q[on_back].mean()) if on_back.any() else math.nan,
            "eval/mc_flipped": float(to_go[:half][on_back].mean()) if on_back.any()
            else math.nan}


def flipped_states(obs: np.ndarray) -> np.ndarray:
    """Whether each HalfCheetah-v5 observation (..., 17) shows the cheetah flipped over:
    root pitch (``qpos[2]``, observation 1) beyond pi/2 either way."""
    return np.abs(obs[..., 1]) > FLIP_PITCH


FLIP_PITCH = math.pi / 2
"""Root pitch (rad) beyond which the cheetah counts as flipped (ours)."""
