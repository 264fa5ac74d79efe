"""The offline dataset D (docs/algorithm.md): transitions, statistics, replay, npz.

Every loader (``from_minari``, ``from_d4rl_hdf5``, ``from_npz``) returns an
:class:`OfflineDataset`. Its flags follow D4RL's names:

- ``terminals[i]``: the episode ended in a terminal state after transition i (no bootstrap);
- ``timeouts[i]``: the episode was cut after transition i without terminating (time limit,
  end of the recorded data, or a dropped transition after it), so the learner bootstraps.

Episodes are the runs of transitions between these flags; a last run without a flag
counts as one (incomplete) episode.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..replay import ReplayRing

D4RL_HALFCHEETAH_REF_MIN_SCORE = -280.178953
"""D4RL's HalfCheetah random-policy return (the 0 of the normalized score)."""
D4RL_HALFCHEETAH_REF_MAX_SCORE = 12135.0
"""D4RL's HalfCheetah expert return (the 100 of the normalized score)."""

ARRAY_FIELDS = ("observations", "actions", "rewards", "next_observations", "terminals", "timeouts")


class DatasetError(ValueError):
    """A dataset field is missing, corrupt or of the wrong shape; the message names it."""


def as_flags(name: str, value: npt.ArrayLike) -> np.ndarray:
    """``value`` as booleans; anything but bool or numeric 0/1 raises ``DatasetError``."""
    array = np.asarray(value)
    if array.dtype == bool:
        return array
    if array.dtype.kind not in "iuf" or not np.isin(array, (0, 1)).all():
        raise DatasetError(f"{name} must hold booleans or 0/1, got dtype {array.dtype}")
    return array.astype(bool)


def _as_float32(name: str, value: npt.ArrayLike) -> np.ndarray:
    """``value`` as contiguous float32; non-numeric or non-finite raises ``DatasetError``."""
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise DatasetError(f"{name} must be numeric, got dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array).reshape(len(array), -1).all(1))[0])
        raise DatasetError(f"{name} holds a non-finite value (row {bad})")
    return array


@dataclass(frozen=True)
class DatasetSummary:
    """Summary statistics of an :class:`OfflineDataset` (``dataset.summary()``)."""

    transitions: int
    """Number of transitions N."""
    episodes: int
    """Runs of transitions between terminal/timeout flags (a trailing unflagged run counts)."""
    terminals: int
    """Transitions flagged terminal."""
    timeouts: int
    """Transitions flagged as timeouts."""
    return_mean: float
    """Mean undiscounted return of the episodes."""
    return_std: float
    """Standard deviation (ddof 0) of the episode returns."""
    return_min: float
    """Lowest episode return."""
    return_max: float
    """Highest episode return."""
    normalized_return_mean: float
    """``return_mean`` as a D4RL normalized score (0 random, 100 expert)."""
    state_mean: np.ndarray = field(repr=False)
    """Per-dimension mean of the observations."""
    state_std: np.ndarray = field(repr=False)
    """Per-dimension standard deviation (ddof 0) of the observations: H2O's sigma_D."""


@dataclass(frozen=True, eq=False)
class OfflineDataset:
    """N transitions (s, a, r, s', terminal, timeout) as float32 / bool arrays.

    Arrays given as other numeric types are converted; a missing, non-finite or
    misshaped field raises :class:`DatasetError` naming it. ``metadata`` is a
    JSON-serialisable dict (source, ids, reference scores, collection details).
    """

    observations: np.ndarray
    """(N, obs_dim) float32."""
    actions: np.ndarray
    """(N, act_dim) float32."""
    rewards: np.ndarray
    """(N,) float32."""
    next_observations: np.ndarray
    """(N, obs_dim) float32: the observation reached by each transition."""
    terminals: np.ndarray
    """(N,) bool: the episode terminated after this transition."""
    timeouts: np.ndarray
    """(N,) bool: the episode was cut (not terminated) after this transition."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Where the data comes from; ``ref_min_score`` / ``ref_max_score`` if known."""

    def __post_init__(self) -> None:
        put = object.__setattr__
        for name in ARRAY_FIELDS:
            if getattr(self, name) is None:
                raise DatasetError(f"{name} is missing")
        for name in ("observations", "actions", "rewards", "next_observations"):
            put(self, name, _as_float32(name, getattr(self, name)))
        for name in ("terminals", "timeouts"):
            put(self, name, as_flags(name, getattr(self, name)))
        if self.rewards.ndim == 2 and self.rewards.shape[1] == 1:
            put(self, "rewards", self.rewards[:, 0].copy())
        if self.observations.ndim != 2:
            raise DatasetError(f"observations has shape {self.observations.shape}, expected (N, *)")
        n = len(self.observations)
        expected = {"observations": (n, None), "actions": (n, None), "rewards": (n,),
                    "next_observations": self.observations.shape, "terminals": (n,),
                    "timeouts": (n,)}
        for name, shape in expected.items():
            actual = getattr(self, name).shape
            if len(actual) != len(shape) or any(
                    e not in (None, a) for e, a in zip(shape, actual, strict=True)):
                wanted = tuple("*" if e is None else e for e in shape)
                raise DatasetError(f"{name} has shape {actual}, expected {wanted} "
                                   f"(N={n} from observations)")
        if not isinstance(self.metadata, dict):
            raise DatasetError(f"metadata must be a dict, got {type(self.metadata).__name__}")

    # ------------------------------------------------------------------ sizes
    def __len__(self) -> int:
        return len(self.observations)

    @property
    def obs_dim(self) -> int:
        return self.observations.shape[1]

    @property
    def act_dim(self) -> int:
        return self.actions.shape[1]

    def __repr__(self) -> str:
        source = self.metadata.get("dataset_id") or self.metadata.get("source", "arrays")
        return (f"OfflineDataset(N={len(self)}, obs_dim={self.obs_dim}, act_dim={self.act_dim}, "
                f"episodes={len(self.episode_returns())}, source={source!r})")

    # ------------------------------------------------------------------ episodes
    def episode_ends(self) -> np.ndarray:
        """Index of the last transition of every episode (a trailing unflagged run included)."""
        ends = np.flatnonzero(self.terminals | self.timeouts)
        if len(self) and (len(ends) == 0 or ends[-1] != len(self) - 1):
            ends = np.append(ends, len(self) - 1)
        return ends

    def episode_returns(self) -> np.ndarray:
        """Undiscounted return of every episode, in order (float64)."""
        if len(self) == 0:
            return np.zeros(0)
        starts = np.r_[0, self.episode_ends()[:-1] + 1]
        return np.add.reduceat(self.rewards.astype(np.float64), starts)

    def returns_to_go(self, gamma: float) -> np.ndarray:
        """Discounted return-to-go of every transition, sum_t' gamma^(t'-t) r_t' to the end of
        its episode (float32, N): the Monte-Carlo value of the behaviour policy, Cal-QL's
        reference V^mu(s). An episode cut by a timeout (or by the end of the data) is summed
        to its cut without a bootstrap, as Cal-QL does."""
        if not 0 <= gamma <= 1:
            raise ValueError(f"gamma must be in [0, 1], got {gamma}")
        out = np.zeros(len(self), dtype=np.float32)
        keep = np.full(len(self), gamma)
        keep[self.episode_ends()] = 0.0  # no value flows back across an episode's end
        rewards, keep, to_go = self.rewards.tolist(), keep.tolist(), 0.0
        for i in range(len(self) - 1, -1, -1):
            to_go = rewards[i] + keep[i] * to_go
            out[i] = to_go
        return out

    def state_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension mean and std (ddof 0) of the observations, float64; the std is
        H2O's sigma_D."""
        obs = self.observations.astype(np.float64)
        return obs.mean(0), obs.std(0)

    def summary(self) -> DatasetSummary:
        """Transitions, episodes, return statistics, normalized score and state statistics."""
        if len(self) == 0:
            raise DatasetError("observations is empty: no transitions to summarise")
        returns = self.episode_returns()
        mean, std = self.state_stats()
        return DatasetSummary(
            transitions=len(self), episodes=len(returns), terminals=int(self.terminals.sum()),
            timeouts=int(self.timeouts.sum()), return_mean=float(returns.mean()),
            return_std=float(returns.std()), return_min=float(returns.min()),
            return_max=float(returns.max()),
            normalized_return_mean=float(normalized_score(returns.mean(), self)),
            state_mean=mean, state_std=std)

    # ------------------------------------------------------------------ replay
    def add_to_replay(self, ring: ReplayRing, *, fidelity: int = 0,
                      mask: npt.ArrayLike | None = None) -> None:
        """Append every transition to ``ring`` (terminals as ``terminated``, timeouts as
        ``truncated``) with fidelity id ``fidelity``; bootstrap masks are drawn by the ring
        unless ``mask`` ((N, L) booleans or N uint64) is given."""
        if (ring.obs_dim, ring.act_dim) != (self.obs_dim, self.act_dim):
            raise ValueError(f"ring has obs_dim={ring.obs_dim}, act_dim={ring.act_dim}; the "
                             f"dataset {self.obs_dim}, {self.act_dim}")
        if len(self) > ring.capacity - len(ring):
            raise ValueError(f"ring has room for {ring.capacity - len(ring)} transitions, "
                             f"the dataset holds {len(self)}")
        if len(self) == 0:
            return
        ring.add(obs=self.observations, action=self.actions, reward=self.rewards,
                 next_obs=self.next_observations, terminated=self.terminals.astype(np.float32),
                 truncated=self.timeouts.astype(np.float32), fidelity=fidelity, mask=mask)

    def to_replay(self, *, num_members: int = 1, mask_prob: float = 0.5, seed: int = 0,
                  capacity: int | None = None, fidelity: int = 0,
                  num_threads: int = 1) -> ReplayRing:
        """A new ``ReplayRing`` holding the dataset, each transition with L = ``num_members``
        Bernoulli(``mask_prob``) bootstrap bits (the offline phase's masks m_l) from the ring's
        generator seeded with ``seed``; ``capacity`` defaults to N (give more to add online
        data later)."""
        ring = ReplayRing(capacity=max(len(self), 1) if capacity is None else capacity,
                          obs_dim=self.obs_dim, act_dim=self.act_dim, num_members=num_members,
                          mask_prob=mask_prob, seed=seed, num_threads=num_threads)
        self.add_to_replay(ring, fidelity=fidelity)
        return ring

    # ------------------------------------------------------------------ files
    def to_npz(self, path: str | os.PathLike[str], *, compressed: bool = False) -> None:
        """Write the six arrays and the metadata (as JSON) to a ``.npz`` file."""
        save = np.savez_compressed if compressed else np.savez
        arrays = {name: getattr(self, name) for name in ARRAY_FIELDS}
        with open(path, "wb") as f:
            save(f, **arrays, metadata=np.array(json.dumps(self.metadata, default=_to_json)))

    def normalized_score(self, returns: npt.ArrayLike) -> np.ndarray | float:
        """``normalized_score(returns, self)``: with this dataset's reference scores."""
        return normalized_score(returns, self)


def _to_json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, set | tuple):
        return sorted(value) if isinstance(value, set) else list(value)
    raise TypeError(f"metadata value {value!r} is not JSON-serialisable")


def to_npz(dataset: OfflineDataset, path: str | os.PathLike[str], *,
           compressed: bool = False) -> None:
    """Write ``dataset`` to ``path`` (see :meth:`OfflineDataset.to_npz`)."""
    dataset.to_npz(path, compressed=compressed)


def from_npz(path: str | os.PathLike[str]) -> OfflineDataset:
    """Read a dataset written by :func:`to_npz`; a missing array raises ``DatasetError``."""
    with np.load(path, allow_pickle=False) as npz:
        missing = [name for name in ARRAY_FIELDS if name not in npz.files]
        if missing:
            raise DatasetError(f"{os.fspath(path)} lacks the field(s) {', '.join(missing)}")
        arrays = {name: npz[name] for name in ARRAY_FIELDS}
        try:
            metadata = json.loads(str(npz["metadata"])) if "metadata" in npz.files else {}
        except json.JSONDecodeError as e:
            raise DatasetError(f"metadata of {os.fspath(path)} is not valid JSON: {e}") from e
    return OfflineDataset(**arrays, metadata=metadata)


def normalized_score(returns: npt.ArrayLike, dataset: OfflineDataset | None = None, *,
                     ref_min_score: float | None = None,
                     ref_max_score: float | None = None) -> np.ndarray | float:
    """D4RL's normalized score 100 * (R - ref_min) / (ref_max - ref_min).

    The reference scores are, in order of preference: the ones given, the dataset's own
    (``metadata["ref_min_score"]`` / ``["ref_max_score"]``, e.g. from a Minari dataset that
    has them), and D4RL's HalfCheetah constants (-280.178953, 12135.0). Note Minari's own
    ``get_normalized_score`` returns the same ratio without the factor 100.
    """
    meta = dataset.metadata if dataset is not None else {}
    low = ref_min_score if ref_min_score is not None else meta.get("ref_min_score")
    high = ref_max_score if ref_max_score is not None else meta.get("ref_max_score")
    low = D4RL_HALFCHEETAH_REF_MIN_SCORE if low is None else float(low)
    high = D4RL_HALFCHEETAH_REF_MAX_SCORE if high is None else float(high)
    if not (math.isfinite(low) and math.isfinite(high)) or high == low:
        raise ValueError(f"reference scores must be finite and differ, got {low}, {high}")
    score = 100.0 * (np.asarray(returns, dtype=np.float64) - low) / (high - low)
    return float(score) if score.ndim == 0 else score
