"""Fuzzing of every C++ binding (hypothesis): random shapes, dtypes, NaN/Inf, non-contiguous
and wrong-typed inputs. Every call returns or raises a Python exception of the binding's
boundary (ValueError, TypeError, OverflowError, MemoryError, or a MuJoCo RuntimeError); a
crash would kill the test process. After each call the object still works: a valid call afterwards
returns what it returns on a fresh object."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfhrl_fast import _core, half_cheetah_xml

ALLOWED = (ValueError, TypeError, OverflowError, RuntimeError, MemoryError)
SIZES = st.one_of(st.integers(-3, 4096), st.sampled_from([2**40, 2**62, 2**63 - 1, 2**64]))
"""Batch sizes and capacities: small, or far too large to allocate (refused at once with
MemoryError or ValueError). Sizes in between (~1e8-1e10 rows) are not fuzzed: the kernel
grants such allocations lazily and the machine runs out of memory as they are filled, as
with any NumPy array of that size."""
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
DTYPES = [np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_, np.complex64]
SPECIAL = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e300, -1e300, 1e-320]


@st.composite
def arrays(draw, max_dims: int = 3, max_side: int = 6):
    """An array of random shape and dtype with special values, possibly non-contiguous."""
    shape = tuple(draw(st.lists(st.integers(0, max_side), max_size=max_dims)))
    dtype = draw(st.sampled_from(DTYPES))
    size = int(np.prod(shape)) if shape else 1
    values = draw(st.lists(st.one_of(st.sampled_from(SPECIAL), st.floats(-1e3, 1e3)),
                           min_size=size, max_size=size))
    with np.errstate(all="ignore"):
        a = np.asarray(values, dtype=np.float64).reshape(shape).astype(dtype)
    if a.ndim >= 1 and draw(st.booleans()):  # a strided view of a bigger array
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    if a.ndim >= 2 and draw(st.booleans()):
        a = a.swapaxes(0, 1)
    return a


def anything():
    """An array, or a value of another type altogether."""
    return st.one_of(arrays(), st.none(), st.text(max_size=3), st.integers(-10, 10),
                     st.floats(allow_nan=True), st.lists(st.text(max_size=2), max_size=3),
                     st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


def call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ALLOWED:
        return None


@pytest.fixture(scope="module")
def pool():
    levels = list(_core.paper_ladder())
    return _core.SimPool(xml_path=half_cheetah_xml(), fidelities=levels, fidelity_ids=[0, 3],
                         num_threads=2, seed=0, max_episode_steps=20)


def _pool_still_works(pool) -> None:
    pool.seed(7)
    first = pool.reset()
    pool.seed(7)
    np.testing.assert_array_equal(pool.reset(), first)
    out = pool.step(np.zeros((pool.num_envs, pool.act_dim)))
    assert np.isfinite(out[0]).all()


@SETTINGS
@given(actions=anything(), qpos=anything(), qvel=anything(), seed=st.integers(-2**70, 2**70))
def test_simpool_methods_survive_any_input(pool, actions, qpos, qvel, seed):
    call(pool.step, actions)
    call(pool.set_state, qpos, qvel)
    call(pool.seed, seed)
    call(pool.step, actions, replay="not a ring")
    _pool_still_works(pool)


@settings(max_examples=40, deadline=None)
@given(num_threads=st.integers(-3, 3), seed=st.integers(-2**65, 2**65),
       steps=st.integers(-3, 3), frame_skip=st.integers(-2, 3),
       noise=st.sampled_from([0.1, -1.0, np.nan, np.inf]), ids=st.lists(st.integers(-2, 5),
                                                                        max_size=3),
       dtype=st.sampled_from([np.float32, np.float64, np.int32, "f8", None]))
def test_simpool_constructor_rejects_bad_arguments(num_threads, seed, steps, frame_skip,
                                                   noise, ids, dtype):
    kwargs = {"xml_path": half_cheetah_xml(), "fidelities": list(_core.paper_ladder()),
              "fidelity_ids": ids, "num_threads": num_threads, "seed": seed,
              "max_episode_steps": steps, "frame_skip": frame_skip,
              "reset_noise_scale": noise}
    if dtype is not None:
        kwargs["obs_dtype"] = dtype
    made = call(_core.SimPool, **kwargs)
    if made is not None:
        _pool_still_works(made)


def _ring(members: int = 2) -> _core.ReplayRing:
    return _core.ReplayRing(capacity=16, obs_dim=3, act_dim=2, num_members=members,
                            mask_prob=0.5, seed=0)


def _valid_add(ring, n: int = 4) -> None:
    ring.add(obs=np.zeros((n, 3), np.float32), action=np.zeros((n, 2), np.float32),
             reward=np.zeros(n, np.float32), next_obs=np.zeros((n, 3), np.float32),
             terminated=np.zeros(n, bool), truncated=np.zeros(n, bool),
             fidelity=np.zeros(n, np.uint8))


FIELDS = ("obs", "action", "reward", "next_obs", "terminated", "truncated", "fidelity", "mask")


@SETTINGS
@given(fields=st.fixed_dictionaries({k: anything() for k in FIELDS}),
       drop=st.sets(st.sampled_from(FIELDS)), batch=SIZES,
       fidelities=st.one_of(st.none(), st.lists(st.integers(-300, 300), max_size=3), anything()),
       member=st.integers(-5, 5))
def test_replay_ring_methods_survive_any_input(fields, drop, batch, fidelities, member):
    ring = _ring()
    _valid_add(ring)
    call(ring.add, **{k: v for k, v in fields.items() if k not in drop})
    call(ring.sample, batch, fidelities=fidelities)
    call(ring.sample_members, batch, fidelities=fidelities)
    call(ring.sample, 4, out=fields)
    call(ring.member_count, member, fidelities)
    call(ring.empty_batch, batch)
    call(ring.reseed, batch)
    if not isinstance(fields["obs"], str):  # a string would be a file name: a valid call
        call(ring.save, fields["obs"])
    # still works: a fresh ring given the same valid calls samples the same batch
    ring.reseed(3)
    fresh = _ring()
    _valid_add(fresh)
    fresh.reseed(3)
    if len(ring) == len(fresh):
        mine = ring.sample(4)
        for key, value in fresh.sample(4).items():
            np.testing.assert_array_equal(mine[key], value)
    else:
        assert len(ring.sample(4)["obs"]) == 4


@settings(max_examples=60, deadline=None)
@given(capacity=SIZES, obs=st.integers(-2, 4), act=st.integers(-2, 4),
       members=st.integers(-2, 70), p=st.sampled_from([0.5, 0.0, 1.5, -1.0, np.nan]),
       threads=st.integers(-2, 3))
def test_replay_ring_constructor_rejects_bad_arguments(capacity, obs, act, members, p, threads):
    ring = call(_core.ReplayRing, capacity=capacity, obs_dim=obs, act_dim=act,
                num_members=members, mask_prob=p, seed=0, num_threads=threads)
    if ring is not None and capacity <= 64 and obs > 0 and act > 0:
        assert len(ring) == 0


@SETTINGS
@given(p=anything(), counts=anything(), x=anything(), y=anything(),
       estimator=st.sampled_from(["plugin", "miller_madow", "bogus", ""]),
       base=st.sampled_from([None, 2.0, 0.0, -1.0, np.nan, 1.0]),
       threads=st.sampled_from([None, 1, 0, -1, 2]))
def test_info_estimators_survive_any_input(p, counts, x, y, estimator, base, threads):
    info = _core.info
    call(info.entropy, p, base=base, num_threads=threads)
    call(info.entropy_counts, counts, estimator=estimator, base=base, num_threads=threads)
    call(info.mutual_information, x, y, estimator=estimator, base=base, num_threads=threads)
    np.testing.assert_allclose(info.entropy(np.array([[0.5, 0.5]]), base=2.0), [1.0])
    assert info.mutual_information(np.array([0, 1, 0, 1]), np.array([0, 1, 0, 1]),
                                   base=2.0) == pytest.approx(1.0)


@SETTINGS
@given(log_p=anything(), losses=anything(), histories=st.lists(anything(), max_size=3),
       eta=st.one_of(st.sampled_from(["auto", "bogus", 1.0, 0.0, -1.0, np.nan, np.inf]),
                     st.floats(allow_nan=True)),
       eta0=st.sampled_from([1.0, 0.0, -1.0, np.nan]), ig=anything(), costs=anything(),
       budget=st.floats(allow_nan=True, allow_infinity=True),
       c=st.sampled_from([1.0, 0.0, -1.0, np.nan]))
def test_igm_equations_survive_any_input(log_p, losses, histories, eta, eta0, ig, costs,
                                         budget, c):
    info = _core.info
    call(info.posterior_update, log_p, losses, eta=eta, eta0=eta0)
    call(info.information_gain, log_p, histories, eta=eta, eta0=eta0)
    call(info.choose_fidelity, ig, costs, budget, c=c)
    new, _ = info.posterior_update(np.log(np.full(2, 0.5)), np.array([0.0, 0.0]), eta=1.0)
    np.testing.assert_allclose(np.exp(new), [0.5, 0.5])
    assert info.choose_fidelity(np.array([1.0, 5.0]), np.array([1.0, 2.0]), 10.0) in (0, 1)


@st.composite
def layer_norm_arrays(draw):
    """The fused LayerNorm's arrays with consistent shapes (members, rows, dim), each of them
    possibly replaced by anything, or made float64, strided or read-only."""
    m, n, d = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 70))
    shapes = {"x": (m, n, d), "dy": (m, n, d), "y": (m, n, d), "dx": (m, n, d),
              "scale": (m, d), "shift": (m, d), "bias": (m, d), "dbias": (m, d),
              "dscale": (m, d), "dshift": (m, d), "mean": (m, n), "rstd": (m, n)}
    out = {}
    for name, shape in shapes.items():
        start = draw(st.one_of(st.sampled_from(SPECIAL), st.floats(-1e3, 1e3)))
        with np.errstate(all="ignore"):  # 1e300 becomes inf in float32
            a = (start + np.arange(np.prod(shape))).astype(np.float32).reshape(shape)
        change = draw(st.sampled_from(["none"] * 6 + ["other", "float64", "strided", "frozen"]))
        if change == "other":
            a = draw(anything())
        elif change == "float64":
            a = a.astype(np.float64)
        elif change == "strided":
            a = np.repeat(a, 2, axis=-1)[..., ::2]
        elif change == "frozen":
            a.flags.writeable = False
        out[name] = a
    return out


@SETTINGS
@given(arrays=layer_norm_arrays(), eps=st.sampled_from([1e-5, 0.0, -1.0, np.nan]),
       threads=st.sampled_from([None, 1, 0, 2]), drop=st.sets(st.sampled_from(
           ["bias", "dx", "dbias", "dscale", "dshift"])))
def test_fused_layer_norm_survives_any_input(arrays, eps, threads, drop):
    nn = _core.nn
    a = {k: (None if k in drop else v) for k, v in arrays.items()}
    call(nn.layer_norm_relu_forward, a["x"], a["scale"], a["shift"], a["y"], a["mean"],
         a["rstd"], bias=a["bias"], eps=eps, num_threads=threads)
    call(nn.layer_norm_relu_backward, a["dy"], a["x"], a["scale"], a["shift"], a["mean"],
         a["rstd"], bias=a["bias"], dx=a["dx"], dbias=a["dbias"], dscale=a["dscale"],
         dshift=a["dshift"], num_threads=threads)
    x, vec = np.linspace(-1, 1, 16, dtype=np.float32).reshape(1, 2, 8), np.ones((1, 8), np.float32)
    y, stats = np.empty_like(x), np.empty((1, 2), np.float32)
    nn.layer_norm_relu_forward(x, vec, 0 * vec, y, stats, stats.copy())
    z = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, np.maximum(z, 0), atol=1e-5)
