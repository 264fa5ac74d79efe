"""The H2O paper's reference methods on the package's learners, pool and replay.

SAC(sim), CQL(real), DARC, DARC+ and H2O (from scratch, or from a CQL policy) as
:data:`~.config.METHODS` of one :class:`~.config.HybridConfig`, run by :func:`run_hybrid`
(``mfhrl-fast hybrid``); :func:`run_table` runs them all over seeds (``hybrid-table``).
"""

from .config import METHODS, SIMS, HybridConfig, paper_config, sim_fidelity, table_config
from .runner import HybridResult, HybridRun, run_hybrid
from .table import PAPER_TABLE1, run_table

__all__ = ["METHODS", "PAPER_TABLE1", "SIMS", "HybridConfig", "HybridResult", "HybridRun",
           "paper_config", "run_hybrid", "run_table", "sim_fidelity", "table_config"]
