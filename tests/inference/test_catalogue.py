"""Candidate catalogue files: CSV, FITS and Parquet round trips, atomic writes."""

import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError
from globsml.inference import catalogue_frame, read_catalogue, write_catalogue


@pytest.fixture
def catalogue(tiny_table):
    p = np.linspace(0, 1, len(tiny_table))
    return catalogue_frame(tiny_table, p, 0.5)


def test_catalogue_columns(catalogue, tiny_table):
    assert list(catalogue.columns) == [
        "galaxy", "ID", "p_gc", "is_gc", "xcentroid", "ycentroid", "sky_centroid.ra", "sky_centroid.dec",
        "m4_g", "m4_z", "colour", "pGC",
    ]
    # is_gc is p_gc > threshold: exactly 0.5 is not a candidate (published convention).
    cat = catalogue_frame(tiny_table.iloc[:3], [0.2, 0.5, 0.7], 0.5)
    assert cat["is_gc"].tolist() == [False, False, True]
    no_positions = catalogue_frame(tiny_table[["galaxy", "ID"]], np.zeros(len(tiny_table)), 0.5)
    assert list(no_positions.columns) == ["galaxy", "ID", "p_gc", "is_gc"]


@pytest.mark.parametrize("suffix", [".csv", ".fits", ".parquet"])
def test_formats_round_trip(tmp_path, catalogue, suffix):
    path = write_catalogue(catalogue, tmp_path / f"cat{suffix}")
    back = read_catalogue(path)
    assert list(back.columns) == list(catalogue.columns)
    assert back["galaxy"].tolist() == catalogue["galaxy"].tolist()
    np.testing.assert_array_equal(back["ID"].to_numpy(), catalogue["ID"].to_numpy())
    np.testing.assert_array_equal(back["p_gc"].to_numpy(), catalogue["p_gc"].to_numpy())
    np.testing.assert_array_equal(back["is_gc"].to_numpy(dtype=bool), catalogue["is_gc"].to_numpy())
    np.testing.assert_array_equal(back["sky_centroid.ra"].to_numpy(), catalogue["sky_centroid.ra"].to_numpy())
    assert [p.name for p in tmp_path.iterdir()] == [f"cat{suffix}"]  # no temporary left


def test_fits_keeps_nan(tmp_path, catalogue):
    cat = catalogue.copy()
    cat.loc[3, "sky_centroid.ra"] = np.nan
    back = read_catalogue(write_catalogue(cat, tmp_path / "c.fits"))
    assert np.isnan(back.loc[3, "sky_centroid.ra"])


def test_unknown_extension_is_a_clear_error(tmp_path, catalogue):
    with pytest.raises(GlobsmlError, match=r"unknown catalogue format '.txt'; use one of .csv"):
        write_catalogue(catalogue, tmp_path / "cat.txt")
    assert not list(tmp_path.iterdir())


def test_failed_write_leaves_the_old_file(tmp_path, catalogue):
    path = write_catalogue(catalogue, tmp_path / "c.csv")
    before = path.read_bytes()
    bad = catalogue.assign(p_gc=pd.Series([object()] * len(catalogue)))
    with pytest.raises(Exception):
        write_catalogue(bad, tmp_path / "c.parquet")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv"]


def test_colour_figure(tmp_path, catalogue, tiny_table):
    import matplotlib

    matplotlib.use("Agg")
    from globsml.inference import plot_candidate_colours

    fig = plot_candidate_colours(catalogue, tiny_table, title="tiny")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    colour = tiny_table["colour"]
    n_off = int(((colour < -0.5) | (colour > 2.5)).sum())
    assert n_off > 0  # the fixture's non-GCs have a wide colour spread
    n_cand = int(catalogue["is_gc"].sum())
    assert labels[0] == f"all sources ({len(tiny_table)}, {n_off} off the axis)"
    assert labels[1].startswith(f"GC candidates ({n_cand}")
    assert labels[2].startswith("candidates' median")
    fig.savefig(tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 1000
    with pytest.raises(GlobsmlError, match="no column 'g_z'"):
        plot_candidate_colours(catalogue, tiny_table, column="g_z")
