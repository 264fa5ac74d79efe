"""Ensemble soft actor-critic (Haarnoja et al. 2018): the online learner and the others' base."""

from __future__ import annotations

from .base import EnsembleLearner
from .config import SACConfig


class EnsembleSAC(EnsembleLearner):
    """L SAC agents trained as one vectorised ensemble.

    ``train_step(batch)`` takes a batch from ``ReplayRing.sample_members`` (or a
    shared (B, ...) batch) and applies SAC's actor, temperature and critic
    losses (:func:`~.losses.sac_actor_loss`, :func:`~.losses.temperature_loss`,
    :func:`~.losses.sac_critic_loss`) to every member in one Adam step.
    """

    config_class = SACConfig

