"""Memory safety of ReplayRing under misuse and under Python threads ("never a crash").

Each scenario runs in a subprocess, so that a crash (or heap corruption) fails
one test instead of killing the whole session.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PRELUDE = textwrap.dedent(
    """
    import gc
    import threading

    import numpy as np

    from mfhrl_fast import FidelitySpec, ReplayRing, SimPool


    def rows(ids, obs_dim, act_dim, fidelity=0):
        ids = np.asarray(ids, dtype=np.float64)
        obs = np.repeat(ids[:, None], obs_dim, axis=1)
        return dict(
            obs=obs, action=np.zeros((len(ids), act_dim)), reward=ids, next_obs=obs + 0.5,
            terminated=np.zeros(len(ids)), truncated=np.zeros(len(ids)), fidelity=fidelity,
        )
    """
)


def run(script: str, timeout: float = 60.0) -> str:
    """Runs PRELUDE + script in a fresh interpreter; fails on a crash or a non-zero exit."""
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/",
    )
    assert proc.returncode == 0, (
        f"exit code {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    )
    return proc.stdout


@pytest.mark.parametrize(
    "mutation",
    [
        'batch["obs"] = batch["obs"].astype(np.float64)',  # an in-place "conversion"
        'del batch["obs"]',
        "batch.clear()",
        'batch["obs"] = None',
    ],
)
def test_mutating_a_returned_batch_never_writes_into_freed_memory(mutation):
    # sample() returns arrays the ring reuses. If the caller replaces or drops them from the
    # returned mapping, the next sample must neither write into the freed arrays (whose
    # memory now belongs to other objects) nor crash; a clear exception is acceptable.
    out = run(
        f"""
        ring = ReplayRing(capacity=100, obs_dim=64, act_dim=2, num_members=1, seed=0)
        stored = rows(np.arange(100), 64, 2)
        stored["obs"][:] = 7.0
        ring.add(**stored)
        batch = ring.sample(512)
        {mutation}
        gc.collect()
        victims = [np.zeros((512, 64), np.float32) for _ in range(64)]
        try:
            again = ring.sample(512)
        except (TypeError, ValueError, RuntimeError) as error:
            again = error
        touched = sum(int(np.any(v != 0)) for v in victims)
        print("victims touched:", touched)
        assert touched == 0, f"the ring wrote into {{touched}} arrays it does not own"
        if isinstance(again, Exception):
            print("raised", type(again).__name__, again)
        else:  # or a proper batch
            assert again["obs"].dtype == np.float32 and again["obs"].shape == (512, 64)
            assert np.all(again["obs"] == 7.0)
        """
    )
    assert "victims touched: 0" in out


def test_python_threads_sharing_a_ring_and_a_pool():
    # add, sample, sample_members, member_count, save and SimPool.step(replay=) at once from
    # several Python threads on one ring: no crash, exact counters, consistent member lists.
    out = run(
        """
        import os, tempfile
        ring = ReplayRing(capacity=3000, obs_dim=17, act_dim=6, num_members=4, seed=1)
        pool = SimPool(fidelities=[FidelitySpec(), FidelitySpec(gravity_scale=2.0)],
                       fidelity_ids=[0, 1, 1, 0], max_episode_steps=7)
        ring.add(**rows(np.arange(10), 17, 6, fidelity=2))
        errors = []
        adds, steps, rounds = 0, 0, 150

        def guard(fn):
            def wrapped():
                try:
                    fn()
                except BaseException as error:  # reported by the main thread
                    errors.append(repr(error))
            return wrapped

        def adder(fidelity):
            for r in range(rounds):
                ring.add(**rows(np.arange(r, r + 37), 17, 6, fidelity=fidelity))

        def stepper():
            for _ in range(rounds):
                pool.step(np.zeros((4, 6)), replay=ring)

        def sampler(size):
            for _ in range(rounds):
                batch = ring.sample(size, out=ring.empty_batch(size))
                assert np.all(np.isfinite(batch["obs"]))
                assert set(np.unique(batch["fidelity"]).tolist()) <= {0, 1, 2, 3}

        def member_sampler():
            for _ in range(rounds):
                out = ring.empty_batch(64, members=True)
                batch = ring.sample_members(64, fidelities=[2, 3], out=out)
                for member in range(4):
                    assert batch["mask"][member, :, member].all()
                    assert set(np.unique(batch["fidelity"][member]).tolist()) <= {2, 3}
                for member in range(4):
                    ring.member_count(member, fidelities=[0, 2])

        def saver():
            with tempfile.TemporaryDirectory() as tmp:
                for r in range(10):
                    path = os.path.join(tmp, "ring.bin")
                    ring.save(path)
                    loaded = ReplayRing.load(path)
                    assert len(loaded) <= 3000

        threads = [threading.Thread(target=guard(fn)) for fn in (
            lambda: adder(2), lambda: adder(3), stepper, lambda: sampler(300),
            lambda: sampler(1000), member_sampler, saver)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        total = 10 + 2 * rounds * 37 + rounds * 4
        assert ring.total_added == total, (ring.total_added, total)
        assert len(ring) == 3000
        for member in range(4):
            by_fidelity = sum(ring.member_count(member, fidelities=[f]) for f in range(4))
            assert by_fidelity == ring.member_count(member)
        print("ok")
        """
    )
    assert "ok" in out
