"""Native stdout/stderr collected while benchmarked systems are built.

MuJoCo prints a warning per compiled model (Gymnasium's XML uses the
deprecated 'settotalmass'): 65 copies for a 64-env SyncVectorEnv. While
systems are built, native output is collected and each line is counted, so
the table can report it once.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator

_native_lines: Counter[str] = Counter()


@contextlib.contextmanager
def quiet_native_output() -> Iterator[None]:
    """Send native stdout/stderr to a file for the block, then count its lines."""
    try:
        libc = ctypes.CDLL(None)
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # no libc handle or no fds: just let it print
        yield
        return

    def flush() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        libc.fflush(None)

    with tempfile.TemporaryFile(mode="w+b") as tmp:
        try:
            flush()
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            yield
        finally:
            flush()
            for fd, saved_fd in zip((1, 2), saved, strict=True):
                os.dup2(saved_fd, fd)
                os.close(saved_fd)
            tmp.seek(0)
            lines = (line.strip() for line in tmp.read().decode(errors="replace").splitlines())
            _native_lines.update(line for line in lines if line)


def native_messages() -> dict[str, int]:
    """Native lines printed while systems were built (since the last clear), with counts."""
    return dict(_native_lines)


def clear_native_messages() -> None:
    _native_lines.clear()
