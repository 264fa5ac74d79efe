"""OfflineDataset: validation, episodes and statistics, replay loading, npz, normalized score."""

from __future__ import annotations

import numpy as np
import pytest

from mfhrl_fast import ReplayRing
from mfhrl_fast.data import (
    D4RL_HALFCHEETAH_REF_MAX_SCORE,
    D4RL_HALFCHEETAH_REF_MIN_SCORE,
    DatasetError,
    OfflineDataset,
    from_npz,
    normalized_score,
    to_npz,
)


def make_arrays(n: int = 10, obs_dim: int = 3, act_dim: int = 2, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    timeouts = np.zeros(n, dtype=bool)
    terminals = np.zeros(n, dtype=bool)
    timeouts[3], terminals[6] = True, True  # episodes 0-3, 4-6, 7-9 (trailing, unflagged)
    return dict(observations=rng.normal(size=(n, obs_dim)),
                actions=rng.uniform(-1, 1, (n, act_dim)), rewards=np.arange(n, dtype=np.float64),
                next_observations=rng.normal(size=(n, obs_dim)), terminals=terminals,
                timeouts=timeouts)


def test_arrays_become_float32_and_bool():
    arrays = make_arrays()
    arrays["terminals"] = arrays["terminals"].astype(np.float64)
    arrays["rewards"] = arrays["rewards"][:, None]  # (N, 1) as some D4RL files store them
    d = OfflineDataset(**arrays)
    for name in ("observations", "actions", "rewards", "next_observations"):
        assert getattr(d, name).dtype == np.float32, name
    assert d.terminals.dtype == bool and d.timeouts.dtype == bool
    assert d.rewards.shape == (10,) and len(d) == 10 and (d.obs_dim, d.act_dim) == (3, 2)
    assert "N=10" in repr(d)


@pytest.mark.parametrize("field, value, message", [
    ("actions", np.zeros((9, 2)), "actions has shape"),
    ("next_observations", np.zeros((10, 4)), "next_observations has shape"),
    ("rewards", np.zeros((10, 2)), "rewards has shape"),
    ("terminals", np.zeros(11, dtype=bool), "terminals has shape"),
    ("timeouts", np.full(10, 2), "timeouts must hold booleans"),
    ("observations", np.zeros(10), "observations has shape"),
    ("rewards", np.full(10, np.nan), "rewards holds a non-finite"),
    ("actions", np.full((10, 2), "a"), "actions must be numeric"),
    ("next_observations", None, "next_observations is missing"),
])
def test_bad_fields_are_named(field, value, message):
    arrays = make_arrays() | {field: value}
    with pytest.raises(DatasetError, match=message):
        OfflineDataset(**arrays)


def test_episodes_returns_and_state_statistics():
    d = OfflineDataset(**make_arrays())
    np.testing.assert_array_equal(d.episode_ends(), [3, 6, 9])
    np.testing.assert_array_equal(d.episode_returns(), [0 + 1 + 2 + 3, 4 + 5 + 6, 7 + 8 + 9])
    s = d.summary()
    assert (s.transitions, s.episodes, s.terminals, s.timeouts) == (10, 3, 1, 1)
    assert s.return_mean == pytest.approx(15.0) and s.return_max == 24.0 and s.return_min == 6.0
    assert s.return_std == pytest.approx(np.std([6, 15, 24]))
    np.testing.assert_allclose(s.state_std, d.observations.astype(np.float64).std(0))
    np.testing.assert_allclose(s.state_mean, d.observations.astype(np.float64).mean(0))
    assert s.normalized_return_mean == pytest.approx(normalized_score(15.0))
    with pytest.raises(DatasetError, match="empty"):
        OfflineDataset(**{k: v[:0] for k, v in make_arrays().items()}).summary()


def test_returns_to_go_stop_at_every_episode_end():
    d = OfflineDataset(**make_arrays())  # rewards 0..9; episodes 0-3 (timeout), 4-6, 7-9
    g = 0.5
    expected = [0 + g * (1 + g * (2 + g * 3)), 1 + g * (2 + g * 3), 2 + g * 3, 3,
                4 + g * (5 + g * 6), 5 + g * 6, 6, 7 + g * (8 + g * 9), 8 + g * 9, 9]
    to_go = d.returns_to_go(g)
    assert to_go.dtype == np.float32
    np.testing.assert_allclose(to_go, expected, rtol=1e-6)
    np.testing.assert_allclose(d.returns_to_go(1.0)[[0, 4, 7]], d.episode_returns())
    with pytest.raises(ValueError, match="gamma"):
        d.returns_to_go(1.5)


def test_to_replay_holds_every_transition_with_masks():
    d = OfflineDataset(**make_arrays(n=400, seed=1))
    ring = d.to_replay(num_members=4, mask_prob=0.5, seed=3, fidelity=2)
    assert len(ring) == ring.capacity == 400 and ring.num_members == 4
    batch = ring.sample(2000)
    rows = {tuple(o): i for i, o in enumerate(d.observations)}
    index = np.array([rows[tuple(o)] for o in batch["obs"]])
    np.testing.assert_array_equal(batch["action"], d.actions[index])
    np.testing.assert_array_equal(batch["reward"], d.rewards[index])
    np.testing.assert_array_equal(batch["next_obs"], d.next_observations[index])
    np.testing.assert_array_equal(batch["terminated"].astype(bool), d.terminals[index])
    np.testing.assert_array_equal(batch["truncated"].astype(bool), d.timeouts[index])
    assert (batch["fidelity"] == 2).all()
    counts = [ring.member_count(m) for m in range(4)]
    assert all(140 < c < 260 for c in counts), counts  # Bernoulli(0.5) of 400
    again = d.to_replay(num_members=4, mask_prob=0.5, seed=3)
    assert [again.member_count(m) for m in range(4)] == counts


def test_add_to_replay_with_given_masks_and_room_checks():
    d = OfflineDataset(**make_arrays())
    ring = ReplayRing(capacity=25, obs_dim=3, act_dim=2, num_members=2)
    mask = np.zeros((10, 2), dtype=bool)
    mask[:, 1] = True
    d.add_to_replay(ring, mask=mask)
    assert (ring.member_count(0), ring.member_count(1)) == (0, 10)
    d.add_to_replay(ring)
    with pytest.raises(ValueError, match="room for 5"):
        d.add_to_replay(ring)
    with pytest.raises(ValueError, match="obs_dim"):
        d.add_to_replay(ReplayRing(capacity=10, obs_dim=4, act_dim=2))
    assert len(d.to_replay(capacity=50)) == 10


def test_npz_round_trip(tmp_path):
    d = OfflineDataset(**make_arrays(), metadata={"source": "test", "ref_min_score": 0.0,
                                                  "nested": {"seeds": np.arange(2)}})
    for compressed in (False, True):
        path = tmp_path / f"d{compressed}.npz"
        to_npz(d, path, compressed=compressed)
        back = from_npz(path)
        for name in ("observations", "actions", "rewards", "next_observations", "terminals",
                     "timeouts"):
            np.testing.assert_array_equal(getattr(back, name), getattr(d, name), err_msg=name)
        assert back.metadata == {"source": "test", "ref_min_score": 0.0,
                                 "nested": {"seeds": [0, 1]}}


def test_npz_missing_or_bad_fields(tmp_path):
    arrays = {k: v for k, v in make_arrays().items() if k != "timeouts"}
    np.savez(tmp_path / "a.npz", **arrays)
    with pytest.raises(DatasetError, match="timeouts"):
        from_npz(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", **(make_arrays() | {"rewards": np.zeros(3)}))
    with pytest.raises(DatasetError, match="rewards has shape"):
        from_npz(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", **make_arrays(), metadata=np.array("{not json"))
    with pytest.raises(DatasetError, match="metadata"):
        from_npz(tmp_path / "c.npz")


def test_normalized_score_constants_and_dataset_references():
    assert normalized_score(D4RL_HALFCHEETAH_REF_MIN_SCORE) == 0.0
    assert normalized_score(D4RL_HALFCHEETAH_REF_MAX_SCORE) == pytest.approx(100.0)
    # CORL's CQL medium-replay score 45.0 is a return of about 5306
    assert normalized_score(5306.5) == pytest.approx(45.0, abs=0.01)
    np.testing.assert_allclose(normalized_score([-280.178953, 12135.0]), [0.0, 100.0])
    own = OfflineDataset(**make_arrays(), metadata={"ref_min_score": 0.0, "ref_max_score": 50.0})
    assert own.normalized_score(25.0) == 50.0
    assert normalized_score(25.0, own, ref_max_score=100.0) == 25.0
    plain = OfflineDataset(**make_arrays())
    assert plain.normalized_score(12135.0) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="differ"):
        normalized_score(1.0, ref_min_score=1.0, ref_max_score=1.0)
