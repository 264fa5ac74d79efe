"""The offline CQL phase in fp32 against bf16 matmuls, as measured for the README's
"bf16 on a CPU with AVX512-BF16" table (Learner speed).

    python docs/results/precision/precision_offline.py \
        SEED PRECISION HIDDEN MEMBERS STEPS EVERY rows.jsonl

Trains the demo preset's offline phase (noisy-gait dataset, bootstrapped CQL, batch 128)
with ``PRECISION`` ('fp32' or 'bf16'), HIDDEN-HIDDEN networks and MEMBERS members for STEPS
steps, one torch thread, and every EVERY steps evaluates each member on 3 deterministic
episodes of the true dynamics (the runs' evaluation pool, seed 10 000), appending one JSON
row with the training time so far (evaluations excluded).
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


def main(seed: int, precision: str, hidden: int, members: int, steps: int, every: int,
         path: str) -> None:
    torch.set_num_threads(1)
    base = demo()
    cql = dataclasses.replace(base.offline.cql, hidden_sizes=(hidden, hidden))
    offline = dataclasses.replace(base.offline, gradient_steps=steps, num_members=members,
                                  cql=cql)
    config = base.replace(seed=seed, precision=precision, offline=offline)
    dataset = load_dataset(config.dataset)
    learner = offline_learner(config, dataset)
    clock = {"train": 0.0, "since": time.perf_counter()}
    with open(path, "a") as out:
        def record(step: int, metrics: dict[str, float]) -> None:
            clock["train"] += time.perf_counter() - clock["since"]
            returns = evaluate(learner, members=list(range(members)), n_episodes=3,
                               seed=config.eval_seed, num_threads=1)
            row = {"seed": seed, "precision": learner.precision, "hidden": hidden,
                   "members": members, "step": step,
                   "member_returns": returns.mean(1).round(1).tolist(),
                   "mean": float(returns.mean()), "train_s": round(clock["train"], 1)}
            print(json.dumps(row | {k: metrics[k] for k in LOGGED if k in metrics}), file=out,
                  flush=True)
            clock["since"] = time.perf_counter()

        train_offline(config, dataset, callback=record, every=every, learner=learner)


if __name__ == "__main__":
    a = sys.argv[1:]
    main(int(a[0]), a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6])
