"""globsml train --adapt-to and predict --counts."""

import numpy as np
import pytest

from globsml.cli import main
from globsml.inference import load_bundle, train_bundle

from .conftest import TEST_MODEL, make_table


@pytest.fixture(scope="module")
def shifted_target(tmp_path_factory):
    """An unlabelled target table whose GCs are redder by 0.3 mag than the training data's."""
    table = make_table(galaxies=("NGC1", "NGC2"), seed=5)
    gc = table["pGC"].to_numpy() >= 0.5
    table.loc[gc, "colour"] += 0.3
    path = tmp_path_factory.mktemp("target") / "target.csv"
    table.drop(columns=["pGC"]).to_csv(path, index=False)
    return path


def test_train_adapted_to_a_target_records_it(tmp_path, tiny_data, shifted_target, capsys):
    out = tmp_path / "adapted.zip"
    assert main(["train", "--data", str(tiny_data), "--model", TEST_MODEL, "--setup", "virgo2fornax",
                 "--out", str(out), "--adapt-to", str(shifted_target), "--adapt", "weights,self-training"]) == 0
    printed = capsys.readouterr().out
    assert "adapted to" in printed and "weights, self-training" in printed and "240 sources" in printed
    record = load_bundle(out).training["adaptation"]
    assert record["methods"] == ["weights", "self-training"]
    assert record["n_target"] == 240 and record["galaxies"] == 2
    assert 0.5 <= record["domain_auc"] <= 1
    plain = train_bundle(tiny_data, TEST_MODEL, setup="virgo2fornax")
    assert "adaptation" not in plain.training
    assert plain.training["train_share"] == pytest.approx(load_bundle(out).training["train_share"])


@pytest.mark.parametrize("argv, message", [
    (["--adapt", "magic"], "unknown adaptation magic"),
    (["--adapt", ","], "unknown adaptation (none given)"),
])
def test_bad_adaptation_is_one_line(tmp_path, tiny_data, shifted_target, capsys, argv, message):
    code = main(["train", "--data", str(tiny_data), "--model", TEST_MODEL, "--setup", "virgo2fornax",
                 "--out", str(tmp_path / "b.zip"), "--adapt-to", str(shifted_target), *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "b.zip").exists()


def test_predict_prints_counts_per_galaxy_with_an_interval(tmp_path, tiny_bundle, tiny_data, capsys):
    assert main(["predict", "--model", str(tiny_bundle), "--data", str(tiny_data),
                 "--out", str(tmp_path / "c.csv"), "--counts"]) == 0
    printed = capsys.readouterr().out
    block = printed[printed.index("GCs per galaxy"):].splitlines()
    assert block[1].split() == ["galaxy", "n_sources", "n_candidates", "expected", "low", "high"]
    rows = {line.split()[0]: line.split() for line in block[2:6]}
    assert set(rows) == {"FCC1", "FCC2", "VCC1", "VCC2"}
    for row in rows.values():
        expected, low, high = map(float, row[3:6])
        assert low <= expected <= high and int(row[1]) == 120
