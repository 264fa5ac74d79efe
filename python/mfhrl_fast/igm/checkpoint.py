"""Atomic checkpoints of a run: one folder per round, published by an atomic rename.

``<root>/round-000007/`` holds ``state.pt`` (torch.save of the run's state), any
extra files (the simulated replay) and ``checksums.json`` (the SHA-256 of every other
file); ``<root>/latest`` names the newest complete folder and is replaced atomically
after the folder is complete, so a process killed at any instant leaves the previous
checkpoint intact. A file damaged later (a torn copy, a full disk, a swapped file) fails
its checksum: :func:`latest_checkpoint` then falls back to the newest intact folder with
a one-line warning, and raises :class:`CheckpointError` when none is intact.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

LATEST = "latest"
CHECKSUMS = "checksums.json"
log = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """A run folder whose checkpoints are all damaged."""


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def write_checksums(folder: Path) -> None:
    """``checksums.json``: the digest of every file of ``folder`` (but itself)."""
    sums = {p.name: file_digest(p) for p in sorted(folder.iterdir())
            if p.is_file() and p.name != CHECKSUMS}
    (folder / CHECKSUMS).write_text(json.dumps(sums, indent=1))


def checkpoint_problem(folder: Path) -> str | None:
    """Why the checkpoint ``folder`` cannot be trusted, or None when every file matches its
    checksum. A folder from before checksums existed is trusted if it has ``state.pt``."""
    if not (folder / "state.pt").is_file():
        return "no state.pt"
    sums_path = folder / CHECKSUMS
    if not sums_path.exists():
        return None
    try:
        sums = json.loads(sums_path.read_text())
    except (OSError, ValueError):
        return f"unreadable {CHECKSUMS}"
    for name, digest in sums.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if file_digest(path) != digest:
            return f"{name} fails its checksum"
    return None


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
    write_checksums(tmp)
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


def has_checkpoint(root: str | os.PathLike[str]) -> bool:
    """Whether ``root`` holds any checkpoint (intact or not)."""
    root = Path(root)
    return (root / LATEST).exists() or any(p.is_dir() for p in root.glob("round-*"))


def latest_checkpoint(root: str | os.PathLike[str]) -> Path | None:
    """The newest intact checkpoint folder under ``root`` (the one ``latest`` names first,
    then the others, newest first), or None when there is none at all. Damaged folders
    passed over are named in one warning; all damaged raises :class:`CheckpointError`."""
    root = Path(root)
    candidates = sorted((p for p in root.glob("round-*") if p.is_dir()), reverse=True)
    pointer = root / LATEST
    if pointer.exists():
        named = root / pointer.read_text().strip()
        candidates = [named] + [p for p in candidates if p != named]
    damaged = []
    for folder in candidates:
        problem = checkpoint_problem(folder)
        if problem is None:
            if damaged:
                log.warning("checkpoint %s is damaged; resuming from %s",
                            "; ".join(damaged), folder.name)
            return folder
        damaged.append(f"{folder.name} ({problem})")
    if damaged:
        raise CheckpointError(f"{root} holds no intact checkpoint: {'; '.join(damaged)}")
    return None


def load_state(folder: Path) -> dict[str, Any]:
    """The ``state.pt`` of a checkpoint folder (written by this package: a trusted file)."""
    return torch.load(folder / "state.pt", weights_only=False)


def _saved_and_current(out_dir: Path, config: Any) -> tuple[Any, dict[str, Any]]:
    """``out_dir/config.json`` (None if unreadable) and ``config`` as the same JSON."""
    try:
        saved = json.loads((out_dir / "config.json").read_text())
    except (OSError, ValueError):
        saved = None
    return saved, json.loads(json.dumps(config.to_dict(), default=str))


def same_config(out_dir: Path, config: Any) -> bool:
    """Whether ``out_dir`` holds a run (its ``config.json``) of exactly ``config``."""
    saved, now = _saved_and_current(out_dir, config)
    return saved == now


def check_same_config(out_dir: Path, config: Any) -> None:
    """Refuse to resume ``out_dir`` with a config other than its ``config.json``'s."""
    saved, now = _saved_and_current(out_dir, config)
    if saved is None:
        raise ValueError(f"{out_dir}/config.json cannot be read; use a new out_dir")
    if saved != now:
        diff = sorted(k for k in now if saved.get(k) != now[k])
        raise ValueError(f"{out_dir} holds a run of another config (differs in {diff}); "
                         "resume it with the same config or use a new out_dir")


def prepare_run_folder(out_dir: str | os.PathLike[str] | None, config: Any,
                       resume: bool) -> Path | None:
    """The run folder (None without ``out_dir``), created; a fresh run writes its
    ``config.json``, a resumed one must match it, and a folder already holding a run's
    checkpoints is refused unless ``resume``."""
    if out_dir is None:
        return None
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if resume and (folder / "config.json").exists():
        check_same_config(folder, config)
    elif has_checkpoint(folder / "checkpoints"):
        raise FileExistsError(f"{folder} already holds a run; resume it (resume=True, "
                              "--resume) or choose another folder")
    else:
        (folder / "config.json").write_text(json.dumps(config.to_dict(), indent=1, default=str))
    return folder
