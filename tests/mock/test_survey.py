"""The mock survey's files: format, shape of the survey, determinism, resuming."""

import csv
import json

import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError, load_dataset
from globsml.data import (
    IMAGE_DIRNAME,
    PUBLISHED_COLUMNS,
    PUBLISHED_TOTALS,
    TABLE_FILENAME,
    cutout_count,
    image_files,
    published_galaxies,
)
from globsml.mock import MARKER, make_mock_survey, survey_counts

SCALE = 0.02  # the small_mock fixture's


def test_counts_keep_published_figures_and_totals():
    counts = survey_counts()
    pub = published_galaxies()
    assert list(counts["galaxy"]) == list(pub["galaxy"])
    known = pub["n_sources"].notna().to_numpy()
    assert (counts["n_sources"].to_numpy()[known] == pub["n_sources"].to_numpy()[known].astype(int)).all()
    known = pub["n_gcs"].notna().to_numpy()
    assert (counts["n_gcs"].to_numpy()[known] == pub["n_gcs"].to_numpy()[known].astype(int)).all()
    for cluster, (n_gal, n_src, n_gc) in PUBLISHED_TOTALS.items():
        sub = counts[counts["cluster"] == cluster]
        assert (len(sub), sub["n_sources"].sum(), sub["n_gcs"].sum()) == (n_gal, n_src, n_gc)
    assert (counts["n_gcs"] <= counts["n_sources"]).all()


def test_counts_scale_proportionally():
    full, small = survey_counts(), survey_counts(scale=0.1)
    assert (small["n_sources"] >= 5).all()
    ratio = small["n_sources"].sum() / full["n_sources"].sum()
    assert ratio == pytest.approx(0.1, rel=0.02)
    assert small["n_gcs"].sum() / full["n_gcs"].sum() == pytest.approx(0.1, rel=0.02)
    assert (small["n_gcs"] <= small["n_sources"]).all()
    with pytest.raises(GlobsmlError, match="scale"):
        survey_counts(scale=0)


def test_table_has_the_published_columns_in_order(small_mock):
    with open(small_mock / TABLE_FILENAME, newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["", *PUBLISHED_COLUMNS]
    table = pd.read_csv(small_mock / TABLE_FILENAME)
    assert (table["Unnamed: 0"].to_numpy() == np.arange(len(table))).all()
    assert table["ID"].dtype.kind == "i" and table["label"].dtype.kind == "i"
    assert set(table["cluster"]) == {"Fornax", "Virgo"}
    assert table["pGC"].between(0, 1).all()
    # unmatched sources have pGC 0 and no catalogue ID
    unmatched = table["matched"] == 0
    assert (table.loc[unmatched, "pGC"] == 0).all() and table.loc[unmatched, "HST_ID"].isna().all()
    assert table.loc[~unmatched, "HST_ID"].notna().all()


def test_counts_per_galaxy_follow_the_published_ones(small_mock):
    data = load_dataset(small_mock)
    counts = survey_counts(scale=SCALE).set_index("galaxy")
    got = data.sources.assign(gc=data.y).groupby("galaxy").agg(n=("ID", "size"), gc=("gc", "sum"))
    assert len(got) == 141
    assert (got["n"] == counts.loc[got.index, "n_sources"]).all()
    assert (got["gc"] == counts.loc[got.index, "n_gcs"]).all()
    files = image_files(small_mock / IMAGE_DIRNAME)
    for galaxy, n in got["n"].items():
        assert cutout_count(files[galaxy]) == n
        ids = data.sources.loc[data.sources["galaxy"] == galaxy, "ID"].to_numpy()
        assert (ids == np.arange(n)).all()


def test_validate_accepts_the_mock(small_mock):
    validate = pytest.importorskip("globsml.data").__dict__.get("validate")
    if validate is None:
        pytest.skip("globsml.data.validate is not there yet")
    report = validate(small_mock)
    assert report.ok, report.problems


def test_same_seed_same_files_and_galaxies_independent(small_mock, tmp_path):
    """A galaxy made alone is byte-identical to the same galaxy in the whole survey."""
    out = make_mock_survey(tmp_path / "two", seed=0, scale=SCALE, progress=False, galaxies=["FCC100", "VCC1025"])
    for galaxy in ("FCC100", "VCC1025"):
        a = (out / IMAGE_DIRNAME / f"{galaxy}_images.fits").read_bytes()
        b = (small_mock / IMAGE_DIRNAME / f"{galaxy}_images.fits").read_bytes()
        assert a == b
    t1 = pd.read_csv(out / TABLE_FILENAME).drop(columns="Unnamed: 0")
    t2 = pd.read_csv(small_mock / TABLE_FILENAME).drop(columns="Unnamed: 0")
    t2 = t2[t2["galaxy"].isin(["FCC100", "VCC1025"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(t1, t2)
    other = make_mock_survey(tmp_path / "seed1", seed=1, scale=SCALE, progress=False, galaxies=["FCC100"])
    assert (other / IMAGE_DIRNAME / "FCC100_images.fits").read_bytes() != (
        small_mock / IMAGE_DIRNAME / "FCC100_images.fits").read_bytes()


def test_progress_moves_with_every_candidate_batch():
    """The bar is told of each batch of candidates, not only of finished galaxies; the steps add up."""
    from globsml.mock._calibration import calibration
    from globsml.mock._critic import proposal_model, realism_critic
    from globsml.mock._survey import CRITIC_OVERSAMPLE, _plans, make_galaxy

    plan, rng = next((p, r) for p, r in _plans(0, SCALE) if p.galaxy == "FCC100")
    steps = []
    make_galaxy(plan, rng, calibration(), critic=realism_critic(), proposal=proposal_model(), progress=steps.append)
    assert len(steps) == CRITIC_OVERSAMPLE and sum(steps) == plan.n_sources


def test_interrupted_run_resumes_to_identical_files(tmp_path):
    names = ["FCC19", "VCC9"]
    first = make_mock_survey(tmp_path / "a", seed=3, scale=SCALE, progress=False, galaxies=names)
    table = (first / TABLE_FILENAME).read_bytes()
    image = (first / IMAGE_DIRNAME / "VCC9_images.fits").read_bytes()
    # as if killed before the end: no marker, no table, one galaxy missing
    (first / MARKER).unlink()
    (first / TABLE_FILENAME).unlink()
    (first / IMAGE_DIRNAME / "VCC9_images.fits").unlink()
    make_mock_survey(first, seed=3, scale=SCALE, progress=False, galaxies=names)
    assert (first / TABLE_FILENAME).read_bytes() == table
    assert (first / IMAGE_DIRNAME / "VCC9_images.fits").read_bytes() == image
    assert json.loads((first / MARKER).read_text())["seed"] == 3
    assert not list(first.glob(".mock-parts*"))


def test_refuses_a_directory_with_another_mock(tmp_path):
    out = make_mock_survey(tmp_path / "m", seed=0, scale=SCALE, progress=False, galaxies=["FCC100"])
    with pytest.raises(GlobsmlError, match="seed 0"):
        make_mock_survey(out, seed=5, scale=SCALE, progress=False, galaxies=["FCC100"])
    with pytest.raises(GlobsmlError, match="unknown galaxy"):
        make_mock_survey(tmp_path / "x", seed=0, scale=SCALE, progress=False, galaxies=["NGC0000"])
