"""Catalogues as astropy QTables: units, sky positions, provenance; ECSV, FITS, VOTable, Parquet round trips."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from globsml import GlobsmlError
from globsml.inference import (catalogue_frame, catalogue_provenance, catalogue_table, load_bundle,
                               predict_catalogue, read_catalogue, write_catalogue, write_regions)


@pytest.fixture
def catalogue(tiny_table):
    p = np.linspace(0, 1, len(tiny_table))
    cat = catalogue_frame(tiny_table, p, 0.5, p_gc_std=np.full(len(p), 0.1))
    cat.loc[3, "sky_centroid.ra"] = np.nan  # a source without a sky position
    return cat


@pytest.fixture
def provenance(tiny_bundle):
    return catalogue_provenance(load_bundle(tiny_bundle), threshold=0.5, data="tiny")


def test_table_has_units_sky_positions_and_descriptions(catalogue, provenance):
    table = catalogue_table(catalogue, provenance)
    assert table["xcentroid"].unit == u.pix and table["m4_g"].unit == u.mag and table["colour"].unit == u.mag
    assert isinstance(table["sky_centroid"], SkyCoord) and table["sky_centroid"].frame.name == "icrs"
    assert "sky_centroid.ra" not in table.colnames
    # The sky position takes the place of its two columns.
    assert table.colnames.index("sky_centroid") == table.colnames.index("ycentroid") + 1
    np.testing.assert_array_equal(table["sky_centroid"].dec.deg, catalogue["sky_centroid.dec"].to_numpy())
    assert table["p_gc"].info.description.startswith("probability")
    assert table.meta["MODEL"] == provenance["MODEL"]


def test_provenance_names_version_model_digest_setup_threshold(tiny_bundle, provenance):
    from globsml import __version__

    bundle = load_bundle(tiny_bundle)
    assert provenance["GSMLVER"] == __version__
    assert provenance["BUNDLE"] == bundle.manifest["digest"]
    assert provenance["SETUP"] == "virgo2fornax" and provenance["THRESH"] == 0.5
    assert provenance["INPUT"] == "tiny" and provenance["DATE"].endswith("+00:00")
    assert all(len(key) <= 8 for key in provenance)  # plain FITS keywords


def _assert_same(back, table):
    assert back.colnames == table.colnames
    for name in table.colnames:
        col, got = table[name], back[name]
        if isinstance(col, SkyCoord):
            assert isinstance(got, SkyCoord) and got.frame.name == "icrs"
            np.testing.assert_array_equal(got.ra.deg, col.ra.deg)
            np.testing.assert_array_equal(got.dec.deg, col.dec.deg)
            continue
        assert getattr(got, "unit", None) == getattr(col, "unit", None), name
        np.testing.assert_array_equal(np.asarray(got), np.asarray(col), err_msg=name)
        assert got.info.description == col.info.description, name
    assert {k: back.meta[k] for k in table.meta} == dict(table.meta)


@pytest.mark.parametrize("suffix", [".ecsv", ".fits", ".vot", ".parquet"])
def test_round_trip_keeps_units_coordinates_and_provenance(tmp_path, catalogue, provenance, suffix):
    table = catalogue_table(catalogue, provenance)
    path = write_catalogue(catalogue, tmp_path / f"cat{suffix}", meta=provenance)
    back = read_catalogue(path, as_table=True)
    if suffix == ".fits":  # FITS cannot keep column descriptions: the rest is the same
        for name in back.colnames:
            back[name].info.description = table[name].info.description
    _assert_same(back, table)
    frame = read_catalogue(path)
    assert list(frame.columns) == list(catalogue.columns)
    assert frame["galaxy"].tolist() == catalogue["galaxy"].tolist()
    np.testing.assert_array_equal(frame["sky_centroid.ra"].to_numpy(), catalogue["sky_centroid.ra"].to_numpy())
    assert [p.name for p in tmp_path.iterdir()] == [f"cat{suffix}"]


def test_fits_header_holds_units_and_provenance(tmp_path, catalogue, provenance):
    from astropy.io import fits

    write_catalogue(catalogue, tmp_path / "c.fits", meta=provenance)
    header = fits.getheader(tmp_path / "c.fits", 1)
    assert header["MODEL"] == provenance["MODEL"] and header["BUNDLE"] == provenance["BUNDLE"]
    units = {header[f"TTYPE{i}"]: header.get(f"TUNIT{i}") for i in range(1, header["TFIELDS"] + 1)}
    assert units["xcentroid"] == "pix" and units["m4_z"] == "mag" and units["sky_centroid.ra"] == "deg"


def test_votable_marks_the_positions_for_topcat(tmp_path, catalogue, provenance):
    from astropy.io.votable import parse

    write_catalogue(catalogue, tmp_path / "c.vot", meta=provenance)
    fields = {f.name: f for f in parse(str(tmp_path / "c.vot")).get_first_table().fields}
    assert fields["sky_centroid.ra"].ucd == "pos.eq.ra;meta.main" and fields["sky_centroid.ra"].unit == u.deg
    assert fields["sky_centroid.dec"].ucd == "pos.eq.dec;meta.main"


def test_predict_writes_provenance_and_returns_the_table(tmp_path, tiny_bundle, tiny_data):
    table = predict_catalogue(tiny_bundle, data=tiny_data, out=tmp_path / "c.ecsv", as_table=True)
    back = read_catalogue(tmp_path / "c.ecsv", as_table=True)
    assert back.meta["MODEL"] == table.meta["MODEL"] == load_bundle(tiny_bundle).name
    assert back.meta["THRESH"] == 0.5 and back.meta["INPUT"] == str(tiny_data)
    assert isinstance(back["sky_centroid"], SkyCoord)
    np.testing.assert_array_equal(np.asarray(back["p_gc"]), np.asarray(table["p_gc"]))


def test_text_columns_must_hold_text(catalogue):
    bad = catalogue.assign(galaxy=[object()] * len(catalogue))
    with pytest.raises(GlobsmlError, match="column 'galaxy' holds values that are neither numbers nor text"):
        catalogue_table(bad)


def test_region_file_of_the_candidates(tmp_path, catalogue):
    regions = pytest.importorskip("regions")
    path = write_regions(catalogue, tmp_path / "c.reg")
    shapes = regions.Regions.read(str(path), format="ds9")
    wanted = catalogue[catalogue["is_gc"] & catalogue["sky_centroid.ra"].notna()]
    assert len(shapes) == len(wanted)
    np.testing.assert_allclose([s.center.ra.deg for s in shapes], wanted["sky_centroid.ra"], rtol=0, atol=1e-7)
    assert shapes[0].radius.to_value(u.arcsec) == pytest.approx(0.5, rel=1e-4)  # ds9 keeps 9 digits
    # Without sky positions: circles on the frame's pixels.
    pixels = write_regions(catalogue.drop(columns=["sky_centroid.ra", "sky_centroid.dec"]), tmp_path / "p.reg")
    shapes = regions.Regions.read(str(pixels), format="ds9")
    assert len(shapes) == int(catalogue["is_gc"].sum())
    np.testing.assert_allclose([s.center.x for s in shapes], catalogue.loc[catalogue["is_gc"], "xcentroid"],
                               atol=1e-7)
    with pytest.raises(GlobsmlError, match="must end in .reg"):
        write_regions(catalogue, tmp_path / "c.txt")
