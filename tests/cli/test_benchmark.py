"""globsml benchmark on the command line."""

import sys
from pathlib import Path

from globsml.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
from conftest import synthetic_dataset  # noqa: E402


def test_benchmark_cli(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    synthetic_dataset().sources.drop(columns="cluster").to_csv(data / "ACS_sources_original.csv")
    out = tmp_path / "out"
    argv = ["benchmark", "--data", str(data), "--models", "logistic", "--setups", "cluster2cluster",
            "--out", str(out), "--quick", "--no-progress"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "| logistic | Virgo2Fornax | 1 |" in text and "2 run(s) computed" in text
    assert (out / "report.html").is_file()
    assert main(argv) == 0
    assert "0 run(s) computed, 2 resumed" in capsys.readouterr().out


def test_benchmark_cli_errors(tmp_path, capsys):
    assert main(["benchmark", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("globsml benchmark: error:") and "missing" in err and "Traceback" not in err
