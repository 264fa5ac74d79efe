"""igm.report on hand-made runs: files written, PNGs readable, tables equal numpy's numbers.

The synthetic runs use K = 4 levels, L = 5 members, three strategies ("igm" and "highest"
with two seeds each, "offline" with one seed and no online round) and evaluations every
second round only, so that NaN evaluations have to be skipped.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest

from mfhrl_fast.igm.records import RoundRecord, RunResult
from mfhrl_fast.igm.report import (
    BUDGET_CURVE_COLUMNS,
    FIGURES,
    SUMMARY_COLUMNS,
    budget_curve_table,
    curve_data,
    seed_band,
    summary_rows,
    summary_table,
    write_budget_curve,
    write_report,
)

NAMES = ["g2.0", "g1.5", "g1.25", "true"]
COSTS = [1.0, 2.0, 4.0, 8.0]
MEMBERS = 5
BUDGET = 16.0
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_run(strategy: str, seed: int, levels: list[int], base: float,
             budget: float = BUDGET) -> RunResult:
    """A run using ``levels`` in rounds 1.. (evaluated at even rounds, return base + 10 r)
    with entropy shrinking from log L, 100 H2O steps per round and fixed per-round times
    (sim 1, learn 3, select 0.5, eval 0.25 when evaluated; round wall time 5)."""
    records = []
    spent = 0.0
    posterior = np.full(MEMBERS, 1.0 / MEMBERS)
    for r, level in enumerate([-1, *levels]):
        cost = COSTS[level] if r else 0.0
        spent += cost
        if r:
            posterior = posterior * np.linspace(1.0, 1.5, MEMBERS)
            posterior /= posterior.sum()
        evaluated = r % 2 == 0
        records.append(RoundRecord(
            round=r, fidelity=level, fidelity_name=NAMES[level] if r else "offline",
            cost=cost, spent=spent, remaining=budget - spent, beta=0.5, ig=[0.1] * 4,
            ig_per_cost=[0.1 / c for c in COSTS], posterior=posterior.tolist(),
            entropy=float(-(posterior * np.log(posterior)).sum()), map_member=MEMBERS - 1,
            eta=math.nan if r == 0 else 1.0,
            eval_return=base + 10.0 * r if evaluated else math.nan, updates=100 * r,
            time_sim=1.0 if r else 0.0, time_learn=3.0 if r else 0.0,
            time_select=0.5 if r else 0.0, time_eval=0.25 if evaluated else 0.0,
            time_round=5.0 if r else 0.25))
    final = base + 10.0 * len(levels) + 1.0
    return RunResult(strategy, budget, seed, list(NAMES), list(COSTS), records, final,
                     MEMBERS - 1, wall_time=5.0 * len(levels))


RUNS = [
    make_run("igm", 0, [0, 0, 1, 3], base=100.0),   # counts 2/1/0/1, spent 12
    make_run("igm", 1, [0, 1, 1, 3], base=200.0),   # counts 1/2/0/1, spent 13
    make_run("highest", 0, [3, 3], base=50.0),      # counts 0/0/0/2, spent 16
    make_run("highest", 1, [3, 3], base=70.0),
    make_run("offline", 0, [], base=80.0, budget=0.0),
]
STRATEGIES = ["igm", "highest", "offline"]


def by_strategy(strategy: str) -> list[RunResult]:
    return [r for r in RUNS if r.strategy == strategy]


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def markdown_rows(table: str) -> list[list[str]]:
    """The body cells of a markdown table (header and separator dropped)."""
    lines = table.strip().splitlines()
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return write_report(RUNS, tmp_path_factory.mktemp("r") / "new" / "report", title="Test")


# --------------------------------------------------------------------------------------------
# Curve data


def test_curve_data_skips_unevaluated_rounds():
    x, y = curve_data(RUNS[0])
    np.testing.assert_array_equal(x, [0, 2, 4])
    np.testing.assert_array_equal(y, [100.0, 120.0, 140.0])
    x, _ = curve_data(RUNS[0], axis="spent")
    np.testing.assert_array_equal(x, [0.0, 2.0, 12.0])  # spent after rounds 0, 2, 4


def test_curve_data_entropy_has_every_round():
    x, y = curve_data(RUNS[0], "entropy")
    np.testing.assert_array_equal(x, np.arange(5))
    assert y[0] == pytest.approx(math.log(MEMBERS)) and np.all(np.diff(y) < 0)


def test_curve_data_empty_and_bad_arguments():
    only_nan = make_run("x", 0, [0], base=0.0)
    only_nan.records[0].eval_return = math.nan
    x, y = curve_data(only_nan)
    assert x.shape == y.shape == (0,)
    with pytest.raises(ValueError, match="axis"):
        curve_data(RUNS[0], axis="cost")
    with pytest.raises(ValueError, match="value"):
        curve_data(RUNS[0], value="beta")


def test_seed_band_same_grid_equals_numpy():
    ys = np.array([[1.0, 5.0, 2.0], [3.0, 1.0, 8.0], [2.0, 2.0, 2.0]])
    band = seed_band([(np.arange(3), y) for y in ys])
    np.testing.assert_array_equal(band.x, np.arange(3))
    np.testing.assert_allclose(band.mean, ys.mean(axis=0))
    np.testing.assert_array_equal(band.lo, ys.min(axis=0))
    np.testing.assert_array_equal(band.hi, ys.max(axis=0))
    np.testing.assert_array_equal(band.count, [3, 3, 3])


def test_seed_band_holds_latest_value_within_range():
    band = seed_band([(np.array([0.0, 2.0, 6.0]), np.array([1.0, 3.0, 5.0])),
                      (np.array([0.0, 3.0]), np.array([10.0, 20.0])),
                      (np.empty(0), np.empty(0))])
    np.testing.assert_array_equal(band.x, [0, 2, 3, 6])
    np.testing.assert_array_equal(band.count, [2, 2, 2, 1])  # run 2 ends at x = 3
    np.testing.assert_allclose(band.mean, [5.5, 6.5, 11.5, 5.0])
    np.testing.assert_array_equal(band.lo, [1, 3, 3, 5])
    np.testing.assert_array_equal(band.hi, [10, 10, 20, 5])
    assert seed_band([]).x.shape == (0,)
    with pytest.raises(ValueError, match="non-decreasing"):
        seed_band([(np.array([1.0, 0.0]), np.array([1.0, 2.0]))])


# --------------------------------------------------------------------------------------------
# The report


def test_write_report_writes_every_file(report):
    assert report.is_dir() and report.name == "report"
    for name in FIGURES:
        assert_png(report / name)
    summary = (report / "summary.md").read_text()
    assert summary.startswith("# Test\n")
    for name in FIGURES:
        assert f"]({name})" in summary
    assert summary_table(RUNS) in summary


def test_results_jsonl_round_trips(report):
    lines = (report / "results.jsonl").read_text().splitlines()
    assert len(lines) == len(RUNS)
    for line, run in zip(lines, RUNS, strict=True):
        back = RunResult.from_dict(json.loads(line))
        assert json.dumps(back.to_dict()) == json.dumps(run.to_dict())


def test_summary_table_one_row_per_strategy():
    rows = markdown_rows(summary_table(RUNS))
    assert [row[0] for row in rows] == STRATEGIES
    igm, highest, offline = rows
    assert igm[1:5] == ["2", "4", "12.5 / 16", "1.5/1.5/0/1"]
    assert highest[4] == "0/0/0/2" and offline[2:5] == ["0", "0 / 0", "0/0/0/0"]
    final_mean = np.mean([r.final_return for r in by_strategy("igm")])
    assert igm[5] == f"{final_mean:.1f}" == "191.0"
    assert offline[6:8] == ["80.0", "80.0"]  # best evaluated and offline return
    assert (igm[10], highest[10], offline[10]) == ("400", "200", "0")  # H2O steps
    assert igm[-1] == "41%"  # 1 - learn 12 s / 20.25 s wall time per run


def test_summary_csv_equals_numpy(report):
    with (report / "summary.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [c.key for c in SUMMARY_COLUMNS]
    assert [row["strategy"] for row in rows] == STRATEGIES
    for row in rows:
        runs = by_strategy(row["strategy"])
        expected = {
            "final_return": [r.final_return for r in runs],
            "best_return": [np.nanmax([x.eval_return for x in r.records]) for r in runs],
            "offline_return": [r.records[0].eval_return for r in runs],
            "spent": [r.spent for r in runs],
            "rounds": [r.rounds for r in runs],
            "updates": [r.records[-1].updates for r in runs],
            "gain": [r.final_return / r.records[0].eval_return for r in runs],
            "worst_ratio": [min((x.eval_return for x in r.records[1:] if x.evaluated),
                                default=math.nan) / r.records[0].eval_return for r in runs],
            **{key: [sum(getattr(x, key) for x in r.records) for r in runs]
               for key in ("time_sim", "time_learn", "time_select", "time_eval")},
        }
        for key, values in expected.items():
            assert float(row[key]) == pytest.approx(np.mean(values), nan_ok=True), key
        assert int(row["seeds"]) == len(runs)
    assert rows[0]["rounds_per_level"] == "1.5/1.5/0/1"


def test_summary_share_outside_learning_falls_back_to_parts():
    run = make_run("igm", 0, [0, 1], base=0.0)
    for record in run.records:
        record.time_round = 0.0
    (row,) = summary_rows([run])
    parts = row["time_sim"] + row["time_learn"] + row["time_select"] + row["time_eval"]
    assert row["share_outside_learning"] == pytest.approx(1 - row["time_learn"] / parts)
    for record in run.records:
        record.time_sim = record.time_learn = record.time_select = record.time_eval = 0.0
    assert math.isnan(summary_rows([run])[0]["share_outside_learning"])


def test_report_rejects_bad_input(tmp_path):
    for call in (lambda: write_report([], tmp_path), lambda: summary_table([])):
        with pytest.raises(ValueError, match="no results"):
            call()
    assert not any(tmp_path.iterdir())
    empty = RunResult("igm", BUDGET, 0, NAMES, COSTS, [], 0.0, 0)
    with pytest.raises(ValueError, match="no records"):
        summary_rows([empty])
    other_ladder = make_run("igm", 2, [0], base=0.0)
    other_ladder.fidelity_names = ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="ladders"):
        summary_rows([RUNS[0], other_ladder])
    bad_level = make_run("igm", 3, [0, 1], base=0.0)
    bad_level.records[1].fidelity = 4
    with pytest.raises(ValueError, match="outside"):
        summary_rows([bad_level])


# --------------------------------------------------------------------------------------------
# Paper Fig. 2


def budget_rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = [{"strategy": s, "budget": b, "seed": seed, "final_return": float(rng.normal(b, 5))}
            for s in ("lowest", "igm") for b in (8, 32, 16) for seed in range(3)]
    rows.append({"strategy": "highest", "budget": 8, "seed": 0, "final_return": 42.0})
    return rows


def test_budget_curve_table_equals_numpy():
    rows = budget_rows()
    table = budget_curve_table(rows)
    assert [(t["strategy"], t["budget"]) for t in table] == [
        ("highest", 8), ("igm", 8), ("igm", 16), ("igm", 32),
        ("lowest", 8), ("lowest", 16), ("lowest", 32)]
    for t in table:
        assert list(t) == list(BUDGET_CURVE_COLUMNS)
        values = np.array([r["final_return"] for r in rows
                           if r["strategy"] == t["strategy"] and r["budget"] == t["budget"]])
        assert t["n_seeds"] == len(values)
        for key, fn in (("mean", np.mean), ("std", np.std), ("min", np.min), ("max", np.max)):
            assert t[key] == pytest.approx(fn(values)), key
    assert table[0]["std"] == 0.0 and table[0]["mean"] == 42.0


def test_write_budget_curve_files(tmp_path):
    rows = budget_rows()
    png, out = tmp_path / "fig" / "fig2.png", tmp_path / "fig2.csv"
    write_budget_curve(rows, png, out)
    assert_png(png)
    with out.open(newline="") as f:
        written = list(csv.DictReader(f))
    assert list(written[0]) == list(BUDGET_CURVE_COLUMNS)
    for got, want in zip(written, budget_curve_table(rows), strict=True):
        assert got["strategy"] == want["strategy"] and int(got["n_seeds"]) == want["n_seeds"]
        for key in ("budget", "mean", "std", "min", "max"):
            assert float(got[key]) == pytest.approx(want[key])


def test_budget_curve_rejects_bad_rows(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        budget_curve_table([])
    with pytest.raises(ValueError, match=r"row 1 lacks keys \['seed'\]"):
        budget_curve_table([{"strategy": "a", "budget": 1, "seed": 0, "final_return": 1.0},
                            {"strategy": "a", "budget": 1, "final_return": 1.0}])
    with pytest.raises(ValueError, match="repeats seed 0"):
        budget_curve_table([{"strategy": "a", "budget": 1, "seed": 0, "final_return": 1.0}] * 2)
    with pytest.raises(ValueError, match="no rows"):
        write_budget_curve([], tmp_path / "a.png", tmp_path / "a.csv")
    assert not any(tmp_path.iterdir())


def test_pyplot_is_never_imported(tmp_path):
    code = ("import sys; from mfhrl_fast.igm.report import write_budget_curve; "
            "write_budget_curve([{'strategy': 'a', 'budget': 1, 'seed': 0, 'final_return': 1}], "
            f"{str(tmp_path / 'a.png')!r}, {str(tmp_path / 'a.csv')!r}); "
            "assert 'matplotlib.pyplot' not in sys.modules")
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)
