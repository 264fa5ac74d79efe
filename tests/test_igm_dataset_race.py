"""Runs that start together share one collection of the 'gait' dataset (igm.offline)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

CHILD = """
import sys, time
import numpy as np
from mfhrl_fast.igm.config import DatasetConfig
from mfhrl_fast.igm.offline import load_dataset
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))  # both enter load_dataset at once
d = load_dataset(DatasetConfig(steps=300, noise_stds=(0.0, 0.5), seed=7))
np.save(sys.argv[2], np.concatenate([d.observations.ravel(), d.rewards]))
"""


def test_concurrent_runs_collect_the_dataset_once(tmp_path):
    env = os.environ | {"MINARI_DATASETS_PATH": str(tmp_path / "minari")}
    start = time.time() + 8.0  # after both interpreters have imported the package
    outs = [tmp_path / f"run{i}.npy" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(start), str(out)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for out in outs]
    logs = [p.communicate(timeout=300)[0] for p in procs]
    # before the lock, the later of the two failed with FileExistsError from collect
    assert [p.returncode for p in procs] == [0, 0], logs
    np.testing.assert_array_equal(np.load(outs[0]), np.load(outs[1]))
    datasets = list((tmp_path / "minari" / "mfhrl" / "halfcheetah").glob("gait*-v0"))
    assert len(datasets) == 1 and (datasets[0] / "data" / "metadata.json").exists()
