"""The offline CQL ensemble's returns as its steps grow (demo preset), as measured for
the README's "The offline start is a transient".

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
from mfhrl_fast.igm.offline import load_dataset, offline_learner, train_offline
from mfhrl_fast.learners.online import evaluate

LOGGED = ("losses/critic", "losses/cql_diff", "losses/alpha", "losses/entropy")


def main(seed: int, steps: int, every: int, path: str) -> None:
    torch.set_num_threads(1)
    config = demo().replace(seed=seed)
    config = config.replace(offline=dataclasses.replace(config.offline, gradient_steps=steps))
    dataset = load_dataset(config.dataset)
    cql, start = offline_learner(config, dataset), time.time()
    with open(path, "a") as out:
        def record(step: int, metrics: dict[str, float]) -> None:
            returns = evaluate(cql, members=list(range(cql.num_members)), n_episodes=3,
                               seed=config.eval_seed, num_threads=1)
            row = {"seed": seed, "step": step, "member_returns": returns.mean(1).round(1).tolist(),
                   "mean": float(returns.mean()), "time": round(time.time() - start, 1)}
            print(json.dumps(row | {k: metrics[k] for k in LOGGED if k in metrics}), file=out,
                  flush=True)

        train_offline(config, dataset, callback=record, every=every, learner=cql)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
