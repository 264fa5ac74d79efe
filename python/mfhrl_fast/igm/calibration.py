"""How well a member's critic predicts the returns it earns: Q against the discounted
Monte-Carlo return of the episodes it was evaluated on (logged every evaluated round)."""

from __future__ import annotations

import numpy as np
import torch

from ..learners import EnsembleH2O


@torch.no_grad()
def critic_calibration(learner: EnsembleH2O, member: int, traj: dict[str, np.ndarray],
                       gamma: float) -> dict[str, float]:
    """``eval/q`` (member's min-twin Q at the visited states and actions) and
    ``eval/mc_return`` (discounted return-to-go), averaged over the first half of the
    steps of the evaluated episodes."""
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
    keep = torch.as_tensor(alive[:half].reshape(-1), device=learner.device)
    return {"eval/q": float(q.min(0).values[keep].mean()),
            "eval/mc_return": float(to_go[:half][alive[:half]].mean())}
