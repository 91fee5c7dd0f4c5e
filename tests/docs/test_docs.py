"""The documentation: the Sphinx site builds with warnings as errors; docstring examples run."""

import doctest
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Modules whose docstrings hold examples (the main public functions).
DOCTEST_MODULES = (
    "globsml.evaluation._per_galaxy",
    "globsml.models._registry",
    "globsml.data._counts",
    "globsml.data._registry",
    "globsml.experiments._report",
    "globsml.models._uncertainty",
    "globsml.models._torch",
    "globsml.inference._catalogue",
    "globsml.inference._completeness",
    "globsml.inference._conformal",
    "globsml.adapt._counts",
    "globsml.adapt._network",
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
    assert "User guide" in index and "Example notebooks" in index
    assert (tmp_path / "html" / "notebooks" / "01_cluster2cluster.html").is_file()
    api = (tmp_path / "html" / "api.html").read_text()
    for name in ("predict_catalogue", "fdr_threshold", "predict_proba_std", "catalogue_table", "load_dataset"):
        assert name in api, name


def _notebook_renderer():
    spec = importlib.util.spec_from_file_location("notebooks", ROOT / "docs" / "_ext" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebook_markdown_becomes_restructuredtext():
    nb = _notebook_renderer()
    assert nb.inline("the `p_gc` of a *fake* GC") == "the ``p_gc`` of a *fake* GC"
    assert nb.inline("**bold** and [a link](https://example.org)") == "**bold** and `a link <https://example.org>`__"
    # characters special to reStructuredText are escaped; markup next to letters is set off
    assert nb.inline("feature_importances_ | *") == "feature\\_importances\\_ \\| \\*"
    assert nb.inline("`run`s") == "``run``\\ s"
    assert nb.markdown_to_rst("## Curves\n\n- one\n- two\n  more") == ["Curves", "------", "", "- one",
                                                                        "- two more", ""]


def test_every_notebook_renders_with_a_title_and_its_code():
    nb = _notebook_renderer()
    import nbformat

    for path in sorted((ROOT / "examples").glob("*.ipynb")):
        text = nb.notebook_to_rst(path, download=f"../../examples/{path.name}")
        lines = text.splitlines()
        assert set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0]), path.name
        cells = nbformat.read(str(path), as_version=4).cells
        assert text.count(".. code-block:: python") == sum(c.cell_type == "code" and bool(c.source.strip())
                                                            for c in cells)
        assert f":download:`download <../../examples/{path.name}>`" in text


def _teacher_section(tmp_path, shared_data, monkeypatch):
    """docs/guide/adapting.rst's teacher section, and its folders: two real galaxies of each cluster."""
    text = (ROOT / "docs" / "guide" / "adapting.rst").read_text()
    section = text.split("A teacher on real cut-outs\n", 1)[1].split("\nOn Fornax this gave", 1)[0]
    for folder, galaxies in (("virgo_cutouts", ("VCC1528", "VCC1545")), ("my_cutouts", ("FCC100", "FCC106"))):
        (tmp_path / folder).mkdir()
        for galaxy in galaxies:
            name = f"{galaxy}_images.fits"
            (tmp_path / folder / name).symlink_to(shared_data / "ImageData" / name)
    (tmp_path / "data" / "models").mkdir(parents=True)  # where `globsml fetch data/ --models` puts them
    (tmp_path / "data" / "models" / "Virgo2Fornax--CNN").symlink_to(
        shared_data / "published_models" / "Virgo2Fornax--CNN")
    monkeypatch.chdir(tmp_path)
    return section


def test_the_adapting_guides_teacher_recipe_runs_as_written(shared_data, tmp_path, monkeypatch, capsys):
    """The python block of the guide's teacher section, on two real galaxies of each cluster."""
    section = _teacher_section(tmp_path, shared_data, monkeypatch)
    block = section.split(".. code-block:: python\n\n", 1)[1].split("\n\nThe benchmark fitted", 1)[0]
    code = "\n".join(line[3:] for line in block.splitlines())
    exec(compile(code, "adapting.rst", "exec"), {"__name__": "recipe"})
    printed = capsys.readouterr().out
    assert "FCC100" in printed and "FCC106" in printed and "expected" in printed


def test_the_adapting_guides_teacher_commands_run_as_written(shared_data, tmp_path, monkeypatch, capsys):
    """The train and predict commands of the guide's teacher section (fetch needs the network: a link instead)."""
    import shlex

    from globsml.cli import main

    section = _teacher_section(tmp_path, shared_data, monkeypatch)
    block = section.split(".. code-block:: bash\n\n", 1)[1].split("\n\n", 1)[0]
    lines = block.replace("\\\n", " ").splitlines()
    commands = [shlex.split(line, comments=True) for line in lines if line.split()[:2] != ["globsml", "fetch"]]
    assert commands[0][0] == "export"
    monkeypatch.setenv(*commands[0][1].split("=", 1))
    for argv in commands[1:]:
        assert argv[0] == "globsml" and main(argv[1:]) == 0
    printed = capsys.readouterr().out
    assert "labels: p_gc of the teacher published-cnn-virgo2fornax" in printed
    assert "FCC100" in printed and "FCC106" in printed and "GCs per galaxy" in printed
    assert (tmp_path / "candidates.ecsv").is_file()
