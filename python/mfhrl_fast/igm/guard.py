"""Divergence guard: a non-finite loss, Q value or weight stops the run, named.

The learners return their metrics as device tensors (no host sync per step). The guard
records, per step, whether each watched metric is finite (a few tiny device ops), and
checks once per round, with one sync: the first non-finite quantity is reported with
its round and step. After the round the networks' weights are checked too. The runner
raises before the round's checkpoint is written, so ``latest`` stays the last good one.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


class DivergenceError(RuntimeError):
    """A learner produced a non-finite loss, Q value or weight."""


class FiniteWatch:
    """Finiteness of every metric of a sequence of steps, checked at the end."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.names: list[str] | None = None
        self.flags: list[torch.Tensor] = []
        self.checked = 0
        """Steps checked by earlier calls of :meth:`check` (steps are numbered from 1)."""

    def observe(self, metrics: Mapping[str, torch.Tensor]) -> None:
        if self.names is None:
            self.names = [k for k, v in metrics.items() if isinstance(v, torch.Tensor)]
        self.flags.append(torch.stack([torch.isfinite(metrics[k]).all() for k in self.names]))

    def check(self, where: str, nets: nn.Module | None = None) -> None:
        """Raise :class:`DivergenceError` naming ``where``, the step and the quantity, if a
        step observed since the last check (or a weight of ``nets``) is not finite."""
        steps, self.flags = self.flags, []
        first, self.checked = self.checked, self.checked + len(steps)
        if steps:
            ok = torch.stack(steps).cpu()  # (steps, metrics): the one sync
            if not ok.all():
                step, index = (~ok).nonzero()[0].tolist()
                raise DivergenceError(f"{where}, {self.what} {first + step + 1}: non-finite "
                                      f"{self.names[index]}; the run stops")
        if nets is not None:
            for name, tensor in nets.state_dict().items():
                if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                    raise DivergenceError(f"{where}, after {self.what} {self.checked}: "
                                          f"non-finite weights {name}; the run stops")
