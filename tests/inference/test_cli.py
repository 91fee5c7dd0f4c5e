"""globsml train / predict / detect on the command line."""

import numpy as np
import pandas as pd
import pytest

from globsml.cli import main
from globsml.inference import load_bundle, predict_catalogue, read_catalogue, read_partitioned, write_partitions

from .conftest import TEST_MODEL


def test_train_then_predict(tmp_path, tiny_data, tiny_table, capsys):
    bundle = tmp_path / "b.zip"
    assert main(["train", "--data", str(tiny_data), "--model", TEST_MODEL, "--setup", "fornax2virgo",
                 "--out", str(bundle), "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "test part of fornax2virgo" in out and "roc_auc=" in out
    assert load_bundle(bundle).training["train"].keys() == {"Fornax"}
    assert main(["predict", "--model", str(bundle), "--data", str(tiny_data), "--out", str(tmp_path / "c.fits")]) == 0
    out = capsys.readouterr().out
    assert "candidates among 480 sources" in out and "metrics (pooled)" in out and "VCC2" in out
    cat = read_catalogue(tmp_path / "c.fits")
    expected = predict_catalogue(bundle, data=tiny_data)
    np.testing.assert_array_equal(cat["p_gc"].to_numpy(), expected["p_gc"].to_numpy())


def test_predict_table_with_threshold_to_csv(tmp_path, tiny_bundle, tiny_table, capsys):
    tiny_table.drop(columns=["pGC"]).to_csv(tmp_path / "t.csv", index=False)
    assert main(["predict", "--model", str(tiny_bundle), "--table", str(tmp_path / "t.csv"),
                 "--out", str(tmp_path / "c.csv"), "--threshold", "0.2"]) == 0
    assert "metrics" not in capsys.readouterr().out
    cat = pd.read_csv(tmp_path / "c.csv")
    assert cat["is_gc"].tolist() == (cat["p_gc"] > 0.2).tolist()


def test_predict_dask_engine(tmp_path, tiny_bundle, tiny_table, capsys):
    write_partitions(tiny_table, tmp_path / "parts", rows_per_partition=240)
    assert main(["predict", "--model", str(tiny_bundle), "--table", str(tmp_path / "parts"),
                 "--out", str(tmp_path / "out"), "--engine", "dask", "--workers", "1"]) == 0
    assert "among 480 sources (2 partitions, 0 already done)" in capsys.readouterr().out
    got = read_partitioned(tmp_path / "out")
    np.testing.assert_array_equal(got["p_gc"].to_numpy(),
                                  predict_catalogue(tiny_bundle, table=tiny_table)["p_gc"].to_numpy())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["predict", "--model", "{missing}", "--table", "{table}", "--out", "{tmp}/c.csv"], "no such bundle"),
        (["predict", "--model", "{bundle}", "--table", "{table}", "--out", "{tmp}/c.xlsx"], "unknown catalogue format"),
        (["predict", "--model", "{bundle}", "--data", "{tmp}", "--out", "{tmp}/o", "--engine", "dask"],
         "--engine dask reads a partitioned catalogue"),
        (["train", "--data", "{data}", "--model", "nope", "--setup", "all2all", "--out", "{tmp}/b"],
         "unknown model 'nope'"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(tmp_path, tiny_bundle, tiny_data, tiny_table, capsys, argv, message):
    tiny_table.to_csv(tmp_path / "t.csv", index=False)
    fill = {"missing": tmp_path / "nothing", "table": tmp_path / "t.csv", "tmp": tmp_path,
            "bundle": tiny_bundle, "data": tiny_data}
    assert main([a.format(**{k: str(v) for k, v in fill.items()}) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_predict_fdr_regions_and_provenance(tmp_path, tiny_data, capsys):
    pytest.importorskip("regions")
    bundle = tmp_path / "b.zip"
    assert main(["train", "--data", str(tiny_data), "--model", TEST_MODEL, "--setup", "all2all",
                 "--out", str(bundle), "--calibration-fraction", "0.2"]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(bundle), "--data", str(tiny_data), "--out", str(tmp_path / "c.vot"),
                 "--fdr", "0.1", "--regions", str(tmp_path / "c.reg")]) == 0
    out = capsys.readouterr().out
    assert "chosen for FDR <= 0.1" in out and "region file ->" in out
    table = read_catalogue(tmp_path / "c.vot", as_table=True)
    assert table.meta["FDR"] == 0.1 and table.meta["BUNDLE"] == load_bundle(bundle).manifest["digest"]
    assert np.all((np.asarray(table["p_gc"]) > table.meta["THRESH"]) == np.asarray(table["is_gc"]))
    assert (tmp_path / "c.reg").read_text().count("circle(") == int(np.sum(table["is_gc"]))


def test_predict_warns_when_the_input_looks_unlike_the_calibration(tmp_path, tiny_data, tiny_table, capsys):
    bundle = tmp_path / "b.zip"
    assert main(["train", "--data", str(tiny_data), "--model", TEST_MODEL, "--setup", "all2all",
                 "--out", str(bundle), "--calibration-fraction", "0.3"]) == 0
    # Make every source look more GC-like than the calibration non-GCs (colour and CI of a GC).
    shifted = tiny_table.drop(columns=["pGC"]).assign(colour=1.1, CI_g=tiny_table["CI_g"] + 1.0)
    shifted.to_csv(tmp_path / "t.csv", index=False)
    capsys.readouterr()
    assert main(["predict", "--model", str(bundle), "--table", str(tmp_path / "t.csv"),
                 "--out", str(tmp_path / "c.ecsv"), "--fdr", "0.05"]) == 0
    err = capsys.readouterr().err
    assert "globsml predict: warning:" in err and "is not guaranteed" in err
    with pytest.raises(SystemExit):  # argparse: --fdr and --threshold exclude each other
        main(["predict", "--model", str(bundle), "--table", str(tmp_path / "t.csv"),
              "--out", str(tmp_path / "c2.csv"), "--fdr", "0.05", "--threshold", "0.3"])
    assert "not allowed with argument --fdr" in capsys.readouterr().err
