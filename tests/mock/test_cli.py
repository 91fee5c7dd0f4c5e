"""``globsml mock`` and the embedded default data set."""

import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from globsml.cli import main
from globsml.mock import _cache, default_data_dir


def test_cli_reports_bad_scale(capsys, tmp_path):
    assert main(["mock", str(tmp_path / "m"), "--scale", "2"]) == 2
    err = capsys.readouterr().err
    assert "scale" in err and "Traceback" not in err


def test_cli_on_a_finished_mock_prints_it(small_mock, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(small_mock, copy)
    assert main(["mock", str(copy), "--scale", "0.02", "--quiet"]) == 0
    assert str(copy) in capsys.readouterr().out
    assert main(["mock", str(copy), "--scale", "0.5", "--quiet"]) == 2
    # the small mock was made with the critic: the physics-only one is another survey
    assert main(["mock", str(copy), "--scale", "0.02", "--no-critic", "--quiet"]) == 2
    assert "critic" in capsys.readouterr().err


def test_cli_without_critic_marks_it(tmp_path):
    import json

    from globsml.mock import MARKER

    assert main(["mock", str(tmp_path / "m"), "--scale", "0.01", "--no-critic", "--quiet"]) == 0
    assert json.loads((tmp_path / "m" / MARKER).read_text())["critic"] is False


def test_default_cache_is_keyed_by_the_generator(monkeypatch, tmp_path):
    """A new calibration or release makes a new default mock rather than reusing an old one."""
    monkeypatch.setenv("GLOBSML_CACHE", str(tmp_path))
    first = _cache.generator_digest()
    assert len(first) == 8 and first == _cache.generator_digest()
    monkeypatch.setattr("globsml._version.__version__", "99.0.0")
    assert _cache.generator_digest() != first


def test_default_cache_is_keyed_by_the_mock_code(monkeypatch, tmp_path):
    """A code-only change of the mock's physics (same version, same data files) makes a new default mock."""
    fake = tmp_path / "globsml"
    shutil.copytree(Path(resources.files("globsml")), fake, ignore=shutil.ignore_patterns("__pycache__"))
    # a copy of the package, imported in a fresh interpreter: the digest of
    # the copy, then of the copy with one constant of the renderer changed
    code = "from globsml.mock._cache import generator_digest; print(generator_digest())"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    run = lambda: subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,  # noqa: E731
                                 check=True).stdout.strip()
    before = run()
    render = fake / "mock" / "_render.py"
    render.write_text(render.read_text() + "\nSOME_NEW_CONSTANT = 1.0\n")
    assert run() != before


def test_default_data_dir_is_made_once(monkeypatch, tmp_path, capsys, small_mock):
    monkeypatch.setenv("GLOBSML_CACHE", str(tmp_path))
    monkeypatch.setenv("GLOBSML_MOCK_SCALE", "0.02")
    calls = []

    def fake_make(path, **kwargs):
        calls.append(kwargs)
        shutil.copytree(small_mock, path)
        return path

    monkeypatch.setattr(_cache, "make_mock_survey", fake_make)
    first = default_data_dir(progress=False)
    assert "making the mock survey" in capsys.readouterr().err
    assert first.parent == tmp_path
    second = default_data_dir(progress=False)
    assert second == first and len(calls) == 1
    assert calls[0]["scale"] == 0.02 and calls[0]["seed"] == 0
    assert capsys.readouterr().err == ""


def test_the_quick_default_is_the_half_size_mock_unless_the_environment_says(monkeypatch, tmp_path, small_mock):
    monkeypatch.setenv("GLOBSML_CACHE", str(tmp_path))
    monkeypatch.delenv("GLOBSML_MOCK_SCALE", raising=False)
    scales = []

    def fake_make(path, **kwargs):
        scales.append(kwargs["scale"])
        shutil.copytree(small_mock, path)
        return path

    monkeypatch.setattr(_cache, "make_mock_survey", fake_make)
    quick = default_data_dir(quick=True, progress=False)
    full = default_data_dir(progress=False)
    assert scales == [0.5, 1.0]
    assert quick != full and "scale0.5-" in quick.name and "scale1-" in full.name
    monkeypatch.setenv("GLOBSML_MOCK_SCALE", "0.02")
    assert "scale0.02-" in default_data_dir(quick=True, progress=False).name
    assert scales == [0.5, 1.0, 0.02]


def test_default_scale_must_be_a_fraction(monkeypatch, tmp_path):
    from globsml import GlobsmlError

    monkeypatch.setenv("GLOBSML_CACHE", str(tmp_path))
    monkeypatch.setenv("GLOBSML_MOCK_SCALE", "big")
    with pytest.raises(GlobsmlError, match="GLOBSML_MOCK_SCALE"):
        default_data_dir()
