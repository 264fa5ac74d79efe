"""The ``demo``, ``run`` and ``compare`` commands of ``mfhrl-fast``."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from typing import Any

from ..learners.precision import PRECISIONS
from .config import override
from .parallel import BACKENDS, ParallelConfig
from .presets import PRESET_GRIDS, PRESETS, load_config
from .strategies import STRATEGIES
from .variants import VARIANTS


def _grids(key: str) -> str:
    return "; ".join(f"{name}: " + " ".join(f"{v:g}" for v in grid[key])
                     for name, grid in PRESET_GRIDS.items())


def _config_arguments(p: argparse.ArgumentParser, default_preset: str) -> None:
    p.add_argument("--config", default=None,
                   help="TOML or YAML overrides of the preset (keys as in RunConfig.to_dict)")
    p.add_argument("--preset", choices=sorted(PRESETS), default=default_preset,
                   help=f"base configuration (default {default_preset})")
    p.add_argument("--device", default=None, help="torch device (default: CUDA if present)")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="the learners' matmul precision (default fp32; auto = bf16 where the "
                   "device multiplies bf16 fast)")
    p.add_argument("--variant", choices=sorted(VARIANTS), default=None,
                   help="a named online objective applied over the preset (e.g. 'h2o': "
                   "faithful H2O)")


_RESUME_SWEEP = ("keep the finished runs of an interrupted call with the same config and "
                 "continue the others from their checkpoints")


def _parallel_arguments(p: argparse.ArgumentParser, workers: int) -> None:
    p.add_argument("--backend", choices=BACKENDS, default="local",
                   help="serial, a local process pool, or Ray tasks (default local)")
    p.add_argument("--workers", type=int, default=workers, help="parallel runs")
    p.add_argument("--threads-per-worker", type=int, default=1, help="torch threads per run")
    p.add_argument("--ray-address", default=None,
                   help="existing Ray cluster ('auto', 'ray://host:10001'); default: local Ray")


def _parallel(args: argparse.Namespace) -> ParallelConfig:
    return ParallelConfig(backend=args.backend, workers=args.workers,
                          threads_per_worker=args.threads_per_worker,
                          ray_address=args.ray_address)


def _load(args: argparse.Namespace, **changes: Any):
    config = load_config(args.config, base=args.preset, device=args.device,
                         precision=args.precision, **changes)
    return override(config, VARIANTS[args.variant]) if args.variant else config


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    config = _load(args, budget=args.budget, seed=args.seed)
    run_demo(args.out, config=config, parallel=_parallel(args), resume=args.resume)
    return 0


def _run(args: argparse.Namespace) -> int:
    from .runner import run

    config = _load(args, strategy=args.strategy, budget=args.budget, seed=args.seed)
    result = run(config, out_dir=args.out, resume=args.resume, progress=not args.quiet,
                 offline_cache=args.offline_cache, tensorboard=not args.no_tensorboard)
    print(json.dumps({"strategy": result.strategy, "budget": result.budget, "seed": result.seed,
                      "rounds": result.rounds, "spent": result.spent,
                      "final_return": result.final_return,
                      "final_map_member": result.final_map_member}))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .compare import compare

    config = _load(args)
    grid = PRESET_GRIDS.get(args.preset, {})
    budgets = args.budgets or grid.get("budgets", (config.budget,))
    seeds = args.seeds or [int(s) for s in grid.get("seeds", (0,))]
    compare(config, strategies=args.strategies, budgets=budgets, seeds=seeds,
            out_dir=args.out, parallel=_parallel(args), log=print, resume=args.resume)
    print(f"wrote {args.out}/budget_curve.png and budget_curve.csv")
    return 0


def _ablate(args: argparse.Namespace) -> int:
    from .ablation import ablate, ablation_table

    config = _load(args, budget=args.budget)
    rows = ablate(config, variants=args.variants, strategies=args.strategies, seeds=args.seeds,
                  out_dir=args.out, parallel=_parallel(args), log=print)
    print(ablation_table(rows))
    print(f"wrote {args.out}/ablation.csv and ablation.md")
    return 0


def missing_packages(args: argparse.Namespace) -> list[str]:
    """The optional packages the command will need that are not installed: TensorBoard
    (a run folder's event logs, unless ``--no-tensorboard``) and Ray (``--backend ray``)."""
    needed = []
    if not getattr(args, "no_tensorboard", False):
        needed.append("tensorboard")
    if getattr(args, "backend", None) == "ray":
        needed.append("ray")
    return [name for name in needed if importlib.util.find_spec(name) is None]


def guarded(handler):
    """``handler`` with bad configs, files and folders reported in one line (exit 2), and
    missing optional packages reported before any work."""
    def run(args: argparse.Namespace) -> int:
        missing = missing_packages(args)
        if missing:
            print(f"mfhrl-fast {args.command}: error: needs {' and '.join(missing)}: "
                  f"pip install {' '.join(missing)} (or the package's [learn] and [ray] "
                  "extras)", file=sys.stderr)
            return 2
        try:
            return handler(args)
        except (FileNotFoundError, FileExistsError, ValueError, TypeError) as e:
            print(f"mfhrl-fast {args.command}: error: {e}", file=sys.stderr)
            return 2

    return run


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``demo``, ``run`` and ``compare``."""
    p = sub.add_parser("demo", help="The main job: igm and the paper's baselines at one small "
                       "budget, with a report folder (minutes on a 2-core CPU).")
    _config_arguments(p, "demo")
    p.add_argument("--out", default="mfhrl-demo", help="report folder (default mfhrl-demo)")
    p.add_argument("--resume", action="store_true", help=_RESUME_SWEEP)
    p.add_argument("--budget", type=float, default=None, help="override the preset's budget")
    p.add_argument("--seed", type=int, default=None, help="override the preset's seed")
    _parallel_arguments(p, workers=2)
    p.set_defaults(func=guarded(_demo))

    p = sub.add_parser("run", help="One MF-HRL-IGM (or baseline) run with logs, checkpoints "
                       "and --resume.")
    _config_arguments(p, "demo")
    p.add_argument("--strategy", choices=STRATEGIES, default=None)
    p.add_argument("--budget", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", required=True, help="run folder (logs, TensorBoard, checkpoints)")
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    p.add_argument("--offline-cache", default=None,
                   help="folder sharing offline-phase results between runs (default: --out)")
    p.add_argument("--no-tensorboard", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=guarded(_run))

    p = sub.add_parser("compare", help="Final return vs budget per strategy over seeds (the "
                       "paper's Fig. 2) as PNG and CSV.")
    _config_arguments(p, "demo")
    p.add_argument("--budgets", type=float, nargs="+", default=None,
                   help="default: the preset's grid (" + _grids("budgets") + "), else its budget")
    p.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="default: the preset's grid (" + _grids("seeds") + "), else 0")
    p.add_argument("--strategies", choices=STRATEGIES, nargs="+",
                   default=["igm", "lowest", "highest", "uniform"])
    p.add_argument("--out", default="mfhrl-compare")
    p.add_argument("--resume", action="store_true", help=_RESUME_SWEEP)
    _parallel_arguments(p, workers=2)
    p.set_defaults(func=guarded(_compare))

    p = sub.add_parser("ablate", help="Online-loss variants from one offline phase per seed: "
                       "final and worst return relative to the offline start.")
    _config_arguments(p, "demo")
    p.add_argument("--variants", choices=sorted(VARIANTS), nargs="+", default=sorted(VARIANTS))
    p.add_argument("--strategies", choices=STRATEGIES, nargs="+", default=["highest", "lowest"])
    p.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102],
                   help="tuning seeds (default 100 101 102, apart from the reported 0 1 2)")
    p.add_argument("--budget", type=float, default=None, help="override the preset's budget")
    p.add_argument("--out", default="mfhrl-ablation")
    _parallel_arguments(p, workers=2)
    p.set_defaults(func=guarded(_ablate))
