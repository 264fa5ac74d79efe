"""Run independent jobs in parallel: serially, in a local process pool or as Ray tasks.

``mfhrl-fast compare`` runs one experiment per (strategy, budget, seed); the runs share
nothing, so :func:`parallel_map` applies a picklable top-level function to picklable
items and returns the results in the order of the items::

    results = parallel_map(run_one, configs, ParallelConfig(backend="local", workers=2),
                           on_result=lambda i, r: print(f"run {i} done"))

Backends (:data:`BACKENDS`):

* ``"serial"``: a plain loop in this process (debugging, profiling, 1 core).
* ``"local"``: a :class:`concurrent.futures.ProcessPoolExecutor` with the "spawn" start
  method (forking a process that already runs torch or MuJoCo threads can deadlock).
  Spawned workers get this process's ``sys.path``, so ``fn`` may live in any module this
  process can import; it must not be defined in an interactive ``__main__``.
* ``"ray"``: one Ray task per item, on the Ray instance this process is already connected
  to, else on a new local instance (``ray_address=None``) or an existing cluster
  (``"auto"``, ``"ray://host:port"``). Ray pickles module-level functions by reference:
  the module of ``fn`` must be importable on the workers (installed there, e.g. this
  package), or be registered with ``ray.cloudpickle.register_pickle_by_value``.

The runs are CPU-bound PyTorch jobs: each worker pins torch to
``threads_per_worker`` threads (and sets ``OMP_NUM_THREADS``) before running ``fn``,
so ``workers * threads_per_worker`` should not exceed the cores. torch is imported only
inside the workers, and only if it is installed.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

BACKENDS = ("serial", "local", "ray")

OnResult = Callable[[int, Any], None]


class ParallelTaskError(RuntimeError):
    """``fn`` raised ``error`` on item ``index``. It is raised from the original exception
    (for Ray, from the ``RayTaskError`` that carries the remote traceback and is also an
    instance of the original exception's type)."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(f"task for item {index} failed: {type(error).__name__}: {error}")
        self.index = index


@dataclass(frozen=True)
class ParallelConfig:
    """How :func:`parallel_map` spreads the items."""

    backend: str = "local"
    """One of :data:`BACKENDS`."""
    workers: int | None = None
    """Processes of the local pool, or CPUs of a new local Ray instance; None: os.cpu_count().
    Ignored by "serial" and when Ray is already initialised or ``ray_address`` is set."""
    threads_per_worker: int = 1
    """torch threads (and OMP_NUM_THREADS) in each worker."""
    ray_address: str | None = None
    """None: start (or reuse) a local Ray instance; "auto" or "ray://host:port": connect
    to an existing cluster."""
    ray_num_cpus_per_task: float = 1.0
    """CPUs Ray reserves for each task (caps how many run at once on each node)."""

    def __post_init__(self) -> None:
        if not isinstance(self.backend, str) or self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.workers is not None:
            _check_positive_int("workers", self.workers)
        _check_positive_int("threads_per_worker", self.threads_per_worker)
        if self.ray_address is not None and (
                not isinstance(self.ray_address, str) or not self.ray_address.strip()):
            raise TypeError("ray_address must be None or a non-empty string such as 'auto' "
                            f"or 'ray://host:10001', got {self.ray_address!r}")
        cpus = self.ray_num_cpus_per_task
        if isinstance(cpus, bool) or not isinstance(cpus, int | float):
            raise TypeError(f"ray_num_cpus_per_task must be a number, got {type(cpus).__name__}")
        if not (math.isfinite(cpus) and cpus > 0):
            raise ValueError(f"ray_num_cpus_per_task must be finite and > 0, got {cpus}")

    @property
    def num_workers(self) -> int:
        """``workers``, with None resolved to os.cpu_count() (1 if unknown)."""
        return self.workers if self.workers is not None else (os.cpu_count() or 1)


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")


def parallel_map(fn: Callable[[Any], Any], items: Sequence[Any],
                 config: ParallelConfig = ParallelConfig(), *,
                 on_result: OnResult | None = None, shutdown: bool = False) -> list[Any]:
    """``[fn(item) for item in items]``, computed as ``config`` says.

    ``on_result(index, result)`` is called in this process as each item finishes (in
    completion order), e.g. to show progress or save partial results. If ``fn`` raises
    on an item, the items not yet started are cancelled (the local pool lets the running
    ones finish first; Ray cancels them too) and :class:`ParallelTaskError` naming that
    item's index is raised from the original exception.

    ``shutdown`` (Ray only): if this call started or connected Ray, call ``ray.shutdown()``
    at the end (which stops a local instance, or only disconnects from a cluster). The
    default keeps Ray up for the next call; a Ray session that was already initialised
    before this call is never shut down.
    """
    if not isinstance(config, ParallelConfig):
        raise TypeError(f"config must be a ParallelConfig, got {type(config).__name__}")
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    items = list(items)
    if not items:
        return []
    results: list[Any] = [None] * len(items)

    def record(index: int, result: Any) -> None:
        results[index] = result
        if on_result is not None:
            on_result(index, result)

    runner = {"serial": _run_serial, "local": _run_local, "ray": _run_ray}[config.backend]
    kwargs = {"shutdown": shutdown} if config.backend == "ray" else {}
    runner(fn, items, config, record, **kwargs)
    return results


# ---------------------------------------------------------------- threads


def _pin_threads(threads: int) -> None:
    """Sets OMP_NUM_THREADS and, if torch is installed, torch's intra-op threads."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)


@contextlib.contextmanager
def _threads_pinned_here(threads: int) -> Iterator[None]:
    """Pins torch threads in this process and restores the previous count afterwards."""
    try:
        import torch
    except ImportError:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _call_pinned(fn: Callable[[Any], Any], threads: int, item: Any) -> Any:
    """The Ray task body: pin the threads, then run ``fn(item)``."""
    _pin_threads(threads)
    return fn(item)


# ---------------------------------------------------------------- backends


def _run_serial(fn, items, config: ParallelConfig, record) -> None:
    with _threads_pinned_here(config.threads_per_worker):
        for index, item in enumerate(items):
            try:
                result = fn(item)
            except Exception as exc:
                raise ParallelTaskError(index, exc) from exc
            record(index, result)


def _run_local(fn, items, config: ParallelConfig, record) -> None:
    pool = ProcessPoolExecutor(
        max_workers=min(config.num_workers, len(items)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_pin_threads, initargs=(config.threads_per_worker,))
    with pool:
        pending = {pool.submit(fn, item): index for index, item in enumerate(items)}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    try:
                        result = future.result()
                    except Exception as exc:
                        raise ParallelTaskError(index, exc) from exc
                    record(index, result)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise ImportError("the 'ray' backend needs Ray: pip install ray "
                          "(or use backend='local')") from exc
    return ray


def _init_ray(ray, config: ParallelConfig) -> bool:
    """Initialises Ray unless it already is; returns whether this call did it."""
    if ray.is_initialized():
        return False
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    if config.ray_address is None:
        ray.init(num_cpus=config.num_workers, include_dashboard=False, **quiet)
    else:
        ray.init(address=config.ray_address, **quiet)
    return True


def _run_ray(fn, items, config: ParallelConfig, record, *, shutdown: bool) -> None:
    ray = _import_ray()
    started = _init_ray(ray, config)
    try:
        task = ray.remote(num_cpus=config.ray_num_cpus_per_task)(_call_pinned)
        fn_ref = ray.put(fn)
        pending = {task.remote(fn_ref, config.threads_per_worker, item): index
                   for index, item in enumerate(items)}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    index = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:  # fn raised: name its error
                        raise ParallelTaskError(index, exc.cause or exc) from exc
                    except Exception as exc:  # the worker died, ran out of memory, ...
                        raise ParallelTaskError(index, exc) from exc
                    record(index, result)
        except BaseException:
            for ref in pending:
                ray.cancel(ref)
            raise
    finally:
        if started and shutdown:
            ray.shutdown()
