import re
import shutil

import numpy as np
import pytest

from globsml import GlobsmlError
from globsml.data import ValidationReport, validate

import globsml_tiny_data as tiny


def test_valid_tiny_dataset_is_summarised(tmp_path):
    report = validate(tiny.make_dataset(tmp_path))
    assert isinstance(report, ValidationReport)
    assert report.ok, report.problems
    assert report.mode == "table+images" and report.labelled
    assert (report.n_galaxies, report.n_sources) == (2, 5)
    # pGC is 0.9 for ID 0 of each galaxy, 0 otherwise
    assert report.clusters == {
        "Fornax": {"galaxies": 1, "sources": 3, "gcs": 1, "non_gcs": 2, "unlabelled": 0},
        "Virgo": {"galaxies": 1, "sources": 2, "gcs": 1, "non_gcs": 1, "unlabelled": 0},
    }
    assert report.galaxies_with_cutouts == ["FCC1", "VCC2"] and report.galaxies_without_cutouts == []
    text = report.summary()
    assert "table+images, 2 galaxies, 5 labelled sources" in text
    assert "Fornax: 1 galaxies, 3 sources (1 GCs, 2 non-GCs)" in text


@pytest.mark.parametrize("case", sorted(tiny.BROKEN))
def test_each_problem_gets_one_clear_line(tmp_path, case):
    root = tiny.make_dataset(tmp_path)
    assert validate(root).ok
    breaker, pattern = tiny.BROKEN[case]
    breaker(root)
    report = validate(root)
    assert not report.ok
    assert any(re.search(pattern, line) for line in report.problems), report.problems
    assert all("\n" not in line and "Traceback" not in line for line in report.problems)


def test_nan_is_allowed_where_the_format_allows_it(tmp_path):
    root = tiny.make_dataset(tmp_path)
    tiny._retable(root, tiny._set("m3_g", 1, np.nan))
    tiny._retable(root, tiny._set("HST_ID", 0, np.nan))
    assert validate(root).ok


def test_unlabelled_feature_table(tmp_path):
    tiny.write_table(tmp_path, tiny.make_table(labelled=False), name="features.csv")
    report = validate(tmp_path)
    assert report.ok, report.problems
    assert report.mode == "table only" and not report.labelled
    assert report.n_unlabelled == 5
    assert report.galaxies_without_cutouts == ["FCC1", "VCC2"]
    # a label column in a feature table is unexpected, with a hint
    table = tiny.make_table(labelled=False).assign(HST_ID=1)
    tiny.write_table(tmp_path, table, name="features.csv")
    (line,) = validate(tmp_path).problems
    assert "unexpected column(s) HST_ID" in line and "a labelled table needs all of" in line


def test_unlabelled_table_may_name_its_cluster(tmp_path):
    table = tiny.make_table({"NGC9999": 2}, labelled=False).assign(cluster="Virgo")
    tiny.write_table(tmp_path, table, name="t.csv")
    report = validate(tmp_path)
    assert report.ok, report.problems
    assert report.clusters["Virgo"]["unlabelled"] == 2
    tiny.write_table(tmp_path, table.assign(cluster="Coma"), name="t.csv")
    (line,) = validate(tmp_path).problems
    assert "column cluster holds 'Coma' at row 1 (galaxy NGC9999, ID 0) and 1 more; expected one of Fornax, Virgo" in line


def test_unknown_galaxy_without_cluster_column(tmp_path):
    tiny.write_table(tmp_path, tiny.make_table({"NGC9999": 2, "FCC3": 1}, labelled=False), name="t.csv")
    (line,) = validate(tmp_path).problems
    assert re.search(r"t\.csv: cannot tell the cluster of galaxy/galaxies NGC9999: no cluster column", line)


def test_images_only(tmp_path):
    image_dir = tiny.write_images(tmp_path, {"FCC1": 3, "VCC2": 2, "IC2006": 1})
    report = validate(image_dir)
    assert report.ok and report.mode == "images only" and not report.labelled
    assert report.clusters["Fornax"]["sources"] == 4 and report.clusters["Virgo"]["unlabelled"] == 2
    tiny.write_images(tmp_path, {"UGC1": 2})
    (line,) = validate(image_dir).problems
    assert "cannot tell the cluster of galaxy/galaxies UGC1" in line


def test_subfolder_is_checked_too(tmp_path):
    root = tiny.make_dataset(tmp_path)
    sub = root / "NGC1427a"
    tiny.write_table(sub, tiny.make_table({"NGC1427a": 4}, labelled=False), name="NGC1427a_sources.csv")
    report = validate(root)
    assert report.ok and report.subfolder is not None
    assert report.subfolder.n_unlabelled == 4 and report.subfolder.clusters["Fornax"]["sources"] == 4
    assert "sub-folder" in report.summary()
    (sub / "NGC1427a_images.fits").write_bytes(b"junk" * 1000)
    report = validate(root)
    assert not report.ok
    assert any("NGC1427a_images.fits: not a FITS file" in p for p in report.problems)


def test_usage_errors_raise(tmp_path):
    with pytest.raises(GlobsmlError, match="no such file or directory"):
        validate(tmp_path / "nowhere")
    with pytest.raises(GlobsmlError, match="holds neither"):
        validate(tmp_path)


def test_real_cutouts(shared_data):
    report = validate(shared_data / "ImageData")
    assert report.ok, report.problems[:5]
    assert (report.n_galaxies, report.n_sources) == (105, 48677)
    assert report.mode == "images only"


def test_real_ngc1427a_table(shared_data, tmp_path):
    shutil.copy(shared_data / "NGC1427a" / "NGC1427a_sources.csv", tmp_path)
    report = validate(tmp_path)
    assert report.ok, report.problems
    assert report.mode == "table only" and not report.labelled
    assert report.n_unlabelled == report.n_sources == 1824
    assert list(report.clusters) == ["Fornax"]


def test_directory_with_only_the_subfolder(tmp_path):
    sub = tmp_path / "NGC1427a"
    tiny.write_table(sub, tiny.make_table({"NGC1427a": 2}, labelled=False), name="NGC1427a_sources.csv")
    report = validate(tmp_path)
    assert report.ok and report.mode == "sub-folder only"
    assert report.subfolder.n_sources == 2
    # several tables and no ACS_sources_original.csv: which one is meant is a usage error
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n1\n")
    with pytest.raises(GlobsmlError, match="2 CSV files"):
        validate(tmp_path)
