"""globsml detect on a small synthetic g/z frame pair with a WCS."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from globsml import DataFormatError
from globsml.cli import main
from globsml.features import read_frame
from globsml.inference import detect_candidates, load_bundle, read_catalogue

features = pytest.importorskip("globsml.features")
if not hasattr(features, "extract_sources"):
    pytest.skip("globsml.features.extract_sources is not there yet", allow_module_level=True)


def _wcs():
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [55.0, -35.6]
    w.wcs.crpix = [100.0, 100.0]
    w.wcs.cdelt = [-0.05 / 3600, 0.05 / 3600]
    return w


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """A 200x200 pair: 12 compact sources (GC-like) and 6 extended ones on noise."""
    rng = np.random.default_rng(1)
    root = tmp_path_factory.mktemp("frames")
    yy, xx = np.mgrid[:200, :200]
    g = rng.normal(0, 0.003, (200, 200))
    z = rng.normal(0, 0.004, (200, 200))
    positions = [(x, y) for x in range(25, 200, 45) for y in range(25, 200, 45)][:18]
    for i, (x, y) in enumerate(positions):
        sigma = 1.0 if i < 12 else 3.0
        blob = np.exp(-((xx - x - 0.3) ** 2 + (yy - y + 0.2) ** 2) / (2 * sigma**2))
        g += 0.4 * blob
        z += 0.6 * blob
    header = _wcs().to_header()
    header["OBJECT"] = "SYNTH1"
    for name, data in (("g.fits", g), ("z.fits", z)):
        fits.PrimaryHDU(data.astype(np.float32), header=header).writeto(root / name)
    return root / "g.fits", root / "z.fits", positions


def test_detect_writes_sources_cutouts_and_candidates(tmp_path, frames, tiny_bundle, capsys):
    g, z, positions = frames
    out = tmp_path / "out"
    assert main(["detect", str(g), str(z), "--model", str(tiny_bundle), "--out", str(out),
                 "--catalogue", "cands.parquet"]) == 0
    printed = capsys.readouterr().out
    assert "candidates" in printed
    sources = out / "SYNTH1_sources.csv"
    cutouts = out / "ImageData" / "SYNTH1_images.fits"
    assert sources.is_file() and cutouts.is_file()
    cat = read_catalogue(out / "cands.parquet")
    assert len(cat) >= len(positions) - 2  # (nearly) every source found
    assert set(cat["galaxy"]) == {"SYNTH1"}
    assert np.isfinite(cat["sky_centroid.ra"]).all() and abs(cat["sky_centroid.ra"].mean() - 55.0) < 0.01
    with fits.open(cutouts) as hdul:
        assert hdul[1].data.shape == (len(cat), 2, 20, 20)
    # The catalogue is the bundle's prediction on the written feature table.
    import pandas as pd

    table = pd.read_csv(sources)
    np.testing.assert_allclose(cat["p_gc"].to_numpy(), load_bundle(tiny_bundle).predict_proba(table))


def test_frames_must_match(tmp_path, frames, tiny_bundle):
    g, _, _ = frames
    fits.PrimaryHDU(np.zeros((50, 50), np.float32)).writeto(tmp_path / "small.fits")
    with pytest.raises(DataFormatError, match="must share one pixel grid"):
        detect_candidates(g, tmp_path / "small.fits", bundle=tiny_bundle, out=tmp_path / "o")
    fits.PrimaryHDU(np.zeros((2, 5, 5), np.float32)).writeto(tmp_path / "cube.fits")
    with pytest.raises(DataFormatError, match="no 2-D image"):
        read_frame(tmp_path / "cube.fits")
