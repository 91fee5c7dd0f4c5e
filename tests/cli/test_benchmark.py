"""globsml benchmark on the command line."""

import importlib.util
from pathlib import Path

from globsml.cli import main

# The made-up data set of tests/experiments/conftest.py, loaded under its own
# name (a plain "import conftest" would be ambiguous).
_spec = importlib.util.spec_from_file_location(
    "_experiments_conftest", Path(__file__).resolve().parents[1] / "experiments" / "conftest.py")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
synthetic_dataset = _module.synthetic_dataset


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


def test_benchmark_cli_param_overrides(tmp_path, capsys):
    from globsml.cli._benchmark import parse_params

    assert parse_params(["cnn:epochs=10", "cnn+1nn:cnn_params.epochs=3", "knn:weights=distance",
                         "cnn:flip=false"]) == {
        "cnn": {"epochs": 10, "flip": False}, "cnn+1nn": {"cnn_params": {"epochs": 3}},
        "knn": {"weights": "distance"}}
    data = tmp_path / "data"
    data.mkdir()
    synthetic_dataset().sources.drop(columns="cluster").to_csv(data / "ACS_sources_original.csv")
    base = ["benchmark", "--data", str(data), "--models", "forest", "--setups", "virgo2fornax",
            "--out", str(tmp_path / "out"), "--quick", "--no-progress"]
    assert main(base) == 0
    capsys.readouterr()
    # Other parameters are another run: recomputed, not resumed.
    assert main(base + ["--param", "forest:n_estimators=3"]) == 0
    assert "1 run(s) computed, 0 resumed" in capsys.readouterr().out
    for bad, words in ((["--param", "forest"], "MODEL:KEY=VALUE"),
                       (["--param", "tree:max_depth=2"], "not in the benchmark"),
                       (["--param", "forest:no_such=1"], "does not take")):
        assert main(base + bad) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err
