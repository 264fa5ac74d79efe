"""D4RL HDF5 and Minari readers: next observations, episode boundaries, named errors,
and no downloads."""

from __future__ import annotations

import h5py
import minari
import numpy as np
import pytest

from mfhrl_fast.data import DatasetError, from_d4rl_hdf5, from_minari, minari_root

from data_support import collect_small

# Three episodes in one file: 0-3 time out, 4-6 terminate, 7-11 time out (the file's end).
N = 12
TIMEOUTS = np.isin(np.arange(N), [3, 11])
TERMINALS = np.isin(np.arange(N), [6])


def write_d4rl(path, *, next_observations: bool = False, drop=(), **replace) -> dict:
    """A D4RL-layout file whose observation row i is (i, -i, 10 i)."""
    obs = np.stack([np.arange(N), -np.arange(N), 10 * np.arange(N)], 1).astype(np.float32)
    data = {"observations": obs, "actions": np.linspace(-1, 1, 2 * N).reshape(N, 2),
            "rewards": np.arange(N, dtype=np.float32), "terminals": TERMINALS,
            "timeouts": TIMEOUTS, "infos/qpos": np.zeros((N, 4))}
    if next_observations:
        data["next_observations"] = obs + 0.5
    data |= replace
    with h5py.File(path, "w") as f:
        for key, value in data.items():
            if key not in drop:
                f.create_dataset(key, data=value)
    return data


def test_d4rl_builds_next_observations_within_episodes(tmp_path):
    data = write_d4rl(tmp_path / "d.hdf5")
    d = from_d4rl_hdf5(tmp_path / "d.hdf5")
    kept = np.array([0, 1, 2, 4, 5, 6, 7, 8, 9, 10])  # the timeout rows 3 and 11 are dropped
    obs = data["observations"]
    np.testing.assert_array_equal(d.observations, obs[kept])
    np.testing.assert_array_equal(d.actions, data["actions"][kept].astype(np.float32))
    np.testing.assert_array_equal(d.rewards, data["rewards"][kept])
    expected_next = obs[kept + 1].copy()
    expected_next[kept == 6] = obs[6]  # terminal: its own observation, never the next episode's
    np.testing.assert_array_equal(d.next_observations, expected_next)
    # the row before each dropped timeout carries it, so the episodes stay apart
    np.testing.assert_array_equal(d.timeouts, np.isin(kept, [2, 10]))
    np.testing.assert_array_equal(d.terminals, kept == 6)
    np.testing.assert_array_equal(d.episode_returns(), [0 + 1 + 2, 4 + 5 + 6, 7 + 8 + 9 + 10])
    assert d.metadata["dropped_transitions"] == 2 and d.metadata["source"] == "d4rl_hdf5"


def test_d4rl_with_next_observations_keeps_every_row(tmp_path):
    data = write_d4rl(tmp_path / "d.hdf5", next_observations=True)
    d = from_d4rl_hdf5(str(tmp_path / "d.hdf5"))
    assert len(d) == N and d.metadata["dropped_transitions"] == 0
    np.testing.assert_array_equal(d.next_observations, data["next_observations"])
    np.testing.assert_array_equal(d.timeouts, TIMEOUTS)
    np.testing.assert_array_equal(d.terminals, TERMINALS)


def test_d4rl_last_row_without_flag_is_dropped(tmp_path):
    write_d4rl(tmp_path / "d.hdf5", timeouts=np.isin(np.arange(N), [3]))
    d = from_d4rl_hdf5(tmp_path / "d.hdf5")
    assert len(d) == N - 2 and d.observations[-1, 0] == 10
    np.testing.assert_array_equal(d.next_observations[-1], [11, -11, 110])


def test_d4rl_infers_missing_timeouts_like_d4rl(tmp_path):
    write_d4rl(tmp_path / "d.hdf5", drop=("timeouts",), terminals=np.isin(np.arange(N), [1]),
               next_observations=True)
    with pytest.raises(DatasetError, match="timeouts.*max_episode_steps"):
        from_d4rl_hdf5(tmp_path / "d.hdf5")
    d = from_d4rl_hdf5(tmp_path / "d.hdf5", max_episode_steps=4)
    # episode 0-1 terminates; then episodes of 4 steps: 2-5, 6-9, 10-11
    np.testing.assert_array_equal(d.timeouts, np.isin(np.arange(N), [5, 9]))


@pytest.mark.parametrize("replace, drop, message", [
    ({}, ("rewards",), "lacks the D4RL field.*rewards"),
    ({}, ("observations", "actions"), "observations, actions"),
    ({"actions": np.zeros((N - 1, 2))}, (), "'actions' has shape"),
    ({"terminals": np.zeros(N + 1)}, (), "'terminals' has shape"),
    ({"rewards": np.full(N, np.inf)}, (), "rewards holds a non-finite"),
    ({"timeouts": np.full(N, 3)}, (), "timeouts must hold booleans"),
    ({"rewards": np.float32(1.0)}, (), "'rewards' has shape"),
])
def test_d4rl_bad_fields_are_named(tmp_path, replace, drop, message):
    write_d4rl(tmp_path / "d.hdf5", drop=drop, **replace)
    with pytest.raises(DatasetError, match=message):
        from_d4rl_hdf5(tmp_path / "d.hdf5")


def test_d4rl_unreadable_files(tmp_path):
    (tmp_path / "junk.hdf5").write_bytes(b"not hdf5 at all")
    with pytest.raises(DatasetError, match="not a readable HDF5"):
        from_d4rl_hdf5(tmp_path / "junk.hdf5")
    with h5py.File(tmp_path / "group.hdf5", "w") as f:
        f.create_group("observations")
    with pytest.raises(DatasetError, match="'observations' is not an array"):
        from_d4rl_hdf5(tmp_path / "group.hdf5")


def test_missing_minari_dataset_is_not_downloaded(minari_home):
    assert minari_root() == str(minari_home)
    with pytest.raises(FileNotFoundError, match="minari download mujoco/halfcheetah/medium-v0"):
        from_minari("mujoco/halfcheetah/medium-v0")


def test_minari_reader_keeps_flags_apart_and_metadata(minari_home):
    result = collect_small("random", steps=330, dataset_id="test/flags-v0",
                           ref_min_score=-100.0, ref_max_score=300.0)
    d = from_minari("test/flags-v0")
    m = minari.load_dataset("test/flags-v0")
    assert m.total_steps == len(d) == 330
    # 3 environments x 110 steps: two 50-step episodes each, then one cut by the end
    assert m.total_episodes == 9 and result.metadata["policy_returns"]["count"] == 6
    episodes = list(m.iterate_episodes())
    np.testing.assert_array_equal(d.timeouts, np.concatenate([e.truncations for e in episodes]))
    np.testing.assert_array_equal(d.terminals, np.concatenate([e.terminations for e in episodes]))
    assert d.timeouts.sum() == 9 and d.terminals.sum() == 0
    assert d.metadata["ref_min_score"] == -100.0 and d.metadata["source"] == "minari"
    assert d.normalized_score(300.0) == 100.0
    assert from_minari(m).metadata["dataset_id"] == "test/flags-v0"


def test_minari_episode_without_final_flag_gets_a_timeout(minari_home):
    collect_small("random", steps=100, dataset_id="test/open-v0", max_episode_steps=1000)
    path = minari_home / "test" / "open-v0" / "data" / "main_data.hdf5"
    with h5py.File(path, "a") as f:
        f["episode_0/truncations"][-1] = False
    d = from_minari("test/open-v0")
    first = len(minari.load_dataset("test/open-v0")[0])
    assert d.timeouts.sum() == 3 and d.timeouts[first - 1]


@pytest.mark.parametrize("edit, message", [
    (lambda ep: ep.__delitem__("rewards"), "episode 0 is unreadable.*rewards"),
    (lambda ep: _resize(ep, "actions", -1), "episode 0: actions has shape"),
    (lambda ep: _resize(ep, "observations", -2), "episode 0: observations has shape"),
    (lambda ep: _resize(ep, "terminations", 1), "episode 0: terminations has shape"),
])
def test_minari_corrupt_fields_are_named(minari_home, edit, message):
    collect_small("random", steps=60, dataset_id="test/bad-v0")
    with h5py.File(minari_home / "test" / "bad-v0" / "data" / "main_data.hdf5", "a") as f:
        edit(f["episode_0"])
    with pytest.raises(DatasetError, match=message):
        from_minari("test/bad-v0")


def test_minari_corrupt_metadata(minari_home):
    collect_small("random", steps=60, dataset_id="test/meta-v0")
    (minari_home / "test" / "meta-v0" / "data" / "metadata.json").write_text("{broken")
    with pytest.raises(DatasetError, match="cannot be opened"):
        from_minari("test/meta-v0")


def _resize(group, name: str, delta: int) -> None:
    data = group[name][()]
    del group[name]
    rows = len(data) + delta
    group[name] = np.resize(data, (rows, *data.shape[1:]))
