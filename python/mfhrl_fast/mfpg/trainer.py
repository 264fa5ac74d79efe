"""MFPG and high-fidelity-only REINFORCE training loops, evaluation and comparison."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..fidelity import FidelitySpec
from ..hybrid.config import sim_fidelity
from ..igm.checkpoint import latest_checkpoint, load_state, prepare_run_folder, save_checkpoint
from ..igm.round_data import round_seed
from ..jsonl import write_row_tables
from ..rollout import fresh_pool, rollout
from .config import MFPGConfig
from .estimator import (
    ControlVariate,
    mfpg_estimate,
    moments,
    returns_to_go,
    segment_gradients,
    variance_ratio,
)
from .policy import GaussianPolicy
from .segments import Segment, SegmentSampler


def make_policy(config: MFPGConfig, obs_dim: int = 17, act_dim: int = 6) -> GaussianPolicy:
    torch.manual_seed(config.seed)
    return GaussianPolicy(obs_dim, act_dim, config.hidden_sizes, config.log_std_init).to(
        config.device)


@torch.no_grad()
def evaluate_policy(policy: GaussianPolicy, config: MFPGConfig) -> np.ndarray:
    """Returns of ``eval_episodes`` mean-action episodes in the true dynamics."""
    c = config
    pool, obs = fresh_pool(FidelitySpec(), num_envs=c.eval_episodes, seed=c.eval_seed,
                           max_episode_steps=c.eval_steps, num_threads=c.num_threads)
    total = np.zeros(c.eval_episodes)

    def act(o: np.ndarray) -> np.ndarray:
        return np.clip(policy.mean(torch.from_numpy(o)).numpy(), -1.0, 1.0)

    def sink(step) -> None:
        total[:] += step.reward

    rollout(pool, act, c.eval_steps, sink=sink, obs=obs)
    return total


class Baseline:
    """b_t: an EMA over earlier segments of the mean return-to-go at step t."""

    def __init__(self, horizon: int, rate: float) -> None:
        self.value, self.rate, self.seen = torch.zeros(horizon), rate, False

    def advantages(self, returns: torch.Tensor) -> torch.Tensor:
        return returns - self.value[:, None]

    def update(self, returns: torch.Tensor) -> None:
        mean = returns.mean(1)
        self.value = mean if not self.seen else self.rate * self.value + (1 - self.rate) * mean
        self.seen = True

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value.clone(), "seen": self.seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value, self.seen = state["value"].clone(), bool(state["seen"])


def _gradients(policy: GaussianPolicy, segment: Segment, baseline: Baseline,
               gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
    returns = returns_to_go(segment.reward, gamma)
    return segment_gradients(policy, segment.obs, segment.action,
                             baseline.advantages(returns)), returns


class MFPGTrainer:
    """One run: :meth:`step` draws a batch, forms the estimate and takes an Adam step.

    Every high-fidelity episode (``episode_steps / horizon`` updates) starts from a reset
    and a noise stream seeded by (seed, episode), so the state at an episode boundary
    (:meth:`state_dict`) determines the rest of the run.
    """

    def __init__(self, config: MFPGConfig) -> None:
        c = self.config = config
        low = sim_fidelity(c.low) if c.method == "mfpg" else None
        self.sampler = SegmentSampler(c, low)
        self.policy = make_policy(c, self.sampler.high.obs_dim, self.sampler.high.act_dim)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=c.lr)
        self.high_baseline = Baseline(c.horizon, c.baseline_ema)
        self.low_baseline = Baseline(c.horizon, c.baseline_ema)
        self.cv = ControlVariate(c.c_ema)
        self.iteration = self.high_steps = self.low_steps = 0
        self.segments_per_episode = c.episode_steps // c.horizon

    @property
    def at_episode_start(self) -> bool:
        return self.iteration % self.segments_per_episode == 0

    def estimate(self) -> tuple[torch.Tensor, dict[str, float]]:
        """The gradient estimate of the next batch (ascent direction) and its metrics."""
        c = self.config
        high, low, extra = self.sampler.sample(self.policy)
        g_high, r_high = _gradients(self.policy, high, self.high_baseline, c.gamma)
        self.high_steps += high.reward.numel()
        metrics = {"train/segment_return": float(high.reward.sum(0).mean())}
        if low is None:
            self.high_baseline.update(r_high)
            return g_high.mean(0), metrics
        g_low, r_low = _gradients(self.policy, low, self.low_baseline, c.gamma)
        g_extra, r_extra = _gradients(self.policy, extra, self.low_baseline, c.gamma)
        self.low_steps += low.reward.numel() + extra.reward.numel()
        coef = self.cv.c() if c.fixed_c is None else c.fixed_c
        cov, var_low, var_high = moments(g_high, g_low)
        metrics |= {"mfpg/c": coef, "mfpg/var_ratio": variance_ratio(g_high, g_low, coef),
                    "mfpg/corr": cov / max(float(np.sqrt(var_low * var_high)), 1e-30)}
        estimate = mfpg_estimate(g_high, g_low, g_extra, coef)
        self.cv.update(g_high, g_low)
        self.high_baseline.update(r_high)
        self.low_baseline.update(torch.cat([r_low, r_extra], dim=1))
        return estimate, metrics

    def step(self) -> dict[str, float]:
        if self.at_episode_start:
            episode = self.iteration // self.segments_per_episode
            self.sampler.reset(round_seed(self.config.seed, episode, 0) % 2**31)
        estimate, metrics = self.estimate()
        offset = 0
        for p in self.policy.parameters():
            p.grad = -estimate[offset:offset + p.numel()].view_as(p).to(p.dtype)
            offset += p.numel()
        norm = torch.nn.utils.clip_grad_norm_(self.policy.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.iteration += 1
        return metrics | {"train/grad_norm": float(norm)}

    def state_dict(self) -> dict[str, Any]:
        """Policy, Adam, baselines, control-variate moments and counters (complete at an
        episode boundary)."""
        return {"policy": self.policy.state_dict(), "optimizer": self.optimizer.state_dict(),
                "high_baseline": self.high_baseline.state_dict(),
                "low_baseline": self.low_baseline.state_dict(), "cv": asdict(self.cv),
                "counters": [self.iteration, self.high_steps, self.low_steps]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.high_baseline.load_state_dict(state["high_baseline"])
        self.low_baseline.load_state_dict(state["low_baseline"])
        self.cv = ControlVariate(**state["cv"])
        self.iteration, self.high_steps, self.low_steps = state["counters"]


def train_mfpg(config: MFPGConfig, *, out_dir: str | Path | None = None, resume: bool = False,
               log: Callable[[dict[str, Any]], None] | None = None,
               ) -> tuple[GaussianPolicy, list[dict[str, Any]]]:
    """``config.iterations`` updates; returns the policy and the evaluation rows.

    With ``out_dir`` the folder receives ``config.json``, ``rows.jsonl``/``rows.csv`` and a
    checkpoint at every high-fidelity episode boundary and at the end; ``resume`` continues
    from the latest one exactly (a finished run just returns its rows)."""
    c = config
    folder = prepare_run_folder(out_dir, c, resume)
    trainer = MFPGTrainer(c)
    rows: list[dict[str, Any]] = []
    recent: list[dict[str, float]] = []
    checkpoint = latest_checkpoint(folder / "checkpoints") if folder and resume else None
    if checkpoint is not None:
        state = load_state(checkpoint)
        trainer.load_state_dict(state["trainer"])
        rows, recent = state["rows"], state["recent"]
    start = time.perf_counter() - (rows[-1]["time/wall_s"] if rows else 0.0)
    while trainer.iteration < c.iterations:
        recent.append(trainer.step())
        done = trainer.iteration == c.iterations
        if trainer.iteration % c.eval_every == 0 or done:
            returns = evaluate_policy(trainer.policy, c)
            row = {"method": c.method, "low": c.low, "seed": c.seed,
                   "iteration": trainer.iteration, "high_steps": trainer.high_steps,
                   "low_steps": trainer.low_steps, "eval/mean": float(returns.mean()),
                   "eval/std": float(returns.std()),
                   **{k: float(np.mean([m[k] for m in recent])) for k in recent[-1]},
                   "time/wall_s": time.perf_counter() - start}
            recent = []
            rows.append(row)
            if log is not None:
                log(row)
        if folder is not None and (trainer.at_episode_start or done):
            save_checkpoint(folder / "checkpoints", trainer.iteration,
                            {"trainer": trainer.state_dict(), "rows": rows, "recent": recent})
            write_row_tables(folder, rows, "rows")
    return trainer.policy, rows


def _run(job: tuple[MFPGConfig, str | None]) -> list[dict[str, Any]]:
    """One run's rows; an MFPG run's last row also holds the estimators' variances measured
    at the initial and at the final policy (:func:`~.analysis.estimator_variance`)."""
    from .analysis import estimator_variance

    config, out_dir = job
    start = estimator_variance(make_policy(config), config) if config.method == "mfpg" \
        else None
    policy, rows = train_mfpg(config, out_dir=out_dir, resume=out_dir is not None)
    if start is not None:
        end = estimator_variance(policy, config)
        rows[-1] |= {"fixed/ratio_start": start["ratio"], "fixed/ratio_end": end["ratio"],
                     "fixed/c_end": end["c"]}
    return rows


def compare_methods(config: MFPGConfig, seeds: Sequence[int], *, workers: int = 2,
                    log: Callable[[str], None] = print,
                    out_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """MFPG and REINFORCE for every seed (equal high-fidelity samples and updates): one
    summary row per run (final and best evaluation, mean logged variance ratio). With
    ``out_dir`` each run has its folder ``<method>-seed<s>`` there (logs, checkpoints), and
    an interrupted comparison resumes."""
    from ..igm.parallel import ParallelConfig, parallel_map

    jobs = [(config.replace(method=m, seed=s),
             str(Path(out_dir) / f"{m}-seed{s}") if out_dir is not None else None)
            for s in seeds for m in ("mfpg", "reinforce")]
    backend = "serial" if workers == 1 else "local"
    results = parallel_map(_run, jobs, ParallelConfig(backend=backend, workers=workers))
    summary = []
    for (job, _), rows in zip(jobs, results, strict=True):
        ratios = [r["mfpg/var_ratio"] for r in rows if "mfpg/var_ratio" in r]
        summary.append({"method": job.method, "seed": job.seed, "low": job.low,
                        "final_return": rows[-1]["eval/mean"],
                        "best_return": max(r["eval/mean"] for r in rows),
                        "high_steps": rows[-1]["high_steps"], "low_steps": rows[-1]["low_steps"],
                        "var_ratio": float(np.mean(ratios)) if ratios else float("nan"),
                        **{k: v for k, v in rows[-1].items() if k.startswith("fixed/")},
                        "wall_s": rows[-1]["time/wall_s"]})
        log(json.dumps(summary[-1]))
    return summary
