import pandas as pd
import pytest

import globsml
from globsml import GlobsmlError
from globsml.explain import explain_errors, read_errors


def _run_dir(tmp_path, rows):
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame(rows, columns=["model", "setup", "seed", "galaxy", "ID", "kind", "p_gc"]).to_csv(
        run / "errors.csv", index=False
    )
    return run


ROWS = [
    ("explain-test-logistic", "virgo2fornax", 0, "FCC1", 1, "FP", 0.81),
    ("explain-test-logistic", "virgo2fornax", 0, "FCC2", 2, "FN", 0.10),
    ("explain-test-logistic", "virgo2fornax", 0, "FCC2", 3, "TP", 0.90),
    ("explain-test-logistic", "virgo2fornax", 0, "FCC1", 9, "FP", 0.55),
    ("other", "fornax2virgo", 1, "VCC1", 4, "FN", 0.2),
]


def test_read_errors(tmp_path):
    run = _run_dir(tmp_path, ROWS)
    table = read_errors(run)
    assert set(table["kind"]) == {"FP", "FN"} and len(table) == 4
    assert len(read_errors(run / "errors.csv", model="other")) == 1
    with pytest.raises(GlobsmlError, match="no errors of model 'nope'"):
        read_errors(run, model="nope")
    with pytest.raises(GlobsmlError, match="benchmark"):
        read_errors(tmp_path / "missing")
    bad = tmp_path / "bad"
    bad.mkdir()
    pd.DataFrame({"model": ["x"]}).to_csv(bad / "errors.csv", index=False)
    with pytest.raises(GlobsmlError, match="missing column"):
        read_errors(bad)


def test_explain_errors_writes_figures_and_index(tmp_path, synthetic_dir):
    run = _run_dir(tmp_path, ROWS)
    out = tmp_path / "out"
    data = globsml.load_dataset(synthetic_dir)
    index = explain_errors(run, data, out, model="explain-test-logistic", limit=1, num_samples=100,
                           progress=False)
    folder = out / "explain-test-logistic" / "virgo2fornax" / "seed0"
    pngs = sorted(p.name for p in folder.glob("*.png"))
    # limit=1 keeps the most confident FP (p_gc 0.81, not 0.55) and the FN; no TP.
    assert pngs == ["FN_FCC2_2.png", "FP_FCC1_1.png"]
    page = index.read_text()
    assert "FP_FCC1_1.png" in page and "FN_FCC2_2.png" in page and "FCC1:9" not in page
    assert "<img" in page and "False positives (1)" in page
    # The p_gc of this made-up errors.csv are not the retrained model's: flagged.
    assert "retrained: " in page
    # Rerunning keeps the figures (resume) and explains only what is new.
    mtime = (folder / "FP_FCC1_1.png").stat().st_mtime_ns
    explain_errors(run, data, out, model="explain-test-logistic", num_samples=100, progress=False)
    assert (folder / "FP_FCC1_1.png").stat().st_mtime_ns == mtime
    assert (folder / "FP_FCC1_9.png").is_file()


def test_unreproducible_groups_are_listed(tmp_path, synthetic_dir):
    run = _run_dir(tmp_path, [("explain-test-logistic", "leave-one-out", 0, "FCC1", 1, "FP", 0.8)])
    index = explain_errors(run, globsml.load_dataset(synthetic_dir), tmp_path / "o", progress=False)
    page = index.read_text()
    assert "Not explained" in page and "unknown set-up" in page
