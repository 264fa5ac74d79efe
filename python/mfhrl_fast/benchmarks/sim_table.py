"""The simulator throughput table (``mfhrl-fast bench-sim``): formatting and ``main``."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence

from .sim_compare import TARGETS, Comparison, compare

_ROW = "{:<24} {:>4} {:>3} {:>12} {:>6} {:>8} {:>7}  {:<13} {}"
"""Columns: system, envs, threads, env-steps/s, spread, /SimPool, /limit, check, note."""


def _fmt(x: float | None, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _spread(runs: Sequence[float]) -> str:
    """How much slower the slowest run was than the best: a noise gauge."""
    return f"{1 - min(runs) / max(runs):.0%}" if len(runs) > 1 else "-"


def _target(value: float | None, key: str) -> str:
    """Whether a headline ratio met its goal in :data:`TARGETS` ("" if it has none)."""
    goal = TARGETS.get(key)
    if goal is None:
        return ""
    if value is None:
        return f"(target >= {goal:g})"
    return f"(target >= {goal:g}: {'met' if value >= goal else 'MISSED'})"


def format_table(result: Comparison) -> str:
    """The rows and the headline ratios, as text."""
    m = result.meta
    lines = [
        f"{m['env_id']} throughput in {m['unit']}",
        f"uniform random actions, {m['env_steps_per_run']} env-steps per run, best of "
        f"{m['repeats']} interleaved runs; MuJoCo {m['mujoco']}, {m['cpu_count']} CPUs",
        "spread: 1 - slowest run / best run; /limit: relative to the mujoco.rollout row",
        "",
        _ROW.format(
            "system", "envs", "thr", "env-steps/s", "spread", "/SimPool", "/limit", "check", "note"
        ),
    ]
    for r in result.rows:
        if r.env_steps_per_sec is None:
            cells = ["-"] * 5 + [r.skipped]
        else:
            cells = [
                f"{r.env_steps_per_sec:,.0f}",
                _spread(r.runs),
                _fmt(result.ratio(r.key, "simpool"), 2),
                _fmt(result.ratio(r.key, "rollout"), 2),
                r.check,
                r.note,
            ]
        lines.append(_ROW.format(r.system, r.envs, r.threads, *cells))
    h = result.headline()
    n, t = m["num_envs"], m["num_threads"]
    ratio_lines = [
        (f"SimPool-{n} / EnvPool-{n}", "simpool/envpool", None),
        (f"SimPool-{n} / rollout limit", "simpool/rollout", None),
        ("SimPool-1 / Gymnasium single", "simpool-single/gym-single", None),
        ("  physical cap: rollout-1 / Gymnasium", "rollout-single/gym-single", None),
        (f"SimPool-{n}: {t} threads / 1 thread", "simpool/simpool-1thread", f"(ideal {t})"),
        (f"SimPool-{n} / SyncVectorEnv-{n}", "simpool/gym-sync", None),
        (f"SimPool-{n} / mujoco.batch-{n}", "simpool/mujoco-batch", None),
        (f"machine: rollout {t} threads / 1 thread", "rollout/rollout-single",
         f"(ideal {t}; far below: fewer free CPUs than threads during the run)"),
    ]  # fmt: skip
    width = max(len(label) for label, _, _ in ratio_lines)
    lines += ["", "Ratios (same run):"]
    lines += [
        f"  {label:<{width}}  {_fmt(h[key], 3):>6}  {suffix or _target(h[key], key)}".rstrip()
        for label, key, suffix in ratio_lines
    ]
    msgs = m.get("native_messages") or {}
    if msgs:
        lines += ["", "Printed by native code while building the systems:"]
        lines += [f"  ({count}x) {text}" for text, count in msgs.items()]
    return "\n".join(lines)


def main(
    num_envs: int = 64,
    num_threads: int = 2,
    steps: int = 200,
    repeats: int = 3,
    json_path: str | None = None,
) -> int:
    """Print the throughput table; 0 on success, 1 if a check failed, 2 for bad arguments."""
    start = time.perf_counter()
    try:
        result = compare(
            num_envs, num_threads, steps, repeats, log=lambda msg: print(msg, flush=True)
        )
    except ValueError as e:
        print(f"mfhrl-fast bench-sim: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(f"mfhrl-fast bench-sim: {e}", file=sys.stderr)
        return 1
    result.meta["wall_seconds"] = round(time.perf_counter() - start, 1)
    print()
    print(format_table(result))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result.to_json(), f, indent=2)
        print(f"\nwrote {json_path}")
    return 1 if result.failed else 0
