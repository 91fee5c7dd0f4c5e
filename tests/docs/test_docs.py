"""The documentation: the Sphinx site builds with warnings as errors; docstring examples run."""

import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Modules whose docstrings hold examples (the main public functions).
DOCTEST_MODULES = (
    "globsml.evaluation._per_galaxy",
    "globsml.models._registry",
    "globsml.models._uncertainty",
    "globsml.inference._catalogue",
    "globsml.inference._completeness",
    "globsml.inference._conformal",
    "globsml.adapt._counts",
    "globsml.adapt._prior",
    "globsml.adapt._proportions",
    "globsml.adapt._self_training",
    "globsml.adapt._soft",
    "globsml.adapt._weights",
)


@pytest.mark.parametrize("module", DOCTEST_MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{module} has no examples"
    assert result.failed == 0


def test_every_example_module_is_listed():
    """A module with ``>>>`` examples that is not in DOCTEST_MODULES would never run."""
    with_examples = set()
    for path in (ROOT / "src" / "globsml").rglob("*.py"):
        if ">>> " in path.read_text():
            with_examples.add(".".join(path.relative_to(ROOT / "src").with_suffix("").parts))
    assert with_examples == set(DOCTEST_MODULES)


@pytest.mark.slow
def test_sphinx_site_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"),
         str(tmp_path / "html")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    index = (tmp_path / "html" / "index.html").read_text()
    assert "User guide" in index
    api = (tmp_path / "html" / "api.html").read_text()
    for name in ("predict_catalogue", "fdr_threshold", "predict_proba_std", "catalogue_table", "load_dataset"):
        assert name in api, name
