"""Configuration of the H2O paper's reference methods (``mfhrl-fast hybrid``).

One real environment (HalfCheetah-v5, used for evaluation only), one simulator from
:func:`~mfhrl_fast.fidelity.h2o_presets` and one offline dataset D_off. Defaults marked
"H2O's" are those of the H2O paper and its code; the others are ours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..fidelity import FidelitySpec, h2o_presets
from ..igm.config import DatasetConfig, override
from ..learners.config import CQLConfig, DiscriminatorConfig, H2OConfig, SACConfig
from ..learners.precision import PRECISIONS

METHODS = ("sac-sim", "cql-real", "darc", "darc-plus", "h2o", "h2o-cql")
"""The methods of H2O's Table 1, plus H2O started from a CQL policy (MF-HRL-IGM's start):

- ``sac-sim``: SAC on simulator transitions only;
- ``cql-real``: CQL on D_off only (no simulator);
- ``darc``: SAC on simulator transitions whose reward is r + log w(s, a, s') (DARC);
- ``darc-plus``: DARC whose batches also hold D_off's transitions (DARC+);
- ``h2o``: H2O from scratch, as its paper and code train it;
- ``h2o-cql``: H2O from the state a ``cql-real`` run saved (``init``).
"""

SIM_METHODS = frozenset(METHODS) - {"cql-real"}
"""Methods that step the simulator."""
DISCRIMINATOR_METHODS = frozenset({"darc", "darc-plus", "h2o", "h2o-cql"})
"""Methods that train the D_sa / D_sas discriminators on real against simulated data."""

SIMS = {"gravity": "h2o-gravity", "friction": "h2o-friction", "joint-noise": "h2o-noise"}
"""``--sim`` names -> :func:`~mfhrl_fast.fidelity.h2o_presets` keys (H2O's three gaps)."""


def sim_fidelity(name: str) -> FidelitySpec:
    """The simulator of ``--sim name`` (gravity x2, friction x0.3 or joint noise std 1)."""
    if name not in SIMS:
        raise ValueError(f"sim must be one of {sorted(SIMS)}, got {name!r}")
    return h2o_presets()[SIMS[name]]


@dataclass(frozen=True)
class HybridConfig:
    """One run of one reference method (``mfhrl-fast hybrid``)."""

    method: str = "h2o"
    """One of :data:`METHODS`."""
    sim: str = "gravity"
    """The simulator: one of :data:`SIMS` (H2O's)."""
    seed: int = 0
    """Seeds the learner, the replays, the pool and the discriminators."""
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    """D_off (the same sources as ``run``: 'gait', 'minari', 'd4rl', 'npz')."""
    init: str = ""
    """``h2o-cql``: the ``learner.pt`` a ``cql-real`` run wrote (same network sizes)."""
    epochs: int = 100
    """Epochs of training (H2O's code runs 1000)."""
    sim_steps_per_epoch: int = 1000
    """Simulator transitions collected per epoch (H2O's)."""
    updates_per_epoch: int = 1000
    """Gradient steps per epoch, interleaved with the simulator steps (H2O's)."""
    disc_updates_per_epoch: int = 1000
    """Discriminator steps per epoch, interleaved likewise (H2O's: one per update)."""
    num_envs: int = 1
    """Simulator environments stepped together (H2O's 1); sim_steps_per_epoch must be a
    multiple. Every epoch starts fresh episodes from a seeded reset."""
    episode_steps: int = 1000
    """Time limit of a simulator episode (HalfCheetah-v5's)."""
    learning_starts: int | None = None
    """Simulator transitions of uniform random actions before any update; None: 5000 for the
    methods that start from scratch (CleanRL's), 0 for ``h2o-cql``."""
    batch_size: int = 256
    """Transitions per step of the one-source methods (sac-sim, darc, cql-real; CORL's)."""
    real_batch: int = 128
    """Real transitions per step of darc-plus, h2o and h2o-cql (H2O's)."""
    sim_batch: int = 128
    """Simulated transitions per step of darc-plus, h2o and h2o-cql (H2O's)."""
    disc_batch: int = 256
    """Real and simulated transitions per discriminator step (ours)."""
    disc_data: str = "rollouts"
    """Discriminators' simulated class: 'rollouts' (the simulator replay, DARC's and H2O's)
    or 'paired' (D_off's (s, a) replayed in the simulator, ``run``'s default)."""
    paired_transitions: int = 20_000
    """'paired': D_off transitions replayed once."""
    num_members: int = 1
    """Ensemble members trained together on one replay (1: one agent, as the paper)."""
    sac: SACConfig = field(default_factory=SACConfig)
    """SAC of sac-sim, darc and darc-plus (SAC's; H2O's 256-256 networks)."""
    cql: CQLConfig = field(default_factory=CQLConfig)
    """CQL(H) of cql-real (CORL's HalfCheetah values)."""
    h2o: H2OConfig = field(default_factory=H2OConfig)
    """H2O of h2o and h2o-cql (H2O's)."""
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    """D_sa / D_sas (H2O's)."""
    eval_every: int = 5
    """Epochs between evaluations in the true dynamics (and after the last)."""
    eval_episodes: int = 5
    """Deterministic episodes per member and evaluation."""
    eval_steps: int = 1000
    """Length of an evaluation episode (HalfCheetah-v5's)."""
    eval_seed: int = 10_000
    """Seed of the evaluation pool (the same initial states for every method)."""
    device: str | None = None
    """Torch device (None: CUDA if present)."""
    precision: str = "fp32"
    """The learners' matmul precision (``mfhrl_fast.learners.precision``)."""
    num_threads: int = 1
    """SimPool threads."""
    torch_threads: int | None = None
    """``torch.set_num_threads`` at the start (None leaves it)."""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        sim_fidelity(self.sim)
        if self.method == "h2o-cql" and not self.init:
            raise ValueError("method 'h2o-cql' needs init: the learner.pt of a cql-real run")
        if self.init and self.method != "h2o-cql":
            raise ValueError(f"init is for method 'h2o-cql', not {self.method!r}")
        for name in ("epochs", "num_envs", "episode_steps", "batch_size", "real_batch",
                     "sim_batch", "disc_batch", "num_members", "eval_every", "eval_episodes",
                     "eval_steps", "num_threads", "paired_transitions"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("sim_steps_per_epoch", "updates_per_epoch", "disc_updates_per_epoch",
                     "seed"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.sim_steps_per_epoch % self.num_envs:
            raise ValueError(f"sim_steps_per_epoch ({self.sim_steps_per_epoch}) must be a "
                             f"multiple of num_envs ({self.num_envs})")
        if self.method in SIM_METHODS and self.sim_steps_per_epoch == 0:
            raise ValueError(f"method {self.method!r} needs sim_steps_per_epoch >= 1")
        if self.learning_starts is not None and self.learning_starts < 0:
            raise ValueError(f"learning_starts must be >= 0, got {self.learning_starts}")
        if self.disc_data not in ("rollouts", "paired"):
            raise ValueError(f"disc_data must be 'rollouts' or 'paired', got {self.disc_data!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")

    @property
    def warmup(self) -> int:
        """Random-action simulator transitions before the first update."""
        if self.learning_starts is not None:
            return self.learning_starts
        return 0 if self.method in ("h2o-cql", "cql-real") else 5000

    @property
    def learner_config(self) -> SACConfig:
        """The config of the method's learner."""
        if self.method == "cql-real":
            return self.cql
        return self.h2o if self.method.startswith("h2o") else self.sac

    def replace(self, **changes: Any) -> HybridConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HybridConfig:
        return override(cls(), data)


def table_config(method: str = "h2o", **changes: Any) -> HybridConfig:
    """The reduced Table 1 (``mfhrl-fast hybrid-table``): what fits a 2-core CPU in 90
    minutes for 6 methods x 3 seeds. 64-64 networks (256-256 cost ~4x per step here, and
    CQL's sampled actions ~6x), 15 epochs of H2O's 1000 steps + 1000 updates (one CQL
    epoch costs ~35 s here, a SAC one ~10 s), 200 discriminator steps per epoch; the rest
    as H2O (all sizes ours)."""
    small = (64, 64)
    sizes = {"epochs": 15, "disc_updates_per_epoch": 200,
             "cql": CQLConfig(hidden_sizes=small, alpha_init=0.2),
             "sac": SACConfig(hidden_sizes=small), "h2o": H2OConfig(hidden_sizes=small),
             "discriminator": DiscriminatorConfig(hidden_sizes=small), "torch_threads": 1}
    return HybridConfig(method=method, **(sizes | changes))


def paper_config(method: str = "h2o", **changes: Any) -> HybridConfig:
    """H2O's sizes (``HybridConfig``'s defaults): 256-256 networks, 1000 epochs would be
    the paper's 1M steps; ``epochs`` defaults to 100 here."""
    return HybridConfig(method=method, **changes)


PRESETS = {"table": table_config, "paper": paper_config}
"""Base configurations of ``hybrid`` and ``hybrid-table``."""
