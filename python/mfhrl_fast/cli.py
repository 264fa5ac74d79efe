"""The ``mfhrl-fast`` command line."""

from __future__ import annotations

import argparse
import sys


def _add_bench_sim(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench-sim",
        help="Simulator throughput table: SimPool against its peers, in one run.",
    )
    p.add_argument("--num-envs", type=int, default=64)
    p.add_argument("--num-threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=200, help="pool steps per measurement")
    p.add_argument("--repeats", type=int, default=3, help="measurements per row; the best is kept")
    p.add_argument("--json", type=str, default=None, help="also write the rows to this file")

    def run(args: argparse.Namespace) -> int:
        from .benchmarks.sim_table import main as bench_main

        return bench_main(
            num_envs=args.num_envs,
            num_threads=args.num_threads,
            steps=args.steps,
            repeats=args.repeats,
            json_path=args.json,
        )

    p.set_defaults(func=run)


def _add_collect(sub: argparse._SubParsersAction) -> None:
    from .data import collect_cli

    p = sub.add_parser(
        "collect",
        help="Write a local Minari dataset of HalfCheetah-v5 (random, medium or replay).",
        description=collect_cli.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    collect_cli.add_arguments(p)
    p.set_defaults(func=collect_cli.run)


def _unavailable(what: str, error: ImportError):
    """A command's handler when its imports failed (PyTorch missing): says so, exits 2."""
    def handler(args: argparse.Namespace) -> int:
        print(f"mfhrl-fast {args.command} needs PyTorch and {what}: {error}", file=sys.stderr)
        return 2

    return handler


def _add_train_sac(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-sac",
        help="Online ensemble SAC on HalfCheetah-v5 through SimPool, with evaluations.",
    )
    try:  # the learners need PyTorch; every other command works without it
        from .learners import train_sac
    except ImportError as e:
        p.set_defaults(func=_unavailable("mfhrl_fast.learners", e))
        return
    train_sac.add_arguments(p)
    p.set_defaults(func=train_sac.run)


def _add_igm(sub: argparse._SubParsersAction) -> None:
    try:  # MF-HRL-IGM needs PyTorch; bench-sim and collect work without it
        from .igm.cli import add_commands
    except ImportError as e:
        for name in ("demo", "run", "compare"):
            sub.add_parser(name, help="(needs PyTorch)").set_defaults(
                func=_unavailable("mfhrl_fast.igm", e))
        return
    add_commands(sub)


def _add_hybrid(sub: argparse._SubParsersAction) -> None:
    try:  # the reference methods need PyTorch
        from .hybrid.cli import add_commands
        from .igm.cli import guarded
    except ImportError as e:
        for name in ("hybrid", "hybrid-table"):
            sub.add_parser(name, help="(needs PyTorch)").set_defaults(
                func=_unavailable("mfhrl_fast.hybrid", e))
        return
    add_commands(sub, guarded)
    p = sub.add_parser("mfpg", help="Multi-fidelity policy gradients (MFPG) against "
                       "high-fidelity-only REINFORCE over seeds.")
    from .mfpg import cli as mfpg_cli

    mfpg_cli.add_arguments(p)
    p.set_defaults(func=guarded(mfpg_cli.run))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mfhrl-fast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_bench_sim(sub)
    _add_collect(sub)
    _add_train_sac(sub)
    _add_igm(sub)
    _add_hybrid(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
