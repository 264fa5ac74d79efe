"""The benchmarks' analytic FLOP counts (mfhrl_fast.benchmarks.flops)."""

import pytest

from mfhrl_fast.benchmarks.flops import mlp_flops, update_flops
from mfhrl_fast.learners import (
    CQLConfig,
    EnsembleCQL,
    EnsembleH2O,
    EnsembleSAC,
    FidelityDiscriminators,
    H2OConfig,
    SACConfig,
)
from mfhrl_fast.learners.config import DiscriminatorConfig
from mfhrl_fast.learners.nets import EnsembleMLP


def test_mlp_flops_is_two_in_out_rows_per_layer_and_member():
    net = EnsembleMLP(3, 17, (32, 16), 2)
    assert mlp_flops(net, 10) == 3 * 2 * 10 * (17 * 32 + 32 * 16 + 16 * 2)


def test_update_flops_of_each_learner():
    sac = EnsembleSAC(17, 6, num_members=2, config=SACConfig(hidden_sizes=(32, 32)))
    actor, critic = sac.nets["actor"], sac.nets["critic"]
    n = 64
    expected = (3 * mlp_flops(actor, n) + 2 * mlp_flops(critic, n) + mlp_flops(actor, n)
                + mlp_flops(critic, n) + 3 * mlp_flops(critic, n))
    assert update_flops(sac, n) == expected
    cql = EnsembleCQL(17, 6, num_members=2, config=CQLConfig(hidden_sizes=(32, 32), n_actions=4))
    assert update_flops(cql, n) == expected + 3 * mlp_flops(cql.nets["critic"], n * 12)
    disc = FidelityDiscriminators(17, 6, [0], DiscriminatorConfig(hidden_sizes=(32, 32)))
    h2o = EnsembleH2O(17, 6, disc, num_members=2, config=H2OConfig(hidden_sizes=(32, 32)))
    assert update_flops(h2o, (32, 32)) > expected
    with pytest.raises(TypeError, match="no FLOP count"):
        update_flops(object(), 1)
