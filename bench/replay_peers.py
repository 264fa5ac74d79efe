"""Peer replay buffers for the ReplayRing benchmarks, filled the same way."""

from __future__ import annotations

import numpy as np

OBS, ACT, MEMBERS = 17, 6, 5


def transitions(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """n random float32 transitions; obs[:, 0] is the row id (for correctness checks)."""
    rng = np.random.default_rng(seed)
    obs = rng.standard_normal((n, OBS)).astype(np.float32)
    obs[:, 0] = np.arange(n)
    return {
        "obs": obs,
        "action": rng.uniform(-1, 1, (n, ACT)).astype(np.float32),
        "reward": rng.standard_normal(n).astype(np.float32),
        "next_obs": obs + 1,
        "terminated": np.zeros(n, np.float32),
        "truncated": (rng.random(n) < 1e-3).astype(np.float32),
    }


class NumpyRing:
    """What a user would write in NumPy: preallocated arrays, fancy-index sampling."""

    def __init__(self, capacity: int, members: int = MEMBERS, p: float = 0.5, seed: int = 0):
        self.capacity, self.size, self.head = capacity, 0, 0
        self.rng = np.random.default_rng(seed)
        self.members, self.p = members, p
        self.data = {
            "obs": np.empty((capacity, OBS), np.float32),
            "action": np.empty((capacity, ACT), np.float32),
            "reward": np.empty(capacity, np.float32),
            "next_obs": np.empty((capacity, OBS), np.float32),
            "terminated": np.empty(capacity, np.float32),
            "truncated": np.empty(capacity, np.float32),
            "fidelity": np.zeros(capacity, np.uint8),
            "mask": np.empty((capacity, members), bool),
        }
        self.member_index: list[np.ndarray] | None = None

    def add(self, batch: dict[str, np.ndarray]) -> None:
        n = len(batch["reward"])
        idx = (self.head + np.arange(n)) % self.capacity
        for key, value in batch.items():
            self.data[key][idx] = value
        self.data["mask"][idx] = self.rng.random((n, self.members)) < self.p
        self.head = (self.head + n) % self.capacity
        self.size = min(self.size + n, self.capacity)
        self.member_index = None

    def sample(self, batch_size: int) -> dict[str, np.ndarray]:
        idx = self.rng.integers(0, self.size, batch_size)
        return {key: value[idx] for key, value in self.data.items()}

    def sample_members(self, batch_size: int) -> list[dict[str, np.ndarray]]:
        """One masked sample per member, from cached per-member index arrays."""
        if self.member_index is None:
            mask = self.data["mask"][: self.size]
            self.member_index = [np.flatnonzero(mask[:, m]) for m in range(self.members)]
        out = []
        for index in self.member_index:
            idx = index[self.rng.integers(0, len(index), batch_size)]
            out.append({key: value[idx] for key, value in self.data.items()})
        return out


def cpprb_buffer(capacity: int):
    import cpprb

    return cpprb.ReplayBuffer(
        capacity,
        env_dict={
            "obs": {"shape": OBS, "dtype": np.float32},
            "action": {"shape": ACT, "dtype": np.float32},
            "reward": {"dtype": np.float32},
            "next_obs": {"shape": OBS, "dtype": np.float32},
            "terminated": {"dtype": np.float32},
            "truncated": {"dtype": np.float32},
        },
    )


def torchrl_buffer(capacity: int, batch_size: int):
    from torchrl.data import LazyTensorStorage, ReplayBuffer

    return ReplayBuffer(storage=LazyTensorStorage(capacity), batch_size=batch_size)


def as_tensordict(batch: dict[str, np.ndarray]):
    import torch
    from tensordict import TensorDict

    n = len(batch["reward"])
    return TensorDict({k: torch.from_numpy(v) for k, v in batch.items()}, batch_size=[n])
