"""MF-HRL-IGM end to end (docs/algorithm.md): offline CQL ensemble, online H2O rounds under a
budget, fidelity selection by information gain per unit cost, the paper's baselines.

- :func:`run` / :class:`RunConfig` (presets :func:`demo`, :func:`paper`): one run, with
  per-round records, atomic checkpoints and exact ``resume``;
- :class:`BudgetController` and the strategies ``igm``, ``lowest``, ``highest``,
  ``uniform``, ``random``;
- :class:`Posterior`: eq. 7 and the information gains of eq. 8;
- :mod:`.report`, :mod:`.compare`: the demo report and the paper's Fig. 2.
"""

from .budget import BudgetController, LedgerEntry
from .config import DatasetConfig, OfflineConfig, OnlineConfig, RunConfig
from .posterior import Posterior
from .presets import demo, load_config, paper, preset, study, study_g600
from .records import RoundRecord, RunResult
from .runner import Experiment, get_offline, run
from .strategies import STRATEGIES, make_strategy

__all__ = [
    "STRATEGIES",
    "BudgetController",
    "DatasetConfig",
    "Experiment",
    "LedgerEntry",
    "OfflineConfig",
    "OnlineConfig",
    "Posterior",
    "RoundRecord",
    "RunConfig",
    "RunResult",
    "demo",
    "get_offline",
    "load_config",
    "make_strategy",
    "paper",
    "preset",
    "run",
    "study",
    "study_g600",
]
