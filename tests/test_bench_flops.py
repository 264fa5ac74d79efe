"""The benchmarks' analytic FLOP counts (mfhrl_fast.benchmarks.flops)."""

import pytest

from mfhrl_fast.benchmarks.flops import mlp_flops, update_flops
from mfhrl_fast.learners.nets import EnsembleMLP

from learn_support import make_learner


def test_mlp_flops_is_two_in_out_rows_per_layer_and_member():
    net = EnsembleMLP(3, 17, (32, 16), 2)
    assert mlp_flops(net, 10) == 3 * 2 * 10 * (17 * 32 + 32 * 16 + 16 * 2)


def test_update_flops_of_each_learner():
    sac = make_learner("sac", 2)
    actor, critic = sac.nets["actor"], sac.nets["critic"]
    n = 64
    expected = (3 * mlp_flops(actor, n) + 2 * mlp_flops(critic, n) + mlp_flops(actor, n)
                + mlp_flops(critic, n) + 3 * mlp_flops(critic, n))
    assert update_flops(sac, n) == expected
    cql = make_learner("cql", 2)  # 3 sampled actions per source
    assert update_flops(cql, n) == expected + 3 * mlp_flops(cql.nets["critic"], n * 9)
    assert update_flops(make_learner("h2o", 2), (32, 32)) > expected
    with pytest.raises(TypeError, match="no FLOP count"):
        update_flops(object(), 1)
