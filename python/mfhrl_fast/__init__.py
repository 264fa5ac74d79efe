"""mfhrl_fast: multi-fidelity hybrid RL with a fast C++ MuJoCo simulator pool."""

from __future__ import annotations

import mujoco  # loads libmujoco before _core needs it

from ._build_info import MUJOCO_VERSION as _BUILT_MUJOCO
from ._mujoco_check import check_mujoco_version

check_mujoco_version(mujoco.__version__, _BUILT_MUJOCO)

from . import data, info  # noqa: E402  (offline datasets; entropies, MI, eqs. 7-9)
from .fidelity import FidelitySpec, h2o_presets, paper_ladder  # noqa: E402
from .replay import ReplayRing  # noqa: E402
from .sim_pool import SimPool, half_cheetah_xml  # noqa: E402
from .vector_env import ENV_ID, SimPoolVectorEnv, make_vector_env, register_envs  # noqa: E402

register_envs()  # gymnasium.make_vec("mfhrl_fast/HalfCheetah-v5", num_envs=..., ...)

__version__ = "0.1.0"

__all__ = [
    "ENV_ID",
    "FidelitySpec",
    "ReplayRing",
    "SimPool",
    "SimPoolVectorEnv",
    "data",
    "h2o_presets",
    "half_cheetah_xml",
    "info",
    "make_vector_env",
    "paper_ladder",
]
