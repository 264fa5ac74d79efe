"""MFPG (mfhrl_fast.mfpg): correlated segments are exact, the control-variate estimator is
unbiased (its mean matches REINFORCE's), its variance is lower when the fidelities are
correlated and not when they are not, and the trainer and CLI run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mfhrl_fast.cli import main
from mfhrl_fast.fidelity import FidelitySpec
from mfhrl_fast.hybrid.config import sim_fidelity
from mfhrl_fast.mfpg import (
    GaussianPolicy,
    MFPGConfig,
    SegmentSampler,
    returns_to_go,
    segment_gradients,
    train_mfpg,
)
from mfhrl_fast.mfpg.analysis import estimator_variance, paired_estimates

SMALL = {"high_episodes": 4, "extra_low_episodes": 8, "horizon": 20, "episode_steps": 100,
         "hidden_sizes": (8,), "eval_episodes": 1, "eval_steps": 30}
"""4 pairs + 8 extra segments of 20 steps, a 17-8-6 policy (206 parameters)."""


def test_returns_to_go_discounts_to_the_segment_end():
    reward = torch.tensor([[1.0], [2.0], [4.0]])
    torch.testing.assert_close(returns_to_go(reward, 0.5),
                               torch.tensor([[1 + 0.5 * 2 + 0.25 * 4], [2 + 0.5 * 4], [4.0]]))


def test_segment_gradients_match_autograd_per_segment():
    torch.manual_seed(0)
    policy = GaussianPolicy(17, 6, (8,))
    obs, action, weight = torch.randn(5, 3, 17), torch.randn(5, 3, 6), torch.randn(5, 3)
    grads = segment_gradients(policy, obs, action, weight)
    for i in range(3):
        policy.zero_grad()
        (policy(obs[:, i], action[:, i]) * weight[:, i]).mean().backward()
        flat = torch.cat([p.grad.reshape(-1) for p in policy.parameters()])
        torch.testing.assert_close(grads[i], flat, rtol=1e-5, atol=1e-6)


def test_paired_segments_start_in_the_same_states_with_the_same_noise():
    config = MFPGConfig(**SMALL)
    sampler = SegmentSampler(config, sim_fidelity("gravity"))
    policy = GaussianPolicy(17, 6, (8,))
    for _ in range(2):  # the second segment starts mid-episode
        high, low, extra = sampler.sample(policy)
        np.testing.assert_array_equal(low.obs[0], high.obs[0])
        np.testing.assert_array_equal(extra.obs[0], high.obs[0][np.arange(8) % 4])
        np.testing.assert_array_equal(low.noise, high.noise)
        assert not np.allclose(extra.noise[:, :4], high.noise)
        assert not np.allclose(low.obs[-1], high.obs[-1])  # the dynamics differ


def test_same_dynamics_give_identical_pairs():
    """With the true dynamics as the 'low' fidelity the paired segment is the high one."""
    sampler = SegmentSampler(MFPGConfig(**SMALL), FidelitySpec())
    high, low, _ = sampler.sample(GaussianPolicy(17, 6, (8,)))
    np.testing.assert_array_equal(low.obs, high.obs)
    np.testing.assert_array_equal(low.reward, high.reward)


def _estimates(low: str, batches: int, c: float, share_noise: bool = True,
               first: int = 1000) -> tuple[np.ndarray, np.ndarray, float]:
    """(MFPG, REINFORCE) estimates of ``batches`` independent batches at one fixed policy."""
    torch.manual_seed(0)
    config = MFPGConfig(**SMALL, low=low, share_noise=share_noise)
    return paired_estimates(GaussianPolicy(17, 6, (8,)), config, batches=batches, c=c,
                            first_seed=first)


def test_the_estimator_is_unbiased():
    """mean(g_MFPG - g_REINFORCE) over 60 batches is zero within its standard error in every
    parameter: mean z^2 (about 1 for an unbiased estimator) stays below 2."""
    mf, hf, _ = _estimates("gravity", 60, c=-1.0)
    diff = mf - hf
    z = diff.mean(0) / (diff.std(0, ddof=1) / np.sqrt(len(diff)) + 1e-12)
    assert np.mean(z ** 2) < 2.0, np.mean(z ** 2)
    assert np.abs(diff).max() > 0  # the control variate is not identically zero


def test_a_control_variate_with_the_wrong_mean_is_caught():
    """The same check flags a biased variant (mu_low from the paired segments only would be
    exact; shifting it by a constant is not): the test has power."""
    mf, hf, _ = _estimates("gravity", 60, c=-1.0)
    shift = 0.2 * np.abs(hf).mean()
    diff = mf + shift - hf
    z = diff.mean(0) / (diff.std(0, ddof=1) / np.sqrt(len(diff)) + 1e-12)
    assert np.mean(z ** 2) > 2.0


def test_variance_is_lower_when_the_fidelities_are_correlated():
    """Friction x0.3 with shared noise: the estimator's variance (trace, over 40 batches at
    the measured c) is well under REINFORCE's; with independent noise it is not."""
    torch.manual_seed(0)
    policy = GaussianPolicy(17, 6, (8,))
    paired = estimator_variance(policy, MFPGConfig(**SMALL, low="friction"))
    assert paired["ratio"] < 0.7 and paired["c"] < -0.5, paired
    independent = estimator_variance(policy, MFPGConfig(**SMALL, low="friction",
                                                        share_noise=False))
    assert abs(independent["c"]) < 0.3 and independent["ratio"] > 0.85, independent


def test_training_runs_and_logs(tmp_path):
    config = MFPGConfig(**SMALL, iterations=4, eval_every=2)
    _, rows = train_mfpg(config, out_dir=tmp_path / "run")
    assert [r["iteration"] for r in rows] == [2, 4]
    assert rows[-1]["high_steps"] == 4 * 4 * 20 and rows[-1]["low_steps"] == 4 * 12 * 20
    assert np.isfinite(rows[-1]["mfpg/var_ratio"]) and np.isfinite(rows[-1]["eval/mean"])
    assert len((tmp_path / "run" / "rows.jsonl").read_text().splitlines()) == 2
    assert (tmp_path / "run" / "rows.csv").exists()
    with pytest.raises(FileExistsError):
        train_mfpg(config, out_dir=tmp_path / "run")
    _, base = train_mfpg(config.replace(method="reinforce"))
    assert base[-1]["low_steps"] == 0 and "mfpg/c" not in base[-1]
    assert base[-1]["high_steps"] == rows[-1]["high_steps"]


def test_resume_equals_an_unbroken_run(tmp_path):
    """Killed after update 8 (checkpoints at the episode boundaries 5 and 10), resumed."""
    config = MFPGConfig(**SMALL, iterations=12, eval_every=2)
    _, whole = train_mfpg(config)

    def kill(row):
        if row["iteration"] == 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_mfpg(config, out_dir=tmp_path / "run", log=kill)
    _, resumed = train_mfpg(config, out_dir=tmp_path / "run", resume=True)
    strip = [{k: v for k, v in r.items() if k != "time/wall_s"} for r in whole]
    assert [{k: v for k, v in r.items() if k != "time/wall_s"} for r in resumed] == strip


def test_training_is_deterministic():
    config = MFPGConfig(**SMALL, iterations=3, eval_every=3)
    assert train_mfpg(config)[1][0]["eval/mean"] == train_mfpg(config)[1][0]["eval/mean"]


@pytest.mark.parametrize("changes, message", [
    ({"method": "ppo"}, "method must be one of"),
    ({"extra_low_episodes": 6}, "multiple of high_episodes"),
    ({"horizon": 30}, "must divide episode_steps"),
    ({"low": "wind"}, "sim must be one of"),
    ({"gamma": 1.5}, "gamma must be in"),
])
def test_bad_configs_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        MFPGConfig(**{**SMALL, **changes})


def test_cli(tmp_path, capsys):
    assert main(["mfpg", "--iterations", "2", "--eval-every", "2", "--high-episodes", "2",
                 "--extra-low-episodes", "2", "--horizon", "10", "--eval-steps", "20",
                 "--eval-episodes", "1", "--seeds", "0", "--workers", "1",
                 "--out", str(tmp_path / "mfpg")]) == 0
    rows = [json.loads(line) for line in (tmp_path / "mfpg" / "summary.jsonl").read_text()
            .splitlines()]
    assert {r["method"] for r in rows} == {"mfpg", "reinforce"}
    assert (tmp_path / "mfpg" / "reinforce-seed0" / "rows.jsonl").exists()
    assert "| mfpg |" in (tmp_path / "mfpg" / "summary.md").read_text()
    assert main(["mfpg", "--horizon", "7", "--out", str(tmp_path / "bad")]) == 2
