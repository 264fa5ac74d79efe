"""summary.txt of a ``compare`` folder: the Fig. 2 table, every run's final and worst
round over its offline start, and igm's choices round by round (IG_k / lambda_k, the
threshold beta_r, the posterior).

    python docs/results/summarize.py OUT_DIR > summary.txt
"""

import json
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def main(folder: str) -> None:
    runs = [json.loads(line) for line in open(Path(folder) / "runs.jsonl")]
    budgets = sorted({r["budget"] for r in runs})
    strategies = list(dict.fromkeys(r["strategy"] for r in runs))
    cell = defaultdict(list)
    for r in runs:
        cell[r["strategy"], r["budget"]].append(r)
    print("| strategy | " + " | ".join(f"budget {b:g}" for b in budgets) + " |")
    print("|---|" + "---|" * len(budgets))
    for s in strategies:
        stats = []
        for b in budgets:
            finals = [r["final_return"] for r in cell[s, b]]
            spread = statistics.pstdev(finals)  # as budget_curve.csv (NumPy's std)
            stats.append(f"{statistics.mean(finals):.0f} ± {spread:.0f}")
        print(f"| {s} | " + " | ".join(stats) + " |")
    offline = {r["seed"]: r["records"][0]["eval_return"] for r in runs}
    print(f"\noffline (round 0) per seed: { {k: round(v) for k, v in sorted(offline.items())} }\n")
    print("| strategy | budget | final / offline per seed | worst round / offline per seed "
          "| flipped rounds per seed | rounds |")
    print("|---|---|---|---|---|---|")
    for s in strategies:
        for b in budgets:
            rs = sorted(cell[s, b], key=lambda r: r["seed"])
            final = [r["final_return"] / offline[r["seed"]] for r in rs]
            worst = [min(x["eval_return"] for x in r["records"][1:] if x["eval_return"] is not None)
                     / offline[r["seed"]] for r in rs]
            flips = [sum(1 for x in r["records"][1:]
                         if (x["metrics"].get("eval/flipped") or 0) > 0) for r in rs]
            print(f"| {s} | {b:g} | " + ", ".join(f"{v:.2f}" for v in final) + " | "
                  + ", ".join(f"{v:.2f}" for v in worst) + " | "
                  + ", ".join(map(str, flips)) + " | "
                  + ", ".join(str(len(r["records"]) - 1) for r in rs) + " |")
    print_posterior_moves(runs)
    print("\nigm choices:")
    for r in sorted(cell_items(cell, "igm"), key=lambda r: (r["budget"], r["seed"])):
        recs = r["records"]
        levels = [x["fidelity"] for x in recs[1:]]
        returns = [round(x["eval_return"]) for x in recs if x["eval_return"] is not None]
        print(f"budget {r['budget']:g} seed {r['seed']}: levels {levels}, returns {returns}")
        for x in recs[1:]:
            print(f"   r{x['round']} k={x['fidelity']} beta={x['beta']:.3f} IG/cost="
                  f"{[round(v, 3) for v in x['ig_per_cost']]} H={x['entropy']:.2f} "
                  f"p={[round(v, 2) for v in x['posterior']]}")


def print_posterior_moves(runs):
    """How far one round's eq. 7 update moves the posterior: the largest change of log odds
    between two members (best against worst), and the entropy left after round 1."""
    moves, first = [], []
    for r in runs:
        recs = r["records"]
        first.append(recs[1]["entropy"] if len(recs) > 1 else None)
        for a, b in zip(recs, recs[1:], strict=False):
            change = [math.log(max(q, 1e-300)) - math.log(max(p, 1e-300))
                      for p, q in zip(a["posterior"], b["posterior"], strict=True)]
            moves.append(max(change) - min(change))
    first = [h for h in first if h is not None]
    moves.sort()
    print(f"\nposterior: largest log-odds move per round, median {moves[len(moves) // 2]:.2f} "
          f"nats over {len(moves)} rounds ({sum(m > 5 for m in moves)} above 5); entropy after "
          f"round 1 below 0.1 nats in {sum(h < 0.1 for h in first)} of {len(first)} runs "
          f"(uniform: log L = {math.log(len(runs[0]['records'][0]['posterior'])):.2f})")


def cell_items(cell, strategy):
    return [r for (s, _), rs in cell.items() if s == strategy for r in rs]


if __name__ == "__main__":
    main(sys.argv[1])
