"""Refuse to run against a MuJoCo other than the one ``_core`` was compiled with.

libmujoco's ABI changes between releases, so a mismatch would crash or
silently misbehave; this turns it into a clear ImportError instead.
"""

from __future__ import annotations


def check_mujoco_version(runtime: str, built: str) -> None:
    """Raise ImportError unless the installed mujoco equals the build's."""
    if runtime != built:
        raise ImportError(
            f"mfhrl_fast was compiled against mujoco=={built} but mujoco=={runtime} is "
            f"installed. Install the matching version (pip install mujoco=={built}) or "
            "rebuild mfhrl_fast against the installed one (pip install --force-reinstall "
            "--no-binary mfhrl_fast .)."
        )
