"""Configuration of an MF-HRL-IGM run (docs/algorithm.md), presets and file overrides.

One dataclass per component; :class:`RunConfig` bundles them. Every default says
where it comes from: the paper or code that fixes it (an MF-HRL-IGM equation, H2O, CQL,
CORL), or "ours" where the papers leave the number open (docs/algorithm.md lists both).

The presets (``demo``, ``study``, ``study-g600``, ``paper``) and
:func:`~.presets.load_config` are in :mod:`.presets`; TOML or YAML files shaped like
:meth:`RunConfig.to_dict` override them (:func:`override`), e.g.::

    strategy = "uniform"
    [online]
    gradient_steps = 500
    [offline.cql]
    alpha_cql = 5.0
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..fidelity import FidelitySpec, paper_ladder
from ..learners.config import CQLConfig, DiscriminatorConfig, H2OConfig
from ..learners.precision import PRECISIONS
from .posterior import ETA_RULES
from .strategies import STRATEGIES

DATASET_SOURCES = ("gait", "minari", "d4rl", "npz")


@dataclass(frozen=True)
class DatasetConfig:
    """The offline dataset D_off (docs/algorithm.md, "The problem")."""

    source: str = "gait"
    """'gait': collect (or reuse the cached) noisy scripted-gait dataset of the true
    HalfCheetah-v5, a small medium-replay stand-in (ours); 'minari': a local Minari dataset
    ``path`` (an id); 'd4rl': a D4RL HDF5 file ``path``; 'npz': ``OfflineDataset.to_npz``."""
    path: str = ""
    """Dataset id or file for the non-'gait' sources."""
    steps: int = 20_000
    """'gait': transitions collected (ours)."""
    noise_stds: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    """'gait': std of the Gaussian noise added to the gait's actions, one per environment,
    so the data mixes good and poor behaviour (ours)."""
    seed: int = 0
    """'gait': pool and noise seed."""

    def __post_init__(self) -> None:
        if self.source not in DATASET_SOURCES:
            raise ValueError(
                f"dataset.source must be one of {DATASET_SOURCES}, got {self.source!r}")
        if self.source != "gait" and not self.path:
            raise ValueError(f"dataset.source={self.source!r} needs dataset.path")
        if self.steps < 1 or not self.noise_stds or min(self.noise_stds) < 0:
            raise ValueError("dataset.steps must be >= 1 and noise_stds non-empty and >= 0")


@dataclass(frozen=True)
class OfflineConfig:
    """The offline phase: L bootstrapped CQL members as one ensemble (docs/algorithm.md)."""

    num_members: int = 5
    """L (ours)."""
    mask_prob: float = 0.5
    """Bernoulli p of the bootstrap masks (ours)."""
    gradient_steps: int = 100_000
    """CQL ensemble steps (ours; CORL trains 1M)."""
    batch_size: int = 256
    """Transitions per member per step (CORL)."""
    cql: CQLConfig = field(default_factory=lambda: offline_cql())
    """CQL(H) (Kumar et al. 2020; CORL's HalfCheetah) + LayerNorm critics (:func:`offline_cql`)."""

    def __post_init__(self) -> None:
        if self.num_members < 1 or self.gradient_steps < 0 or self.batch_size < 1:
            raise ValueError("offline.num_members and batch_size must be >= 1, "
                             "gradient_steps >= 0")
        if not 0 < self.mask_prob <= 1:
            raise ValueError(f"offline.mask_prob must be in (0, 1], got {self.mask_prob}")


ONLINE_OBJECTIVE = {"cql_weight": 0.0, "critic_layer_norm": True, "trust_region": 1.0}
"""Our online objective over H2O's (docs/algorithm.md, "Our online objective"): H2O's
critic loss (eq. 1) unchanged, LayerNorm in the critics (RLPD's; the offline phase has it
too, :data:`OFFLINE_CQL`) and a trust region on the actor, lambda = 1 times
KL(pi || pi_ref) with pi_ref trailing the actor at Polyak rate 0.005. With the rollouts'
exploration noise (``OnlineConfig.explore_std``) and 600 H2O steps per round of the
study-g600 preset it was chosen by the ablation in the README; the previous default,
CQL(H)'s sampled-action term at weight 5 on every state, is the ``ours-cql`` variant."""

OFFLINE_CQL = {"critic_layer_norm": True}
"""The offline phase's changes to CORL's CQL: LayerNorm critics, so that the online
critics (:data:`ONLINE_OBJECTIVE`) start from them (ours)."""


def online_h2o(**changes: Any) -> H2OConfig:
    """The online phase's :class:`H2OConfig`: H2O (eq. 1) plus :data:`ONLINE_OBJECTIVE`."""
    return H2OConfig(**(ONLINE_OBJECTIVE | changes))


def offline_cql(**changes: Any) -> CQLConfig:
    """The offline phase's :class:`CQLConfig`: CORL's CQL plus :data:`OFFLINE_CQL`."""
    return CQLConfig(**(OFFLINE_CQL | changes))


DISC_DATA = ("paired", "rollouts")
"""The choices of ``OnlineConfig.disc_data``."""


@dataclass(frozen=True)
class OnlineConfig:
    """The online rounds (the paper's algorithm, with eqs. 7-9)."""

    episodes_per_round: int = 10
    """n_e episodes collected per round, all in one pool (ours)."""
    episode_steps: int = 1000
    """Steps of each collected episode (HalfCheetah-v5's 1000)."""
    gradient_steps: int = 1000
    """G: H2O ensemble steps per round (ours)."""
    gradient_steps_per_cost: float = 0.0
    """When > 0, a round at a level of cost lambda_k runs round(this x lambda_k) H2O steps
    instead of G, so that the learner's work grows with what the round is charged and every
    strategy gets about this x budget updates in all (ours; 0 keeps the paper's fixed G
    per round, under which the cheapest level gets the most updates per unit of budget)."""
    sim_mask_prob: float | None = None
    """p of the simulated replay's bootstrap masks; None: offline.mask_prob (the paper's one p)."""
    real_batch: int = 128
    """Real transitions per member per H2O step (H2O's)."""
    sim_batch: int = 128
    """Simulated transitions per member per H2O step (H2O's)."""
    disc_steps: int = 1000
    """Discriminator steps of the round's fidelity per round: one per H2O step, as H2O's
    code trains them (ours; with 1/8 of that the discriminators still trust gravity x2
    transitions at w ~ 0.5 after 10 rounds and the policy drifts, see the README)."""
    gap_table: bool = True
    """w and u of every stored simulated transition once per round, after the fixed
    discriminators' steps, with one draw of u's samples per transition (ours), while the
    replay holds at most G x L x sim_batch transitions; False: per sampled row and step (H2O's
    code)."""
    disc_batch: int = 256
    """Real and simulated transitions per discriminator step (ours)."""
    disc_data: str = "paired"
    """What the discriminators contrast the real transitions with. 'paired' (ours): the
    same real (s, a) replayed in the round's fidelity (:func:`~..resimulate.resimulate`),
    so w measures that fidelity's dynamics gap alone; 'rollouts' (H2O's code): the
    fidelity's collected rollouts, whose w also absorbs how far the policy's states are
    from the data's (median w ~0.1 on rollouts of the true dynamics; README)."""
    paired_transitions: int = 20_000
    """Real transitions replayed once per fidelity for 'paired' (all if fewer; ours). Like
    the evaluation, this use of the simulators is not charged to the budget."""
    history: int = 8
    """M: batches remembered per fidelity in H_k (eq. 8; M is ours)."""
    score_transitions: int = 256
    """Transitions of a round's batch kept in H_k and scored by eq. 7's L_l(B) (a uniform
    subsample, so re-scoring H_k stays cheap; ours)."""
    real_score_transitions: int = 256
    """Real transitions (one fixed draw) in every L_l(B) (eq. 1's D terms; ours)."""
    eta: float | str = "auto"
    """eq. 7's learning rate: a number, 'auto' = eta0 / MAD of the members' losses, or
    'range' = eta0 / their max - min, so that one batch moves the best and the worst
    member's log odds by eta0 (both rules ours; ``posterior.ETA_RULES``)."""
    eta0: float = 1.0
    """Scale of the 'auto' rule (ours)."""
    c: float = 1.0
    """c, the constant of eq. 9's threshold c / sqrt(Gamma_r)."""
    eval_every: int = 1
    """E: rounds between evaluations of the MAP member (ours); the last round is always."""
    eval_episodes: int = 5
    """Deterministic evaluation episodes in the true dynamics (ours)."""
    eval_steps: int = 1000
    """Steps of an evaluation episode (HalfCheetah-v5's)."""
    explore_std: float = 0.3
    """Std of Gaussian noise added to the members' (already stochastic) actions in the
    collected rollouts, clipped to [-1, 1]: exploration beyond the policy's own std, whose
    pre-tanh std leaves the offline phase at ~0.09, so that the simulated replay holds the
    failures (flips) the critic must learn to avoid (ours; 0 adds none, as H2O). The
    evaluation stays deterministic."""
    carry_optimizer: bool = False
    """Start the online Adam from the offline phase's moments instead of a fresh one (ours)."""
    carry_alpha: bool = True
    """Start the online temperature at the offline phase's (ours); False restarts it at
    ``h2o.alpha_init``."""
    log_ig_every_round: bool = True
    """Compute IG_k for the record even when the strategy does not use it (ours)."""
    h2o: H2OConfig = field(default_factory=lambda: online_h2o())
    """H2O hyper-parameters (H2O's) with our LayerNorm critics and trust region
    (:func:`online_h2o`)."""
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    """D_sa / D_sas of every fidelity (H2O's)."""

    def round_steps(self, cost: float) -> int:
        """H2O steps of a round charged ``cost``: G, or ``gradient_steps_per_cost`` x cost."""
        if self.gradient_steps_per_cost > 0:
            return round(self.gradient_steps_per_cost * cost)
        return self.gradient_steps

    def __post_init__(self) -> None:
        positive = ("episodes_per_round", "episode_steps", "real_batch", "sim_batch",
                    "disc_batch", "history", "score_transitions", "real_score_transitions",
                    "eval_every", "eval_episodes", "eval_steps", "paired_transitions")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"online.{name} must be >= 1, got {getattr(self, name)}")
        if self.disc_data not in DISC_DATA:
            raise ValueError(f"online.disc_data must be one of {DISC_DATA}, got {self.disc_data!r}")
        if self.sim_mask_prob is not None and not 0 < self.sim_mask_prob <= 1:
            raise ValueError(f"online.sim_mask_prob must be in (0, 1], got {self.sim_mask_prob}")
        if self.gradient_steps < 0 or self.disc_steps < 0 or self.gradient_steps_per_cost < 0:
            raise ValueError("online.gradient_steps, gradient_steps_per_cost and disc_steps "
                             "must be >= 0")
        if isinstance(self.eta, str) and self.eta not in ETA_RULES:
            raise ValueError(f"online.eta must be a number or one of {ETA_RULES}, got "
                             f"{self.eta!r}")
        if not isinstance(self.eta, str) and self.eta < 0:
            raise ValueError(f"online.eta must be >= 0, got {self.eta}")
        if self.eta0 <= 0 or self.c < 0:
            raise ValueError("online.eta0 must be > 0 and c >= 0")
        if not 0 <= self.explore_std < float("inf"):
            raise ValueError(f"online.explore_std must be finite and >= 0, got {self.explore_std}")


@dataclass(frozen=True)
class RunConfig:
    """One MF-HRL-IGM run: a strategy at a budget and seed, and everything it needs."""

    strategy: str = "igm"
    """'igm' (eqs. 7-9) or a baseline: 'lowest', 'highest', 'uniform' (the paper's Fig. 2) or
    'random' (ours)."""
    budget: float = 64.0
    """Gamma, the total cost of all rounds (ours)."""
    seed: int = 0
    """Seeds the offline phase, the learners, the pools, masks, Thompson draws and 'random'."""
    fidelities: tuple[FidelitySpec, ...] = field(default_factory=lambda: tuple(paper_ladder()))
    """The simulators, lowest fidelity first, with their costs (:func:`paper_ladder`)."""
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    offline: OfflineConfig = field(default_factory=OfflineConfig)
    online: OnlineConfig = field(default_factory=OnlineConfig)
    device: str | None = None
    """Torch device; None is CUDA when present, else the CPU."""
    precision: str = "fp32"
    """The learners' matmul precision: 'fp32', 'bf16' or 'auto' (``learners.precision``).
    fp32 (ours): bf16 learning was not measured against fp32 on a machine with fast bf16."""
    num_threads: int = 2
    """SimPool threads (results do not depend on it)."""
    torch_threads: int | None = None
    """``torch.set_num_threads`` for the run; None leaves PyTorch's choice."""
    eval_seed: int = 10_000
    """Seed of the evaluation pool (fixed, so evaluations compare like with like)."""

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if not self.budget >= 0:
            raise ValueError(f"budget must be >= 0, got {self.budget}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.seed < 0 or self.num_threads < 1:
            raise ValueError("seed must be >= 0 and num_threads >= 1")
        if not self.fidelities or not all(isinstance(f, FidelitySpec) for f in self.fidelities):
            raise TypeError("fidelities must be a non-empty sequence of FidelitySpec")
        costs = [f.cost for f in self.fidelities]
        if any(b <= a for a, b in zip(costs, costs[1:], strict=False)):
            raise ValueError(f"fidelity costs must increase with the level, got {costs}")

    @property
    def costs(self) -> list[float]:
        return [f.cost for f in self.fidelities]

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        return override(cls(), data)


def _coerce(current: Any, value: Any, where: str) -> Any:
    """``value`` (from a file) in the type of ``current``."""
    if dataclasses.is_dataclass(current) and not isinstance(current, type):
        if not isinstance(value, Mapping):
            raise TypeError(f"{where} must be a table/mapping, got {type(value).__name__}")
        return override(current, value, where)
    if isinstance(current, tuple):
        if not isinstance(value, list | tuple):
            raise TypeError(f"{where} must be a list, got {type(value).__name__}")
        if where.endswith("fidelities"):
            return tuple(v if isinstance(v, FidelitySpec) else FidelitySpec(**v) for v in value)
        return tuple(value)
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def override(config: Any, changes: Mapping[str, Any], where: str = "") -> Any:
    """A copy of dataclass ``config`` with the (nested) ``changes``; unknown keys raise, and so
    does an ``online.gradient_steps`` that ``gradient_steps_per_cost`` would override."""
    names = {f.name for f in dataclasses.fields(config)}
    updates = {}
    for key, value in changes.items():
        path = f"{where}.{key}" if where else key
        if key not in names:
            raise ValueError(f"unknown config key {path!r}; known: {sorted(names)}")
        updates[key] = _coerce(getattr(config, key), value, path)
    out = dataclasses.replace(config, **updates)
    if (isinstance(out, OnlineConfig) and "gradient_steps" in changes
            and "gradient_steps_per_cost" not in changes and out.gradient_steps_per_cost > 0):
        raise ValueError(f"{where or 'online'}.gradient_steps has no effect while "
                         f"gradient_steps_per_cost = {out.gradient_steps_per_cost:g} (the demo's "
                         "steps per unit of cost); set gradient_steps_per_cost = 0 for a fixed G")
    return out


def load_overrides(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The mapping in a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file."""
    p = Path(path)
    if p.suffix == ".toml":
        import tomllib

        with open(p, "rb") as f:
            return tomllib.load(f)
    if p.suffix in (".yaml", ".yml"):
        import yaml

        with open(p) as f:
            data = yaml.safe_load(f) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{p} must hold a mapping at the top level")
        return data
    raise ValueError(f"config files are .toml, .yaml or .yml, got {p.name!r}")
