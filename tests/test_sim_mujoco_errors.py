"""MuJoCo's fatal errors (which would exit the process) become Python exceptions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mfhrl_fast import SimPool, half_cheetah_xml


def xml_with_arena(tmp_path: Path, memory: str) -> str:
    """HalfCheetah with a tiny arena, so contacts overflow MuJoCo's stack."""
    text = Path(half_cheetah_xml()).read_text()
    text = text.replace("<option gravity", f'<size memory="{memory}"/>\n  <option gravity', 1)
    path = tmp_path / f"half_cheetah_{memory}.xml"
    path.write_text(text)
    return str(path)


def test_error_while_building_raises(tmp_path):
    with pytest.raises(RuntimeError, match=r"MuJoCo error in \d+ environment.*mj_stackAlloc"):
        SimPool(num_envs=2, num_threads=2, xml_path=xml_with_arena(tmp_path, "4K"))


@pytest.mark.parametrize("num_threads", [1, 2])
def test_error_while_stepping_raises_and_pool_survives(tmp_path, num_threads):
    pool = SimPool(num_envs=4, num_threads=num_threads, xml_path=xml_with_arena(tmp_path, "7K"))
    pool.reset(seed=0)
    rng = np.random.default_rng(0)
    with pytest.raises(RuntimeError, match="(?s)mj_stackAlloc.*the pool remains usable"):
        for _ in range(300):
            pool.step(rng.uniform(-1, 1, (4, 6)))
    # The failed environments were reset; the pool keeps stepping.
    obs, reward, _, _, info = pool.step(np.zeros((4, 6)))
    assert np.isfinite(obs).all() and np.isfinite(reward).all()
    assert info["episode_length"].min() >= 1


def test_loading_is_quiet_and_keeps_the_total_mass(tmp_path, monkeypatch, capfd):
    """The XML's deprecated settotalmass is applied after compiling: no warning on the
    native streams, no MUJOCO_LOG.TXT, the same total mass (the step parity tests check
    the physics bit for bit)."""
    import mujoco

    monkeypatch.chdir(tmp_path)
    capfd.readouterr()
    pool = SimPool(num_envs=2, num_threads=1)
    pool.reset(seed=0)
    pool.step(np.zeros((2, pool.act_dim)))
    out, err = capfd.readouterr()
    assert "settotalmass" not in out + err and "WARNING" not in out + err
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()
    text = Path(half_cheetah_xml()).read_text()
    assert 'settotalmass="14"' in text  # the attribute is still in the file
    spec = mujoco.MjSpec.from_file(half_cheetah_xml())
    spec.compiler.settotalmass = -1
    model = spec.compile()
    mujoco.mj_setTotalmass(model, 14.0)
    assert abs(model.body_mass.sum() - 14.0) < 1e-12


def test_a_broken_xml_is_an_error_naming_the_file(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<mujoco><worldbody><body><geom type='nosuchtype'/></body></worldbody></mujoco>")
    with pytest.raises(RuntimeError, match="MuJoCo could not load .*bad.xml"):
        SimPool(num_envs=1, xml_path=str(bad))
