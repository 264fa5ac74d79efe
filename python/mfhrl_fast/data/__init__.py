"""Offline datasets (D_off, docs/algorithm.md): Minari and D4RL in, HalfCheetah datasets out.

- :class:`OfflineDataset`: transitions (observations, actions, rewards, next_observations,
  terminals, timeouts), ``summary()`` (episodes, returns, state mean/std = H2O's sigma_D),
  ``to_replay()`` (a ``ReplayRing`` with L-member bootstrap masks), ``to_npz``.
- :func:`from_minari`, :func:`from_d4rl_hdf5`, :func:`from_npz`: readers; nothing downloads.
- :func:`normalized_score`: D4RL's normalized return (HalfCheetah constants by default).
- :func:`collect`: writes a local Minari dataset ('random', 'medium', 'replay') through
  ``SimPool`` (also ``mfhrl-fast collect``).
"""

from .collect import CollectConfig, CollectResult, collect, run_pool
from .dataset import (
    D4RL_HALFCHEETAH_REF_MAX_SCORE,
    D4RL_HALFCHEETAH_REF_MIN_SCORE,
    DatasetError,
    DatasetSummary,
    OfflineDataset,
    from_npz,
    normalized_score,
    to_npz,
)
from .loaders import from_d4rl_hdf5, from_minari, minari_root
from .policies import Policy, PolicyTrainer, PoolStep, SinusoidGait, UniformRandomPolicy
from .recorder import Episode, EpisodeRecorder
from .sac_bridge import LearnerPolicy, SACTrainer, SACUnavailableError

__all__ = [
    "D4RL_HALFCHEETAH_REF_MAX_SCORE",
    "D4RL_HALFCHEETAH_REF_MIN_SCORE",
    "CollectConfig",
    "CollectResult",
    "DatasetError",
    "DatasetSummary",
    "Episode",
    "EpisodeRecorder",
    "LearnerPolicy",
    "OfflineDataset",
    "Policy",
    "PolicyTrainer",
    "PoolStep",
    "SACTrainer",
    "SACUnavailableError",
    "SinusoidGait",
    "UniformRandomPolicy",
    "collect",
    "from_d4rl_hdf5",
    "from_minari",
    "from_npz",
    "minari_root",
    "normalized_score",
    "run_pool",
    "to_npz",
]
