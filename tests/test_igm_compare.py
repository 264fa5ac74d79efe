"""``compare`` (the paper's Fig. 2) and ``demo`` on tiny runs: local pool, Ray, the CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from mfhrl_fast.igm.compare import compare
from mfhrl_fast.igm.parallel import ParallelConfig

from igm_support import tiny_config, toml_text

GRID = {"strategies": ["igm", "lowest"], "budgets": [3.0, 6.0], "seeds": [0, 1]}


def _finals(results):
    return [(r.strategy, r.budget, r.seed, r.final_return, [x.fidelity for x in r.records])
            for r in results]


@pytest.fixture(scope="module")
def local_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    config = tiny_config(folder)
    results = compare(config, **GRID, out_dir=folder / "local",
                      parallel=ParallelConfig(backend="local", workers=2))
    return config, folder, results


def test_compare_local_writes_fig2_and_tables(local_results):
    config, folder, results = local_results
    out = folder / "local"
    assert [(r.strategy, r.budget, r.seed) for r in results] == [
        (s, b, seed) for s in GRID["strategies"] for b in GRID["budgets"] for seed in GRID["seeds"]]
    assert (out / "budget_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "budget_curve.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["strategy"], float(r["budget"]), int(r["n_seeds"])) for r in rows] == [
        ("igm", 3.0, 2), ("igm", 6.0, 2), ("lowest", 3.0, 2), ("lowest", 6.0, 2)]
    by_key = {(r.strategy, r.budget): [] for r in results}
    for r in results:
        by_key[(r.strategy, r.budget)].append(r.final_return)
    for row in rows:
        finals = by_key[(row["strategy"], float(row["budget"]))]
        assert float(row["mean"]) == pytest.approx(sum(finals) / 2)
    assert len((out / "runs.jsonl").read_text().splitlines()) == 8
    assert (out / "runs" / "igm-b6-s1" / "rounds.jsonl").exists()
    lowest6 = [r for r in results if r.strategy == "lowest" and r.budget == 6.0]
    assert all([x.fidelity for x in r.records[1:]] == [0] * 6 for r in lowest6)
    # the runs of a seed share one offline phase: the same round-0 evaluation
    for seed in GRID["seeds"]:
        offline = {r.records[0].eval_return for r in results if r.seed == seed}
        assert len(offline) == 1


def test_compare_on_local_ray_equals_the_process_pool(local_results, tmp_path):
    ray = pytest.importorskip("ray")
    config, folder, expected = local_results
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        results = compare(config, **GRID, out_dir=tmp_path / "ray",
                          parallel=ParallelConfig(backend="ray", workers=2))
    finally:
        ray.shutdown()
    assert _finals(results) == _finals(expected)
    assert (tmp_path / "ray" / "budget_curve.png").exists()


def test_demo_command_writes_the_report(tmp_path):
    config = tiny_config(tmp_path)
    path = tmp_path / "tiny.toml"
    path.write_text(toml_text(config))
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "mfhrl_fast", "demo", "--config", str(path),
                           "--out", str(out), "--backend", "serial"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("return_vs_round.png", "return_vs_cost.png", "fidelity_timeline.png",
                 "posterior_entropy.png", "summary.md", "summary.csv", "results.jsonl"):
        assert (out / name).stat().st_size > 0, name
    table = (out / "summary.md").read_text()
    for strategy in ("igm", "lowest", "highest", "uniform"):
        assert f"| {strategy} |" in table
        assert f"| {strategy} |" in done.stdout
    again = subprocess.run([sys.executable, "-m", "mfhrl_fast", "demo", "--config", str(path),
                            "--out", str(out), "--backend", "serial"],
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]  # a second demo replaces the first
    runs = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {r["strategy"] for r in runs} == {"igm", "lowest", "highest", "uniform"}
    assert all(r["records"][-1]["spent"] <= config.budget for r in runs)


def test_run_grid_starts_the_longest_runs_first(monkeypatch, tmp_path):
    """The grid's runs start in decreasing expected rounds (LPT scheduling), so a long
    `lowest` run does not start last and leave one worker idle at the end."""
    from mfhrl_fast.igm import compare as compare_module

    config = tiny_config(tmp_path)
    started = []

    class Started(Exception):
        pass

    def record(fn, items, *args, **kwargs):
        started.extend((t.config.strategy, t.config.budget) for t in items)
        raise Started

    monkeypatch.setattr(compare_module, "parallel_map", record)
    with pytest.raises(Started):
        compare_module.run_grid(config, strategies=["highest", "igm", "lowest"],
                                budgets=[3.0, 6.0], seeds=[0], offline={0: {}},
                                dataset=object())
    rounds = [compare_module.expected_rounds(config.replace(strategy=s, budget=b))
              for s, b in started]
    assert rounds == sorted(rounds, reverse=True) and len(started) == 6
    assert started[0] == ("lowest", 6.0) and started[-1] == ("highest", 3.0)
