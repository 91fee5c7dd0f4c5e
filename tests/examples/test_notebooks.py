"""Execute the example notebooks on a small mock, so that they never rot."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import globsml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "01_cluster2cluster.ipynb", "02_benchmark_grid.ipynb", "03_errors.ipynb",
        "04_neural_networks.ipynb"]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, small_mock, tmp_path, monkeypatch):
    # The kernel inherits this environment: the notebooks read GLOBSML_DATA etc.
    monkeypatch.setenv("GLOBSML_DATA", str(small_mock))
    monkeypatch.setenv("GLOBSML_QUICK", "1")
    monkeypatch.setenv("GLOBSML_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # The kernel runs in tmp_path: it must import the globsml under test, not another installed one.
    tested = str(Path(globsml.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (tested, os.environ.get("PYTHONPATH")) if p))
    published = Path(__file__).resolve().parents[3] / "shared" / "gcdata" / "published_models"
    if published.is_dir():  # the published CNNs, where ../shared is (CI); skipped in the notebook otherwise
        monkeypatch.setenv("GLOBSML_PUBLISHED_MODELS", str(published))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # Every notebook shows at least one figure.
    assert any("image/png" in o.get("data", {}) for o in outputs)
