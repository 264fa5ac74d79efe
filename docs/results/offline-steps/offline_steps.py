"""The offline CQL ensemble's returns as its steps grow (demo preset), as measured for
README "What the online phase's falls are".

    python docs/results/offline-steps/offline_steps.py SEED STEPS EVERY rows.jsonl

Trains the demo's offline phase (L = 5 bootstrapped CQL members, 64-64, batch 128) for
STEPS steps and, every EVERY steps, evaluates each member on 3 deterministic episodes of
the true dynamics (the runs' evaluation pool, seed 10 000), appending one JSON row.
"""

import dataclasses
import json
import sys
import time

import torch

from mfhrl_fast.igm.config import demo
from mfhrl_fast.igm.offline import load_dataset, offline_ring
from mfhrl_fast.learners import EnsembleCQL, metrics_to_floats
from mfhrl_fast.learners.online import evaluate


def main(seed: int, steps: int, every: int, path: str) -> None:
    torch.set_num_threads(1)
    config = demo().replace(seed=seed)
    config = config.replace(offline=dataclasses.replace(config.offline, gradient_steps=steps))
    dataset, o = load_dataset(config.dataset), config.offline
    ring = offline_ring(dataset, config)
    cql = EnsembleCQL(dataset.obs_dim, dataset.act_dim, num_members=o.num_members,
                      config=o.cql, seed=seed, device="cpu")
    cql.set_obs_normalization(*dataset.state_stats())
    batch, start = ring.empty_batch(o.batch_size, members=True), time.time()
    with open(path, "a") as out:
        for step in range(1, steps + 1):
            metrics = cql.train_step(ring.sample_members(o.batch_size, out=batch),
                                     as_float=False)
            if step % every:
                continue
            returns = evaluate(cql, members=list(range(o.num_members)), n_episodes=3,
                               seed=config.eval_seed, num_threads=1)
            m = metrics_to_floats(metrics, "losses/")
            row = {"seed": seed, "step": step, "member_returns": returns.mean(1).round(1).tolist(),
                   "mean": float(returns.mean()), "time": round(time.time() - start, 1)}
            row |= {k: m[k] for k in ("losses/critic", "losses/cql_diff", "losses/alpha",
                                      "losses/entropy") if k in m}
            print(json.dumps(row), file=out, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
