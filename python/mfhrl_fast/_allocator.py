"""Keep freed memory in the process (glibc malloc), so that the learners' large temporary
tensors are not returned to the kernel and page-faulted back on every gradient step.

PyTorch's CPU allocator takes big blocks from malloc, which serves blocks above
``M_MMAP_THRESHOLD`` (adaptive, at most 32 MiB) by mmap and gives them back at free; a
CQL step allocates and frees hundreds of MiB of activations, so every step pays the page
faults again (measured: 175k minor faults per 20 steps, a fifth of the step time). Raising
the mmap and trim thresholds makes malloc reuse that memory instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_done = False


def retain_freed_memory(threshold: int = 1 << 30) -> bool:
    """Set glibc's mmap and trim thresholds to ``threshold`` bytes (once per process).
    Returns whether it took effect (False off Linux/glibc)."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    _done = bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(
        mallopt(_M_TRIM_THRESHOLD, threshold))
    return _done
