"""Run configs: presets, TOML/YAML overrides and validation."""

from __future__ import annotations

import pytest

from mfhrl_fast import FidelitySpec
from mfhrl_fast.igm import RunConfig, demo, load_config, paper, preset
from mfhrl_fast.igm.config import override


def test_presets():
    assert paper() == RunConfig()
    assert preset("demo") == demo() != paper()
    assert demo().offline.cql.hidden_sizes == demo().online.h2o.hidden_sizes
    assert [f.cost for f in paper().fidelities] == [1.0, 2.0, 4.0, 8.0]
    assert paper().offline.num_members == 5 and paper().online.history == 8
    with pytest.raises(ValueError, match="unknown preset"):
        preset("huge")


def test_toml_overrides_nested_fields(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('preset = "paper"\nstrategy = "uniform"\nbudget = 48\n'
                    '[online]\ngradient_steps = 500\neta = 0.5\n'
                    '[offline.cql]\nalpha_cql = 5\nhidden_sizes = [32, 32]\n'
                    '[[fidelities]]\ngravity_scale = 2.0\ncost = 1\n'
                    '[[fidelities]]\ncost = 3\n')
    config = load_config(path, base="demo")
    assert config.strategy == "uniform" and config.budget == 48.0
    assert config.online.gradient_steps == 500 and config.online.eta == 0.5
    assert config.offline.cql.alpha_cql == 5.0 and config.offline.cql.hidden_sizes == (32, 32)
    assert config.fidelities == (FidelitySpec(gravity_scale=2.0, cost=1.0), FidelitySpec(cost=3.0))
    assert config.online.episode_steps == paper().online.episode_steps  # the file's preset
    assert load_config(path, budget=10.0).budget == 10.0  # command line wins


def test_yaml_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("budget: 12\nonline:\n  eval_episodes: 7\n")
    config = load_config(path)
    assert config.budget == 12.0 and config.online.eval_episodes == 7
    assert config.online.gradient_steps == demo().online.gradient_steps


@pytest.mark.parametrize("changes, error, match", [
    ({"budgt": 3}, ValueError, "unknown config key 'budgt'"),
    ({"online": {"gradient_step": 3}}, ValueError, "online.gradient_step"),
    ({"online": 3}, TypeError, "online must be a table"),
    ({"strategy": "best"}, ValueError, "strategy must be one of"),
    ({"budget": -1.0}, ValueError, "budget"),
    ({"online": {"eta": "fast"}}, ValueError, "eta"),
    ({"offline": {"mask_prob": 0.0}}, ValueError, "mask_prob"),
    ({"fidelities": [{"cost": 2.0}, {"cost": 1.0}]}, ValueError, "increase"),
    ({"dataset": {"source": "minari"}}, ValueError, "needs dataset.path"),
])
def test_bad_overrides(changes, error, match):
    with pytest.raises(error, match=match):
        override(demo(), changes)


def test_bad_file_suffix(tmp_path):
    path = tmp_path / "run.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match="toml"):
        load_config(path)


def test_a_fixed_g_over_steps_per_cost_is_an_error_not_ignored():
    """The demo's rounds run 600 H2O steps per unit of cost, so a bare online.gradient_steps
    would change nothing: it raises, naming the fix; with gradient_steps_per_cost = 0 it is G."""
    with pytest.raises(ValueError, match="gradient_steps_per_cost = 600.*set gradient_steps_per"):
        override(demo(), {"online": {"gradient_steps": 500}})
    fixed = override(demo(), {"online": {"gradient_steps": 500, "gradient_steps_per_cost": 0}})
    assert [fixed.online.round_steps(c) for c in fixed.costs] == [500] * 4
    assert override(paper(), {"online": {"gradient_steps": 500}}).online.round_steps(8.0) == 500
