"""The ``hybrid`` and ``hybrid-table`` commands of ``mfhrl-fast``.

    mfhrl-fast hybrid --method h2o --sim gravity --out runs/h2o
    mfhrl-fast hybrid --method cql-real --out runs/cql
    mfhrl-fast hybrid --method h2o-cql --init runs/cql/learner.pt --out runs/h2o-cql
    mfhrl-fast hybrid-table --out mfhrl-table1        # 6 methods x 3 seeds, reduced sizes
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..igm.config import DatasetConfig, load_overrides, override
from .config import METHODS, PRESETS, SIMS, HybridConfig

TABLE_DATASET = "mfhrl/halfcheetah/table1-replay-v0"
"""The medium-replay-like dataset of ``hybrid-table`` (``collect --kind replay``)."""


def ensure_replay_dataset(dataset_id: str, steps: int, seed: int = 0) -> None:
    """Collect ``dataset_id`` with ``collect --kind replay`` if it is not stored yet."""
    from ..data import CollectConfig, collect
    from ..data.recorder import dataset_path

    if not dataset_path(dataset_id).exists():
        print(f"collecting {dataset_id}: the replay of SAC trained for {steps} steps")
        collect(CollectConfig(kind="replay", steps=steps, dataset_id=dataset_id, seed=seed,
                              num_threads=1))


def _config(args: argparse.Namespace, **flags: Any) -> HybridConfig:
    """The preset, then the ``--config`` file, then the flags given."""
    data = load_overrides(args.config) if args.config else {}
    preset = data.pop("preset", args.preset)
    flags |= {"sim": args.sim, "device": args.device, "epochs": args.epochs}
    if args.dataset_id:
        flags["dataset"] = DatasetConfig(source="minari", path=args.dataset_id)
    flags = {k: v for k, v in flags.items() if v is not None}
    method, init = data.pop("method", "h2o"), data.pop("init", "")
    config = PRESETS[preset](method=flags.pop("method", method), init=flags.pop("init", init))
    return override(config, data).replace(**flags)


def _shared(p: argparse.ArgumentParser, preset: str) -> None:
    p.add_argument("--config", default=None, help="TOML or YAML overrides of HybridConfig")
    p.add_argument("--preset", choices=sorted(PRESETS), default=preset,
                   help=f"base sizes: 'table' (reduced, 64-64 networks) or 'paper' (H2O's; "
                   f"default {preset})")
    p.add_argument("--sim", choices=sorted(SIMS), default=None, help="simulator (gravity)")
    p.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    p.add_argument("--dataset-id", default=None,
                   help="a local Minari dataset as D_off (default: the --config file's; "
                   "else hybrid: the preset's 'gait' data, hybrid-table: a replay dataset "
                   "collected once)")
    p.add_argument("--device", default=None, help="torch device (default: CUDA if present)")


def _hybrid(args: argparse.Namespace) -> int:
    from .runner import run_hybrid

    config = _config(args, method=args.method, seed=args.seed, init=args.init)

    def show(row: dict[str, Any]) -> None:
        if not args.quiet and "eval/mean" in row:
            print(f"epoch {row['epoch']:4d}  sim steps {row['sim_steps']:7d}  "
                  f"updates {row['updates']:7d}  eval {row['eval/mean']:8.1f}", flush=True)

    result = run_hybrid(config, out_dir=args.out, resume=args.resume, log=show,
                        tensorboard=not args.no_tensorboard)
    print(json.dumps({"method": config.method, "sim": config.sim, "seed": config.seed,
                      "epochs": config.epochs, "final_return": result.final_return}))
    return 0


def _table(args: argparse.Namespace) -> int:
    from ..igm.parallel import ParallelConfig
    from .table import markdown, run_table

    given = "dataset" in (load_overrides(args.config) if args.config else {})
    if not args.dataset_id and not given:
        ensure_replay_dataset(TABLE_DATASET, args.dataset_steps)
        args.dataset_id = TABLE_DATASET
    config = _config(args, method="sac-sim")
    rows = run_table(config, methods=args.methods, seeds=args.seeds, out_dir=args.out,
                     parallel=ParallelConfig(backend=args.backend, workers=args.workers))
    print(markdown(rows))
    print(f"wrote {args.out}/table.csv and table.md")
    return 0


def add_commands(sub: argparse._SubParsersAction, guarded) -> None:
    """Register ``hybrid`` and ``hybrid-table``; ``guarded`` wraps their handlers."""
    p = sub.add_parser("hybrid", help="One reference method of the H2O paper (SAC(sim), "
                       "CQL(real), DARC, DARC+, H2O) with logs, checkpoints and --resume.",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", choices=METHODS, default=None, help="(default h2o)")
    _shared(p, "paper")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--init", default=None, help="h2o-cql: the learner.pt of a cql-real run")
    p.add_argument("--out", required=True, help="run folder (logs, checkpoints, learner.pt)")
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    p.add_argument("--no-tensorboard", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no line per evaluation")
    p.set_defaults(func=guarded(_hybrid))

    p = sub.add_parser("hybrid-table", help="The reduced H2O Table 1: every method x seeds "
                       "on one replay dataset and simulator, as CSV and Markdown.")
    _shared(p, "table")
    p.add_argument("--methods", choices=METHODS, nargs="+", default=list(METHODS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--dataset-steps", type=int, default=30_000,
                   help="steps of the replay dataset collected when --dataset-id is not given")
    p.add_argument("--out", default="mfhrl-table1")
    p.add_argument("--backend", choices=("serial", "local"), default="local")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--no-tensorboard", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=guarded(_table))
