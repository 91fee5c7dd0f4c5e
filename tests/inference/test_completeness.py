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
