"""Build plumbing: the MuJoCo version pin and the C++-only embedding example."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import mujoco
import pytest

from mfhrl_fast import _build_info, _core, half_cheetah_xml
from mfhrl_fast._mujoco_check import check_mujoco_version

REPO_ROOT = Path(__file__).resolve().parents[1]
# cmake and ninja are pip-installed next to the interpreter; look there even if not on PATH.
TOOL_PATH = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
EXAMPLE_STEPS = 200


def test_version_mismatch_raises_naming_both():
    with pytest.raises(ImportError, match=r"mujoco==4\.0\.0.*mujoco==3\.0\.0"):
        check_mujoco_version("3.0.0", "4.0.0")


def test_version_match_passes():
    check_mujoco_version(mujoco.__version__, mujoco.__version__)


def test_built_against_installed_mujoco():
    assert _build_info.MUJOCO_VERSION == mujoco.__version__
    assert _core.mujoco_runtime_version == mujoco.__version__
    assert _core.MUJOCO_HEADER_VERSION == mujoco.mj_version()


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """cmake-builds cpp/examples/two_fidelity_pool (no Python module) into a temp dir."""
    cmake = shutil.which("cmake", path=TOOL_PATH)
    if cmake is None:
        pytest.skip("cmake not found (pip install cmake ninja) next to the interpreter or on PATH")
    build = tmp_path_factory.mktemp("cmake-build")
    configure = [
        cmake, "-S", str(REPO_ROOT), "-B", str(build),
        "-DMFHRL_BUILD_PYTHON=OFF", "-DMFHRL_BUILD_EXAMPLES=ON",
        f"-DPython_EXECUTABLE={sys.executable}",
    ]  # fmt: skip
    ninja = shutil.which("ninja", path=TOOL_PATH)
    if ninja is not None:
        configure += ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"]
    build_cmd = [cmake, "--build", str(build), "--target", "two_fidelity_pool", "-j", "2"]
    for cmd in (configure, build_cmd):
        result = run(cmd)
        assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
    return build / "cpp" / "examples" / "two_fidelity_pool"


def test_example_steps_two_fidelities(example):
    result = run([str(example), half_cheetah_xml(), str(EXAMPLE_STEPS)])
    assert result.returncode == 0, result.stderr
    lines = re.findall(
        rf"^(\S+): return per env over {EXAMPLE_STEPS} steps = (-?\d+\.\d+)$", result.stdout, re.M
    )
    assert [name for name, _ in lines] == ["gravity-2.0", "true"]
    assert lines[0][1] != lines[1][1]  # the two fidelities really differ
    assert result.stdout.strip().splitlines()[-1] == "ok"


def test_example_reports_a_bad_xml(example, tmp_path):
    missing = tmp_path / "missing.xml"
    result = run([str(example), str(missing), "10"])
    assert result.returncode == 1
    assert f"could not load '{missing}'" in result.stderr
    assert "ok" not in result.stdout
