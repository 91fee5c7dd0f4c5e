"""Careless command lines: nothing overwritten, options checked before work, one line, never a traceback.

Each case is a tiny hostile input made here; the commands must refuse it
with one line on stderr and exit 2 (and, where it matters, before any
training or prediction starts).
"""

import os
import re
import stat

import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError
from globsml.cli import main
from globsml.data import write_cutouts

from .conftest import make_cutouts
from .test_detect import frames  # noqa: F401  (synthetic g/z frames)


def _fails(capsys, argv, pattern):
    """Run the command line; it must exit 2 with one line matching ``pattern``."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert re.search(pattern, err), err
    return err


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if training or prediction starts."""
    from globsml import inference
    from globsml.inference import _train

    def refuse(*args, **kwargs):
        raise AssertionError("work started before the options were checked")

    for module, name in ((inference, "train_bundle"), (_train, "train_bundle"), (inference, "predict_catalogue"),
                         (inference, "load_bundle")):
        monkeypatch.setattr(module, name, refuse)


# -- 3. nothing overwritten --------------------------------------------------
def test_predict_never_writes_over_its_input_table(tmp_path, tiny_bundle, tiny_table, capsys, no_work):
    table = tmp_path / "t.csv"
    tiny_table.to_csv(table, index=False)
    before = table.read_bytes()
    for extra in ([], ["--overwrite"]):
        _fails(capsys, ["predict", "--model", tiny_bundle, "--table", table, "--out", table, *extra],
               r"--out .*t\.csv: is an input of this command")
    assert table.read_bytes() == before


def test_predict_never_writes_over_the_data_directorys_table(tiny_bundle, tiny_data, capsys, no_work):
    _fails(capsys, ["predict", "--model", tiny_bundle, "--data", tiny_data,
                    "--out", tiny_data / "ACS_sources_original.csv", "--overwrite"], "is an input")


def test_predict_replaces_a_catalogue_but_not_a_foreign_file(tmp_path, tiny_bundle, tiny_table, capsys):
    table = tmp_path / "t.csv"
    tiny_table.to_csv(table, index=False)
    notes = tmp_path / "notes.csv"
    notes.write_text("my,own\n1,2\n")
    _fails(capsys, ["predict", "--model", tiny_bundle, "--table", table, "--out", notes],
           r"notes\.csv: exists and is not a catalogue that globsml wrote; .*--overwrite")
    assert notes.read_text() == "my,own\n1,2\n"
    cat = tmp_path / "cat.csv"
    for _ in range(2):  # its own kind of output is replaced without --overwrite
        assert main(["predict", "--model", str(tiny_bundle), "--table", str(table), "--out", str(cat)]) == 0
    assert main(["predict", "--model", str(tiny_bundle), "--table", str(table), "--out", str(notes),
                 "--overwrite"]) == 0
    assert {"p_gc", "is_gc"} <= set(pd.read_csv(notes).columns)


def test_features_never_writes_over_a_labelled_table_or_a_fits_file(tmp_path, tiny_data, capsys):
    images = tmp_path / "ImageData"
    write_cutouts(images / "FCC1_images.fits", make_cutouts(pd.DataFrame({"pGC": [0.9, 0.1]})))
    labelled = tmp_path / "labelled.csv"
    labelled.write_bytes((tiny_data / "ACS_sources_original.csv").read_bytes())
    _fails(capsys, ["features", images, "--out", labelled, "--no-progress"],
           "exists and is not a feature table that globsml wrote")
    _fails(capsys, ["features", images, "--out", images / "FCC1_images.fits", "--no-progress"],
           r"unknown feature table format '\.fits'")
    assert labelled.read_bytes() == (tiny_data / "ACS_sources_original.csv").read_bytes()


def test_train_never_writes_a_bundle_over_a_zip_or_directory_that_is_not_one(tmp_path, tiny_data, capsys, no_work):
    import zipfile

    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as zf:
        zf.writestr("a.txt", "mine")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "n.txt").write_text("mine")
    for out in ("photos.zip", "notes"):
        _fails(capsys, ["train", "--data", tiny_data, "--model", "forest", "--setup", "all2all",
                        "--out", tmp_path / out], "exists and is not a bundle; refusing to overwrite it")
    _fails(capsys, ["train", "--data", tiny_data, "--model", "forest", "--setup", "all2all",
                    "--out", tiny_data / "ACS_sources_original.csv"], "exists and is not a bundle")
    assert zipfile.ZipFile(tmp_path / "photos.zip").read("a.txt") == b"mine"


@pytest.mark.parametrize("foreign", ["ImageData/FCC47_images.fits", "ACS_sources_original.csv", "mine.csv"])
def test_mock_never_writes_into_a_directory_with_files_it_did_not_make(tmp_path, capsys, foreign):
    path = tmp_path / "survey" / foreign
    path.parent.mkdir(parents=True)
    path.write_bytes(b"the user's own file")
    _fails(capsys, ["mock", tmp_path / "survey", "--scale", "0.01", "--quiet"],
           r"(that globsml mock did not make|that is not a finished mock survey).*choose an empty directory")
    assert path.read_bytes() == b"the user's own file"


# -- 6. options checked before the work --------------------------------------
@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan", "inf"])
def test_thresholds_outside_0_1_are_refused_before_work(tmp_path, tiny_data, tiny_bundle, capsys, no_work, value):
    _fails(capsys, ["train", "--data", tiny_data, "--model", "forest", "--setup", "all2all", "--out",
                    tmp_path / "b", "--threshold", value], rf"threshold must lie in \[0, 1\], got {value}")
    _fails(capsys, ["detect", "g.fits", "z.fits", "--model", tiny_bundle, "--out", tmp_path / "o",
                    "--threshold", value], r"threshold must lie in \[0, 1\]")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", [float("nan"), 2.0, "high"])
def test_bundle_api_refuses_bad_thresholds(value):
    from sklearn.dummy import DummyClassifier

    from globsml.inference import Bundle

    with pytest.raises(GlobsmlError, match="threshold must"):
        Bundle(DummyClassifier(), threshold=value)


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_n_sigma_must_be_positive(tmp_path, capsys, value):
    _fails(capsys, ["extract", "g.fits", "z.fits", "--out", tmp_path / "o", "--n-sigma", value],
           rf"--n-sigma must be a positive number, got {value}")


@pytest.mark.parametrize(("param", "message"), [
    ("forest:n_estimators=-3", "n_estimators.*must be an int in the range"),
    ("forest:n_estimators=\"many\"", "n_estimators.*must be an int"),
    ("forest:no_such=1", "does not take"),
])
def test_model_parameters_are_validated_before_the_first_fit(tiny_data, tmp_path, capsys, param, message):
    _fails(capsys, ["benchmark", "--data", tiny_data, "--models", "forest", "--setups", "virgo2fornax",
                    "--param", param, "--out", tmp_path / "run"], message)


@pytest.mark.parametrize(("out", "message"), [
    ("fig.xyz", r"unknown figure format '\.xyz'"),
    ("folder", "is a directory; give a figure file name"),
    ("file.txt/fig.png", r"file\.txt is not a directory"),
])
def test_explain_checks_its_output_before_training(tmp_path, capsys, out, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.txt").write_text("x")
    _fails(capsys, ["explain", "--model", "forest", "--source", "FCC47:10", "--data", tmp_path / "nodata",
                    "--out", tmp_path / out], message)


@pytest.mark.parametrize(("out", "message"), [
    ("cat.xlsx", r"unknown catalogue format '\.xlsx'"),
    ("folder", "is a directory; give a catalogue file name"),
    ("file.txt/cat.csv", r"file\.txt is not a directory"),
])
def test_predict_checks_its_output_before_reading_the_bundle(tmp_path, tiny_table, capsys, no_work, out, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.txt").write_text("x")
    tiny_table.to_csv(tmp_path / "t.csv", index=False)
    _fails(capsys, ["predict", "--model", "any", "--table", tmp_path / "t.csv", "--out", tmp_path / out], message)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_an_output_directory_that_cannot_be_written_is_refused_first(tmp_path, tiny_table, capsys, no_work):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    tiny_table.to_csv(tmp_path / "t.csv", index=False)
    try:
        _fails(capsys, ["predict", "--model", "any", "--table", tmp_path / "t.csv", "--out", locked / "c.csv"],
               "cannot write in .*locked")
    finally:
        locked.chmod(stat.S_IRWXU)


# -- 7. one line, never a traceback -------------------------------------------
def test_globsml_error_is_a_value_error():
    assert issubclass(GlobsmlError, ValueError)


@pytest.mark.parametrize("error", [
    PermissionError(13, "Permission denied", "/data/cat.csv"),
    IsADirectoryError(21, "Is a directory", "/data/out"),
    NotADirectoryError(20, "Not a directory", "/data/file/x"),
    OSError(28, "No space left on device", "/data/cat.csv"),
])
def test_os_errors_become_one_line_naming_the_path(monkeypatch, capsys, tmp_path, error):
    from globsml.cli import _validate

    def fail(args):
        raise error

    monkeypatch.setattr(_validate, "run", fail)
    err = _fails(capsys, ["validate", tmp_path], re.escape(f"{error.filename}: {error.strerror}"))
    assert err.startswith("globsml validate: error: ")


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_honour_the_umask(tmp_path, tiny_bundle, tiny_table, umask):
    tiny_table.to_csv(tmp_path / "t.csv", index=False)
    old = os.umask(umask)
    try:
        assert main(["predict", "--model", str(tiny_bundle), "--table", str(tmp_path / "t.csv"),
                     "--out", str(tmp_path / "c.csv")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "c.csv").stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize(("option", "value"), [
    ("--galaxy", "../../evil"), ("--galaxy", "/tmp/evil"), ("--galaxy", ""), ("--galaxy", ".hidden"),
    ("--catalogue", "../cat.csv"), ("--catalogue", "/tmp/cat.csv"), ("--catalogue", "sub/cat.csv"),
])
def test_detect_names_cannot_place_files_outside_out(tmp_path, tiny_bundle, capsys, no_work, option, value):
    _fails(capsys, ["detect", "g.fits", "z.fits", "--model", tiny_bundle, "--out", tmp_path / "o", option, value],
           "cannot name a file")
    assert not (tmp_path / "o").exists() and not (tmp_path / "cat.csv").exists()


def test_detect_never_writes_through_a_symlink_out_of_out(tmp_path, tiny_bundle, frames):
    from globsml.inference import detect_candidates

    g, z, _ = frames
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("keep me")
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "candidates.csv").symlink_to(outside)
    with pytest.raises(GlobsmlError, match="resolves outside"):
        detect_candidates(g, z, bundle=tiny_bundle, out=tmp_path / "o",
                          galaxy="G1")
    assert outside.read_text() == "keep me"


def test_a_zero_source_cutout_file_gives_an_empty_catalogue_with_a_tabular_bundle(tmp_path, tiny_bundle):
    write_cutouts(tmp_path / "images" / "FCC1_images.fits", np.zeros((0, 2, 20, 20), np.float32))
    assert main(["predict", "--model", str(tiny_bundle), "--images", str(tmp_path / "images"),
                 "--out", str(tmp_path / "c.csv")]) == 0
    cat = pd.read_csv(tmp_path / "c.csv")
    assert len(cat) == 0 and {"galaxy", "ID", "p_gc", "is_gc"} <= set(cat.columns)
