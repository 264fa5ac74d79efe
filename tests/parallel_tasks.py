"""Task functions for tests/test_igm_parallel.py.

They live in a module (not the test file) so that spawned pool workers and Ray workers
can import them by name: spawned workers inherit the test process's ``sys.path`` (which
holds tests/), and the Ray fixture puts tests/ on the workers' PYTHONPATH.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def square(x: int) -> tuple[int, int, int | None]:
    """(pid of the worker, x * x, torch's thread count there or None without torch)."""
    try:
        import torch
    except ImportError:
        threads = None
    else:
        threads = torch.get_num_threads()
    return os.getpid(), x * x, threads


def fail_on_three(x: int) -> int:
    """x, except for x == 3, which raises ValueError."""
    if x == 3:
        raise ValueError("three is not allowed")
    return x


def meet(item: tuple[str, int]) -> int:
    """Waits (up to 30 s) until ``peers`` distinct processes have called it with the same
    directory; returns this pid. Two such items only finish if two workers run at once."""
    directory, peers = Path(item[0]), item[1]
    (directory / str(os.getpid())).touch()
    deadline = time.monotonic() + 30.0
    while len(list(directory.iterdir())) < peers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {peers} worker processes ran at once")
        time.sleep(0.02)
    return os.getpid()
