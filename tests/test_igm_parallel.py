"""mfhrl_fast.igm.parallel: parallel_map over the serial, local-pool and Ray backends."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mfhrl_fast.igm.parallel import BACKENDS, ParallelConfig, ParallelTaskError, parallel_map

from parallel_tasks import fail_on_three, meet, square

ITEMS = [5, 1, 4, 2, 0, 3]
# Distinct from every default a worker could start with (1 under Ray and conftest, the
# core count in a fresh process), so the test sees whether the worker pinned the threads.
THREADS = 3


@pytest.fixture(scope="module")
def ray_session():
    """A local 2-CPU Ray instance for this module; tests/ is on its workers' PYTHONPATH so
    they can import parallel_tasks."""
    ray = pytest.importorskip("ray")
    tests_dir = str(Path(__file__).resolve().parent)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": tests_dir}})
    yield ray
    ray.shutdown()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Each backend name; "ray" brings up the module's Ray instance (or skips without Ray)."""
    if request.param == "ray":
        request.getfixturevalue("ray_session")
    return request.param


def torch_threads() -> int | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def test_results_in_item_order_equal_to_serial_with_pinned_threads(backend):
    threads_before = torch_threads()
    config = ParallelConfig(backend=backend, workers=2, threads_per_worker=THREADS)
    results = parallel_map(square, ITEMS, config)
    assert [value for _, value, _ in results] == [x * x for x in ITEMS]
    serial = parallel_map(square, ITEMS, ParallelConfig(backend="serial"))
    assert [r[1:2] for r in results] == [r[1:2] for r in serial]
    if threads_before is not None:
        assert {threads for _, _, threads in results} == {THREADS}
        assert torch_threads() == threads_before  # serial restores this process's count


@pytest.mark.parametrize("name", ["local", "ray"])
def test_two_workers_run_at_once(name, request, tmp_path):
    if name == "ray":
        request.getfixturevalue("ray_session")
    pids = parallel_map(meet, [(str(tmp_path), 2)] * 2, ParallelConfig(backend=name, workers=2))
    assert len(set(pids)) == 2 and os.getpid() not in pids


def test_task_error_names_the_item_index(backend):
    config = ParallelConfig(backend=backend, workers=2)
    with pytest.raises(ParallelTaskError, match=r"item 4 failed: .*three is not allowed") as info:
        parallel_map(fail_on_three, [0, 1, 2, 4, 3, 5], config)
    assert info.value.index == 4
    assert isinstance(info.value.__cause__, ValueError)


def test_on_result_called_once_per_item(backend):
    calls: list[tuple[int, object]] = []
    config = ParallelConfig(backend=backend, workers=2)
    results = parallel_map(fail_on_three, [0, 1, 2], config,
                           on_result=lambda i, r: calls.append((i, r)))
    assert results == [0, 1, 2]
    assert sorted(calls) == [(0, 0), (1, 1), (2, 2)]


def test_empty_items_start_nothing():
    calls = []
    assert parallel_map(square, [], ParallelConfig(backend="ray", ray_address="ray://nowhere:1"),
                        on_result=lambda *a: calls.append(a)) == []
    assert calls == []


def test_ray_session_started_elsewhere_is_not_shut_down(ray_session):
    config = ParallelConfig(backend="ray", ray_address="ray://ignored-when-initialised:1")
    assert parallel_map(fail_on_three, [7], config, shutdown=True) == [7]
    assert ray_session.is_initialized()


class FakeRay:
    """Records how parallel_map initialises and shuts down Ray, then stops it at ray.remote."""

    def __init__(self, initialized: bool) -> None:
        self.initialized, self.calls = initialized, []

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs) -> None:
        self.calls.append(("init", kwargs))
        self.initialized = True

    def remote(self, **kwargs):
        raise RuntimeError("fake ray stops here")

    def shutdown(self) -> None:
        self.calls.append(("shutdown", {}))


LOCAL_INSTANCE = {"num_cpus": 2, "include_dashboard": False, "log_to_driver": False}


@pytest.mark.parametrize(("initialized", "address", "shutdown", "init", "shut_down"), [
    (False, None, True, LOCAL_INSTANCE, True),
    (False, None, False, LOCAL_INSTANCE, False),
    (False, "auto", True, {"address": "auto", "log_to_driver": False}, True),
    (True, "auto", True, None, False),  # a session started elsewhere is left alone
])
def test_ray_init_and_shutdown(monkeypatch, initialized, address, shutdown, init, shut_down):
    fake = FakeRay(initialized)
    monkeypatch.setitem(sys.modules, "ray", fake)
    config = ParallelConfig(backend="ray", workers=2, ray_address=address)
    with pytest.raises(RuntimeError, match="fake ray stops here"):
        parallel_map(square, [1], config, shutdown=shutdown)
    inits = [kwargs for name, kwargs in fake.calls if name == "init"]
    assert len(inits) == (init is not None)
    assert [name for name, _ in fake.calls].count("shutdown") == shut_down
    if init is not None:
        assert init.items() <= inits[0].items()
        assert ("num_cpus" in inits[0]) == (address is None)  # a cluster has its own CPUs


def test_missing_ray_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match="pip install ray"):
        parallel_map(square, [1], ParallelConfig(backend="ray"))


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"backend": "dask"}, ValueError, "backend must be one of"),
    ({"workers": 0}, ValueError, "workers must be >= 1"),
    ({"workers": 2.0}, TypeError, "workers must be an int"),
    ({"workers": True}, TypeError, "workers must be an int"),
    ({"threads_per_worker": 0}, ValueError, "threads_per_worker must be >= 1"),
    ({"ray_address": ""}, TypeError, "ray_address must be None or a non-empty string"),
    ({"ray_address": 6379}, TypeError, "ray_address must be None or a non-empty string"),
    ({"ray_num_cpus_per_task": 0}, ValueError, "ray_num_cpus_per_task must be finite and > 0"),
    ({"ray_num_cpus_per_task": float("nan")}, ValueError, "must be finite"),
    ({"ray_num_cpus_per_task": "1"}, TypeError, "ray_num_cpus_per_task must be a number"),
])
def test_bad_config_is_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        ParallelConfig(**kwargs)


def test_parallel_map_checks_its_arguments():
    with pytest.raises(TypeError, match="config must be a ParallelConfig"):
        parallel_map(square, [1], {"backend": "serial"})
    with pytest.raises(TypeError, match="fn must be callable"):
        parallel_map(None, [1], ParallelConfig(backend="serial"))


def test_workers_default_to_the_cpu_count():
    assert ParallelConfig().num_workers == (os.cpu_count() or 1)
    assert ParallelConfig(workers=3).num_workers == 3
