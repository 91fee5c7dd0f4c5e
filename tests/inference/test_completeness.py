"""globsml completeness: injection-recovery through detection, features and model."""

import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError
from globsml.cli import main
from globsml.data import IMAGE_DIRNAME, read_cutouts
from globsml.inference import (compare_completeness, completeness_curve, draw_injections, injection_recovery,
                               inject_gcs, mock_truth, source_free_backgrounds, train_bundle)

from .conftest import TEST_MODEL


def test_backgrounds_lose_their_central_source_and_keep_their_sky():
    rng = np.random.default_rng(0)
    sky = rng.normal(0, 0.01, (5, 2, 20, 20)).astype(np.float32)
    cut = sky.copy()
    cut[:, :, 8:12, 8:12] += 1.0  # a bright central source
    cut[:, :, 1:3, 15:17] += 1.0  # a neighbour, kept where it is and never copied into the centre
    back, noise = source_free_backgrounds(cut, rng)
    assert np.abs(back[:, :, 8:12, 8:12]).max() < 0.06
    np.testing.assert_array_equal(back[:, :, 1:3, 15:17], cut[:, :, 1:3, 15:17])
    np.testing.assert_allclose(noise, 0.01, rtol=0.25)


def test_injected_light_is_the_asked_magnitude():
    from globsml.data import ZERO_POINTS

    rng = np.random.default_rng(1)
    zero = np.zeros((200, 2, 20, 20), np.float32)
    cut = inject_gcs(zero, np.full(200, 22.0), np.full(200, 1.0), np.full(200, 3.0), np.full(200, 30.0),
                     cluster="Virgo", rng=rng)
    flux = cut.sum(axis=(2, 3)).mean(axis=0)  # the 20x20 cut-out holds nearly all the light
    mags = -2.5 * np.log10(flux) + np.array([ZERO_POINTS["g"], ZERO_POINTS["z"]])
    np.testing.assert_allclose(mags, [22.0, 21.0], atol=0.1)


def test_completeness_curve_and_errors():
    r = pd.DataFrame({"mag_g": np.r_[np.full(100, 22.5), np.full(100, 23.5)],
                      "recovered": np.r_[np.ones(90, bool), np.zeros(10, bool), np.ones(50, bool), np.zeros(50, bool)]})
    curve = completeness_curve(r, bins=[22, 23, 24])
    np.testing.assert_allclose(curve["completeness"], [0.9, 0.5])
    np.testing.assert_allclose(curve["error"], [0.03, 0.05])
    with pytest.raises(GlobsmlError, match="no column 'size'"):
        completeness_curve(r, "size")


@pytest.mark.slow
def test_mock_completeness_agrees_with_the_known_truth(small_mock):
    """On a mock galaxy: the injections into its cut-outs against the same GCs made by the mock itself."""
    from globsml import load_dataset
    from globsml.mock._survey import _plans

    ds = load_dataset(small_mock)
    bundle = train_bundle(ds, TEST_MODEL, setup="all2all", quick=True)
    galaxy = "VCC1283"
    plan = next(p for p, _ in _plans(0, 0.02) if p.galaxy == galaxy)
    injections = draw_injections(600, np.random.default_rng(5), cluster=plan.cluster)
    truth = mock_truth(bundle, galaxy, injections, mock_seed=0, scale=0.02, seed=2)
    rows = np.flatnonzero(ds.sources["galaxy"].to_numpy() == galaxy)
    estimate = injection_recovery(bundle, ds.images(rows), galaxy=galaxy, injections=injections, seed=1,
                                  ebv=plan.ebv, distance_modulus=plan.distance_modulus)
    # the chain loses the faint end: the curve falls from near 1 to near 0 over the range
    curve = completeness_curve(estimate, "mag_g", 6)
    assert curve["completeness"].iloc[0] > 0.8 and curve["completeness"].iloc[-1] < 0.3
    table, pvalue = compare_completeness(estimate, truth)
    assert pvalue > 0.01, table
    assert np.all(np.abs(table["z"]) < 3), table


@pytest.mark.shared
def test_completeness_on_a_real_galaxy(tmp_path, tiny_bundle, shared_data, capsys):
    galaxy = "VCC1993"
    assert main(["completeness", "--model", str(tiny_bundle), "--images", str(shared_data / IMAGE_DIRNAME),
                 "--galaxy", galaxy, "--n", "150", "--out", str(tmp_path)]) == 0
    assert f"{galaxy}: " in capsys.readouterr().out
    results = pd.read_csv(tmp_path / f"{galaxy}_injections.csv")
    assert len(results) == 150 and results["host"].max() < len(read_cutouts(shared_data / IMAGE_DIRNAME /
                                                                               f"{galaxy}_images.fits"))
    detected = completeness_curve(results, "mag_g", 3, column="detected")
    assert detected["completeness"].iloc[0] > 0.9  # bright GCs on real backgrounds are found
    assert detected["completeness"].iloc[-1] < detected["completeness"].iloc[0]
    curves = pd.read_csv(tmp_path / f"{galaxy}_completeness.csv")
    assert set(curves["variable"]) == {"mag_g", "colour", "r_half_pc", "background"}
    assert (tmp_path / f"{galaxy}_completeness.png").stat().st_size > 10_000


def test_completeness_cli_names_a_missing_galaxy(tmp_path, tiny_bundle, tiny_data, capsys):
    assert main(["completeness", "--model", str(tiny_bundle), "--images", str(tiny_data / IMAGE_DIRNAME),
                 "--galaxy", "NGC0000", "--out", str(tmp_path / "o")]) == 2
    assert "no cut-out file for galaxy NGC0000" in capsys.readouterr().err


def test_completeness_cli_writes_the_corrected_luminosity_function(tmp_path, tiny_bundle, tiny_data, capsys):
    cat = tmp_path / "cat.ecsv"
    assert main(["predict", "--model", str(tiny_bundle), "--data", str(tiny_data), "--out", str(cat),
                 "--threshold", "0.4"]) == 0
    galaxy = sorted(p.name.split("_")[0] for p in (tiny_data / IMAGE_DIRNAME).glob("*_images.fits"))[0]
    capsys.readouterr()
    args = ["completeness", "--model", str(tiny_bundle), "--images", str(tiny_data / IMAGE_DIRNAME), "--galaxy",
            galaxy, "--n", "60", "--out", str(tmp_path / "o"), "--catalogue", str(cat), "--lf-bins", "5"]
    assert main(args) == 0
    lf = pd.read_csv(tmp_path / "o" / f"{galaxy}_lf.csv")
    assert len(lf) == 5 and {"n", "n_error", "completeness", "n_corrected", "n_corrected_error", "used"} <= set(lf)
    from globsml.inference import read_catalogue

    frame = read_catalogue(cat)
    sel = (frame["galaxy"] == galaxy) & frame["is_gc"]
    injections = pd.read_csv(tmp_path / "o" / f"{galaxy}_injections.csv")
    assert "m4_g" in injections.columns
    # the tiny table's magnitudes are not a galaxy's: its candidates lie outside the injected range, and are
    # counted as such
    out = capsys.readouterr().out
    assert lf["n"].sum() == 0 and f"{int(sel.sum())} candidates outside the injected magnitudes" in out
    assert (tmp_path / "o" / f"{galaxy}_lf.png").stat().st_size > 10_000
    # the completeness is measured at the catalogue's threshold; another one is refused
    assert main([*args, "--threshold", "0.7"]) == 2
    assert "differs from the catalogue's threshold 0.4" in capsys.readouterr().err


def _thinned_gaussian_lf(seed, *, n_gcs=6000, n_injections=6000, offset=0.0):
    """A known Gaussian LF thinned by a known completeness curve, and injections through the same curve."""
    from scipy.stats import norm

    rng = np.random.default_rng(seed)

    def completeness(m):
        return 1.0 / (1.0 + np.exp((m - 24.6) / 0.25))

    true = rng.normal(24.0, 1.0, n_gcs)
    kept = true[rng.random(n_gcs) < completeness(true)]
    inj = pd.DataFrame({"mag_g": rng.uniform(21.0, 26.0, n_injections)})
    inj["recovered"] = rng.random(n_injections) < completeness(inj["mag_g"].to_numpy())
    inj["m4_g"] = np.where(inj["recovered"], inj["mag_g"] + offset + rng.normal(0, 0.02, n_injections), np.nan)
    bins = np.arange(21.0, 26.01, 0.5)
    expected = n_gcs * np.diff(norm.cdf(bins, 24.0, 1.0))
    return kept + offset, inj, bins, expected


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corrected_luminosity_function_recovers_the_true_one(seed):
    from scipy.stats import chi2

    from globsml.inference import corrected_luminosity_function

    measured, inj, bins, expected = _thinned_gaussian_lf(seed, offset=0.4)
    lf = corrected_luminosity_function(measured, inj, bins=bins)
    assert lf.attrs["offset"] == pytest.approx(0.4, abs=0.01)
    used = lf["used"].to_numpy()
    # the faint bins, below 20 % completeness, are left uncorrected
    assert used[:6].all() and not used[-2:].any()
    z = (lf["n_corrected"] - expected)[used] / lf["n_corrected_error"][used]
    assert np.all(np.abs(z) < 3.5), lf.assign(expected=expected, z=z)
    assert chi2.sf(np.sum(z ** 2), used.sum()) > 0.001
    # the raw histogram falls short of the truth where the completeness does
    assert (lf["n"][used].sum() < 0.95 * expected[used].sum())
    # the error propagates Poisson and binomial parts: larger than the Poisson part alone
    assert np.all(lf["n_corrected_error"][used] >= (np.sqrt(lf["n"]) / lf["completeness"])[used] - 1e-9)


def test_corrected_luminosity_function_checks_its_input():
    from globsml.inference import corrected_luminosity_function

    inj = pd.DataFrame({"mag_g": [22.0, 23.0], "recovered": [True, False]})
    with pytest.raises(GlobsmlError, match="no measured magnitude 'm4_g'"):
        corrected_luminosity_function([22.0], inj)
    with pytest.raises(GlobsmlError, match="'mag_g' and 'detected'"):
        corrected_luminosity_function([22.0], inj.drop(columns="mag_g"), column="detected")
    lf = corrected_luminosity_function([22.1, np.nan], inj, bins=[21.5, 22.5, 23.5], measured=None)
    assert lf["n"].tolist() == [1.0, 0.0] and lf["used"].tolist() == [True, False]
