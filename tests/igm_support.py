"""A tiny MF-HRL-IGM configuration and dataset for fast end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mfhrl_fast.data import OfflineDataset
from mfhrl_fast.igm.config import RunConfig, override

TINY = {
    "budget": 7.0,
    "dataset": {"source": "npz", "path": "set-by-tiny_config"},
    "offline": {"num_members": 3, "gradient_steps": 30, "batch_size": 32,
                "cql": {"hidden_sizes": [16, 16], "n_actions": 2}},
    "online": {"episodes_per_round": 2, "episode_steps": 30, "gradient_steps": 6,
               "real_batch": 16, "sim_batch": 16, "disc_steps": 3, "disc_batch": 16,
               "history": 3, "score_transitions": 24, "real_score_transitions": 24,
               "eval_episodes": 1, "eval_steps": 40,
               "h2o": {"hidden_sizes": [16, 16], "n_next_samples": 2},
               "discriminator": {"hidden_sizes": [16, 16]}},
    "num_threads": 1,
    "torch_threads": 1,
    "device": "cpu",
}
"""Overrides of the demo preset: 3 members of 16-16 networks, rounds of 2 x 30 steps."""


def tiny_dataset(n: int = 400, seed: int = 0) -> OfflineDataset:
    """Random HalfCheetah-shaped transitions (the learners only need the shapes here)."""
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, 17)).astype(np.float32)
    timeouts = np.zeros(n, dtype=bool)
    timeouts[99::100] = True
    return OfflineDataset(observations=obs, actions=rng.uniform(-1, 1, (n, 6)),
                          rewards=rng.normal(size=n), next_observations=obs + 0.1 * rng.normal(
                              size=obs.shape), terminals=np.zeros(n, dtype=bool),
                          timeouts=timeouts)


def tiny_config(folder: Path, **changes) -> RunConfig:
    """The tiny config with its dataset written to ``folder/tiny.npz`` (once)."""
    path = folder / "tiny.npz"
    if not path.exists():
        tiny_dataset().to_npz(path)
    config = override(RunConfig(), TINY)
    config = override(config, {"dataset": {"source": "npz", "path": str(path)}})
    return override(config, changes)


def toml_text(config: RunConfig) -> str:
    """``config`` as a TOML override file (the keys of TINY, with the dataset path)."""
    lines = ['preset = "paper"', f'budget = {config.budget}', f'strategy = "{config.strategy}"',
             f'num_threads = {config.num_threads}', f'torch_threads = {config.torch_threads}',
             f'device = "{config.device}"']
    tables = {"dataset": {"source": "npz", "path": config.dataset.path}, **{
        k: v for k, v in TINY.items() if isinstance(v, dict) and k != "dataset"}}
    tables["online"] = {**tables["online"], "gradient_steps": config.online.gradient_steps}

    def emit(prefix: str, table: dict) -> None:
        lines.append(f"[{prefix}]")
        nested = {}
        for key, value in table.items():
            if isinstance(value, dict):
                nested[key] = value
            elif isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            else:
                lines.append(f"{key} = {value}")
        for key, value in nested.items():
            emit(f"{prefix}.{key}", value)

    for name, table in tables.items():
        emit(name, table)
    return "\n".join(lines) + "\n"
