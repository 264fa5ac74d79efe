"""Online ensemble SAC on HalfCheetah-v5 through SimPool.

    python -m mfhrl_fast.learners.train_sac --steps 100000 --log sac_curve.jsonl
    mfhrl-fast train-sac --steps 100000 --log sac_curve.jsonl

Prints one line per evaluation (environment steps, mean deterministic return of
every member, wall time) and appends the full rows as JSON lines to ``--log``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from typing import Any

from ..fidelity import FidelitySpec

_FLAGS = {  # OnlineSACConfig field -> command-line flag
    "steps": "--steps", "num_envs": "--num-envs", "num_members": "--members",
    "mask_prob": "--mask-prob", "learning_starts": "--learning-starts",
    "batch_size": "--batch-size", "updates_per_step": "--utd", "eval_every": "--eval-every",
    "eval_episodes": "--eval-episodes", "max_episode_steps": "--max-episode-steps",
    "num_threads": "--threads", "seed": "--seed", "eval_seed": "--eval-seed",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``train-sac`` (defaults: ``OnlineSACConfig`` and ``SACConfig``)."""
    from .config import OnlineSACConfig

    for f in fields(OnlineSACConfig):
        parser.add_argument(_FLAGS[f.name], dest=f.name, type=type(f.default), default=f.default,
                            help=f"(default {f.default})")
    parser.add_argument("--backup-entropy", action="store_true",
                        help="subtract alpha log pi in the Bellman target (standard SAC; "
                             "off by default, as in docs/algorithm.md)")
    parser.add_argument("--gravity-scale", type=float, default=1.0,
                        help="train and evaluate in this gravity (1.0: the true dynamics)")
    parser.add_argument("--device", default=None, help="torch device (default: CUDA if present)")
    parser.add_argument("--log", default=None, help="append the evaluation rows (JSON lines) here")
    parser.add_argument("--save", default=None,
                        help="write the learner's state_dict here at the end")


def run(args: argparse.Namespace) -> int:
    import torch

    from .config import OnlineSACConfig, SACConfig
    from .online import train_online_sac

    config = OnlineSACConfig(**{name: getattr(args, name) for name in _FLAGS})
    sac = SACConfig(backup_entropy=args.backup_entropy)

    def show(row: dict[str, Any]) -> None:
        members = " ".join(f"{row[f'eval/member{m}']:.0f}" for m in range(config.num_members))
        print(f"steps {row['env_steps']:>7d}  eval mean {row['eval/mean']:8.1f}  "
              f"members [{members}]  wall {row['time/wall_s']:7.0f} s", flush=True)

    learner, history = train_online_sac(
        config, sac=sac, fidelity=FidelitySpec(gravity_scale=args.gravity_scale),
        device=args.device, log_path=args.log, log=show)
    if args.save:
        torch.save(learner.state_dict(), args.save)
    best = max(row["eval/mean"] for row in history)
    print(f"final eval mean {history[-1]['eval/mean']:.1f}, best {best:.1f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mfhrl_fast.learners.train_sac",
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
