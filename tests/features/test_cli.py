import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from globsml.cli import main
from globsml.data import FEATURE_TABLE_COLUMNS, read_cutouts, write_cutouts


def _cutouts(n, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:20, 0:20]
    c = rng.normal(0, 0.01, (n, 2, 20, 20)).astype(np.float32)
    c += (np.exp(-0.5 * ((xx - 10) ** 2 + (yy - 10) ** 2)) * 0.5).astype(np.float32)
    return c


def test_features_command(tmp_path, capsys):
    images = tmp_path / "ImageData"
    write_cutouts(images / "VCC1_images.fits", _cutouts(4, 0))
    write_cutouts(images / "FCC2_images.fits", _cutouts(3, 1))
    out = tmp_path / "table.csv"
    assert main(["features", str(tmp_path), "--out", str(out), "--ebv", "0.01", "--no-progress"]) == 0
    t = pd.read_csv(out)
    assert tuple(t.columns) == FEATURE_TABLE_COLUMNS
    assert t["galaxy"].tolist() == ["FCC2"] * 3 + ["VCC1"] * 4
    assert t["ID"].tolist() == [0, 1, 2, 0, 1, 2, 3]
    assert "7 sources of 2 galaxies" in capsys.readouterr().out


def test_features_command_ebv_per_galaxy(tmp_path, capsys):
    write_cutouts(tmp_path / "VCC1_images.fits", _cutouts(2, 0))
    write_cutouts(tmp_path / "FCC2_images.fits", _cutouts(2, 1))
    assert main(["features", str(tmp_path), "--out", str(tmp_path / "a.csv"), "--no-progress"]) == 0
    pd.DataFrame({"galaxy": ["VCC1"], "ebv": [0.1]}).to_csv(tmp_path / "ebv.csv", index=False)
    assert main(["features", str(tmp_path), "--out", str(tmp_path / "b.csv"), "--ebv", str(tmp_path / "ebv.csv"),
                 "--no-progress"]) == 0
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    d = (a["m3_g"] - b["m3_g"]).to_numpy()
    assert np.allclose(d[a["galaxy"] == "VCC1"], 0.3634) and np.allclose(d[a["galaxy"] == "FCC2"], 0.0)
    pd.DataFrame({"galaxy": ["VCC1"], "ebv": ["x"]}).to_csv(tmp_path / "bad.csv", index=False)
    assert main(["features", str(tmp_path), "--out", str(tmp_path / "c.csv"), "--ebv", str(tmp_path / "bad.csv")]) == 2
    assert "galaxy VCC1" in capsys.readouterr().err
    assert main(["features", str(tmp_path), "--out", str(tmp_path / "c.csv"), "--ebv", "-1"]) == 2
    assert "non-negative" in capsys.readouterr().err


def test_features_command_errors(tmp_path, capsys):
    assert main(["features", str(tmp_path / "nope"), "--out", str(tmp_path / "t.csv")]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert main(["features", str(tmp_path), "--out", str(tmp_path / "t.csv")]) == 2
    assert "no <galaxy>_images.fits" in capsys.readouterr().err
    (tmp_path / "VCC3_images.fits").write_bytes(b"not fits")
    assert main(["features", str(tmp_path), "--out", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert "VCC3_images.fits" in err and err.count("\n") == 1
    assert not (tmp_path / "t.csv").exists()


def test_extract_command(tmp_path, capsys):
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:200, 0:200]
    g = rng.normal(0, 0.01, (200, 200))
    z = rng.normal(0, 0.012, (200, 200))
    for x0, y0 in [(50, 60), (120, 150), (150, 40), (90, 110)]:
        psf = np.exp(-0.5 * ((xx - x0) ** 2 + (yy - y0) ** 2) / 0.9 ** 2)
        g += 0.5 * psf
        z += 0.6 * psf
    header = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 54.6, "CRVAL2": -35.4,
                          "CRPIX1": 100.0, "CRPIX2": 100.0, "CD1_1": -0.05 / 3600, "CD2_2": 0.05 / 3600,
                          "CD1_2": 0.0, "CD2_1": 0.0})
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(g, header=header, name="SCI")]).writeto(tmp_path / "FCC9_g_drz.fits")
    fits.PrimaryHDU(z, header=header).writeto(tmp_path / "FCC9_z_drz.fits")
    out = tmp_path / "out"
    assert main(["extract", str(tmp_path / "FCC9_g_drz.fits"), str(tmp_path / "FCC9_z_drz.fits"),
                 "--out", str(out), "--ebv", "0.01"]) == 0
    t = pd.read_csv(out / "FCC9_sources.csv")
    c = read_cutouts(out / "ImageData" / "FCC9_images.fits")
    assert tuple(t.columns) == FEATURE_TABLE_COLUMNS and len(t) == 4 == len(c)
    assert t["sky_centroid.ra"].between(54.59, 54.61).all()
    assert (t["galaxy"] == "FCC9").all()


def test_extract_command_errors(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "a.fits"), str(tmp_path / "b.fits"), "--out", str(tmp_path)]) == 2
    assert "a.fits: no such file" in capsys.readouterr().err
    fits.PrimaryHDU(np.zeros((100, 100))).writeto(tmp_path / "g.fits")
    fits.PrimaryHDU(np.zeros((100, 90))).writeto(tmp_path / "z.fits")
    assert main(["extract", str(tmp_path / "g.fits"), str(tmp_path / "z.fits"), "--out", str(tmp_path)]) == 2
    assert "same pixel grid" in capsys.readouterr().err
