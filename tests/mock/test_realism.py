"""The mock's cut-outs and labels look like the real ones in the ways that matter."""

import numpy as np
import pytest

from globsml import load_dataset
from globsml.mock._calibration import calibration
from globsml.mock._survey import _plans, make_galaxy


@pytest.fixture(scope="module")
def galaxy():
    """One rich mock galaxy with its truth (FCC147: 579 sources, 313 GCs; real cut-outs exist)."""
    for plan, rng in _plans(0, 1.0):
        if plan.galaxy == "FCC147":
            src, cut = make_galaxy(plan, rng, calibration())
            return plan, src, cut
    raise AssertionError("FCC147 not in the survey")


def test_gc_cutouts_look_like_point_sources(small_mock):
    data = load_dataset(small_mock)
    t = data.sources
    gc = data.y == 1
    bright = t["m3_g"] < 25.0
    # GCs are barely resolved: their concentration is that of point sources,
    # tight and small, while contaminants (mostly galaxies) are more extended
    ci_gc = t.loc[gc & bright, "CI_g"]
    ci_other = t.loc[~gc & bright, "CI_g"]
    assert 0.7 < ci_gc.median() < 1.6
    assert ci_gc.std() < ci_other.std()
    assert ci_gc.median() < ci_other.median()


def test_nan_regions_present(small_mock):
    data = load_dataset(small_mock)
    images = data.images()
    has_nan = np.isnan(images).any(axis=(1, 2, 3))
    # the real share is ~3.5% of cut-outs; both bands are blanked together
    assert 0.01 < has_nan.mean() < 0.08
    nan = np.isnan(images[has_nan])
    assert (nan[:, 0] == nan[:, 1]).all()
    assert not np.isnan(images[~has_nan]).any()


def test_labels_carry_catalogue_noise(galaxy):
    plan, src, _ = galaxy
    label = src["pGC"] >= 0.5
    truth = src["true_gc"]
    # faint true GCs beyond the catalogue's reach are labelled non-GC ...
    missed = truth & ~label
    assert missed.sum() > 0
    assert np.median(src["mag_z"][missed]) > np.median(src["mag_z"][truth & label])
    # ... and some contaminants (compact ones) are labelled GC
    assert (~truth & label).sum() > 0
    assert np.median(src["size_px"][~truth & label]) < np.median(src["size_px"][~truth & ~label])
    # but the labels mostly agree with the truth
    assert (label == truth).mean() > 0.8


def test_noise_follows_the_real_cutouts(galaxy):
    plan, src, cut = galaxy
    border = np.concatenate([cut[:, :, :3].reshape(len(cut), 2, -1), cut[:, :, -3:].reshape(len(cut), 2, -1)], 2)
    med = np.nanmedian(border, axis=2, keepdims=True)
    sig = 1.4826 * np.nanmedian(np.abs(border - med), axis=2)
    real = np.asarray(calibration()["noise_sigma_quantiles"][plan.galaxy])[:, 10]
    assert np.nanmedian(sig, axis=0) == pytest.approx(real, rel=0.25)
