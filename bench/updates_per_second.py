"""Ensemble updates per second of CQL and H2O on one device (``bench/gpu_check.sh``).

    python bench/updates_per_second.py --device cuda --precision auto

Sizes: L = 5 members of 256-256 MLPs; CQL with batch 256 and 10 sampled actions per
source, H2O with 128 real + 128 simulated transitions per member. Each learner is
stepped on fixed batches (moved from host arrays every step, as from the replay ring);
the figure is the best of three timed stretches, after warm-up, with a device sync.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from mfhrl_fast.benchmarks.batches import random_transitions
from mfhrl_fast.learners import (
    CQLConfig,
    EnsembleCQL,
    EnsembleH2O,
    FidelityDiscriminators,
    H2OConfig,
)

OBS, ACT, L = 17, 6, 5


def batch(rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    return random_transitions(rng, (L, size), OBS, ACT)


def updates_per_second(step, device: torch.device, steps: int) -> float:
    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(3):
        step()
    sync()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        best = min(best, (time.perf_counter() - start) / steps)
    return 1.0 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", default="auto", choices=("fp32", "bf16", "auto"))
    parser.add_argument("--steps", type=int, default=20, help="updates per timed stretch")
    parser.add_argument("--compile", default=None,
                        help="torch.compile mode of the loss (e.g. reduce-overhead)")
    args = parser.parse_args()
    device, rng = torch.device(args.device), np.random.default_rng(0)
    kwargs = {"device": device, "precision": args.precision,
              "compile": args.compile or False}
    cql = EnsembleCQL(OBS, ACT, num_members=L, config=CQLConfig(), **kwargs)
    cql_batch = batch(rng, 256)
    disc = FidelityDiscriminators(OBS, ACT, [0], seed=0, device=device)
    disc.set_real_states(cql_batch["obs"][0])
    h2o = EnsembleH2O(OBS, ACT, disc, num_members=L, config=H2OConfig(), **kwargs)
    real, sim = batch(rng, 128), batch(rng, 128)
    rates = {
        "CQL": updates_per_second(lambda: cql.train_step(cql_batch, as_float=False), device,
                                  args.steps),
        "H2O": updates_per_second(lambda: h2o.train_step(real, sim, as_float=False), device,
                                  args.steps),
    }
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    for learner, rate in rates.items():
        print(f"{learner} L={L} 256-256 on {name} ({cql.precision}, compile={args.compile}): "
              f"{rate:.1f} ensemble updates/s ({rate * L:.1f} member updates/s)")


if __name__ == "__main__":
    main()
