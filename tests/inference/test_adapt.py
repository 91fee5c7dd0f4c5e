"""globsml train --adapt-to and predict --counts."""

import numpy as np
import pytest

from globsml.cli import main
from globsml._errors import GlobsmlError
from globsml.data import read_galaxy_counts
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


@pytest.fixture(scope="module")
def relabelled_data(tmp_path_factory, tiny_table):
    """The tiny table with its labels turned upside down: a teacher trained on
    the true labels disagrees with these on nearly every source."""
    from globsml.data import TABLE_FILENAME

    root = tmp_path_factory.mktemp("relabelled")
    tiny_table.assign(pGC=1 - tiny_table["pGC"]).to_csv(root / TABLE_FILENAME)
    return root


def test_a_teacher_labels_the_training_data(tmp_path, tiny_bundle, tiny_data, relabelled_data, capsys):
    out = tmp_path / "student.zip"
    assert main(["train", "--data", str(relabelled_data), "--model", TEST_MODEL, "--setup", "all2all",
                 "--teacher", str(tiny_bundle), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "labels: p_gc of the teacher" in printed and "against its decisions" in printed
    student = load_bundle(out)
    taught = student.training["teacher"]
    assert taught["name"] == load_bundle(tiny_bundle).name and 0 < taught["mean_p_gc"] < 1
    # the student follows the teacher, not the upside-down labels the data carry
    from globsml import load_dataset

    ds = load_dataset(tiny_data)
    X = ds.features()
    p_teacher = load_bundle(tiny_bundle).predict_proba(X)
    p_student = student.predict_proba(X)
    agree_teacher = np.mean((p_student > 0.5) == (p_teacher > 0.5))
    agree_data = np.mean((p_student > 0.5) == (load_dataset(relabelled_data).y == 1))
    assert agree_teacher > 0.8 and agree_data < 0.3
    assert student.metrics["pooled"]["roc_auc"] > 0.9  # against the teacher's decisions on the test part


def test_a_teacher_gives_soft_labels(tmp_path, tiny_bundle, tiny_data):
    """The student is fitted to the teacher's probabilities, as fit_soft_labels fits them."""
    from globsml import load_dataset
    from globsml.adapt import fit_soft_labels
    from globsml.experiments import get_setup, training_rows
    from globsml.models import make_model

    student = train_bundle(tiny_data, TEST_MODEL, setup="all2all", teacher=tiny_bundle, calibration_fraction=0)
    ds = load_dataset(tiny_data)
    q = load_bundle(tiny_bundle).predict_proba(ds.features())
    train = training_rows(ds, "features", get_setup("all2all").split(ds, seed=0).train)
    direct = fit_soft_labels(make_model(TEST_MODEL, random_state=0), ds.features().iloc[train], q[train])
    np.testing.assert_allclose(student.predict_proba(ds.features()),
                               direct.predict_proba(ds.features()[list(student.features)])[:, 1])


def test_a_teacher_with_adaptation_records_both(tmp_path, tiny_bundle, relabelled_data, shifted_target):
    bundle = train_bundle(relabelled_data, TEST_MODEL, setup="all2all", teacher=tiny_bundle,
                          adapt_to=shifted_target, adaptation=("self-training",))
    assert bundle.training["adaptation"]["methods"] == ["self-training"]
    assert bundle.training["teacher"]["name"] == load_bundle(tiny_bundle).name


@pytest.mark.parametrize("argv, message", [
    (["--model", "cnn", "--teacher", "TEACHER"], "--teacher teaches tabular models; 'cnn' is not one"),
    (["--model", TEST_MODEL, "--teacher", "no/such/bundle"], "no/such/bundle: no such bundle"),
    (["--model", TEST_MODEL, "--data-ebv", "0.03"], "--data-ebv sets the E(B-V) of features measured for --teacher"),
    (["--model", TEST_MODEL], "training needs labels (a pGC column), or a teacher (--teacher)"),
])
def test_bad_teacher_use_is_one_line(tmp_path, tiny_bundle, shifted_target, capsys, argv, message):
    unlabelled = shifted_target  # a table without pGC
    argv = [str(tiny_bundle) if a == "TEACHER" else a for a in argv]
    code = main(["train", "--data", str(unlabelled), "--setup", "all2all", "--out", str(tmp_path / "s.zip"), *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "s.zip").exists()


def _counts_file(path, table, scale):
    """galaxy,n_gcs: each galaxy's number of labelled GCs times ``scale``."""
    n = (table["pGC"] >= 0.5).groupby(table["galaxy"]).sum() * scale
    n.rename("n_gcs").rename_axis("galaxy").reset_index().to_csv(path, index=False)
    return path


def test_fit_threshold_moves_the_threshold_towards_the_known_counts(tmp_path, tiny_data, tiny_table, capsys):
    true_counts = _counts_file(tmp_path / "true.csv", tiny_table, 1.0)
    fewer = _counts_file(tmp_path / "fewer.csv", tiny_table, 0.6)
    assert main(["train", "--data", str(tiny_data), "--model", TEST_MODEL, "--setup", "all2all",
                 "--fit-threshold", str(fewer), "--out", str(tmp_path / "fewer.zip")]) == 0
    printed = capsys.readouterr().out
    assert "best reproduces the numbers of GCs of 4 galaxies" in printed
    bundle = load_bundle(tmp_path / "fewer.zip")
    record = bundle.training["threshold_fit"]
    assert bundle.threshold == record["threshold"] and record["folds"] == 4
    spread = record["abs_rel_count_error_percentiles"]
    assert 0 <= spread["50"] <= spread["68"] <= spread["90"] and spread["50"] == pytest.approx(
        record["median_abs_rel_count_error"], abs=1e-4)
    assert main(["predict", "--model", str(tmp_path / "fewer.zip"), "--data", str(tiny_data),
                 "--out", str(tmp_path / "c.csv"), "--counts"]) == 0
    assert f"within {100 * spread['90']:.0f} % for 90 %" in capsys.readouterr().out
    assert main(["predict", "--model", str(tmp_path / "fewer.zip"), "--data", str(tiny_data),
                 "--out", str(tmp_path / "c2.csv"), "--counts", "--threshold", "0.9"]) == 0
    assert "for 90 %" not in capsys.readouterr().out  # measured at the fitted threshold, not at 0.9
    exact = train_bundle(tiny_data, TEST_MODEL, setup="all2all", fit_threshold=read_galaxy_counts(true_counts))
    # the same model, asked for 40 % fewer GCs, counts above a higher threshold ...
    assert exact.threshold < bundle.threshold
    assert exact.training["threshold_fit"]["median_abs_rel_count_error"] < 0.1
    # ... and its test part is counted there
    assert bundle.metrics["pooled"]["n_found"] < exact.metrics["pooled"]["n_found"]


def test_fit_threshold_with_a_teacher_and_adaptation(tmp_path, tiny_bundle, relabelled_data, shifted_target,
                                                    tiny_table):
    counts = read_galaxy_counts(_counts_file(tmp_path / "n.csv", tiny_table, 1.0))
    bundle = train_bundle(relabelled_data, TEST_MODEL, setup="all2all", teacher=tiny_bundle,
                          adapt_to=shifted_target, adaptation=("self-training",), fit_threshold=counts)
    assert bundle.training["threshold_fit"]["galaxies"] == 4
    assert bundle.threshold == bundle.training["threshold_fit"]["threshold"]
    assert bundle.training["adaptation"]["target"] == str(shifted_target)  # the final fit: the real target


@pytest.mark.parametrize("argv, message", [
    (["--fit-threshold", "published", "--threshold", "0.4"], "give --threshold or --fit-threshold, not both"),
    (["--fit-threshold", "no/such.csv"], "no/such.csv: no such file"),
    (["--fit-threshold", "published"], "needs at least two galaxies of the data with a known number; 0 found"),
])
def test_bad_fit_threshold_is_one_line(tmp_path, tiny_data, capsys, argv, message):
    code = main(["train", "--data", str(tiny_data), "--model", TEST_MODEL, "--setup", "all2all",
                 "--out", str(tmp_path / "t.zip"), *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "t.zip").exists()


def test_an_image_teacher_names_a_galaxy_without_cut_outs(tmp_path, tiny_table, capsys):
    """A cut-out teacher (a CNN bundle) on data whose table names a galaxy with no cut-out file."""
    from globsml.data import IMAGE_DIRNAME, TABLE_FILENAME, write_cutouts
    from globsml.inference import Bundle

    from .conftest import make_cutouts

    root = tmp_path / "partial"
    (root / IMAGE_DIRNAME).mkdir(parents=True)
    tiny_table.to_csv(root / TABLE_FILENAME)
    cut = make_cutouts(tiny_table)
    for galaxy in ("FCC1", "FCC2", "VCC1"):
        write_cutouts(root / IMAGE_DIRNAME / f"{galaxy}_images.fits", cut[(tiny_table["galaxy"] == galaxy).to_numpy()])

    class Blob:  # a stand-in image model: p_gc from the central pixel
        def predict_proba(self, X):
            p = np.clip(np.asarray(X)[:, 0, 10, 10], 0, 1)
            return np.c_[1 - p, p]

    teacher = Bundle(Blob(), input="images", name="blob")
    with pytest.raises(GlobsmlError, match="galaxy VCC2 has no <galaxy>_images.fits"):
        train_bundle(root, TEST_MODEL, setup="all2all", teacher=teacher)


@pytest.mark.parametrize("record", [{"threshold_fit": "lots"}, {"threshold_fit": {"threshold": 0.5}},
                                    {"threshold_fit": {"threshold": 0.5, "galaxies": 3,
                                                       "abs_rel_count_error_percentiles": {"50": "x", "90": 1}}}])
def test_predict_counts_ignores_a_malformed_count_error_record(tmp_path, tiny_bundle, tiny_data, capsys, record):
    """A bundle from elsewhere may carry anything in its training record."""
    bundle = load_bundle(tiny_bundle)
    bundle.training = {**bundle.training, **record}
    bundle.save(tmp_path / "odd.zip")
    assert main(["predict", "--model", str(tmp_path / "odd.zip"), "--data", str(tiny_data),
                 "--out", str(tmp_path / "c.csv"), "--counts"]) == 0
    out = capsys.readouterr()
    assert "GCs per galaxy" in out.out and "for 90 %" not in out.out and "Traceback" not in out.err


@pytest.mark.parametrize("which", ["teacher.zip", "teacher_dir", "counts.csv", "target.csv"])
def test_train_never_writes_its_bundle_over_an_input(tmp_path, tiny_bundle, tiny_data, tiny_table,
                                                     shifted_target, capsys, which):
    import shutil

    teacher_zip = tmp_path / "teacher.zip"
    load_bundle(tiny_bundle).save(teacher_zip)
    teacher_dir = tmp_path / "teacher_dir"
    load_bundle(tiny_bundle).save(teacher_dir)
    counts = _counts_file(tmp_path / "counts.csv", tiny_table, 1.0)
    target = tmp_path / "target.csv"
    shutil.copy(shifted_target, target)
    argv = {"teacher.zip": ["--teacher", str(teacher_zip)], "teacher_dir": ["--teacher", str(teacher_dir)],
            "counts.csv": ["--fit-threshold", str(counts)], "target.csv": ["--adapt-to", str(target)]}[which]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code = main(["train", "--data", str(tiny_data), "--model", TEST_MODEL, "--setup", "all2all", *argv,
                 "--out", str(tmp_path / which)])
    assert code == 2
    err = capsys.readouterr().err
    assert ("an input of this command" in err or "is not a bundle" in err) and "Traceback" not in err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
