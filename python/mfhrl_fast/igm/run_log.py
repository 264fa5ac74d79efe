"""Where a run's rounds go: JSON lines, CSV, TensorBoard and a rich progress display."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from .checkpoint import write_text_atomic
from .records import RoundRecord

SCALARS = ("round", "fidelity", "fidelity_name", "cost", "spent", "remaining", "beta", "entropy",
           "map_member", "eta", "eval_return", "env_steps", "updates", "time_sim", "time_learn",
           "time_select", "time_eval", "time_round")


DIAGNOSTICS = ("losses/q_real", "losses/q_sim", "eval/q", "eval/mc_return", "losses/critic",
               "losses/bellman_real", "losses/bellman_sim", "losses/h2o_penalty",
               "losses/cql_diff", "losses/entropy", "losses/alpha", "losses/ratio",
               "losses/gap", "eval/flipped")
"""The learner's quantities that explain a round (ensemble means; NaN where absent): Q on
the real and simulated batches and on the evaluated episodes against their Monte-Carlo
return, the critic loss and its terms, policy entropy and temperature, w and u, and the
fraction of the evaluated episodes in which the cheetah flipped over."""

OPTION_DIAGNOSTICS = ("losses/cql_weight", "losses/kl_ref", "losses/trust_region")
"""The options' quantities, NaN in a run without the option: the conservative term's
weight (``cql_weight``, annealed by ``cql_decay_steps``), the actor's KL to its trust
region's reference and the trust region's weight (``trust_region``, annealed by
``trust_region_decay_steps``)."""

FLIP_DIAGNOSTICS = ("eval/q_flipped", "eval/mc_flipped")
"""Q and the Monte-Carlo return on the evaluated episodes' flipped states: NaN in a round
whose evaluated episodes never flipped."""


def flat_row(record: RoundRecord) -> dict[str, Any]:
    """A record as one flat CSV row: the scalars, ig_k, ig_per_cost_k and p_l columns,
    then :data:`DIAGNOSTICS`, :data:`OPTION_DIAGNOSTICS` and :data:`FLIP_DIAGNOSTICS`."""
    row = {name: getattr(record, name) for name in SCALARS}
    for name in ("ig", "ig_per_cost", "posterior"):
        prefix = "p" if name == "posterior" else name
        row |= {f"{prefix}_{i}": v for i, v in enumerate(getattr(record, name))}
    columns = DIAGNOSTICS + OPTION_DIAGNOSTICS + FLIP_DIAGNOSTICS
    return row | {key: record.metrics.get(key, math.nan) for key in columns}


def write_tables(folder: Path, records: list[RoundRecord]) -> None:
    """(Re)write ``rounds.jsonl`` and ``rounds.csv`` with every record, atomically (a
    resumed run therefore never holds rows of a round it redid)."""
    lines = "".join(json.dumps(r.to_dict()) + "\n" for r in records)
    write_text_atomic(folder / "rounds.jsonl", lines)
    rows = [flat_row(r) for r in records]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(folder / "rounds.csv", out.getvalue())


class TensorBoardLog:
    """Scalars of every round in ``folder`` (TensorBoard event files), step = round.

    On resume, ``purge_step`` discards events of rounds after the checkpoint.
    """

    def __init__(self, folder: Path, purge_step: int | None = None) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("TensorBoard logs need the 'tensorboard' package "
                              "(pip install tensorboard), or pass tensorboard=False") from e
        self.writer = SummaryWriter(log_dir=str(folder), purge_step=purge_step)

    def write(self, record: RoundRecord) -> None:
        step, w = record.round, self.writer
        scalars = {"budget/spent": record.spent, "budget/fidelity": record.fidelity,
                   "posterior/entropy": record.entropy, "posterior/map_member": record.map_member,
                   "time/sim": record.time_sim, "time/learn": record.time_learn,
                   "time/select": record.time_select, "time/eval": record.time_eval}
        if record.evaluated:
            scalars["eval/return"] = record.eval_return
        for k, (ig, per_cost) in enumerate(zip(record.ig, record.ig_per_cost, strict=True)):
            if not math.isnan(ig):
                scalars[f"ig/level{k}"] = ig
                scalars[f"ig_per_cost/level{k}"] = per_cost
        scalars |= {k: v for k, v in record.metrics.items() if math.isfinite(v)}
        for tag, value in scalars.items():
            w.add_scalar(tag, value, step)
        w.flush()

    def close(self) -> None:
        self.writer.close()


class Progress:
    """A rich progress bar (of the budget spent, or of offline steps) with the latest numbers."""

    def __init__(self, label: str, total: float, enabled: bool = True, unit: str = "spent") -> None:
        self.bar = None
        if not enabled:
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            TextColumn(f"{{task.completed:g}}/{{task.total:g}} {unit}"),
                            TextColumn("{task.fields[info]}"), TimeElapsedColumn())
        self.task = self.bar.add_task(label, total=max(total, 1e-9), info="")
        self.bar.start()

    def show(self, completed: float, info: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=completed, info=info)

    def update(self, record: RoundRecord) -> None:
        """After a round: budget spent, level, posterior entropy, MAP member, return."""
        ret = f"return {record.eval_return:8.1f}" if record.evaluated else ""
        self.show(record.spent, f"round {record.round:3d}  {record.fidelity_name:>14}  "
                  f"H={record.entropy:.2f}  MAP={record.map_member}  {ret}")

    def offline_step(self, step: int, metrics: dict[str, float]) -> None:
        """During the offline phase: CQL steps done and the mean critic loss."""
        loss = metrics.get("losses/critic", float("nan"))
        self.show(step, f"critic loss {loss:.3g}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
