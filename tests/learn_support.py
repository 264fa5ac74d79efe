"""Shared helpers of the learner tests (tests/test_learn_*.py)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from mfhrl_fast.learners import (
    CQLConfig,
    EnsembleCQL,
    EnsembleH2O,
    EnsembleSAC,
    FidelityDiscriminators,
    H2OConfig,
    SACConfig,
)

OBS, ACT = 17, 6
DEVICE = os.environ.get("MFHRL_TEST_DEVICE", "cpu")
"""Device of the learners ``make_learner`` builds (bench/gpu_check.sh sets ``cuda``)."""
SMALL = (32, 32)  # hidden sizes that keep the tests fast


def random_batch(members: int | None, size: int, seed: int, *, fidelity: Any = 0) -> dict:
    """A float32 batch shaped like ReplayRing.sample_members (or .sample with members=None)."""
    rng = np.random.default_rng(seed)
    lead = (size,) if members is None else (members, size)
    return {
        "obs": rng.normal(size=(*lead, OBS)).astype(np.float32),
        "action": rng.uniform(-1, 1, size=(*lead, ACT)).astype(np.float32),
        "reward": rng.normal(size=lead).astype(np.float32),
        "next_obs": rng.normal(size=(*lead, OBS)).astype(np.float32),
        "terminated": (rng.uniform(size=lead) < 0.1).astype(np.float32),
        "truncated": np.zeros(lead, np.float32),
        "fidelity": np.broadcast_to(np.asarray(fidelity, np.uint8), lead).copy(),
    }


def member_rows(batch: dict, m: int) -> dict:
    """Member m's row of a (L, B, ...) batch, kept as a one-member batch (1, B, ...)."""
    return {k: v[m:m + 1] for k, v in batch.items()}


def make_learner(kind: str, members: int, *, seed: int = 0, member_seeds=None,
                 discriminators: FidelityDiscriminators | None = None,
                 precision: str = "fp32", **config: Any):
    """A small learner of ``kind`` in {"sac", "cql", "cql-lagrange", "h2o"} on the CPU."""
    if kind == "sac":
        return EnsembleSAC(OBS, ACT, num_members=members, seed=seed, member_seeds=member_seeds,
                           config=SACConfig(hidden_sizes=SMALL, **config), device=DEVICE,
                           precision=precision)
    if kind.startswith("cql"):
        cfg = CQLConfig(hidden_sizes=SMALL, lagrange=kind == "cql-lagrange", n_actions=3, **config)
        return EnsembleCQL(OBS, ACT, num_members=members, seed=seed, member_seeds=member_seeds,
                           config=cfg, device=DEVICE, precision=precision)
    if discriminators is None:
        discriminators = make_discriminators()
    return EnsembleH2O(OBS, ACT, discriminators, num_members=members, seed=seed,
                       member_seeds=member_seeds, device=DEVICE, precision=precision,
                       config=H2OConfig(hidden_sizes=SMALL, n_next_samples=4, **config))


def make_discriminators(fidelities=(0,), seed: int = 3) -> FidelityDiscriminators:
    """Discriminators trained for a few steps on random data, so w and u are not constant."""
    from mfhrl_fast.learners import DiscriminatorConfig

    disc = FidelityDiscriminators(OBS, ACT, fidelities, DiscriminatorConfig(hidden_sizes=SMALL),
                                  seed=seed, device=DEVICE)
    disc.set_real_states(random_batch(None, 64, 99)["obs"])
    for i, k in enumerate(fidelities):
        for step in range(5):
            real = random_batch(None, 32, 1000 + step)
            sim = random_batch(None, 32, 2000 + step)
            sim["next_obs"] += 0.5 * (i + 1)
            disc.train_step(k, real, sim)
    return disc


def batches_for(kind: str, members: int | None, size: int, seed: int) -> tuple[dict, ...]:
    """train_step's arguments: one batch, or (real, sim) for H2O."""
    if kind == "h2o":
        return random_batch(members, size, seed), random_batch(members, size, seed + 1)
    return (random_batch(members, size, seed),)


def losses_and_grads(learner, *batches) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """What train_step computes before its optimizer step: (total loss, per-member critic loss,
    gradients by parameter name). Consumes the training streams as train_step does."""
    out = learner.compute_loss(*batches)
    total, critic = out.total, out.critic
    learner.optimizer.zero_grad(set_to_none=True)
    total.backward()
    grads = {n: p.grad.detach().clone() for n, p in learner.nets.named_parameters()
             if p.grad is not None}
    return total.detach(), critic, grads


def params(learner) -> dict[str, torch.Tensor]:
    return {n: t.detach().clone() for n, t in learner.nets.state_dict().items()}
