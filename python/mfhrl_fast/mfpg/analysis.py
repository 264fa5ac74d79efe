"""The estimators measured at one fixed policy over many independent batches: their means
(unbiasedness) and the trace of their variances (what the control variate saves)."""

from __future__ import annotations

import numpy as np

from ..hybrid.config import sim_fidelity
from .config import MFPGConfig
from .estimator import mfpg_estimate, moments, returns_to_go, segment_gradients
from .policy import GaussianPolicy
from .segments import SegmentSampler


def paired_estimates(policy: GaussianPolicy, config: MFPGConfig, *, batches: int, c: float,
                     first_seed: int = 1000) -> tuple[np.ndarray, np.ndarray, float]:
    """The MFPG and REINFORCE estimates, (batches, parameters) each, of independent batches
    (seeds ``first_seed``, ``first_seed + 1``, ...; fresh episodes each), and the
    trace-optimal c measured on those batches. The weights are the plain returns-to-go,
    the same function for every segment, so both estimators are exactly unbiased."""
    sampler = SegmentSampler(config, sim_fidelity(config.low))
    mf, hf, cov, var = [], [], 0.0, 0.0
    for b in range(batches):
        sampler.reset(first_seed + b)
        segments = sampler.sample(policy)
        g = [segment_gradients(policy, s.obs, s.action, returns_to_go(s.reward, config.gamma))
             for s in segments]
        mf.append(mfpg_estimate(*g, c).numpy())
        hf.append(g[0].mean(0).numpy())
        pair = moments(g[0], g[1])
        cov, var = cov + pair[0], var + pair[1]
    return np.array(mf), np.array(hf), -cov / var if var > 0 else 0.0


def estimator_variance(policy: GaussianPolicy, config: MFPGConfig, *,
                       batches: int = 40) -> dict[str, float]:
    """Trace of Var[g_MFPG] over Var[g_REINFORCE] at ``policy`` (same high-fidelity batches),
    with the trace-optimal c measured on as many other batches first."""
    _, _, c = paired_estimates(policy, config, batches=batches, c=0.0, first_seed=10**6)
    mf, hf, _ = paired_estimates(policy, config, batches=batches, c=c)
    var_mf, var_hf = float(mf.var(0).sum()), float(hf.var(0).sum())
    return {"c": float(c), "var_mfpg": var_mf, "var_reinforce": var_hf,
            "ratio": var_mf / var_hf}
