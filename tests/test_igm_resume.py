"""A run killed with SIGKILL mid-round and resumed equals an uninterrupted run (CPU)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import torch

from mfhrl_fast.igm import run
from mfhrl_fast.igm.checkpoint import latest_checkpoint, load_state
from mfhrl_fast.igm.config import override
from mfhrl_fast.igm.presets import load_config

from igm_support import tiny_config, toml_text


def _rows(folder):
    rows = [json.loads(line) for line in (folder / "rounds.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.startswith("time_")} for r in rows]


def _assert_same_tensors(a, b, where=""):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_same_tensors(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same_tensors(x, y, f"{where}[{i}]")
    else:
        assert a == b or (a != a and b != b), where


def test_sigkill_mid_round_then_resume_matches_uninterrupted_run(tmp_path):
    config = override(tiny_config(tmp_path), {"budget": 12.0, "online": {"gradient_steps": 60}})
    path = tmp_path / "tiny.toml"
    path.write_text(toml_text(config))
    assert load_config(path) == config
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "mfhrl_fast", "run", "--config", str(path), "--out", str(out),
           "--quiet", "--no-tensorboard"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pointer = out / "checkpoints" / "latest"
    deadline = time.monotonic() + 300
    try:
        while not (pointer.exists() and pointer.read_text().strip() >= "round-000002"):
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.002)
    finally:
        proc.kill()  # SIGKILL: no handler runs
        proc.wait()
    killed_after = load_state(latest_checkpoint(out / "checkpoints"))["budget"]["ledger"]
    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    reference = run(config, out_dir=tmp_path / "reference", tensorboard=False)
    assert len(killed_after) < reference.rounds, "the kill came after the last round"
    assert _rows(out) == _rows(tmp_path / "reference")
    mine = load_state(latest_checkpoint(out / "checkpoints"))
    theirs = load_state(latest_checkpoint(tmp_path / "reference" / "checkpoints"))
    assert mine["budget"] == theirs["budget"]
    _assert_same_tensors(mine["learner"], theirs["learner"], "learner")
    _assert_same_tensors(mine["posterior"]["log_p"].tolist(), theirs["posterior"]["log_p"].tolist())
    last = latest_checkpoint(out / "checkpoints")
    ref_last = latest_checkpoint(tmp_path / "reference" / "checkpoints")
    assert (last / "sim_replay.bin").read_bytes() == (ref_last / "sim_replay.bin").read_bytes()
