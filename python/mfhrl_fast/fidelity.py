"""Simulator fidelities (docs/algorithm.md, "The problem") and their presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from . import _core


@dataclass(frozen=True)
class FidelitySpec:
    """How one simulator perturbs HalfCheetah-v5, and what a round in it costs.

    Defaults are the true dynamics. Validation (positive scales, non-negative
    noise and iteration counts) is the C++ core's, so Python and C++ users see
    the same rules.
    """

    name: str = ""
    """Label; empty derives one from the fields, e.g. ``"gravity-2"`` or ``"true"``."""
    gravity_scale: float = 1.0
    """Multiplies ``model.opt.gravity``."""
    friction_scale: float = 1.0
    """Multiplies every geom's three friction coefficients (as H2O's XML rewrite)."""
    action_noise_std: float = 0.0
    """The simulator steps ``a + N(0, std^2)``; transitions store ``a`` (H2O's joint noise)."""
    cost: float = 1.0
    """Cost of one round of data collection at this fidelity (lambda_k)."""
    frame_skip: int = 0
    """0 keeps the model's 5; another value rescales the timestep so the control period stays."""
    solver_iterations: int = 0
    """0 keeps the model's solver iteration limit; lower values make a cheaper simulator."""
    ls_iterations: int = 0
    """0 keeps the model's line-search iteration limit."""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self._derived_name())
        self.to_core()  # raises ValueError for a bad field

    def _derived_name(self) -> str:
        parts = [
            f"{label}-{value:g}"
            for label, value, default in (
                ("gravity", self.gravity_scale, 1.0),
                ("friction", self.friction_scale, 1.0),
                ("noise", self.action_noise_std, 0.0),
                ("frame_skip", self.frame_skip, 0),
                ("iterations", self.solver_iterations, 0),
                ("ls_iterations", self.ls_iterations, 0),
            )
            if value != default
        ]
        return "+".join(parts) or "true"

    def to_core(self) -> _core.FidelitySpec:
        return _core.FidelitySpec(**asdict(self))

    @classmethod
    def from_core(cls, spec: _core.FidelitySpec) -> FidelitySpec:
        return cls(**{name: getattr(spec, name) for name in cls.__dataclass_fields__})


def paper_ladder() -> list[FidelitySpec]:
    """The MF-HRL-IGM ladder: gravity x2.0, x1.5, x1.25, x1.0 at costs 1, 2, 4, 8.

    The factors are ours (the paper does not give its own); the last
    level is the true dynamics (paper Assumption 1(i)).
    """
    return [FidelitySpec.from_core(s) for s in _core.paper_ladder()]


def h2o_presets() -> dict[str, FidelitySpec]:
    """H2O's single-simulator settings: gravity x2, friction x0.3, action noise std 1.0."""
    return {s.name: FidelitySpec.from_core(s) for s in _core.h2o_presets()}
