"""The presets of an MF-HRL-IGM run and loading a run's config (preset, then file, then
command line overrides).

:func:`demo` is the small job ``mfhrl-fast demo`` runs in minutes on 2 CPU cores,
:func:`study` the paper's Fig. 2 at the size that fits in an hour there (the same learner
at larger budgets), :func:`study_g600` the paper's fixed rounds on which the ablations were
measured, :func:`paper` the full sizes. Every size is ours unless its docstring names a paper.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from .config import (
    DatasetConfig,
    DiscriminatorConfig,
    OfflineConfig,
    OnlineConfig,
    RunConfig,
    load_overrides,
    offline_cql,
    online_h2o,
    override,
)


def demo() -> RunConfig:
    """``mfhrl-fast demo`` (all sizes ours): temperature 0.2 (CORL: 1.0), mild gait noise in
    D_off, budget 48 with 600 H2O steps per unit of cost (28 800 per strategy) on 64 + 64
    rows per member, the measured schedule (README, "What the 1.2x goal costs")."""
    small = (64, 64)
    return RunConfig(
        budget=48.0,
        dataset=DatasetConfig(steps=20_000, noise_stds=(0.0, 0.1, 0.2, 0.3, 0.5)),
        offline=OfflineConfig(gradient_steps=1500, batch_size=128,
                              cql=offline_cql(hidden_sizes=small, actor_lr=3e-4,
                                              alpha_init=0.2)),
        online=OnlineConfig(episodes_per_round=4, episode_steps=250, history=4,
                            gradient_steps_per_cost=600.0, real_batch=64, sim_batch=64,
                            disc_steps=200, disc_batch=128, eval_episodes=3,
                            h2o=online_h2o(hidden_sizes=small),
                            discriminator=DiscriminatorConfig(hidden_sizes=small)),
        torch_threads=1,
    )


def paper() -> RunConfig:
    """Full sizes: L = 5 members of 256-256 networks (H2O's), 10 episodes of 1000 steps and
    1000 H2O steps per round, budget 64 (L, the round sizes and budget ours)."""
    return RunConfig()


STUDY_BUDGETS = (16.0, 32.0, 48.0)
"""The budgets of ``compare --preset study``: 2, 4 and 6 rounds of the highest level
(ours). 48 is the demo's, the smallest at which every strategy reached 1.2x its offline
return on the tuning seeds at 600 H2O steps per unit of cost (README, "The demo's
schedule"); 48 / 64 / 80 would take the grid to ~90 min here (its time grows with the
sum of the budgets: ~22 min per 48 units on 2 workers, plus ~2.5 min of offline phases)."""

STUDY_G600_BUDGETS = (8.0, 16.0, 24.0)
"""The budgets of ``compare --preset study-g600``: 1, 2 and 3 rounds of the highest level
(ours; budget 32 put that grid at ~73 min here)."""


def study() -> RunConfig:
    """The paper's Fig. 2 at the largest size that runs within the hour on 2 CPU cores
    (``compare --preset study``, 4 strategies x :data:`STUDY_BUDGETS` x 3 seeds: 46.5 min
    measured on 2 workers): the demo's run itself (networks, offline phase, 600 H2O steps
    per unit of cost on 64 + 64 rows, budget 48) at smaller budgets too (all sizes ours).
    256-256 networks do not fit: one L = 5 CQL step costs ~8x the 64-64 one. Nor does a
    longer offline phase help: the offline return peaks within ~1000 CQL steps and falls
    by ~4500 (docs/results/offline-steps/)."""
    return demo().replace(budget=STUDY_BUDGETS[-1])


def study_g600() -> RunConfig:
    """The study preset before the demo's steps per cost, on which every ablation table was
    measured (at budget 24): the demo's networks and offline phase, the paper's fixed
    rounds, G = 600 H2O steps on 128 + 128 rows per member, whatever the level
    (``compare --preset study-g600``, :data:`STUDY_G600_BUDGETS`, ~27 min; sizes ours)."""
    base = demo()
    online = dataclasses.replace(base.online, gradient_steps=600, gradient_steps_per_cost=0.0,
                                 real_batch=128, sim_batch=128)
    return base.replace(budget=STUDY_G600_BUDGETS[-1], online=online)


PRESETS = {"demo": demo, "study": study, "study-g600": study_g600, "paper": paper}

PRESET_GRIDS: dict[str, dict[str, tuple[float, ...]]] = {
    "study": {"budgets": STUDY_BUDGETS, "seeds": (0, 1, 2)},
    "study-g600": {"budgets": STUDY_G600_BUDGETS, "seeds": (0, 1, 2)},
}
"""The budgets and seeds ``compare`` uses for a preset when none are given (otherwise the
preset's one budget and seed 0)."""


def preset(name: str) -> RunConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name]()


def load_config(path: str | os.PathLike[str] | None = None, *, base: str = "demo",
                **changes: Any) -> RunConfig:
    """Preset ``base``, then the file's overrides (a ``preset`` key there replaces ``base``),
    then keyword ``changes`` (e.g. from the command line)."""
    data = load_overrides(path) if path is not None else {}
    base = data.pop("preset", base)
    config = override(preset(base), data)
    return override(config, {k: v for k, v in changes.items() if v is not None})
