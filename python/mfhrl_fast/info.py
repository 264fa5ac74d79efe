"""Information module: entropies, mutual information and the MF-HRL-IGM fidelity controller.

Thin, keyword-only wrappers around :mod:`mfhrl_fast._core.info` (C++, see
``cpp/estimators/``). The compiled layer validates every input and raises
``TypeError`` (wrong dtype) or ``ValueError`` (shape, empty, NaN/inf, negative
probabilities, counts or labels, zero-sum rows, bad options) with a message
naming the argument; it never crashes on bad input.

Estimators (batched and multithreaded in C++):

- :func:`entropy` / :func:`entropy_counts`: plug-in (and Miller-Madow) entropy
  of rows, like ``scipy.stats.entropy(p, axis=axis, base=base)``;
- :func:`mutual_information`: plug-in (and Miller-Madow) mutual information of
  paired discrete samples, like ``sklearn.metrics.mutual_info_score``.

The controller of MF-HRL-IGM (paper eqs. 7-9, docs/algorithm.md):

- :func:`posterior_update`: the Gibbs posterior update over the L members (eq. 7);
- :func:`information_gain`: IG_k of each fidelity from its remembered batches;
- :func:`choose_fidelity`: information gain per unit cost and the budget
  threshold (eqs. 8-9).

The batched estimators take ``num_threads`` (``None``: one per core). Results
are bitwise identical for every thread count.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from . import _core

__all__ = [
    "choose_fidelity",
    "entropy",
    "entropy_counts",
    "information_gain",
    "mutual_information",
    "posterior_update",
]

_info = _core.info

Estimator = Literal["plugin", "miller_madow"]
Eta = float | Literal["auto"]


def _rows(a: npt.ArrayLike, axis: int, name: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """``a`` as a 2-D (rows, m) array with ``axis`` last, plus the leading shape.

    No copy when ``axis`` is already last and ``a`` is C-contiguous; the
    compiled layer converts the dtype only if it is not already the native one.
    """
    arr = np.asarray(a)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    axis = operator.index(axis)
    if not -arr.ndim <= axis < arr.ndim:
        raise np.exceptions.AxisError(axis, arr.ndim)
    if axis % arr.ndim != arr.ndim - 1:
        arr = np.moveaxis(arr, axis, -1)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape} with the reduced axis last)")
    lead = arr.shape[:-1]
    return arr.reshape(-1, arr.shape[-1]), lead


def _shaped(out: np.ndarray, lead: tuple[int, ...]) -> np.ndarray | np.float64:
    """Per-row results in the leading shape; a NumPy scalar for a single row."""
    return out.reshape(lead)[()]


def entropy(
    p: npt.ArrayLike,
    *,
    axis: int = -1,
    base: float | None = None,
    num_threads: int | None = None,
) -> np.ndarray | np.float64:
    """Shannon entropy of probability vectors along ``axis``, like ``scipy.stats.entropy``.

    Each vector is normalised by its sum, ``q = p / p.sum()``; then
    ``H = -sum q log q`` with ``0 log 0 = 0``, in nats, or in units of
    ``log(base)`` (``base=2``: bits).

    Args:
        p: Non-negative finite weights of any shape (at least 1-D); float64 is
            read in place, other real dtypes are converted.
        axis: The axis holding each distribution (moved last only if needed).
        base: Logarithm base; ``None`` for nats.
        num_threads: Worker threads (``None``: one per core).

    Returns:
        The entropies, shaped as ``p`` without ``axis`` (a NumPy scalar for 1-D ``p``).

    Raises:
        TypeError: ``p`` is not real-valued.
        ValueError: ``p`` is empty, holds a NaN, infinite or negative value, or
            a distribution sums to 0.
    """
    rows, lead = _rows(p, axis, "p")
    return _shaped(_info.entropy(rows, base=base, num_threads=num_threads), lead)


def entropy_counts(
    c: npt.ArrayLike,
    *,
    axis: int = -1,
    estimator: Estimator = "plugin",
    base: float | None = None,
    num_threads: int | None = None,
) -> np.ndarray | np.float64:
    """Entropy of histograms (counts) along ``axis``.

    ``estimator="plugin"``: the maximum-likelihood estimate ``-sum q log q`` with
    ``q = c / N``, ``N = c.sum()`` (as :func:`entropy`).
    ``estimator="miller_madow"``: plug-in ``+ (m_nonzero - 1) / (2 N)`` nats
    (Miller 1955), ``m_nonzero`` the number of non-empty bins; before any base
    conversion.

    Args:
        c: Non-negative counts of any shape (at least 1-D). int32, int64 and
            float64 are read in place; other integer dtypes become int64, other
            floats float64.
        axis: The axis holding each histogram.
        estimator: ``"plugin"`` or ``"miller_madow"``.
        base: Logarithm base; ``None`` for nats.
        num_threads: Worker threads (``None``: one per core).

    Raises:
        TypeError: ``c`` is neither integer nor float.
        ValueError: empty, negative (or NaN/inf) counts, a histogram summing to 0,
            an unknown estimator.
    """
    rows, lead = _rows(c, axis, "counts")
    out = _info.entropy_counts(rows, estimator=estimator, base=base, num_threads=num_threads)
    return _shaped(out, lead)


def mutual_information(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    estimator: Estimator = "plugin",
    base: float | None = None,
    num_threads: int | None = None,
) -> float:
    """Mutual information of paired discrete samples ``(x[i], y[i])``.

    ``estimator="plugin"``: ``I = sum_ij (n_ij / n) log(n n_ij / (a_i b_j))`` over the
    joint histogram ``n_ij`` with marginals ``a``, ``b`` (``= H(X) + H(Y) - H(X, Y)``
    of the empirical distribution, as ``sklearn.metrics.mutual_info_score``),
    clipped at 0 against rounding.
    ``estimator="miller_madow"``: ``H_MM(X) + H_MM(Y) - H_MM(X, Y)``, i.e. plug-in
    ``+ (m_x + m_y - m_xy - 1) / (2 n)`` with ``m`` the numbers of observed
    values and pairs; not clipped (it can be negative).

    Args:
        x, y: 1-D non-negative integer labels of equal length. int32 and int64
            are read in place; other integer dtypes are converted to int64.
            Labels need not be contiguous: large or sparse values are remapped.
        estimator: ``"plugin"`` or ``"miller_madow"``.
        base: Logarithm base; ``None`` for nats.
        num_threads: Worker threads (``None``: one per core).

    Raises:
        TypeError: non-integer labels.
        ValueError: empty, not 1-D, different lengths, negative labels.
    """
    return _info.mutual_information(
        np.asarray(x), np.asarray(y), estimator=estimator, base=base, num_threads=num_threads
    )


def posterior_update(
    log_p: npt.ArrayLike,
    losses: npt.ArrayLike,
    *,
    eta: Eta = 1.0,
    eta0: float = 1.0,
) -> tuple[np.ndarray, float]:
    """One Gibbs posterior update over the L members: MF-HRL-IGM eq. 7 (docs/algorithm.md).

    ``log p_new(l) = log p(l) - eta * L_l(B) - log Z``, with ``log Z`` a stable
    log-sum-exp. Losses are shifted by the smallest loss among members of
    positive mass first (eq. 7 is invariant to a common shift), so a huge
    ``eta`` cannot overflow into NaN.

    Args:
        log_p: (L,) log posterior, finite or ``-inf`` (probability 0, stays 0),
            at least one finite; need not be normalised.
        losses: (L,) finite losses ``L_l(B)`` of each member on the batch.
        eta: The learning rate (finite, ``>= 0``), or ``"auto"``:
            ``eta = eta0 / MAD(losses)`` with MAD the median absolute deviation
            about the median over the L members (raw, no 1.4826 factor). If all
            losses are equal (the update is then a no-op): ``eta0``; else if
            MAD == 0 (more than half of the losses equal): ``eta0 / std(losses)``
            (population std, computed on ``losses / max|losses|`` and scaled
            back so it cannot underflow). Clamped to the largest finite float. This rule
            and its fallbacks are ours.
        eta0: Scale of the ``"auto"`` rule (finite, ``> 0``).

    Returns:
        ``(log_p_new, eta_used)``: the normalised (L,) log posterior and the
        learning rate applied.
    """
    out, eta_used = _info.posterior_update(log_p, losses, eta=eta, eta0=eta0)
    return out, float(eta_used)


def information_gain(
    log_p: npt.ArrayLike,
    histories: Sequence[npt.ArrayLike | None],
    *,
    eta: Eta = 1.0,
    eta0: float = 1.0,
) -> np.ndarray:
    """Information gain of each fidelity: the IG_k of MF-HRL-IGM eq. 8 (docs/algorithm.md).

    ``IG_k = H(p) - (1 / M_k) sum_b H(p (x) b)``, where ``H`` is the plug-in
    entropy in nats and ``p (x) b`` the posterior after one more eq. 7 update
    (:func:`posterior_update`, same ``eta`` rule; ``"auto"`` is resolved per
    batch) with the member losses of batch ``b``. A fidelity with no batch
    (never tried) gets ``IG_k = H(p)``, an upper bound, so cheap levels are
    tried first. IG_k is not clipped (negative when the batches would flatten
    the posterior on average).

    Args:
        log_p: (L,) current log posterior ``log p_{r-1}`` (see :func:`posterior_update`).
        histories: One entry per fidelity k: an (M_k, L) array whose row b holds
            the losses ``L_l(b)`` of every member on remembered batch b,
            re-scored with the current members. ``None``, ``[]`` or an (0, L)
            array mean no batch yet.
        eta, eta0: The eq. 7 learning-rate rule (see :func:`posterior_update`).

    Returns:
        (K,) float64 information gains in nats.
    """
    lp = np.asarray(log_p)
    num_members = lp.shape[-1] if lp.ndim == 1 else 0
    hist = [np.empty((0, num_members)) if h is None else h for h in histories]
    return _info.information_gain(lp, hist, eta=eta, eta0=eta0)


def choose_fidelity(
    ig: npt.ArrayLike,
    costs: npt.ArrayLike,
    remaining_budget: float,
    *,
    c: float = 1.0,
) -> int:
    """The fidelity of the next round: MF-HRL-IGM eqs. 8 and 9 (docs/algorithm.md).

    Level k is affordable when ``costs[k] <= remaining_budget``. Among affordable
    levels, ``k* = argmax IG_k / cost_k`` (eq. 8; ties go to the lowest index).
    Use ``k*`` if ``IG_k* / cost_k* >= c / sqrt(remaining_budget)``, else the
    highest fidelity ``K - 1`` (eq. 9's ``k_r = K``) if it is affordable, else
    ``k*`` (our rule: the paper assumes the top level is affordable).

    Args:
        ig: (K,) finite information gains (e.g. from :func:`information_gain`).
        costs: (K,) finite costs ``lambda_k > 0``.
        remaining_budget: ``Gamma_r``, the budget left (finite).
        c: The threshold constant (finite, ``>= 0``; the paper's ``c = 1``).

    Returns:
        The 0-based fidelity index, or -1 when no level is affordable (the run ends).
    """
    return int(_info.choose_fidelity(ig, costs, remaining_budget, c=c))
