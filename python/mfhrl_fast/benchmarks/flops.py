"""Analytic FLOP counts of the learners' updates, for the benchmarks' matmul-rate ratios.

A linear forward over ``rows`` rows costs 2 * in * out * rows multiply-adds per member;
backward with weight gradients doubles it again (x3 in all), a backward through detached
weights (input gradients only) adds one forward's worth (x2). Only the matrix products
are counted: they are what the ratio to ``torch.mm``'s rate compares.
"""

from __future__ import annotations

from ..learners import EnsembleCQL, EnsembleH2O, EnsembleSAC, FidelityDiscriminators
from ..learners.base import EnsembleLearner
from ..learners.nets import EnsembleMLP


def mlp_flops(net: EnsembleMLP, rows: int) -> int:
    """FLOPs of one forward of every member of ``net`` over ``rows`` rows per member."""
    return sum(2 * w.shape[1] * w.shape[2] * rows * w.shape[0] for w in net.weights)


def sac_flops(learner: EnsembleLearner, n_pi: int, n_next: int, n_critic: int) -> int:
    """The SAC part of an update: the actor forward + backward with weight gradients and
    its pass through the detached critics on ``n_pi`` rows, the no-gradient target (actor
    and target critics on ``n_next`` rows), the critics' loss on ``n_critic`` rows."""
    actor, critic = learner.nets["actor"], learner.nets["critic"]
    return (3 * mlp_flops(actor, n_pi) + 2 * mlp_flops(critic, n_pi)
            + mlp_flops(actor, n_next) + mlp_flops(critic, n_next)
            + 3 * mlp_flops(critic, n_critic))


def discriminator_flops(disc: FidelityDiscriminators, rows: int, samples: int) -> int:
    """Forward FLOPs of ``ratio_and_gap`` over ``rows`` transitions with ``samples`` s'."""
    pair = disc.nets[str(disc.fidelity_ids[0])]
    return mlp_flops(pair["sa"], rows) + mlp_flops(pair["sas"], rows * (1 + samples))


def update_flops(learner: EnsembleLearner, batch_size: int | tuple[int, int]) -> int:
    """FLOPs of one ``train_step``: ``batch_size`` transitions per member for SAC and CQL
    (CQL adds the critic on its 3 n sampled actions per row), (real, sim) for H2O (SAC's
    over both, plus the discriminators' passes for w and u; not the optional CQL term)."""
    if isinstance(learner, EnsembleH2O):
        n_real, n_sim = batch_size
        n = n_real + n_sim
        disc = discriminator_flops(learner.discriminators, n_sim * learner.num_members,
                                   learner.config.n_next_samples)
        return sac_flops(learner, n, n, n) + disc
    if isinstance(learner, EnsembleCQL):
        sampled = batch_size * 3 * learner.config.n_actions
        return (sac_flops(learner, batch_size, batch_size, batch_size)
                + 3 * mlp_flops(learner.nets["critic"], sampled))
    if isinstance(learner, EnsembleSAC):
        return sac_flops(learner, batch_size, batch_size, batch_size)
    raise TypeError(f"no FLOP count for {type(learner).__name__}")


__all__ = ["discriminator_flops", "mlp_flops", "sac_flops", "update_flops"]
