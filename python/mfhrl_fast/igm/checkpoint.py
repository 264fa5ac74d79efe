"""Atomic checkpoints of a run: one folder per round, published by an atomic rename.

``<root>/round-000007/`` holds ``state.pt`` (torch.save of the run's state) and any
extra files (the simulated replay); ``<root>/latest`` names the newest complete
folder and is replaced atomically after the folder is complete, so a process
killed at any instant leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

LATEST = "latest"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_torch_atomic(obj: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_checkpoint(root: str | os.PathLike[str], round_: int, state: dict[str, Any],
                    extra: Callable[[Path], None] | None = None, keep: int = 2) -> Path:
    """Write round ``round_``'s checkpoint under ``root``; ``extra(folder)`` writes more
    files into the folder before it is published. Keeps the newest ``keep`` folders."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    name = f"round-{round_:06d}"
    tmp = root / f".{name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    torch.save(state, tmp / "state.pt")
    if extra is not None:
        extra(tmp)
    _fsync_dir(tmp)
    final = root / name
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    write_text_atomic(root / LATEST, name)
    _fsync_dir(root)
    folders = sorted(p for p in root.glob("round-*") if p.is_dir())
    for old in folders[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(root: str | os.PathLike[str]) -> Path | None:
    """The newest complete checkpoint folder under ``root``, or None."""
    pointer = Path(root) / LATEST
    if not pointer.exists():
        return None
    folder = Path(root) / pointer.read_text().strip()
    if not (folder / "state.pt").exists():
        raise RuntimeError(f"checkpoint pointer {pointer} names {folder}, which is incomplete")
    return folder


def load_state(folder: Path) -> dict[str, Any]:
    """The ``state.pt`` of a checkpoint folder (written by this package: a trusted file)."""
    return torch.load(folder / "state.pt", weights_only=False)


def check_same_config(out_dir: Path, config: Any) -> None:
    """Refuse to resume ``out_dir`` with a config other than its ``config.json``'s."""
    saved = json.loads((out_dir / "config.json").read_text())
    now = json.loads(json.dumps(config.to_dict(), default=str))
    if saved != now:
        diff = sorted(k for k in now if saved.get(k) != now[k])
        raise ValueError(f"{out_dir} holds a run of another config (differs in {diff}); "
                         "resume it with the same config or use a new out_dir")
