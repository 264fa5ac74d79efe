"""Configuration dataclasses of the learners (docs/algorithm.md, "Building blocks").

Every default says where it comes from: "SAC", "CQL" or "H2O" for the numbers the
specification fixes (the papers' where the papers give them), "CORL" for
CORL's CQL HalfCheetah configuration, "H2O" for the H2O authors' code and
"ours" where the papers leave the number open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


def _check(config: object, *, positive: tuple[str, ...] = (), unit: tuple[str, ...] = ()) -> None:
    """Reject non-finite numbers, non-positive ``positive`` fields and ``unit`` fields
    outside (0, 1], naming the field."""
    name = type(config).__name__
    for f in fields(config):
        if f.type == "str":  # choices, checked by the config itself
            continue
        value = getattr(config, f.name)
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if v is None or isinstance(v, bool):
                continue
            if not isinstance(v, int | float):
                raise TypeError(f"{name}.{f.name} must be a number, got {v!r}")
            if not math.isfinite(v):
                raise ValueError(f"{name}.{f.name} must be finite, got {v}")
    for field in positive + unit:
        if getattr(config, field) <= 0:
            raise ValueError(f"{name}.{field} must be > 0, got {getattr(config, field)}")
    for field in unit:
        if getattr(config, field) > 1:
            raise ValueError(f"{name}.{field} must be <= 1, got {getattr(config, field)}")
    hidden = getattr(config, "hidden_sizes", (1,))
    if len(hidden) == 0 or any(not isinstance(h, int) or h <= 0 for h in hidden):
        raise ValueError(f"{name}.hidden_sizes must be positive ints, got {hidden!r}")


def annealed(value: float, decay_steps: int, updates: int) -> float:
    """``value`` annealed linearly to 0 over ``decay_steps`` updates (constant if 0)."""
    return value * max(0.0, 1.0 - updates / decay_steps) if decay_steps else value


@dataclass(frozen=True)
class SACConfig:
    """Soft actor-critic shared by every learner (SAC's)."""

    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layers of actor and critics (H2O's 256-256; CORL's CQL critic has 3)."""
    actor_lr: float = 3e-4
    """Adam step of the actor (SAC's)."""
    critic_lr: float = 3e-4
    """Adam step of the twin critics (SAC's)."""
    alpha_lr: float | None = None
    """Adam step of log alpha; None uses ``actor_lr`` (as CORL and H2O do)."""
    gamma: float = 0.99
    """Discount (SAC's)."""
    tau: float = 5e-3
    """Polyak rate of the target critics (SAC's)."""
    target_entropy: float | None = None
    """Entropy target of the temperature; None is -|A| (SAC's)."""
    alpha_init: float = 1.0
    """Initial temperature (log alpha = 0, as CORL and H2O)."""
    auto_alpha: bool = True
    """Tune the temperature automatically (SAC's); False keeps ``alpha_init``."""
    backup_entropy: bool = False
    """Subtract alpha log pi(a'|s') in the Bellman target (off by default, as in
    docs/algorithm.md)."""
    critic_layer_norm: bool = False
    """LayerNorm (per member, with scale and shift) after every hidden layer of the critics,
    as RLPD (Ball et al. 2023) uses against over-extrapolated values (ours: off)."""
    log_std_min: float = -20.0
    """Lower clamp of the actor's log std (CORL)."""
    log_std_max: float = 2.0
    """Upper clamp of the actor's log std (CORL)."""
    orthogonal_init: bool = True
    """Orthogonal hidden layers with gain sqrt(2) (CORL's critic init; ours for the actor)."""
    last_layer_gain: float = 1e-2
    """Gain of the output layers' init (CORL)."""
    target_update_period: int = 1
    """Gradient steps between Polyak updates (CORL, H2O)."""
    policy_averaging: float = 0.0
    """Polyak rate of an averaged copy of the actor, updated after every gradient step;
    ``act(..., averaged=True)`` acts with it. 0 keeps no copy (ours; SAC has none)."""
    trust_region: float = 0.0
    """Weight lambda of E_s KL(pi(.|s) || pi_ref(.|s)) in the actor's loss, pi_ref a frozen
    copy of the actor that trails it at Polyak rate ``trust_region_rate``: a moving trust
    region in the manner of PROTO (Li et al. 2023). 0 keeps no copy (ours; SAC has none)."""
    trust_region_rate: float = 0.005
    """Polyak rate of pi_ref after every gradient step (ours; 0 keeps it where it was
    synced, e.g. at the offline actor for a whole online phase)."""
    trust_region_decay_steps: int = 0
    """Anneal lambda linearly to 0 over this many updates, as PROTO anneals its KL weight
    (ours; 0 keeps it constant)."""
    trust_region_std_floor: float = 0.0
    """Floor on both policies' pre-tanh std inside the trust region's KL (ours; 0: the exact
    KL). The KL prices a move of the mean by its size over the std, so a near-deterministic
    policy (CQL leaves a std of ~0.09) may barely move; with a floor sigma_f the mean may
    move by about sigma_f per unit of KL, e.g. within the rollouts' exploration noise."""

    def __post_init__(self) -> None:
        _check(self, positive=("actor_lr", "critic_lr", "alpha_init"), unit=("gamma", "tau"))
        if self.alpha_lr is not None and self.alpha_lr <= 0:
            raise ValueError(f"alpha_lr must be > 0 or None, got {self.alpha_lr}")
        for name in ("policy_averaging", "trust_region_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if min(self.trust_region, self.trust_region_decay_steps,
               self.trust_region_std_floor) < 0:
            raise ValueError("trust_region, trust_region_decay_steps and "
                             "trust_region_std_floor must be >= 0")
        if self.target_update_period < 1:
            raise ValueError("target_update_period must be >= 1")
        if self.log_std_min >= self.log_std_max:
            raise ValueError("log_std_min must be < log_std_max")


@dataclass(frozen=True)
class CQLConfig(SACConfig):
    """CQL(H) with importance-sampled actions (Kumar et al. 2020); defaults of CORL's
    HalfCheetah run."""

    actor_lr: float = 3e-5
    """CORL's policy_lr for CQL on HalfCheetah (SAC's 3e-4 is for online SAC)."""
    critic_lr: float = 3e-4
    """CORL's qf_lr."""
    alpha_cql: float = 10.0
    """Weight of the conservative term (CORL HalfCheetah)."""
    n_actions: int = 10
    """Sampled actions per source: n uniform, n from pi(.|s), n from pi(.|s') (CQL(H))."""
    lagrange: bool = False
    """Tune the conservative weight by dual descent on ``target_action_gap`` (CQL's variant)."""
    target_action_gap: float = -1.0
    """Lagrange threshold tau of the dual variable (CORL)."""
    alpha_prime_init: float = math.e
    """Initial Lagrange multiplier (CORL: log alpha' = 1)."""
    calibrated: bool = False
    """Cal-QL (Nakamoto et al. 2023): the conservative term's Q at the policy's sampled
    actions is lower-bounded by the behaviour policy's Monte-Carlo value of the state
    (the batch's ``return_to_go``), so the conservatism never pushes the learned policy's
    value below the data's. False is CQL."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_actions < 1:
            raise ValueError(f"n_actions must be >= 1, got {self.n_actions}")
        if self.alpha_cql < 0 or self.alpha_prime_init <= 0:
            raise ValueError("alpha_cql must be >= 0 and alpha_prime_init > 0")


@dataclass(frozen=True)
class H2OConfig(SACConfig):
    """H2O's dynamics-aware policy evaluation (MF-HRL-IGM eq. 1, H2O eqs. 6-8)."""

    beta: float = 0.01
    """Weight of the adaptive value regularisation (H2O's)."""
    n_next_samples: int = 10
    """Samples s' ~ N(s'_sim, diag sigma_D^2) per transition for the gap u (H2O's)."""
    s_prime_std_ratio: float = 1.0
    """Multiplier of sigma_D in those samples (H2O)."""
    ratio_clip: tuple[float, float] = (1e-5, 1.0)
    """Clip of the dynamics ratio w (H2O's)."""
    gap_clip: tuple[float, float] = (1e-45, 10.0)
    """Clip of the gap u (H2O's)."""
    cql_weight: float = 0.0
    """Weight of CQL(H)'s sampled-action term on the real states, kept in the
    online loss (ours; 0 is faithful H2O)."""
    cql_states: str = "real"
    """States of that term: 'real' (the real batch, as offline CQL), 'all' (real and
    simulated, each with its own action as the data action) or 'all-w' (as 'all', each
    simulated row weighted by its dynamics ratio w, so that transitions the discriminators
    distrust are neither backed up nor pushed up); ours."""
    cql_n_actions: int = 10
    """Sampled actions per source of that term (CQL(H)'s n)."""
    cql_decay_steps: int = 0
    """Anneal that term's weight linearly from ``cql_weight`` to 0 over this many updates,
    so conservatism hands over to the online data (ours; 0 keeps it constant)."""
    actor_states: str = "all"
    """States the actor improves on: 'all' (the real and simulated batch equally, H2O's),
    'real' (the real batch only; the simulated transitions still shape the critic) or
    'all-w' (every simulated state weighted by its dynamics ratio w; ours)."""
    lr_warmup_steps: int = 0
    """Linear warm-up of the actor's and critics' Adam steps over the first updates (ours;
    0 starts at the full rate)."""
    actor_warmup_steps: int = 0
    """Hold the actor and the temperature (Adam step 0) for the first updates, so that the
    critics move from the offline phase's conservative values to H2O's loss before the
    policy follows them (ours; 0 trains them from the first update)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_next_samples < 1 or self.beta < 0 or self.s_prime_std_ratio < 0:
            raise ValueError("n_next_samples must be >= 1, beta and s_prime_std_ratio >= 0")
        if self.cql_states not in ("real", "all", "all-w"):
            raise ValueError(f"cql_states must be 'real', 'all' or 'all-w', got "
                             f"{self.cql_states!r}")
        if self.actor_states not in ("all", "real", "all-w"):
            raise ValueError(f"actor_states must be 'all', 'real' or 'all-w', got "
                             f"{self.actor_states!r}")
        if (self.cql_weight < 0 or self.cql_n_actions < 1 or self.lr_warmup_steps < 0
                or self.cql_decay_steps < 0 or self.actor_warmup_steps < 0):
            raise ValueError("cql_weight, cql_decay_steps, lr_warmup_steps and "
                             "actor_warmup_steps must be >= 0, cql_n_actions >= 1")
        for name in ("ratio_clip", "gap_clip"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(f"{name} must satisfy 0 < low <= high, got {(low, high)}")


@dataclass(frozen=True)
class DiscriminatorConfig:
    """The D_sa / D_sas pair of one fidelity (H2O's)."""

    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layers (H2O's)."""
    lr: float = 3e-4
    """Adam step (H2O's d_sa_lr and d_sas_lr)."""
    noise_std: float = 0.1
    """Std of the Gaussian noise on every input during training (H2O's)."""
    logit_bound: float = 2.0
    """Logits are ``logit_bound * tanh(.)`` (H2O's)."""
    normalize_inputs: bool = True
    """Standardise s and s' with the real states' mean and std before the networks (ours;
    H2O feeds raw states, which trains much slower on HalfCheetah's mixed scales)."""

    def __post_init__(self) -> None:
        _check(self, positive=("lr", "logit_bound"))
        if self.noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {self.noise_std}")


@dataclass(frozen=True)
class OnlineSACConfig:
    """Online ensemble SAC through ``SimPool`` (``mfhrl-fast train-sac``); all defaults ours
    unless marked."""

    steps: int = 100_000
    """Environment steps in total, over all environments."""
    num_envs: int = 8
    """Environments stepped per pool call; environment i is run by member i mod L."""
    num_members: int = 5
    """Ensemble size L (ours)."""
    mask_prob: float = 1.0
    """Bernoulli p of the replay's member masks; 1.0 lets every member learn from all data."""
    learning_starts: int = 5_000
    """Environment steps of uniform random actions before learning (CleanRL's 5e3)."""
    batch_size: int = 256
    """Transitions per member per gradient step (CORL, CleanRL)."""
    updates_per_step: float = 1.0
    """Gradient steps per environment step (update-to-data ratio)."""
    eval_every: int = 5_000
    """Environment steps between evaluations of every member."""
    eval_episodes: int = 5
    """Deterministic episodes per member and evaluation."""
    max_episode_steps: int = 1000
    """Episode length in training and evaluation (HalfCheetah-v5's)."""
    num_threads: int = 2
    """SimPool threads."""
    seed: int = 0
    """Seeds the learner, the pool, the replay masks and the random warm-up actions."""
    eval_seed: int = 10_000
    """Seed of the evaluation pool (fixed, so evaluations compare like with like)."""

    def __post_init__(self) -> None:
        _check(self, positive=("steps", "num_envs", "num_members", "batch_size", "eval_every",
                               "eval_episodes", "max_episode_steps", "num_threads"),
               unit=("mask_prob",))
        if self.learning_starts < 0 or self.updates_per_step < 0 or self.seed < 0:
            raise ValueError("learning_starts, updates_per_step and seed must be >= 0")
