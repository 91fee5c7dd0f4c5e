"""The mock's cut-outs and labels look like the real ones in the ways that matter."""

import numpy as np
import pytest

from globsml import load_dataset
from globsml.mock._calibration import calibration, noise_at, noise_excess, strip_correlations
from globsml.mock._labels import CATALOGUE
from globsml.mock._survey import _noise_quantiles, _plans, make_galaxy


@pytest.fixture(scope="module")
def galaxy():
    """One rich mock galaxy with its truth (FCC147: 579 sources, 313 GCs; real cut-outs exist)."""
    for plan, rng in _plans(0, 1.0):
        if plan.galaxy == "FCC147":
            src, cut, _ = make_galaxy(plan, rng, calibration())
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
    # but the labels mostly agree with the truth, and where they do not it
    # is mostly the catalogue's depth (this rich galaxy has many faint GCs)
    assert (label == truth).mean() > 0.75
    assert np.mean(src["mag_z"][missed] > CATALOGUE["depth_z"] - 0.5) > 0.8


def test_noise_follows_the_real_cutouts(galaxy):
    plan, src, cut = galaxy
    border = np.concatenate([cut[:, :, :3].reshape(len(cut), 2, -1), cut[:, :, -3:].reshape(len(cut), 2, -1)], 2)
    med = np.nanmedian(border, axis=2, keepdims=True)
    sig = 1.4826 * np.nanmedian(np.abs(border - med), axis=2)
    real = noise_at(_noise_quantiles(plan.galaxy, plan.cluster, calibration()), 0.5)
    assert np.nanmedian(sig, axis=0) == pytest.approx(real, rel=0.25)


def _border_stats(cut, width=4):
    mask = np.zeros((20, 20), bool)
    mask[:width] = mask[-width:] = True
    mask[:, :width] = mask[:, -width:] = True
    b = cut[:, :, mask]
    med = np.nanmedian(b, axis=-1)
    sig = 1.4826 * np.nanmedian(np.abs(b - med[..., None]), axis=-1)
    peak = (np.nanmax(b, axis=-1) - med) / sig
    return med / sig, peak


def test_borders_are_as_busy_as_the_real_ones(galaxy):
    """Neighbours and field sources: the share of cut-outs with a border pixel above
    5 and 10 sigma is of the real order (without field sources it was 3% and 0.7%,
    against the real 24% and 8% in Fornax), and the border median is the real one."""
    plan, _, cut = galaxy
    real = calibration()["clusters"][plan.cluster]
    level, peak = _border_stats(cut)
    for t in ("5", "10"):
        share = np.nanmean(peak >= float(t), axis=0)
        target = np.asarray(real["border_peak_fractions"][t])
        assert (share > 0.5 * target).all() and (share < 2.0 * target).all(), (t, share, target)
    assert np.nanmean(level, axis=0) == pytest.approx(real["offset_over_sigma_mean"], abs=0.1)


def test_noise_is_correlated_like_the_real_noise(galaxy):
    """Border correlation at lags 1 and 2 near the real one far from the host (drizzle alone)
    and rising with the host's share of the noise, as the real one does."""
    plan, _, cut = galaxy
    model = calibration()["clusters"][plan.cluster]["noise_model"]
    base = noise_at(_noise_quantiles(plan.galaxy, plan.cluster, calibration()), 0.1)
    border = np.concatenate([cut[:, :, :3].reshape(len(cut), 2, -1), cut[:, :, -3:].reshape(len(cut), 2, -1),
                             cut[:, :, 3:-3, :3].reshape(len(cut), 2, -1), cut[:, :, 3:-3, -3:].reshape(len(cut), 2, -1)], 2)
    med = np.nanmedian(border, axis=2, keepdims=True)
    excess = noise_excess(1.4826 * np.nanmedian(np.abs(border - med), axis=2), base[None, :])
    for band in range(2):
        stats = strip_correlations(cut[:, band])
        ok = np.isfinite(stats).all(axis=1)
        low, high = ok & (excess[:, band] < 0.5), ok & (excess[:, band] > 1.0)
        assert low.sum() > 50 and high.sum() > 20
        real_low = np.asarray(model[band]["stats_real"])[np.asarray(model[band]["excess_median"]) < 0.5].mean(axis=0)
        got = np.median(stats[low], axis=0)
        assert got[:2] == pytest.approx(real_low[:2], abs=0.05), (band, got, real_low)
        assert np.median(stats[high, 1]) > got[1] + 0.1
