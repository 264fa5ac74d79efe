"""Named online objectives: ours (the default), the previous default, faithful H2O and the
ablation's variants.

Each entry is a set of overrides of a :class:`~.config.RunConfig` (as a TOML file would
give them) applied over a preset: ``mfhrl-fast demo | run | compare --variant NAME``
applies one, ``mfhrl-fast ablate`` compares several from one offline phase per seed.
The README's ablation table was measured with these names.
"""

from __future__ import annotations

from typing import Any

_H2O = {"cql_weight": 0.0, "cql_states": "real", "lr_warmup_steps": 0}
"""No extra term: H2O's objective as the paper gives it (MF-HRL-IGM eq. 1, H2O eqs. 6-8)."""

_CQL_TERM = {"offline": {"cql": {"critic_layer_norm": False}},
             "online": {"explore_std": 0.0, "gradient_steps": 200, "gradient_steps_per_cost": 0.0,
                        "real_batch": 128, "sim_batch": 128,
                        "h2o": {"cql_weight": 5.0, "cql_states": "all", "cql_n_actions": 4,
                                "critic_layer_norm": False, "trust_region": 0.0}}}
"""The previous default over the demo preset (``ours-cql``): no LayerNorm, CQL(H)'s
sampled-action term at weight 5 on every state, no trust region, no exploration noise,
200 H2O steps per round on 128 + 128 rows. Every variant below but ``ours`` changes this
base, as it was measured."""


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied, nested tables merged key by key."""
    out = dict(base)
    for key, value in changes.items():
        nested = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if nested else value
    return out


def _was(online: dict[str, Any] | None = None, **h2o: Any) -> dict[str, Any]:
    """The previous default (:data:`_CQL_TERM`) with ``online`` and ``online.h2o`` changes."""
    return _merge(_CQL_TERM, {"online": (online or {}) | {"h2o": h2o}})


def _layer_norm(online: dict[str, Any] | None = None, **h2o: Any) -> dict[str, Any]:
    """LayerNorm critics offline and online (RLPD's) over the previous default, with further
    ``online`` and ``online.h2o`` changes; these variants share their own offline phase."""
    return _merge(_was(online, critic_layer_norm=True, **h2o),
                  {"offline": {"cql": {"critic_layer_norm": True}}})


VARIANTS: dict[str, dict[str, Any]] = {
    "ours": {},
    "ours-explore0.1": {"online": {"explore_std": 0.1}},
    "ours-explore0.5": {"online": {"explore_std": 0.5}},
    "ours-tr-floor0.3": {"online": {"h2o": {"trust_region_std_floor": 0.3}}},
    "ours-tr-rate0.05": {"online": {"h2o": {"trust_region_rate": 0.05}}},
    "ours-tr0.3": {"online": {"h2o": {"trust_region": 0.3}}},
    "ours-online-tau02": {"online": {"h2o": {"tau": 0.02}}},
    "ours-g2400": {"online": {"gradient_steps": 2400, "gradient_steps_per_cost": 0.0}},
    "ours-episodes16": {"online": {"episodes_per_round": 16}},
    "ours-steps-per-cost300": {"online": {"gradient_steps_per_cost": 300.0}},
    "ours-steps-per-cost600": {"online": {"gradient_steps_per_cost": 600.0}},
    "ours-eta-range": {"online": {"eta": "range"}},
    "ours-actor-warmup300": {"online": {"h2o": {"actor_warmup_steps": 300}}},
    "ours-actor-warmup600": {"online": {"h2o": {"actor_warmup_steps": 600}}},
    "ours-gap-per-step": {"online": {"gap_table": False}},
    "ours-tau05-tr-rate0.05": {"offline": {"cql": {"tau": 0.05}},
                               "online": {"h2o": {"tau": 0.05, "trust_region_rate": 0.05}}},
    "ours-calql": {"offline": {"cql": {"calibrated": True}}},
    "ours-calql-tau05": {"offline": {"cql": {"calibrated": True, "tau": 0.05}},
                         "online": {"h2o": {"tau": 0.05}}},
    "ours-tau02-all": {"offline": {"cql": {"tau": 0.02}}, "online": {"h2o": {"tau": 0.02}}},
    "ours-tau05-all": {"offline": {"cql": {"tau": 0.05}}, "online": {"h2o": {"tau": 0.05}}},
    "ours-cql": _was(),
    "ours-cql-explore": _was({"explore_std": 0.3}),
    "h2o": _was(**_H2O),
    "h2o+warmup": _was(**_H2O | {"lr_warmup_steps": 1000}),
    "h2o+cql-real": _was(**_H2O | {"cql_weight": 5.0, "cql_n_actions": 4}),
    "ours-disc25": _was({"disc_steps": 25}),
    "ours-weight2": _was(cql_weight=2.0),
    "ours-w-weighted": _was(cql_states="all-w"),
    "ours-beta1": _was(beta=1.0),
    "ours-n10": _was(cql_n_actions=10),
    "ours-actor-lr3e-5": _was(actor_lr=3e-5),
    "ours-avg": _was(policy_averaging=0.005),
    "ours-tau02": _was(tau=0.02),
    "ours-tau05": _was(tau=0.05),
    "ours-w1": _was(ratio_clip=(1.0, 1.0)),
    "ours-disc-rollouts": _was({"disc_data": "rollouts"}),
    "ours-utd1": _was({"gradient_steps": 1000, "disc_steps": 1000}),
    "ours-actor-real": _was(actor_states="real"),
    "ours-actor-w": _was(actor_states="all-w"),
    "ours-decay1200": _was(cql_decay_steps=1200),
    "ours-decay2400": _was(cql_decay_steps=2400),
    "ours-tr": _was(trust_region=1.0),
    "h2o-tr": _was(**_H2O, trust_region=1.0),
    "ln": _layer_norm(),
    "ln-h2o": _layer_norm(**_H2O),
    "ln-h2o-tr": _layer_norm(**_H2O, trust_region=1.0),
    "ln-h2o-tr0.3": _layer_norm(**_H2O, trust_region=0.3),
    "ln-h2o-tr2": _layer_norm(**_H2O, trust_region=2.0),
    "ln-h2o-tr-decay": _layer_norm(**_H2O, trust_region=1.0, trust_region_decay_steps=2400),
    "ln-h2o-g600": _layer_norm({"gradient_steps": 600}, **_H2O),
    "ln-h2o-tr-g600": _layer_norm({"gradient_steps": 600}, **_H2O, trust_region=1.0),
    "ln-h2o-tr-g600-beta1": _layer_norm({"gradient_steps": 600}, **_H2O, trust_region=1.0,
                                        beta=1.0),
    "ln-h2o-explore": _layer_norm({"explore_std": 0.3}, **_H2O),
    "ln-h2o-tr-g600-explore": _layer_norm({"gradient_steps": 600, "explore_std": 0.3},
                                          **_H2O, trust_region=1.0),
    "ln-h2o-alpha": _layer_norm({"carry_alpha": False}, **_H2O, alpha_init=0.02),
    "ln-weight1": _layer_norm(cql_weight=1.0),
    "ln-weight2": _layer_norm(cql_weight=2.0),
    "ln-cql-real": _layer_norm(**_H2O | {"cql_weight": 5.0, "cql_n_actions": 4}),
    "ln-w-weighted": _layer_norm(cql_states="all-w"),
    "ln-decay1200": _layer_norm(cql_decay_steps=1200),
    "ln-decay2400": _layer_norm(cql_decay_steps=2400),
}
"""'ours' is the default (faithful H2O's critic loss with LayerNorm critics, a trust region
on the actor, exploration noise 0.3 on the rollouts: :data:`~.config.ONLINE_OBJECTIVE`);
it was measured as 'ln-h2o-tr-g600-explore' on the study-g600 preset's rounds (the demo's
then: 600 H2O steps per round on 128 + 128 rows, which 'ours-cql' and its variants keep;
the 'ours-*' variants change the preset they are applied to).
'ours-cql' is the previous default (H2O plus CQL(H)'s sampled-action term, weight 5, on
every state of the batch, 200 H2O steps per demo round) and every other variant changes
that base, as it was measured, except 'ours-explore0.1' / '0.5' (the default with the
rollouts' noise at 0.1 or 0.5), 'ours-tr-floor0.3' (the trust region's KL with both stds
floored at 0.3), 'ours-tr-rate0.05' (its reference trailing at rate 0.05), 'ours-tr0.3'
(lambda 0.3), 'ours-online-tau02' (the online critics' target rate 0.02),
'ours-tau02-all' / 'ours-tau05-all' (the critics' target rate 0.02 or 0.05 offline and
online: each its own offline phase), 'ours-tau05-tr-rate0.05' (that at 0.05 with the trust
region's reference trailing at 0.05), 'ours-g2400' (a fixed 2400 H2O steps per round,
4x study-g600's), 'ours-episodes16' (4x its collected episodes per round, at the same cost),
'ours-actor-warmup300' / '600' (the actor and temperature held for the online phase's
first 300 or 600 H2O steps while the critics move to H2O's loss),
'ours-gap-per-step' (w and u recomputed at every H2O step with fresh next-state samples,
H2O's way, instead of once per round), 'ours-steps-per-cost300' / '600' (each round's H2O
steps 300 or 600 x its cost: 300 at gravity x2 up to 2400 or 4800 in the true dynamics),
'ours-calql' (the offline phase's CQL calibrated, Cal-QL: its own offline phase) and
'ours-calql-tau05' (that with the target rate 0.05 offline and online);
'ours-cql-explore' is the previous default with the rollouts' noise 0.3; 'h2o' is faithful
H2O (eq. 1 alone) on it.
The others change one thing: a learning-rate warm-up of faithful H2O, the conservative
term on the real states only, 25 discriminator steps per round (the demo's earlier
value), conservative weight 2, simulated rows of the term weighted by the dynamics ratio
w, H2O's beta 1 instead of 0.01, 10 sampled actions per source instead of 4, the actor's
Adam step 3e-5 (CORL's CQL actor rate) instead of SAC's 3e-4, and the MAP member evaluated
(deployed) with its Polyak-averaged actor (rate 0.005: ~200 steps, one demo round), and
the critics' target networks updated at rate 0.02 or 0.05 instead of 0.005 (after N
steps a Polyak target has gone through about N * tau Bellman backups, so the rate sets
how far ahead the critic can see after a few thousand steps), and w fixed at 1 (every
simulated transition trusted as much as a real one: the right w when the simulator is the
real dynamics, as the highest level is here), and the discriminators trained on the
level's rollouts as H2O's code does instead of on the real (s, a) replayed in the level
(the default's 'paired' data), and 1000 H2O and discriminator steps per round (one per
simulated step of the demo's 4 x 250-step rounds, H2O's update-to-data ratio) instead of
the demo's 200 (measured worse: docs/results/ablation/lowest-b8-utd1.md), and the actor
improved on the real states only or on every state weighted by w (``actor_states``), the
conservative weight annealed to 0 over 1200 or 2400 updates (``cql_decay_steps``), and a
trust region: the actor's loss plus 1.0 x KL to a copy of itself trailing at Polyak rate
0.005 (``trust_region``), on our objective or on faithful H2O. The 'ln*' variants put
LayerNorm in the critics offline and online (their own offline phase) and then change the
online objective: ours ('ln'), faithful H2O ('ln-h2o'), faithful H2O with the trust region
(weight 1, 0.3 or 2), faithful H2O with the temperature restarted at 0.02, our term at weight
1 or 2, on the real states only, with w-weighted simulated rows, or annealed to 0, and
faithful H2O with or without the trust region at 600 H2O steps per round ('-g600'), with
H2O's beta 1, or with exploration noise 0.3 on the rollouts ('-explore')
(docs/results/ablation/online-dip.md)."""
