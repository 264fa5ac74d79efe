"""Ensemble SAC / CQL / H2O learners in PyTorch (docs/algorithm.md, "Building blocks").

- :class:`EnsembleSAC`, :class:`EnsembleCQL`, :class:`EnsembleH2O`: L members
  as one batched network, one optimizer step for all, ``train_step(batch)``,
  ``member_losses``, ``act``, ``state_dict`` / ``load_state_dict``, ``select_members``.
- :class:`FidelityDiscriminators`: D_sa / D_sas per fidelity for H2O and DARC.
- :mod:`.losses`: one function per equation of docs/algorithm.md's "Building blocks".
- :mod:`.online`: batched online SAC through ``SimPool``, evaluation, data collection.
"""

from .batch import metrics_to_floats
from .config import CQLConfig, DiscriminatorConfig, H2OConfig, SACConfig
from .cql import EnsembleCQL
from .discriminators import FidelityDiscriminators
from .h2o import EnsembleH2O
from .precision import PRECISIONS, bf16_is_fast
from .sac import EnsembleSAC
from .seeding import member_seeds, set_seed

__all__ = [
    "CQLConfig",
    "DiscriminatorConfig",
    "EnsembleCQL",
    "EnsembleH2O",
    "EnsembleSAC",
    "FidelityDiscriminators",
    "H2OConfig",
    "PRECISIONS",
    "SACConfig",
    "bf16_is_fast",
    "member_seeds",
    "metrics_to_floats",
    "set_seed",
]
