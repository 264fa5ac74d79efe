"""Checkpoint integrity: checksums, fallback to the newest intact checkpoint, clear errors."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

import pytest
import torch

from mfhrl_fast.igm import run
from mfhrl_fast.igm.checkpoint import (
    CHECKSUMS,
    CheckpointError,
    checkpoint_problem,
    latest_checkpoint,
    load_state,
    save_checkpoint,
)

from igm_support import tiny_config, toml_text


def _three_checkpoints(root):
    for r in range(1, 4):
        save_checkpoint(root, r, {"round": r, "w": torch.full((64,), float(r))},
                        extra=lambda d, r=r: (d / "sim_replay.bin").write_bytes(bytes([r]) * 99),
                        keep=3)
    return [root / f"round-{r:06d}" for r in range(1, 4)]


def _truncate(path):
    os.truncate(path, path.stat().st_size // 2)


def _zero(path):
    path.write_bytes(bytes(path.stat().st_size))


def _swap(a, b):
    tmp = a.with_name("swap.tmp")
    os.replace(a, tmp)
    os.replace(b, a)
    os.replace(tmp, b)


def test_every_file_has_a_checksum_and_intact_folders_pass(tmp_path):
    folders = _three_checkpoints(tmp_path)
    assert latest_checkpoint(tmp_path) == folders[-1]
    for folder in folders:
        assert checkpoint_problem(folder) is None
        sums = (folder / CHECKSUMS).read_text()
        assert "state.pt" in sums and "sim_replay.bin" in sums
    assert latest_checkpoint(tmp_path / "none") is None


@pytest.mark.parametrize("damage", ["truncate", "zero", "delete"])
@pytest.mark.parametrize("name", ["state.pt", "sim_replay.bin"])
def test_a_damaged_latest_falls_back_with_one_warning(tmp_path, caplog, damage, name):
    folders = _three_checkpoints(tmp_path)
    path = folders[-1] / name
    {"truncate": _truncate, "zero": _zero, "delete": os.remove}[damage](path)
    with caplog.at_level(logging.WARNING):
        assert latest_checkpoint(tmp_path) == folders[-2]
    (message,) = [r.getMessage() for r in caplog.records]
    assert "round-000003" in message and name in message and "round-000002" in message
    assert "\n" not in message
    assert load_state(folders[-2])["round"] == 2


def test_swapped_files_and_all_damaged_are_one_line_errors(tmp_path):
    folders = _three_checkpoints(tmp_path)
    _swap(folders[-1] / "state.pt", folders[-2] / "state.pt")
    assert latest_checkpoint(tmp_path) == folders[0]  # both swapped folders fail
    _zero(folders[0] / "state.pt")
    with pytest.raises(CheckpointError, match="holds no intact checkpoint") as info:
        latest_checkpoint(tmp_path)
    assert "\n" not in str(info.value) and str(info.value).count("fails its checksum") == 3
    (folders[0] / CHECKSUMS).write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable checksums.json"):
        latest_checkpoint(tmp_path)


def test_a_pointer_to_a_missing_folder_falls_back(tmp_path):
    folders = _three_checkpoints(tmp_path)
    shutil.rmtree(folders[-1])
    assert latest_checkpoint(tmp_path) == folders[-2]


def test_resume_from_a_torn_latest_matches_an_uninterrupted_run(tmp_path):
    config = tiny_config(tmp_path)
    reference = run(config, out_dir=tmp_path / "reference", tensorboard=False)
    assert reference.rounds >= 3
    out = tmp_path / "torn"
    run(config, out_dir=out, tensorboard=False)
    latest = latest_checkpoint(out / "checkpoints")
    _truncate(latest / "state.pt")  # the last round's checkpoint is torn
    path = tmp_path / "tiny.toml"
    path.write_text(toml_text(config))
    cmd = [sys.executable, "-m", "mfhrl_fast", "run", "--config", str(path), "--out", str(out),
           "--quiet", "--no-tensorboard", "--resume"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    warnings = [line for line in done.stderr.splitlines() if "damaged" in line]
    assert len(warnings) == 1 and latest.name in warnings[0]
    assert (out / "rounds.csv").read_text().count("\n") == (
        tmp_path / "reference" / "rounds.csv").read_text().count("\n")
    mine = load_state(latest_checkpoint(out / "checkpoints"))
    theirs = load_state(latest_checkpoint(tmp_path / "reference" / "checkpoints"))
    assert mine["budget"] == theirs["budget"]
    for key, value in theirs["learner"]["nets"].items():  # the replayed round is the same
        assert torch.equal(mine["learner"]["nets"][key], value), key
    for folder in (out / "checkpoints").glob("round-*"):
        _zero(folder / "state.pt")
    failed = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert failed.returncode == 2
    assert failed.stderr.strip().count("\n") == 0 and "no intact checkpoint" in failed.stderr
