"""Bad input to SimPool / FidelitySpec raises a clear Python exception and harms nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import NOISE, TRUE, assert_steps_fine

from mfhrl_fast import FidelitySpec, SimPool

N = 3


@pytest.fixture
def pool() -> SimPool:
    return SimPool(fidelities=[TRUE, NOISE], fidelity_ids=[0, 1, 0], num_threads=2)


def assert_untouched_and_working(pool: SimPool, state_before) -> None:
    for before, after in zip(state_before, pool.get_state(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert_steps_fine(pool)


def with_bad(value: float, row: int = 2, col: int = 4) -> np.ndarray:
    a = np.zeros((N, 6))
    a[row, col] = value
    return a


def case(case_id: str, error: type[Exception], match: str, *values):
    """One parametrize row: the values, then the expected error and message pattern."""
    return pytest.param(*values, error, match, id=case_id)


@pytest.mark.parametrize(
    ("actions", "error", "match"),
    [
        case("n,5", ValueError, r"actions must have shape \(3, 6\), got \(3, 5\)",
             np.zeros((N, 5))),
        case("n+1,6", ValueError, r"shape \(3, 6\), got \(4, 6\)", np.zeros((N + 1, 6))),
        case("1-D", ValueError, r"shape \(3, 6\), got \(18\)", np.zeros(6 * N)),
        case("3-D", ValueError, r"got \(1, 3, 6\)", np.zeros((1, N, 6))),
        case("empty", ValueError, r"got \(0, 6\)", np.zeros((0, 6))),
        case("strings", TypeError, "actions has dtype <U4", np.full((N, 6), "left")),
            case("numeric strings", TypeError, "actions has dtype", np.full((N, 6), "0.5")),
        case("object", TypeError, "actions has dtype object", object()),
        case("nan", ValueError, "actions must be finite; row 2 holds nan", with_bad(np.nan)),
        case("inf", ValueError, "actions must be finite; row 2 holds inf", with_bad(np.inf)),
        case("-inf", ValueError, "row 0 holds -inf", with_bad(-np.inf, row=0)),
    ],
)
def test_bad_actions(pool, actions, error, match):
    state = pool.get_state()
    with pytest.raises(error, match=match):
        pool.step(actions)
    assert_untouched_and_working(pool, state)


def test_actions_of_other_numeric_dtypes_are_converted(pool):
    """float32 / int / list actions are cast to float64, not rejected."""
    a = np.full((N, 6), 0.5)
    variants = (a, a.astype(np.float32), a.tolist())
    results = [SimPool(fidelities=[TRUE], num_envs=N).step(x)[0] for x in variants]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    assert np.isfinite(pool.step(np.ones((N, 6), dtype=np.int64))[0]).all()


@pytest.mark.parametrize(
    ("qpos_shape", "qvel_shape", "match"),
    [
        ((N, 8), (N, 9), r"qpos must have shape \(3, 9\), got \(3, 8\)"),
        ((N + 1, 9), (N, 9), r"qpos must have shape \(3, 9\), got \(4, 9\)"),
        ((N, 9), (N, 10), r"qvel must have shape \(3, 9\), got \(3, 10\)"),
        ((9,), (9,), r"qpos must have shape \(3, 9\), got \(9\)"),
    ],
)
def test_set_state_bad_shapes(pool, qpos_shape, qvel_shape, match):
    state = pool.get_state()
    with pytest.raises(ValueError, match=match):
        pool.set_state(np.zeros(qpos_shape), np.zeros(qvel_shape))
    assert_untouched_and_working(pool, state)


@pytest.mark.parametrize(
    ("which", "value"), [("qpos", np.nan), ("qvel", np.inf), ("qvel", -np.inf)]
)
def test_set_state_non_finite(pool, which, value):
    state = pool.get_state()
    qpos, qvel = (x.copy() for x in state)
    (qpos if which == "qpos" else qvel)[1, 2] = value
    with pytest.raises(ValueError, match=f"{which} must be finite; row 1"):
        pool.set_state(qpos, qvel)
    assert_untouched_and_working(pool, state)


def test_reset_negative_seed(pool):
    state = pool.get_state()
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        pool.reset(seed=-1)
    assert_untouched_and_working(pool, state)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("gravity_scale", 0.0),
        ("gravity_scale", -1.0),
        ("gravity_scale", np.nan),
        ("gravity_scale", np.inf),
        ("friction_scale", 0.0),
        ("friction_scale", -0.3),
        ("cost", 0.0),
        ("cost", -8.0),
        ("action_noise_std", -0.1),
        ("action_noise_std", np.nan),
        ("frame_skip", -1),
        ("solver_iterations", -1),
        ("ls_iterations", -2),
    ],
)
def test_fidelity_spec_rejects_bad_field(field, value):
    with pytest.raises(ValueError, match=f"FidelitySpec.{field} must be"):
        FidelitySpec(**{field: value})


INTS = "fidelity_ids must be a 1-D sequence of ints"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        case("unknown-id", ValueError, r"fidelity_ids\[1\] = 1 is not a fidelity index in \[0, 1\)",
             {"fidelity_ids": [0, 1]}),
        case("negative-id", ValueError, r"fidelity_ids\[1\] = -1", {"fidelity_ids": [0, -1]}),
        case("float-ids", TypeError, INTS, {"fidelity_ids": [0.0, 1.0]}),
        case("2-D-ids", TypeError, INTS, {"fidelity_ids": [[0, 0]]}),
        case("num_envs-mismatch", ValueError, "num_envs=3 but 2 fidelity_ids",
             {"fidelity_ids": [0, 0], "num_envs": 3}),
        case("no-envs", ValueError, "at least one environment", {"num_envs": 0}),
        case("no-fidelity", ValueError, "at least one fidelity", {"fidelities": []}),
        case("dict-fidelity", TypeError, "fidelities must hold FidelitySpec",
             {"fidelities": [{"gravity_scale": 2.0}]}),
        case("int32", TypeError, "obs_dtype must be float64 or float32, got int32",
             {"obs_dtype": np.int32}),
        case("float16", TypeError, "obs_dtype must be float64 or float32",
             {"obs_dtype": np.float16}),
        case("max-steps", ValueError, "max_episode_steps must be >= 1", {"max_episode_steps": 0}),
        case("reset-noise", ValueError, "reset_noise_scale must be", {"reset_noise_scale": -0.1}),
        case("seed", ValueError, "seed must be >= 0", {"seed": -1}),
    ],
)
def test_bad_pool_config(kwargs, error, match):
    with pytest.raises(error, match=match):
        SimPool(**kwargs)
    assert_steps_fine(SimPool(num_envs=2))


def test_missing_xml_names_the_path(tmp_path):
    path = tmp_path / "no_such_cheetah.xml"
    with pytest.raises((RuntimeError, ValueError), match=f"could not load '{path}'"):
        SimPool(xml_path=str(path))


def test_malformed_xml_names_the_path(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text("<mujoco><worldbody><body></mujoco>")
    with pytest.raises((RuntimeError, ValueError), match=f"could not load '{path}'"):
        SimPool(xml_path=str(path))


CONCURRENT_STEPS = textwrap.dedent(
    """
    import threading
    import numpy as np
    from mfhrl_fast import SimPool

    pool = SimPool(num_envs=8, num_threads=2)
    actions = np.zeros((8, 6))
    refused = []

    def run():
        for _ in range(300):
            try:
                pool.step(actions)
            except RuntimeError as e:  # refusing concurrent use is fine too
                refused.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done", len(refused))
    """
)


def test_concurrent_steps_from_python_threads_do_not_crash():
    try:
        result = subprocess.run(
            [sys.executable, "-c", CONCURRENT_STEPS], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        pytest.fail("concurrent steps deadlocked")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "done" in result.stdout
