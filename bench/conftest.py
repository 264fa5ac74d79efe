"""Simulator benchmarks (pytest-benchmark): the ratio report hook.

Perf runs:  pytest bench --benchmark-autosave   (or --benchmark-json=out.json),
            then pytest-benchmark compare.
CI:         pytest bench --benchmark-disable    (each benchmark runs once and
            still checks its results; the ratio test uses a tiny budget).
"""

from __future__ import annotations

import pytest

_report_key = pytest.StashKey[list]()


@pytest.fixture
def report(request: pytest.FixtureRequest):
    """Append text to print in the terminal summary (after pytest-benchmark's tables)."""
    return request.config.stash.setdefault(_report_key, []).append


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    texts = config.stash.get(_report_key, [])
    if texts:
        terminalreporter.section("benchmark ratios (one run)")
        for text in texts:
            terminalreporter.write_line(text)
