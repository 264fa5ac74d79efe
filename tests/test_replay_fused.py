"""SimPool.step(actions, replay=ring): the C++ core stores what a Python loop would."""

from __future__ import annotations

import numpy as np
import pytest

from mfhrl_fast import FidelitySpec, ReplayRing, SimPool

FIDELITIES = (FidelitySpec(), FidelitySpec(gravity_scale=2.0, action_noise_std=0.3))
FIDELITY_IDS = [0, 1, 1, 0, 1]


def make_pool(**kwargs) -> SimPool:
    config = {
        "fidelities": FIDELITIES,
        "fidelity_ids": FIDELITY_IDS,
        "max_episode_steps": 5,
        "seed": 17,
    }
    config.update(kwargs)
    return SimPool(**config)


def make_ring(pool: SimPool, capacity: int = 1000, seed: int = 4) -> ReplayRing:
    return ReplayRing(
        capacity=capacity, obs_dim=pool.obs_dim, act_dim=pool.act_dim, num_members=5, seed=seed
    )


def python_add(ring, obs_prev, actions, reward, terminated, truncated, info, fidelity_ids):
    keep = ~info["unstable"]
    ring.add(
        obs=obs_prev[keep],
        action=actions[keep],
        reward=reward[keep],
        next_obs=info["final_obs"][keep],
        terminated=terminated[keep],
        truncated=truncated[keep],
        fidelity=np.asarray(fidelity_ids)[keep],
    )


def assert_rings_equal(a: ReplayRing, b: ReplayRing, rh) -> None:
    """Equal counters, and equal rows, masks and member lists (sampled with equal seeds)."""
    assert len(a) == len(b)
    assert a.total_added == b.total_added
    for member in range(a.num_members):
        assert a.member_count(member) == b.member_count(member)
        for fid in (0, 1):
            assert a.member_count(member, fidelities=[fid]) == b.member_count(
                member, fidelities=[fid]
            )
    size = 40 * len(a)  # enough draws to see every stored row
    x, y = rh.copy_batch(a.sample(size)), rh.copy_batch(b.sample(size))
    rh.assert_batches_equal(x, y)
    assert len(np.unique(x["obs"], axis=0)) == len(a)  # every stored row was compared
    rh.assert_batches_equal(a.sample_members(size // 4), b.sample_members(size // 4))


@pytest.mark.parametrize("obs_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("num_threads", [1, 2])
@pytest.mark.parametrize("capacity", [1000, 23])  # 23: the fused adds wrap around
def test_fused_store_matches_python_loop(rh, obs_dtype, num_threads, capacity):
    fused = make_pool(obs_dtype=obs_dtype, num_threads=num_threads)
    loop = make_pool(obs_dtype=obs_dtype, num_threads=1)
    ring_fused, ring_loop = make_ring(fused, capacity), make_ring(loop, capacity)
    obs_fused, obs_loop = fused.reset(seed=3), loop.reset(seed=3)
    np.testing.assert_array_equal(obs_fused, obs_loop)
    rng = np.random.default_rng(0)
    resets = 0
    steps = 13  # max_episode_steps=5: two auto-resets per env
    for _ in range(steps):
        actions = rng.uniform(-1.5, 1.5, size=(fused.num_envs, fused.act_dim))  # beyond [-1, 1]
        out_fused = fused.step(actions, replay=ring_fused)
        out_loop = loop.step(actions)
        for x, y in zip(out_fused[:4], out_loop[:4], strict=True):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(out_fused[4]["final_obs"], out_loop[4]["final_obs"])
        assert not out_loop[4]["unstable"].any()
        resets += int(out_loop[3].sum())
        python_add(ring_loop, obs_loop, actions, *out_loop[1:], loop.fidelity_ids)
        obs_loop = out_loop[0]
        assert ring_fused.total_added == ring_loop.total_added
    assert resets == 2 * fused.num_envs
    assert ring_fused.total_added == steps * fused.num_envs
    assert_rings_equal(ring_fused, ring_loop, rh)


def test_fused_rows_hold_the_right_fields(rh):
    # Beyond equality with the loop: check the stored fields directly, in env order.
    pool = make_pool()
    ring = make_ring(pool)
    obs = pool.reset()
    actions = np.linspace(-1.2, 1.2, pool.num_envs * pool.act_dim).reshape(pool.num_envs, -1)
    expected = []
    for step in range(6):
        nxt, reward, terminated, truncated, info = pool.step(actions + step / 10, replay=ring)
        for i in range(pool.num_envs):
            expected.append((obs[i], actions[i] + step / 10, reward[i], info["final_obs"][i],
                             terminated[i], truncated[i], pool.fidelity_ids[i]))
        obs = nxt
    rows = {}
    batch = ring.sample(4000)
    for j in range(4000):
        rows[batch["obs"][j].tobytes()] = {k: batch[k][j].copy() for k in rh.FIELDS}
    assert len(rows) == len(expected) == len(ring)
    truncations = 0
    for o, a, r, nxt_obs, te, tr, fid in expected:
        row = rows[np.float32(o).tobytes()]
        np.testing.assert_array_equal(row["action"], np.float32(a))  # as given, without noise
        assert row["reward"] == np.float32(r)
        np.testing.assert_array_equal(row["next_obs"], np.float32(nxt_obs))
        assert row["terminated"] == np.float32(te) and row["truncated"] == np.float32(tr)
        assert row["fidelity"] == fid
        truncations += int(tr)
    assert truncations == pool.num_envs  # the time limit (5 steps) was stored as truncated


def test_mismatched_ring_raises_and_leaves_pool_and_ring_alone():
    pool = make_pool()
    pool.reset()
    qpos, qvel = pool.get_state()
    actions = np.zeros((pool.num_envs, pool.act_dim))
    for obs_dim, act_dim in ((pool.obs_dim - 1, pool.act_dim), (pool.obs_dim, pool.act_dim + 1)):
        ring = ReplayRing(capacity=10, obs_dim=obs_dim, act_dim=act_dim)
        with pytest.raises(ValueError, match="obs_dim"):
            pool.step(actions, replay=ring)
        assert len(ring) == 0 and ring.total_added == 0
    qpos2, qvel2 = pool.get_state()
    np.testing.assert_array_equal(qpos, qpos2)  # the pool was not stepped
    np.testing.assert_array_equal(qvel, qvel2)


@pytest.mark.parametrize("bad", [object(), "ring", 3, {"obs": np.zeros(3)}])
def test_non_ring_replay_raises_type_error(bad):
    pool = make_pool()
    with pytest.raises(TypeError):
        pool.step(np.zeros((pool.num_envs, pool.act_dim)), replay=bad)


def test_bad_actions_with_replay_store_nothing():
    pool = make_pool()
    ring = make_ring(pool)
    with pytest.raises(ValueError):
        pool.step(np.zeros((pool.num_envs + 1, pool.act_dim)), replay=ring)
    actions = np.zeros((pool.num_envs, pool.act_dim))
    actions[2, 1] = np.nan
    with pytest.raises(ValueError):
        pool.step(actions, replay=ring)
    assert len(ring) == 0


def test_unstable_step_is_not_stored(rh):
    fused, loop = make_pool(), make_pool()
    ring_fused, ring_loop = make_ring(fused), make_ring(loop)
    rng = np.random.default_rng(5)
    obs = {}
    for pool in (fused, loop):
        obs[id(pool)] = pool.reset(seed=1)
    for step in range(7):
        actions = rng.uniform(-1, 1, size=(fused.num_envs, fused.act_dim))
        unstable_env = {2: 1, 4: 3}.get(step)  # env 1 (fidelity 1), then env 3 (fidelity 0)
        if unstable_env is not None:
            for pool in (fused, loop):
                qpos, qvel = pool.get_state()
                qvel[unstable_env] = 1e8
                obs[id(pool)] = pool.set_state(qpos, qvel)
        before = len(ring_fused)
        out_fused = fused.step(actions, replay=ring_fused)
        out_loop = loop.step(actions)
        unstable = out_loop[4]["unstable"]
        np.testing.assert_array_equal(out_fused[4]["unstable"], unstable)
        if unstable_env is None:
            assert not unstable.any()
            assert len(ring_fused) == before + fused.num_envs
        else:
            assert np.flatnonzero(unstable).tolist() == [unstable_env]
            assert len(ring_fused) == before + fused.num_envs - 1
        python_add(ring_loop, obs[id(loop)], actions, *out_loop[1:], loop.fidelity_ids)
        obs[id(fused)], obs[id(loop)] = out_fused[0], out_loop[0]
    assert ring_fused.total_added == 7 * fused.num_envs - 2
    assert_rings_equal(ring_fused, ring_loop, rh)
    # No stored row holds a non-finite value or the unstable envs' diverged state.
    rows = rh.copy_batch(ring_fused.sample(4000))
    for key in ("obs", "next_obs", "reward"):
        assert np.isfinite(rows[key]).all()
    assert np.abs(rows["next_obs"]).max() < 1e6
