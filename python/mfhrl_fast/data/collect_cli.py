"""``mfhrl-fast collect``: write a local Minari dataset of HalfCheetah-v5.

    mfhrl-fast collect --kind random --steps 1000000
    mfhrl-fast collect --kind medium --policy gait --steps 100000
    mfhrl-fast collect --kind medium --policy sac.pt --steps 1000000   # train-sac --save
    mfhrl-fast collect --kind medium --target-return 4000 --save-policy medium.pt
    mfhrl-fast collect --kind replay --steps 200000 --target-return 4000
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import time
from dataclasses import fields

from .collect import KINDS, CollectConfig, collect
from .loaders import minari_root

_TYPES = {"dataset_id": str, "target_return": float}  # the fields whose default is None


def field_docs(cls: type) -> dict[str, str]:
    """The docstrings under a dataclass's fields (each field's documentation)."""
    body = ast.parse(inspect.getsource(cls)).body[0].body
    return {a.target.id: " ".join(b.value.value.split())
            for a, b in zip(body, body[1:], strict=False)
            if isinstance(a, ast.AnnAssign) and isinstance(b, ast.Expr)
            and isinstance(b.value, ast.Constant) and isinstance(a.target, ast.Name)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per ``CollectConfig`` field (``--max-episode-steps``, ...) plus the policy."""
    docs = field_docs(CollectConfig)
    for f in fields(CollectConfig):
        flag, doc = "--" + f.name.replace("_", "-"), docs.get(f.name, "")
        if isinstance(f.default, bool):
            parser.add_argument(flag, dest=f.name, action="store_true", help=doc)
        else:
            parser.add_argument(flag, dest=f.name, type=_TYPES.get(f.name, type(f.default)),
                                default=f.default, help=f"{doc} (default {f.default})",
                                choices=KINDS if f.name == "kind" else None)
    parser.add_argument("--policy", default=None,
                        help="medium: 'gait' (a scripted sinusoid gait) or a learner checkpoint "
                             "(`mfhrl-fast train-sac --save`); default: train SAC to "
                             "--target-return")
    parser.add_argument("--member", type=int, default=0,
                        help="ensemble member of the --policy checkpoint")
    parser.add_argument("--save-policy", default=None,
                        help="medium: save the behaviour policy (a learner checkpoint) here")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _policy(args: argparse.Namespace, config: CollectConfig):
    if args.save_policy and (config.kind != "medium" or args.policy == "gait"):
        raise ValueError("--save-policy saves the learner behind a --kind medium dataset")
    if args.policy is None:
        return None
    if config.kind != "medium":
        raise ValueError("--policy is for --kind medium")
    if args.policy == "gait":
        from .policies import SinusoidGait

        return SinusoidGait()
    from .sac_bridge import LearnerPolicy

    return LearnerPolicy.load(args.policy, member=args.member, deterministic=config.deterministic)


def run(args: argparse.Namespace) -> int:
    from .sac_bridge import SACUnavailableError

    start = time.perf_counter()
    try:
        config = CollectConfig(**{f.name: getattr(args, f.name) for f in fields(CollectConfig)})
        result = collect(config, policy=_policy(args, config), progress=not args.quiet)
    except (SACUnavailableError, FileExistsError, FileNotFoundError, ValueError) as e:
        print(f"mfhrl-fast collect: error: {e}", file=sys.stderr)
        return 2
    wall = time.perf_counter() - start
    stats = result.metadata["policy_returns"]
    print(f"wrote {result.dataset_id} under {minari_root()}: {result.transitions} transitions, "
          f"{result.episodes} episodes in {wall:.1f} s")
    if stats["count"]:
        print(f"episode return {stats['mean']:.1f} +- {stats['std']:.1f} "
              f"(min {stats['min']:.1f}, max {stats['max']:.1f}, {stats['count']} episodes)")
    else:
        print("no episode ran to its time limit (raise --steps)")
    if args.save_policy:
        if not hasattr(result.policy, "save"):
            print(f"mfhrl-fast collect: error: {result.policy!r} cannot be saved", file=sys.stderr)
            return 2
        result.policy.save(args.save_policy)
        print(f"saved the behaviour policy to {args.save_policy}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mfhrl-fast collect",
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
