"""The learners' ``precision`` option: bf16 matmuls with float32 master weights.

On any CPU the bf16 path runs (slowly without AMX/AVX512-BF16), so its numbers are checked
here against the fp32 path of the same learner: same seeds and batch, losses within bf16
rounding (an 8-bit mantissa: rtol 3e-2 on the losses, 5% relative on the whole gradient,
cosine > 0.98 per tensor),
float32 parameters, gradients and Adam state, and learning that moves the same way.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfhrl_fast.igm.config import RunConfig
from mfhrl_fast.igm.offline import offline_key
from mfhrl_fast.igm.presets import demo
from mfhrl_fast.learners import PRECISIONS, bf16_is_fast
from mfhrl_fast.learners.precision import compute_dtype, resolve_precision

from learn_support import batches_for, losses_and_grads, make_learner

KINDS = ["sac", "cql", "h2o"]


def test_resolve_precision_detects_the_device():
    assert PRECISIONS == ("fp32", "bf16", "auto")
    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    cpu_fast = torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
    assert bf16_is_fast("cpu") == cpu_fast
    assert resolve_precision("auto", "cpu") == ("bf16" if cpu_fast else "fp32")
    assert not bf16_is_fast("meta")
    assert compute_dtype("bf16") == torch.bfloat16 and compute_dtype("fp32") == torch.float32
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="precision must be one of"):
        make_learner("sac", 1, precision="half")


@pytest.mark.parametrize("kind", KINDS)
def test_bf16_losses_and_gradients_match_fp32(kind):
    batches = batches_for(kind, 2, 64, seed=5)
    fp32 = make_learner(kind, 2, seed=3)
    bf16 = make_learner(kind, 2, seed=3, precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert bf16.nets["critic"].compute_dtype == torch.bfloat16
    total32, critic32, grads32 = losses_and_grads(fp32, *batches)
    total16, critic16, grads16 = losses_and_grads(bf16, *batches)
    assert total16.dtype == torch.float32 and critic16.dtype == torch.float32
    torch.testing.assert_close(critic16, critic32, rtol=3e-2, atol=1e-2)
    torch.testing.assert_close(total16, total32, rtol=3e-2, atol=1e-2)
    assert all(g.dtype == torch.float32 for g in grads16.values())
    g32 = torch.cat([g.flatten() for g in grads32.values()])
    g16 = torch.cat([grads16[name].flatten() for name in grads32])
    assert torch.linalg.norm(g16 - g32) <= 0.05 * torch.linalg.norm(g32)
    for name, g in grads32.items():  # every tensor points the same way
        assert torch.nn.functional.cosine_similarity(grads16[name].flatten(), g.flatten(),
                                                     dim=0) > 0.98, name


@pytest.mark.parametrize("kind", KINDS)
def test_bf16_training_keeps_float32_state_and_learns_like_fp32(kind):
    batches = batches_for(kind, 2, 64, seed=9)
    learners = {p: make_learner(kind, 2, seed=4, precision=p) for p in ("fp32", "bf16")}
    first = {p: learner.member_losses(*batches) for p, learner in learners.items()}
    for _ in range(30):
        for learner in learners.values():
            learner.train_step(*batches)
    last = {p: learner.member_losses(*batches) for p, learner in learners.items()}
    for p in learners:
        assert np.isfinite(last[p]).all()
    # The critic fits the fixed batch in both precisions, by about as much.
    drop = {p: first[p] - last[p] for p in learners}
    assert (drop["bf16"] > 0).all() and (drop["fp32"] > 0).all()
    np.testing.assert_allclose(drop["bf16"], drop["fp32"], rtol=0.25)
    learner = learners["bf16"]
    assert all(t.dtype == torch.float32 for t in learner.nets.parameters())
    for state in learner.optimizer.state.values():
        assert state["exp_avg"].dtype == torch.float32
    copy = learner.select_members([1])
    assert copy.precision == "bf16" and copy.nets["actor"].compute_dtype == torch.bfloat16
    action = learner.act(np.zeros((3, 17), np.float32), deterministic=True)
    assert action.dtype == np.float32 and np.isfinite(action).all()


def test_run_config_precision_and_offline_cache_key():
    config = demo()
    assert config.precision == "fp32"
    assert offline_key(config) != offline_key(config.replace(precision="bf16"))
    with pytest.raises(ValueError, match="precision must be one of"):
        RunConfig(precision="float16")


def test_offline_cache_key_survives_newer_cql_fields_at_their_defaults():
    """The demo's offline cache made before the trust-region fields keeps its key (today the
    offline phase of the previous default, ``ours-cql``); the LayerNorm default's key is
    pinned too; setting one of the newer fields changes the key."""
    from mfhrl_fast.igm.config import override
    from mfhrl_fast.igm.variants import VARIANTS

    assert offline_key(override(demo(), VARIANTS["ours-cql"])) == "b444a0bbdd93894b"
    assert offline_key(demo()) == "55efda7370362dfd"
    assert offline_key(override(demo(), {"offline": {"cql": {"trust_region": 0.5}}})) != \
        offline_key(demo())


@pytest.mark.slow
def test_bf16_offline_cql_learns_like_fp32(tmp_path, monkeypatch):
    """The demo's offline phase (noisy-gait dataset, bootstrapped CQL) with bf16 matmuls
    reaches the return fp32 reaches, over 3 seeds: the means differ by less than the seeds'
    spread (3 standard errors of the difference) or 10%, and both learned (above the
    untrained actor's return). About 3 minutes on 2 cores."""
    import dataclasses

    from mfhrl_fast.igm.offline import load_dataset, offline_learner, train_offline
    from mfhrl_fast.learners.online import evaluate

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    torch.set_num_threads(1)
    base = demo()
    base = base.replace(dataset=dataclasses.replace(base.dataset, steps=8000),
                        offline=dataclasses.replace(base.offline, num_members=2,
                                                    gradient_steps=800))
    dataset = load_dataset(base.dataset)
    returns: dict[str, list[float]] = {"fp32": [], "bf16": []}
    untrained = []
    for seed in (0, 1, 2):
        for precision in returns:
            config = base.replace(seed=seed, precision=precision)
            learner = offline_learner(config, dataset)
            if precision == "fp32":
                untrained.append(float(evaluate(learner, members=[0, 1], n_episodes=2,
                                                seed=config.eval_seed).mean()))
            train_offline(config, dataset, learner=learner)
            assert learner.precision == precision
            returns[precision].append(float(evaluate(learner, members=[0, 1], n_episodes=2,
                                                     seed=config.eval_seed).mean()))
    fp32, bf16 = np.array(returns["fp32"]), np.array(returns["bf16"])
    assert min(fp32.min(), bf16.min()) > max(untrained) + 200, (returns, untrained)
    stderr = np.sqrt((fp32.var(ddof=1) + bf16.var(ddof=1)) / 3)
    assert abs(bf16.mean() - fp32.mean()) <= max(3 * stderr, 0.1 * abs(fp32.mean())), returns
