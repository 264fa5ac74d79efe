"""Type stubs for the compiled C++ core ``mfhrl_fast._core``."""

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

MUJOCO_HEADER_VERSION: int
mujoco_runtime_version: str

class FidelitySpec:
    name: str
    gravity_scale: float
    friction_scale: float
    action_noise_std: float
    cost: float
    frame_skip: int
    solver_iterations: int
    ls_iterations: int
    def __init__(
        self,
        *,
        name: str = "true",
        gravity_scale: float = 1.0,
        friction_scale: float = 1.0,
        action_noise_std: float = 0.0,
        cost: float = 1.0,
        frame_skip: int = 0,
        solver_iterations: int = 0,
        ls_iterations: int = 0,
    ) -> None: ...

def paper_ladder() -> list[FidelitySpec]: ...
def h2o_presets() -> list[FidelitySpec]: ...

class SimPool:
    def __init__(
        self,
        *,
        xml_path: str,
        fidelities: list[FidelitySpec],
        fidelity_ids: list[int],
        num_threads: int = 1,
        seed: int = 0,
        max_episode_steps: int = 1000,
        frame_skip: int = 5,
        reset_noise_scale: float = 0.1,
        obs_dtype: npt.DTypeLike = ...,
    ) -> None: ...
    @property
    def num_envs(self) -> int: ...
    @property
    def num_threads(self) -> int: ...
    @property
    def obs_dim(self) -> int: ...
    @property
    def act_dim(self) -> int: ...
    @property
    def nq(self) -> int: ...
    @property
    def nv(self) -> int: ...
    @property
    def obs_dtype(self) -> np.dtype: ...
    @property
    def fidelity_ids(self) -> list[int]: ...
    @property
    def action_bounds(self) -> tuple[np.ndarray, np.ndarray]: ...
    def seed(self, seed: int) -> None: ...
    def reset(self) -> np.ndarray: ...
    def step(
        self, actions: npt.ArrayLike, *, replay: ReplayRing | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]: ...
    def get_state(self) -> tuple[np.ndarray, np.ndarray]: ...
    def set_state(self, qpos: npt.ArrayLike, qvel: npt.ArrayLike) -> np.ndarray: ...
    def applied_actions(self) -> np.ndarray: ...

class EmptySampleError(ValueError):
    """Raised when a sample has no transition to draw from."""

class ReplayRing:
    def __init__(
        self,
        *,
        capacity: int,
        obs_dim: int,
        act_dim: int,
        num_members: int = 1,
        mask_prob: float = 0.5,
        seed: int = 0,
        num_threads: int = 1,
    ) -> None: ...
    @property
    def capacity(self) -> int: ...
    @property
    def obs_dim(self) -> int: ...
    @property
    def act_dim(self) -> int: ...
    @property
    def num_members(self) -> int: ...
    @property
    def mask_prob(self) -> float: ...
    @property
    def num_threads(self) -> int: ...
    @property
    def total_added(self) -> int: ...
    def __len__(self) -> int: ...
    def reseed(self, seed: int) -> None: ...
    def member_count(self, member: int, fidelities: Iterable[int] | None = None) -> int: ...
    def add(
        self,
        *,
        obs: npt.ArrayLike,
        action: npt.ArrayLike,
        reward: npt.ArrayLike,
        next_obs: npt.ArrayLike,
        terminated: npt.ArrayLike,
        truncated: npt.ArrayLike,
        fidelity: npt.ArrayLike,
        mask: npt.ArrayLike | None = None,
    ) -> None: ...
    def sample(
        self,
        batch_size: int,
        *,
        fidelities: Iterable[int] | None = None,
        out: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]: ...
    def sample_members(
        self,
        batch_size: int,
        *,
        fidelities: Iterable[int] | None = None,
        out: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]: ...
    def rows(self, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]: ...
    def empty_batch(self, batch_size: int, *, members: bool = False,
                    index: bool = False) -> dict[str, np.ndarray]: ...
    def save(self, path: str) -> None: ...
    @staticmethod
    def load(path: str, *, num_threads: int = 1) -> ReplayRing: ...
# --- submodule _core.info (cpp/bind/info.cc), typed as a namespace class -----

from collections.abc import Sequence as _Sequence  # noqa: E402

class _InfoModule:
    @staticmethod
    def entropy(
        p: npt.ArrayLike, *, base: float | None = None, num_threads: int | None = None
    ) -> np.ndarray: ...
    @staticmethod
    def entropy_counts(
        counts: npt.ArrayLike,
        *,
        estimator: str = "plugin",
        base: float | None = None,
        num_threads: int | None = None,
    ) -> np.ndarray: ...
    @staticmethod
    def mutual_information(
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        estimator: str = "plugin",
        base: float | None = None,
        num_threads: int | None = None,
    ) -> float: ...
    @staticmethod
    def posterior_update(
        log_p: npt.ArrayLike, losses: npt.ArrayLike, *, eta: float | str = 1.0, eta0: float = 1.0
    ) -> tuple[np.ndarray, float]: ...
    @staticmethod
    def information_gain(
        log_p: npt.ArrayLike,
        histories: _Sequence[npt.ArrayLike],
        *,
        eta: float | str = 1.0,
        eta0: float = 1.0,
    ) -> np.ndarray: ...
    @staticmethod
    def choose_fidelity(
        ig: npt.ArrayLike, costs: npt.ArrayLike, remaining_budget: float, *, c: float = 1.0
    ) -> int: ...

info: _InfoModule

# --- submodule _core.nn (cpp/bind/nn.cc): fused kernels writing into given arrays ----

class _NNModule:
    @staticmethod
    def layer_norm_relu_forward(
        x: np.ndarray, scale: np.ndarray, shift: np.ndarray, y: np.ndarray,
        mean: np.ndarray, rstd: np.ndarray, *, bias: np.ndarray | None = None,
        eps: float = 1e-5, num_threads: int | None = None,
    ) -> None: ...
    @staticmethod
    def layer_norm_relu_backward(
        dy: np.ndarray, x: np.ndarray, scale: np.ndarray, shift: np.ndarray,
        mean: np.ndarray, rstd: np.ndarray, *, bias: np.ndarray | None = None,
        dx: np.ndarray | None = None, dbias: np.ndarray | None = None,
        dscale: np.ndarray | None = None, dshift: np.ndarray | None = None,
        num_threads: int | None = None,
    ) -> None: ...

nn: _NNModule
