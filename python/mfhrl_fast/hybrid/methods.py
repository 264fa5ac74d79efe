"""Each reference method as a learner and the batches of one gradient step.

All methods share the package's learners: SAC (:class:`~..learners.EnsembleSAC`) for
sac-sim, darc and darc-plus, CQL (:class:`~..learners.EnsembleCQL`) for cql-real and H2O
(:class:`~..learners.EnsembleH2O`) for h2o and h2o-cql; what differs is only what one
step trains on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from ..learners import EnsembleCQL, EnsembleH2O, EnsembleSAC, FidelityDiscriminators
from ..learners.base import EnsembleLearner
from ..learners.batch import TRANSITION_KEYS, to_tensor
from ..replay import ReplayRing
from .config import HybridConfig

Batch = Mapping[str, Any]


def make_learner(config: HybridConfig, obs_dim: int, act_dim: int,
                 discriminators: FidelityDiscriminators | None) -> EnsembleLearner:
    """The method's learner (h2o and h2o-cql hold ``discriminators``)."""
    kwargs = {"num_members": config.num_members, "config": config.learner_config,
              "seed": config.seed, "device": config.device, "precision": config.precision}
    if config.method == "cql-real":
        return EnsembleCQL(obs_dim, act_dim, **kwargs)
    if config.method.startswith("h2o"):
        return EnsembleH2O(obs_dim, act_dim, discriminators, **kwargs)
    return EnsembleSAC(obs_dim, act_dim, **kwargs)


def load_init(learner: EnsembleLearner, path: str) -> None:
    """h2o-cql's start: the weights (and observation statistics) a cql-real run saved."""
    state = torch.load(path, weights_only=False, map_location=learner.device)
    nets = state.get("nets", state)
    mine = learner.nets.state_dict()
    try:
        loaded = learner.nets.load_state_dict({k: v for k, v in nets.items() if k in mine},
                                              strict=False)
    except RuntimeError as e:  # shape mismatches
        raise ValueError(f"{path} holds networks of other sizes than the config's: {e}") from e
    if missing := [k for k in loaded.missing_keys
                   if not k.startswith(("actor_avg.", "actor_ref."))]:
        raise ValueError(f"{path} lacks {missing}: not the learner.pt of a cql-real run")
    learner.sync_averaged_actor()


def concat_batches(device: torch.device, *batches: Batch) -> dict[str, torch.Tensor]:
    """Member batches (L, N_i, ...) joined along the transitions: (L, sum N_i, ...)."""
    return {k: torch.cat([to_tensor(b[k], k, device) for b in batches], dim=1)
            for k in TRANSITION_KEYS}


def step_batches(config: HybridConfig, learner: EnsembleLearner, real: ReplayRing | None,
                 sim: ReplayRing | None, disc: FidelityDiscriminators | None,
                 ) -> Callable[[], tuple[Batch, ...]]:
    """A function drawing the arguments of one ``learner.train_step`` for the method."""
    c, method = config, config.method
    if method == "cql-real":
        return lambda: (real.sample_members(c.batch_size),)
    if method == "sac-sim":
        return lambda: (sim.sample_members(c.batch_size),)
    if method == "darc":
        return lambda: (disc.darc_batch(sim.sample_members(c.batch_size)),)
    if method == "darc-plus":
        return lambda: (concat_batches(learner.device, real.sample_members(c.real_batch),
                                       disc.darc_batch(sim.sample_members(c.sim_batch))),)
    return lambda: (real.sample_members(c.real_batch), sim.sample_members(c.sim_batch))
