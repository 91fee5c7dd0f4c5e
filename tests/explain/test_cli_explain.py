import pandas as pd
import pytest

from globsml.cli import main


def test_explain_source_writes_png(synthetic_dir, tmp_path, capsys):
    out = tmp_path / "fig.png"
    code = main(["explain", "--data", str(synthetic_dir), "--model", "explain-test-logistic",
                 "--source", "FCC1:2", "--out", str(out), "--samples", "100"])
    assert code == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert "FCC1:2: p_gc = " in printed and str(out) in printed


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--source", "FCC1:999", "--model", "explain-test-logistic"], "no source ID 999"),
        (["--source", "XYZ:1", "--model", "explain-test-logistic"], "no galaxy 'XYZ'"),
        (["--source", "FCC1", "--model", "explain-test-logistic"], "expected GALAXY:ID"),
        (["--source", "FCC1:1"], "needs --model"),
        (["--source", "FCC1:1", "--model", "nope"], "unknown model 'nope'"),
        (["--source", "FCC1:1", "--model", "explain-test-logistic", "--setup", "x"], "unknown set-up"),
        (["--errors", "does-not-exist"], "errors.csv"),
    ],
)
def test_user_mistakes_exit_2_on_one_line(synthetic_dir, argv, message, capsys):
    code = main(["explain", "--data", str(synthetic_dir), *argv])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_explain_errors_cli(synthetic_dir, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame(
        [("explain-test-logistic", "fornax2virgo", 0, "VCC1", 1, "FP", 0.7)],
        columns=["model", "setup", "seed", "galaxy", "ID", "kind", "p_gc"],
    ).to_csv(run / "errors.csv", index=False)
    code = main(["explain", "--errors", str(run), "--data", str(synthetic_dir), "--samples", "100"])
    assert code == 0
    index = run / "explain" / "index.html"
    assert index.is_file() and str(index) in capsys.readouterr().out
    assert (run / "explain" / "explain-test-logistic" / "fornax2virgo" / "seed0" / "FP_VCC1_1.png").is_file()


@pytest.mark.slow
def test_explain_on_the_small_mock(request, tmp_path):
    """The brief's check: the CLI on the small mock survey writes a PNG."""
    try:
        mock_dir = request.getfixturevalue("small_mock")
    except pytest.FixtureLookupError:
        pytest.skip("the small_mock fixture (globsml.mock) is not available yet")
    import globsml

    ds = globsml.load_dataset(mock_dir)
    fornax = ds.sources[ds.sources["cluster"] == "Fornax"].iloc[0]
    out = tmp_path / "mock.png"
    code = main(["explain", "--data", str(mock_dir), "--model", "logistic",
                 "--source", f"{fornax['galaxy']}:{int(fornax['ID'])}", "--out", str(out), "--samples", "200"])
    assert code == 0 and out.stat().st_size > 5_000


def test_image_model_with_lime_pixels(synthetic_dir, tmp_path, capsys):
    out = tmp_path / "cnn.png"
    code = main(["explain", "--data", str(synthetic_dir), "--model", "explain-test-cnn", "--source", "VCC2:1",
                 "--pixels", "lime", "--baseline", "blur", "--out", str(out)])
    assert code == 0 and out.read_bytes()[:4] == b"\x89PNG"


def test_importance_cli_and_params(synthetic_dir, tmp_path, capsys):
    out = tmp_path / "imp.png"
    code = main(["explain", "--importance", "--data", str(synthetic_dir), "--model", "explain-test-logistic",
                 "--out", str(out)])
    assert code == 0 and out.read_bytes()[:4] == b"\x89PNG"
    assert "most important colour" in capsys.readouterr().out


def test_parse_params():
    from globsml import GlobsmlError
    from globsml.cli._explain import parse_params

    assert parse_params(["epochs=10", "lr=0.01", "flip=False", "name=abc"]) == {
        "epochs": 10, "lr": 0.01, "flip": False, "name": "abc"}
    with pytest.raises(GlobsmlError, match="KEY=VALUE"):
        parse_params(["epochs"])
