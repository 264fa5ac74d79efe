"""The online phase must keep (and improve) the offline policy, not collapse it.

A small real problem: the gait dataset of the true HalfCheetah-v5, an offline CQL
ensemble, then rounds at the highest level (the true dynamics). The default online
objective must never fall below the offline (round 0) return; faithful H2O (no
conservative term online, SPEC 2.3) is known to collapse here within a round, which
shows that the check can fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from mfhrl_fast.igm import demo, run
from mfhrl_fast.igm.variants import VARIANTS
from mfhrl_fast.igm.config import override
from mfhrl_fast.igm.offline import load_dataset
from mfhrl_fast.igm.runner import get_offline
from mfhrl_fast.igm.records import RunResult

SMALL = {
    "strategy": "highest", "budget": 24.0, "seed": 7, "device": "cpu", "num_threads": 1,
    "offline": {"num_members": 3, "gradient_steps": 1000},
    "online": {"episodes_per_round": 2, "eval_episodes": 2, "eval_steps": 1000},
}
"""The demo preset with 3 members, 1000 offline steps and 2 episodes per round: 3 rounds
of 200 H2O steps at the highest level."""


def assert_no_collapse(result: RunResult, *, floor: float = 1.0) -> None:
    """Every evaluated online round returns at least ``floor`` x the offline return."""
    offline = result.records[0].eval_return
    online = [r.eval_return for r in result.records[1:] if r.evaluated]
    assert offline > 500, f"the offline start is too poor to judge ({offline:.0f})"
    worst = min(online)
    assert worst >= floor * offline, (
        f"online returns {np.round(online).tolist()} fall below {floor} x the offline "
        f"return {offline:.0f}")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    config = override(demo(), SMALL)
    dataset = load_dataset(config.dataset)
    offline = get_offline(config, dataset, cache_dir=tmp_path_factory.mktemp("offline"))
    return config, dataset, offline


def test_default_online_phase_keeps_the_offline_policy(small):
    config, dataset, offline = small
    assert_no_collapse(run(config, dataset=dataset, offline=offline))


def test_faithful_h2o_collapses_so_the_check_can_fail(small):
    config, dataset, offline = small
    faithful = override(config, VARIANTS["h2o"])
    with pytest.raises(AssertionError, match="fall below"):
        assert_no_collapse(run(faithful, dataset=dataset, offline=offline))
