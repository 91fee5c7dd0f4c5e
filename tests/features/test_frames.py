import numpy as np
import pytest
from astropy.wcs import WCS

from globsml import GlobsmlError
from globsml.data import FEATURE_TABLE_COLUMNS
from globsml.features import aperture_photometry, extract_sources, magnitudes, make_cutouts


def _wcs(shape):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [187.7, 12.4]
    w.wcs.crpix = [shape[1] / 2, shape[0] / 2]
    w.wcs.cdelt = [-0.05 / 3600, 0.05 / 3600]
    return w


def _gaussians(shape, x, y, flux, sigma):
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    img = np.zeros(shape)
    for xi, yi, fi in zip(x, y, flux):
        sl = (slice(max(0, int(yi) - 12), int(yi) + 13), slice(max(0, int(xi) - 12), int(xi) + 13))
        img[sl] += fi / (2 * np.pi * sigma ** 2) * np.exp(-0.5 * ((xx[sl] - xi) ** 2 + (yy[sl] - yi) ** 2) / sigma ** 2)
    return img


@pytest.fixture(scope="module")
def frame():
    """A 400x400 frame: host light, sky + Poisson noise, 30 point sources on a grid, 4 at the edges."""
    rng = np.random.default_rng(42)
    shape = (400, 400)
    gx, gy = np.meshgrid(np.linspace(40, 360, 6), np.linspace(40, 360, 5))
    x = gx.ravel() + rng.uniform(-8, 8, 30)
    y = gy.ravel() + rng.uniform(-8, 8, 30)
    flux_g = 10 ** rng.uniform(np.log10(0.6), np.log10(30), 30)
    flux_z = flux_g * 10 ** (0.4 * rng.uniform(0.8, 1.5, 30)) * 10 ** (-0.4 * (26.068 - 24.871))
    edge_x = np.array([3.0, 396.0, 200.0, 150.0])
    edge_y = np.array([200.0, 100.0, 2.5, 397.0])
    yy, xx = np.mgrid[0:400, 0:400]
    host = 0.4 * np.exp(-np.hypot(xx - 230, yy - 180) / 60.0)
    exposure = 750.0  # seconds: Poisson noise on electrons
    images, truth = {}, {}
    for band, flux, sigma, sky in (("g", flux_g, 0.9, 0.012), ("z", flux_z, 1.05, 0.015)):
        src = _gaussians(shape, np.r_[x, edge_x], np.r_[y, edge_y], np.r_[flux, np.full(4, 20.0)], sigma)
        model = src + host * (0.6 if band == "g" else 1.0)
        img = rng.poisson(np.clip(model, 0, None) * exposure) / exposure + rng.normal(0, sky, shape)
        images[band] = img
        truth[band] = aperture_photometry(src, x, y, [4.0])[:, 0]
    table, cutouts = extract_sources(images["g"], images["z"], wcs=_wcs(shape), galaxy="MOCK1", ebv=0.0)
    return dict(x=x, y=y, truth=truth, table=table, cutouts=cutouts, images=images)


def test_format(frame):
    t, c = frame["table"], frame["cutouts"]
    assert tuple(t.columns) == FEATURE_TABLE_COLUMNS
    assert t["ID"].tolist() == list(range(len(t)))
    assert c.shape == (len(t), 2, 20, 20) and c.dtype == np.float32
    assert (t["galaxy"] == "MOCK1").all()
    assert t["sky_centroid.ra"].between(187.69, 187.71).all()
    assert t["orientation"].between(-90, 90).all()
    assert not np.isinf(t.drop(columns=["galaxy"]).to_numpy(float)).any()


def test_completeness_and_no_edge_sources(frame):
    t = frame["table"]
    d = np.hypot(t["xcentroid"].to_numpy()[:, None] - frame["x"], t["ycentroid"].to_numpy()[:, None] - frame["y"])
    found = (d.min(axis=0) < 1.5)
    bright = frame["truth"]["g"] > 2.0
    assert found[bright].mean() >= 0.9
    assert found.mean() >= 0.8
    # Nothing within 10 px of the frame edge.
    assert t["xcentroid"].between(10, 389).all() and t["ycentroid"].between(10, 389).all()
    # Few spurious detections.
    assert (d.min(axis=1) >= 1.5).sum() <= 3


def test_photometry_against_truth(frame):
    t = frame["table"]
    d = np.hypot(t["xcentroid"].to_numpy()[:, None] - frame["x"], t["ycentroid"].to_numpy()[:, None] - frame["y"])
    rows = d.argmin(axis=0)
    found = d.min(axis=0) < 1.5
    m4 = t["m4_g"].to_numpy()[rows[found]]
    m4_true = magnitudes(frame["truth"]["g"][found], "g")
    assert np.median(np.abs(m4 - m4_true)) < 0.06
    assert np.median(np.abs(m4 - m4_true)[frame["truth"]["g"][found] > 5]) < 0.04
    m4z = t["m4_z"].to_numpy()[rows[found]]
    assert np.median(np.abs(m4z - magnitudes(frame["truth"]["z"][found], "z"))) < 0.06
    # Cut-outs of the injected sources are centred: the peak is within a pixel of (10, 10).
    c = frame["cutouts"][rows[found], 0]
    peak = np.array([np.unravel_index(np.nanargmax(im), im.shape) for im in c])
    assert np.all(np.abs(peak - 10) <= 1)


def test_make_cutouts_pads_with_nan():
    img = np.arange(100.0).reshape(10, 10)
    c = make_cutouts([img, -img], [0.2, 4.6], [9.6, 5.4])
    assert c.shape == (2, 2, 20, 20)
    # Source at (0.2, 9.6): centre pixel (x=0, y=10) is just off the image.
    assert np.isnan(c[0, 0, 10, 10]) and c[0, 0, 9, 10] == img[9, 0]
    assert np.isnan(c[0, 0, :, :10]).all() and np.isnan(c[0, 0, 11:]).all()
    # Source at (4.6, 5.4): pixel (10, 10) of the cut-out is image pixel (x=5, y=5).
    assert c[1, 0, 10, 10] == img[5, 5] and c[1, 1, 10, 10] == -img[5, 5]
    assert np.isfinite(c[1, 0, 5:15, 5:15]).all()


def test_bad_input():
    with pytest.raises(GlobsmlError, match="aligned"):
        extract_sources(np.zeros((100, 100)), np.zeros((100, 90)))
    with pytest.raises(GlobsmlError, match="2-D"):
        extract_sources(np.zeros((100,)), np.zeros((100,)))
    with pytest.raises(GlobsmlError, match="on the detector"):
        extract_sources(np.zeros((100, 100)), np.zeros((100, 100)))


def test_cutout_features_agree_with_frame_photometry(frame):
    """The cut-out path measures the same magnitudes as the full-frame path on its cut-outs."""
    from globsml.features import cutout_features

    t = frame["table"]
    c = cutout_features(frame["cutouts"])
    bright = t["m3_g"] < 25.5
    assert bright.sum() >= 10
    for col in ("m3_g", "m3_z", "m4_g", "CI_g", "colour"):
        assert np.median(np.abs(c[col] - t[col])[bright]) < 0.02, col
    # Same segmentation morphology (same detection parameters, deblending).
    for col in ("area", "semimajor_sigma", "segment_flux", "max_value", "area_z", "segment_flux_z"):
        assert abs(np.median(c[col] / t[col]) - 1) < 0.03, col
    # Centroids agree once the cut-out offset is removed.
    dx = c["xcentroid"] - (t["xcentroid"] - np.floor(t["xcentroid"] + 0.5) + 10)
    assert np.median(np.abs(dx[bright])) < 0.05


def test_blank_frame_gives_empty_outputs():
    rng = np.random.default_rng(3)
    table, cutouts = extract_sources(rng.normal(0, 0.01, (120, 120)), rng.normal(0, 0.01, (120, 120)))
    assert tuple(table.columns) == FEATURE_TABLE_COLUMNS and len(table) == 0
    assert cutouts.shape == (0, 2, 20, 20)
