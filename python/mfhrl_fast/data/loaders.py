"""Readers of local Minari datasets and D4RL HDF5 files into :class:`OfflineDataset`.

Nothing here downloads: Minari datasets are opened with ``download=False`` from
``MINARI_DATASETS_PATH`` (default ``~/.minari/datasets``), D4RL files from a path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .dataset import DatasetError, OfflineDataset, as_flags

D4RL_FIELDS = ("observations", "actions", "rewards", "terminals", "timeouts")
"""The D4RL keys read; ``next_observations`` is read too when present."""


def minari_root() -> str:
    """The local Minari root: ``MINARI_DATASETS_PATH`` or ``~/.minari/datasets``."""
    return os.environ.get("MINARI_DATASETS_PATH") or os.path.join(
        os.path.expanduser("~"), ".minari", "datasets")


def open_minari(dataset_id: str) -> Any:
    """``minari.load_dataset(dataset_id, download=False)`` with errors that say where to look."""
    import minari

    try:
        return minari.load_dataset(dataset_id, download=False)
    except FileNotFoundError as e:
        raise FileNotFoundError(
            f"Minari dataset {dataset_id!r} is not under {minari_root()} (nothing is downloaded "
            f"here): fetch it where there is network access with `minari download {dataset_id}` "
            "and copy it there, or point MINARI_DATASETS_PATH at its root") from e
    except (ValueError, KeyError, OSError, AssertionError) as e:
        raise DatasetError(f"Minari dataset {dataset_id!r} cannot be opened: "
                           f"{type(e).__name__}: {e}") from e


def _box_dim(space: Any, field: str) -> int:
    shape = getattr(space, "shape", None)
    if type(space).__name__ != "Box" or shape is None or len(shape) != 1:
        raise DatasetError(f"{field}: only flat Box spaces are supported, got {space}")
    return int(shape[0])


def _check_episode(ep: dict[str, Any], obs_dim: int, act_dim: int) -> int:
    """Length T of a Minari episode dict after checking every field's shape."""
    steps = len(np.asarray(ep["rewards"]))
    expected = {"observations": (steps + 1, obs_dim), "actions": (steps, act_dim),
                "rewards": (steps,), "terminations": (steps,), "truncations": (steps,)}
    for name, shape in expected.items():
        actual = np.shape(ep[name])
        if actual != shape:
            raise DatasetError(f"episode {ep.get('id')}: {name} has shape {actual}, "
                               f"expected {shape} (T={steps} from rewards)")
    return steps


def _episodes(dataset: Any, name: str) -> Iterator[dict[str, Any]]:
    """The episodes of a MinariDataset, with read errors as ``DatasetError``."""
    episodes = iter(dataset.storage.get_episodes(dataset.episode_indices))
    index = 0
    while True:
        try:
            ep = next(episodes)
        except StopIteration:
            return
        except (KeyError, ValueError, OSError, TypeError, AssertionError) as e:
            raise DatasetError(f"Minari dataset {name!r}: episode {index} is unreadable "
                               f"(a missing or corrupt field?): {type(e).__name__}: {e}") from e
        yield ep
        index += 1


def from_minari(dataset_id: str | Any) -> OfflineDataset:
    """Transitions of a local Minari dataset (an id such as ``"mujoco/halfcheetah/medium-v0"``,
    or an already loaded ``MinariDataset``); never downloads.

    Episode k with observations o_0..o_T gives transitions (o_t, a_t, r_t, o_{t+1}) for
    t < T: next observations come from the T + 1 stored observations, so the last one is
    the real final observation. ``terminations`` become ``terminals`` and ``truncations``
    become ``timeouts``, kept apart. An episode stored with neither flag on its last step
    (it was cut) gets a timeout there, as Minari's ``DataCollector`` does. The metadata
    keeps Minari's (``dataset_id``, ``ref_min_score`` / ``ref_max_score`` when present, ...).
    """
    from minari.dataset.minari_storage import MinariStorage

    dataset = open_minari(dataset_id) if isinstance(dataset_id, str) else dataset_id
    name = dataset.spec.dataset_id
    obs_dim = _box_dim(dataset.observation_space, "observations")
    act_dim = _box_dim(dataset.action_space, "actions")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "act", "rew", "next", "term",
                                                          "tout")}
    for ep in _episodes(dataset, name):
        if _check_episode(ep, obs_dim, act_dim) == 0:
            continue
        obs = np.asarray(ep["observations"])
        terminals = np.asarray(ep["terminations"], dtype=bool)
        timeouts = np.array(ep["truncations"], dtype=bool)
        timeouts[-1] |= not terminals[-1]
        for key, value in (("obs", obs[:-1]), ("act", ep["actions"]), ("rew", ep["rewards"]),
                           ("next", obs[1:]), ("term", terminals), ("tout", timeouts)):
            parts[key].append(np.asarray(value))
    if not parts["obs"]:
        raise DatasetError(f"Minari dataset {name!r}: observations is empty (no steps)")
    metadata = dict(MinariStorage.read_raw_metadata(dataset.storage.data_path))
    for key in ("observation_space", "action_space"):  # long serialised strings
        metadata.pop(key, None)
    metadata["source"] = "minari"
    cat = {key: np.concatenate(value) for key, value in parts.items()}
    return OfflineDataset(observations=cat["obs"], actions=cat["act"], rewards=cat["rew"],
                          next_observations=cat["next"], terminals=cat["term"],
                          timeouts=cat["tout"], metadata=metadata)


def _read_d4rl(path: str, max_episode_steps: int | None) -> dict[str, np.ndarray]:
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise DatasetError(f"{path} is not a readable HDF5 file: {e}") from e
    with f:
        data = {}
        for name in (*D4RL_FIELDS, "next_observations"):
            if name not in f:
                continue
            item = f[name]
            if not isinstance(item, h5py.Dataset):
                raise DatasetError(f"{path}: field '{name}' is not an array")
            try:
                data[name] = item[()]
            except (OSError, ValueError) as e:
                raise DatasetError(f"{path}: field '{name}' is unreadable: {e}") from e
    if "timeouts" not in data and max_episode_steps is not None:
        data["timeouts"] = _infer_timeouts(data, max_episode_steps)
    missing = [name for name in D4RL_FIELDS if name not in data]
    if missing:
        hint = " (pass max_episode_steps= to infer timeouts)" if missing == ["timeouts"] else ""
        raise DatasetError(f"{path} lacks the D4RL field(s) {', '.join(missing)}{hint}")
    n = len(np.atleast_1d(data["observations"]))
    for name, value in data.items():
        if np.ndim(value) == 0 or len(value) != n:
            raise DatasetError(f"{path}: field '{name}' has shape {np.shape(value)}, "
                               f"expected {n} rows (from observations)")
    return data


def _infer_timeouts(data: dict[str, np.ndarray], max_episode_steps: int) -> np.ndarray:
    """D4RL's fallback for files without timeouts: an episode (restarting after each
    terminal) times out at its ``max_episode_steps``-th step."""
    if "terminals" not in data or max_episode_steps < 1:
        raise DatasetError("inferring timeouts needs terminals and max_episode_steps >= 1")
    terminals = as_flags("terminals", data["terminals"]).reshape(-1)
    index = np.arange(len(terminals))
    first = np.r_[True, terminals[:-1]]
    start = np.maximum.accumulate(np.where(first, index, 0))
    return ((index - start) % max_episode_steps == max_episode_steps - 1) & ~terminals


def from_d4rl_hdf5(path: str | os.PathLike[str], *,
                   max_episode_steps: int | None = None) -> OfflineDataset:
    """Transitions of a D4RL HDF5 file (keys ``observations``, ``actions``, ``rewards``,
    ``terminals``, ``timeouts``, optionally ``next_observations``; others are ignored).

    With ``next_observations`` every row is kept. Without it, the next observation of row
    i is row i + 1's, never across an episode boundary:

    - a row flagged ``timeouts`` (the last step of a time-limited episode) has no known
      next observation and is dropped, as D4RL's ``qlearning_dataset`` does; the row before
      it then carries the timeout, so episodes stay apart;
    - so is the file's last row unless it is terminal;
    - a ``terminals`` row keeps its own observation as next observation (never bootstrapped;
      D4RL would take the following episode's first observation).

    Files without ``timeouts`` (D4RL v0) need ``max_episode_steps`` to infer them as D4RL
    does. ``metadata["dropped_transitions"]`` counts the dropped rows.
    """
    path = os.fspath(path)
    data = _read_d4rl(path, max_episode_steps)
    obs = np.asarray(data["observations"])
    terminals = as_flags("terminals", data["terminals"]).reshape(-1)
    timeouts = as_flags("timeouts", data["timeouts"]).reshape(-1)
    if "next_observations" in data:
        next_obs, drop = data["next_observations"], np.zeros(len(obs), dtype=bool)
    else:
        next_obs = np.empty_like(obs)
        next_obs[:-1] = obs[1:]
        next_obs[terminals] = obs[terminals]
        drop = timeouts & ~terminals
        drop[-1:] |= ~terminals[-1:]
        ends = terminals | timeouts
        timeouts = timeouts.copy()
        timeouts[:-1] |= drop[1:] & ~ends[:-1]
    keep = ~drop
    return OfflineDataset(
        observations=obs[keep], actions=np.asarray(data["actions"])[keep],
        rewards=np.asarray(data["rewards"])[keep], next_observations=next_obs[keep],
        terminals=terminals[keep], timeouts=timeouts[keep],
        metadata={"source": "d4rl_hdf5", "path": path, "dropped_transitions": int(drop.sum())})
