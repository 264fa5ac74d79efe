"""Timing shared by the benchmarks' in-run ratio measurements (the bench/ suite)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], number: int, repeats: int = 5) -> float:
    """Seconds per call: the best of ``repeats`` timings of ``number`` calls, after one
    warm-up call (on a shared machine the least disturbed timing is the most telling)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best
