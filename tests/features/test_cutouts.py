import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError
from globsml.data import FEATURE_TABLE_COLUMNS, read_cutouts
from globsml.data._schema import NON_NULL_COLUMNS
from globsml.features import correct_extinction, cutout_features


def _point_sources(n=30, seed=0, flux_g=2.0, flux_z=3.0, noise=0.01):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:20, 0:20]
    cut = rng.normal(0, noise, (n, 2, 20, 20))
    for k in range(n):
        x0, y0 = 10 + rng.uniform(-0.5, 0.5, 2)
        for b, (f, s) in enumerate([(flux_g, 0.85), (flux_z, 1.0)]):
            cut[k, b] += f / (2 * np.pi * s * s) * np.exp(-0.5 * ((xx - x0) ** 2 + (yy - y0) ** 2) / s ** 2)
    return cut


def test_columns_and_types():
    cut = _point_sources()
    t = cutout_features(cut, galaxy="VCC1", ebv=0.02)
    assert tuple(t.columns) == FEATURE_TABLE_COLUMNS
    assert len(t) == 30
    assert t["ID"].tolist() == list(range(30))
    assert (t["galaxy"] == "VCC1").all()
    assert t["label"].dtype == np.int64 and t["label_z"].dtype == np.int64
    assert t["sky_centroid.ra"].isna().all()
    numeric = t.drop(columns=["galaxy"]).to_numpy(float)
    assert not np.isinf(numeric).any()
    assert not t[[c for c in NON_NULL_COLUMNS if c in t]].isna().any().any()


def test_photometry_of_point_sources():
    cut = _point_sources(flux_g=2.0, flux_z=3.0, noise=0.002)
    t = cutout_features(cut)
    # A 5 px aperture holds >99.9 % of a sigma 0.85 px Gaussian of flux 2.
    assert np.median(t["m5_g"]) == pytest.approx(-2.5 * np.log10(2.0) + 26.068, abs=0.01)
    assert np.median(t["m5_z"]) == pytest.approx(-2.5 * np.log10(3.0) + 24.871, abs=0.01)
    # CI of the noiseless pixelised source at its true centre, by brute-force
    # sub-pixel sampling (independent of the closed-form overlaps).
    yy, xx = np.mgrid[0:20, 0:20]
    s, x0, y0 = 0.85, 10.2, 9.9
    img = np.exp(-0.5 * ((xx - x0) ** 2 + (yy - y0) ** 2) / s ** 2)
    sub = (np.arange(40) + 0.5) / 40 - 0.5
    fx = (xx[..., None, None] + sub[None, None, None, :]) - x0
    fy = (yy[..., None, None] + sub[None, None, :, None]) - y0
    d2 = fx ** 2 + fy ** 2
    f1 = (img * (d2 <= 1).mean(axis=(2, 3))).sum()
    f3 = (img * (d2 <= 9).mean(axis=(2, 3))).sum()
    assert np.median(t["CI_g"]) == pytest.approx(2.5 * np.log10(f3 / f1), abs=0.05)
    assert np.allclose(t["colour"], t["m3_g"] - t["m3_z"])
    # fwhm: Gaussian FWHM of the g band, 2.355 sigma.
    assert np.median(t["fwhm"]) == pytest.approx(2.3548 * 0.85, rel=0.03)
    assert (t["e_fwhm"] > 0).all()


def test_extinction_shifts_magnitudes():
    cut = _point_sources(n=5)
    a = cutout_features(cut)
    b = cutout_features(cut, ebv=0.1)
    assert np.allclose(a["m3_g"] - b["m3_g"], 0.3634)
    assert np.allclose(a["m3_z"] - b["m3_z"], 0.1485)
    assert np.allclose(a["CI_g"], b["CI_g"])


def test_correcting_extinction_afterwards_is_the_same():
    cut = _point_sources(n=5)
    ebv = np.array([0.0, 0.01, 0.02, 0.03, 0.1])
    later = correct_extinction(cutout_features(cut), ebv)
    pd.testing.assert_frame_equal(later, cutout_features(cut, ebv=ebv), check_exact=False, rtol=0, atol=1e-12)
    with pytest.raises(GlobsmlError, match="E\\(B-V\\)"):
        correct_extinction(cutout_features(cut), -0.1)
    with pytest.raises(GlobsmlError, match="colour"):
        correct_extinction(cutout_features(cut).drop(columns="colour"), 0.1)


def test_nan_pixels_and_empty_cutouts_do_not_crash():
    cut = _point_sources(n=6)
    cut[0, :, :, 12:] = np.nan
    cut[1] = np.nan
    cut[2] = 0.0
    t = cutout_features(cut.astype(">f4"))
    assert len(t) == 6
    assert not np.isinf(t.drop(columns=["galaxy"]).to_numpy(float)).any()
    assert np.isfinite(t.loc[0, "m3_g"])
    assert np.isnan(t.loc[1, "m3_g"]) and t.loc[1, "fwhm"] == 0


def test_empty_input():
    t = cutout_features(np.zeros((0, 2, 20, 20)))
    assert tuple(t.columns) == FEATURE_TABLE_COLUMNS and len(t) == 0


def test_bad_input():
    with pytest.raises(GlobsmlError, match=r"VCC9.*expected \(n, 2, 20, 20\)"):
        cutout_features(np.zeros((3, 2, 21, 20)), galaxy="VCC9")
    with pytest.raises(GlobsmlError, match="IDs"):
        cutout_features(np.zeros((3, 2, 20, 20)), ids=[1, 2])
    with pytest.raises(GlobsmlError, match="unknown detection"):
        cutout_features(np.zeros((3, 2, 20, 20)), n_sgima=3)


def test_deterministic():
    cut = _point_sources(n=8)
    pd.testing.assert_frame_equal(cutout_features(cut), cutout_features(cut))


@pytest.mark.shared
def test_real_cutouts_plausible(shared_data):
    """Runs on all sources of a few real galaxies; distributions like the published NGC1427a table."""
    real = pd.read_csv(shared_data / "NGC1427a" / "NGC1427a_sources.csv")
    tables = []
    for galaxy in ("FCC100", "VCC1025", "FCC143"):
        path = shared_data / "ImageData" / f"{galaxy}_images.fits"
        if not path.exists():
            continue
        cut = read_cutouts(path)
        t = cutout_features(cut, galaxy=galaxy)
        assert len(t) == len(cut)
        assert not np.isinf(t.drop(columns=["galaxy"]).to_numpy(float)).any()
        tables.append(t)
    if not tables:
        pytest.skip("none of the chosen galaxies' cut-outs are here")
    t = pd.concat(tables)
    assert (t["label"] > 0).mean() > 0.9  # the centre source is found almost always
    assert t["m3_g"].notna().mean() > 0.98
    for col, tol in [("m3_g", 1.0), ("m3_z", 1.0), ("CI_g", 0.3), ("area", 15), ("semimajor_sigma", 0.5),
                     ("eccentricity", 0.2), ("min_value", 0.01)]:
        assert abs(t[col].median() - real[col].median()) < tol, (col, t[col].median(), real[col].median())
    assert t["colour"].between(-1, 3).mean() > 0.9


def test_later_columns_match_cutout_features(monkeypatch):
    """cutout_features_later: the same table, its costly columns measured afterwards for chosen rows."""
    from globsml.features import _cutouts
    from globsml.features._cutouts import LATER_COLUMNS, cutout_features_later

    rng = np.random.default_rng(3)
    cut = _point_sources(n=40, seed=3, noise=0.02)
    cut[::7, :, :, :6] = np.nan  # off-detector strips
    cut[5] += 0.3 * _point_sources(n=1, seed=9)[0][:, ::-1]  # a neighbour
    monkeypatch.setattr(_cutouts, "_BLOCK", 16)  # rows from several blocks
    full = cutout_features(cut, galaxy="VCC1", ebv=0.03)
    table, finish = cutout_features_later(cut, galaxy="VCC1", ebv=0.03)
    assert table[list(LATER_COLUMNS)].isna().all().all()
    pd.testing.assert_frame_equal(table.drop(columns=list(LATER_COLUMNS)), full.drop(columns=list(LATER_COLUMNS)))
    rows = rng.permutation(40)[:23]
    assert full[list(LATER_COLUMNS)].iloc[rows].notna().any().all()
    pd.testing.assert_frame_equal(finish(rows), full.iloc[rows].reset_index(drop=True), check_exact=True)
