"""Random transition batches for the learner benchmarks (bench/ and bench/updates_per_second.py)."""

from __future__ import annotations

import numpy as np


def random_transitions(rng: np.random.Generator, lead: tuple[int, ...], obs_dim: int,
                       act_dim: int) -> dict[str, np.ndarray]:
    """A float32 batch shaped like ``ReplayRing.sample_members`` (lead = (L, B)) with
    normal observations and rewards, uniform actions in [-1, 1], no terminal steps and
    fidelity id 0."""
    return {"obs": rng.normal(size=(*lead, obs_dim)).astype(np.float32),
            "action": rng.uniform(-1, 1, (*lead, act_dim)).astype(np.float32),
            "reward": rng.normal(size=lead).astype(np.float32),
            "next_obs": rng.normal(size=(*lead, obs_dim)).astype(np.float32),
            "terminated": np.zeros(lead, np.float32), "fidelity": np.zeros(lead, np.uint8)}
