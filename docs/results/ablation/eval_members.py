"""Every member's deterministic return in the true dynamics, offline and at a run's end,
and where the MAP member ranks (members.md): does the posterior's choice matter?

    python eval_members.py RUN_DIR...   # RUN_DIR = <out>/<variant>/runs/<run>, with
                                        # the offline cache in <out>/<variant>/offline
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

from mfhrl_fast.fidelity import FidelitySpec
from mfhrl_fast.igm.checkpoint import latest_checkpoint, load_state
from mfhrl_fast.igm.config import RunConfig
from mfhrl_fast.igm.offline import get_offline, load_dataset
from mfhrl_fast.igm.runner import Experiment
from mfhrl_fast.learners.online import evaluate
from mfhrl_fast.replay import ReplayRing


def member_returns(exp: Experiment, c: RunConfig) -> np.ndarray:
    returns = evaluate(exp.learner, members=list(range(c.offline.num_members)),
                       fidelity=FidelitySpec(), n_episodes=c.online.eval_episodes,
                       max_episode_steps=c.online.eval_steps, seed=c.eval_seed, num_threads=1)
    return returns.mean(1)


def main(runs: list[str]) -> None:
    torch.set_num_threads(1)
    for run in map(Path, runs):
        c = RunConfig.from_dict(json.loads((run / "config.json").read_text()))
        dataset = load_dataset(c.dataset)
        offline = get_offline(c, dataset, cache_dir=run.parent.parent / "offline")
        exp = Experiment(c, dataset, offline)
        before = member_returns(exp, c)
        checkpoint = latest_checkpoint(run / "checkpoints")
        exp.load_state_dict(load_state(checkpoint), ReplayRing.load(checkpoint / "sim_replay.bin"))
        after = member_returns(exp, c)
        best = exp.posterior.map_member()
        print(json.dumps({"run": str(run), "offline": before.round(0).tolist(),
                          "final": after.round(0).tolist(), "map": best,
                          "map_rank": int((after > after[best]).sum()),
                          "probs": np.round(exp.posterior.probs, 2).tolist()}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
