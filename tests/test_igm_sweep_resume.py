"""A sweep killed with SIGKILL (some runs finished, one mid-round) and rerun with --resume
writes the same final_returns.csv as an uninterrupted sweep, on the local pool and on Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mfhrl_fast.igm.compare import RESULT, compare, config_digest, finished_result
from mfhrl_fast.igm.config import override
from mfhrl_fast.igm.parallel import ParallelConfig

from igm_support import tiny_config, toml_text

STRATEGIES = ["lowest", "uniform"]


@pytest.fixture(scope="module")
def killed_sweep(tmp_path_factory):
    """A serial sweep of two runs, killed while the second is mid-run; and the folder of
    the same sweep run without interruption."""
    tmp = tmp_path_factory.mktemp("sweep")
    config = override(tiny_config(tmp), {"budget": 5.0, "online": {"gradient_steps": 40}})
    path = tmp / "tiny.toml"
    path.write_text(toml_text(config))
    out = tmp / "killed"
    cmd = [sys.executable, "-m", "mfhrl_fast", "compare", "--config", str(path), "--out",
           str(out), "--strategies", *STRATEGIES, "--backend", "serial"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    second = out / "runs" / f"{STRATEGIES[1]}-b5-s0"
    deadline = time.monotonic() + 300
    try:
        while not ((out / "runs" / f"{STRATEGIES[0]}-b5-s0" / RESULT).exists()
                   and (second / "checkpoints" / "latest").exists()):
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.002)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and any worker: no handler runs
        proc.wait()
    assert not (second / RESULT).exists(), "the kill came after the second run finished"
    reference = tmp / "reference"
    compare(config, strategies=STRATEGIES, budgets=[5.0], seeds=[0], out_dir=reference,
            parallel=ParallelConfig(backend="serial"))
    return cmd, out, reference, config


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_resumed_sweep_matches_an_uninterrupted_one(killed_sweep, backend, tmp_path):
    if backend == "ray":
        pytest.importorskip("ray")
    cmd, killed, reference, config = killed_sweep
    out = tmp_path / "resumed"
    subprocess.run(["cp", "-r", str(killed), str(out)], check=True)  # each backend its copy
    cmd = [*cmd[:cmd.index("--out") + 1], str(out), *cmd[cmd.index("--out") + 2:]]
    cmd[cmd.index("--backend") + 1] = backend
    (cached,) = (out / "offline").glob("offline-*.pt")
    written = cached.stat().st_mtime_ns
    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resume: 1 of 2 runs already finished" in done.stdout
    assert cached.stat().st_mtime_ns == written  # the cached offline phase was reused
    assert (out / "final_returns.csv").read_text() == (reference / "final_returns.csv").read_text()
    first = out / "runs" / f"{STRATEGIES[0]}-b5-s0"
    kept = json.loads((first / RESULT).read_text())
    assert kept["digest"] == config_digest(config.replace(strategy=STRATEGIES[0]))


def test_a_changed_config_is_not_taken_for_a_finished_run(killed_sweep):
    _, killed, _, config = killed_sweep
    first = killed / "runs" / f"{STRATEGIES[0]}-b5-s0"
    assert finished_result(first, config.replace(strategy=STRATEGIES[0])) is not None
    changed = override(config.replace(strategy=STRATEGIES[0]), {"online": {"eta0": 2.0}})
    assert finished_result(first, changed) is None
    assert finished_result(killed / "runs" / "nothing-here", config) is None
