"""Checkpoints and member selection of the ensemble learners.

``state_dict()`` holds everything a bit-identical resume needs: weights, target
critics, temperatures, observation normalisation, the Adam state, every
member's random streams and the update counter. ``select_members`` slices all
of it along the member axis into a smaller learner (e.g. the MAP member, or
the single-member copies the equivalence tests compare against).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, fields
from typing import Any

import torch

MEMBER_PARAMS = ("log_alpha", "log_alpha_prime")
"""Parameters shaped (L,)."""


def slice_members(name: str, tensor: torch.Tensor, index: list[int], members: int) -> torch.Tensor:
    """Rows of ``index``'s members of a state tensor named ``name`` (see the module doc)."""
    if tensor.ndim == 0:
        return tensor.clone()
    if name.startswith("critic"):  # (2L, ...): twin q of member l at q * L + l
        twins = tensor.reshape(2, members, *tensor.shape[1:])[:, index]
        return twins.reshape(2 * len(index), *tensor.shape[1:]).clone()
    if name.startswith("actor") or name in MEMBER_PARAMS:
        return tensor[index].clone()
    return tensor.clone()


class LearnerStateMixin:
    """``state_dict`` / ``load_state_dict`` / ``select_members`` for ``EnsembleLearner``."""

    def state_dict(self) -> dict[str, Any]:
        """A snapshot (copies, unlike ``nn.Module.state_dict``) of tensors and plain values,
        ``torch.save``-able and loadable with ``torch.load(..., weights_only=True)``."""
        return copy.deepcopy({
            "class": type(self).__name__,
            "obs_dim": self.obs_dim,
            "act_dim": self.act_dim,
            "num_members": self.num_members,
            "config": asdict(self.config),
            "member_seeds": list(self.member_seeds),
            "nets": self.nets.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": {name: [g.get_state() for g in gens] for name, gens in self.generators.items()},
            "num_updates": self.num_updates,
            **self._extra_state(),
        })

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict`` of a learner of the same class, sizes and config."""
        for key, mine in (("class", type(self).__name__), ("obs_dim", self.obs_dim),
                          ("act_dim", self.act_dim), ("num_members", self.num_members)):
            if state.get(key) != mine:
                raise ValueError(f"state has {key}={state.get(key)!r}, this learner {mine!r}")
        config, saved = asdict(self.config), state["config"]
        # a field newer than the state compares as its default (what the state ran with)
        defaults = {f.name: f.default for f in fields(self.config)}
        diff = sorted(k for k in config if config[k] != saved.get(k, defaults[k]))
        if diff:
            raise ValueError(f"state was saved with a different config: fields {diff}")
        self.nets.load_state_dict(state["nets"])
        self.optimizer.load_state_dict(state["optimizer"])
        for name, gens in self.generators.items():
            for gen, rng_state in zip(gens, state["rng"][name], strict=True):
                gen.set_state(rng_state)
        self.member_seeds = list(state["member_seeds"])
        self.num_updates = int(state["num_updates"])
        self._load_extra_state(state)

    def select_members(self, members: Sequence[int]) -> Any:
        """A new learner made of copies of the given members (their weights, Adam state,
        temperatures and random streams), trained on independently from here on."""
        index = [int(m) for m in members]
        if not index or any(not 0 <= m < self.num_members for m in index):
            raise ValueError(
                f"members must be non-empty ids in [0, {self.num_members}), got {members!r}")
        new = type(self)(self.obs_dim, self.act_dim, num_members=len(index), config=self.config,
                         member_seeds=[self.member_seeds[m] for m in index], device=self.device,
                         precision=self.precision, **self._init_kwargs())
        new.load_state_dict(self._member_state(index))
        return new

    def _member_state(self, index: list[int]) -> dict[str, Any]:
        state = self.state_dict()
        L = self.num_members
        state["num_members"] = len(index)
        state["member_seeds"] = [self.member_seeds[m] for m in index]
        state["nets"] = {k: slice_members(k, v, index, L) for k, v in state["nets"].items()}
        names = {id(p): n for n, p in self.nets.named_parameters()}
        order = [names[id(p)] for group in self.optimizer.param_groups for p in group["params"]]
        state["optimizer"]["state"] = {
            i: {k: slice_members(order[i], v, index, L) for k, v in s.items()}
            for i, s in state["optimizer"]["state"].items()
        }
        state["rng"] = {name: [states[m] for m in index] for name, states in state["rng"].items()}
        return state

    # hooks for subclasses with more state (H2O's discriminators)
    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def _init_kwargs(self) -> dict[str, Any]:
        return {}
