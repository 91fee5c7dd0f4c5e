"""predict --fdr: conformal p-values, Benjamini-Hochberg, the calibration data in the bundle, the shift warning."""

import warnings

import numpy as np
import pytest

from globsml import GlobsmlError
from globsml.inference import (CalibrationShiftWarning, benjamini_hochberg, calibration_shift, conformal_pvalues,
                               fdr_threshold, load_bundle, predict_catalogue, train_bundle)


def _mixture(rng, n_null, n_gc, null_shift=0.0):
    """Scores of non-GCs (Beta(2, 8), shifted) and GCs (Beta(8, 2))."""
    null = np.clip(rng.beta(2, 8, n_null) + null_shift, 0, 1)
    return np.r_[null, rng.beta(8, 2, n_gc)], np.r_[np.zeros(n_null, int), np.ones(n_gc, int)]


def test_conformal_pvalues_are_super_uniform_for_exchangeable_nulls():
    rng = np.random.default_rng(0)
    cal_scores, cal_labels = _mixture(rng, 2000, 500)
    calibration = {"scores": cal_scores, "labels": cal_labels}
    null = rng.beta(2, 8, 20000)
    p = conformal_pvalues(null, calibration)
    for u in (0.01, 0.05, 0.1, 0.5):
        assert np.mean(p <= u) <= u + 3 * np.sqrt(u * (1 - u) / len(p)) + 1 / 2001
    # Ties count against the source (>=): a score equal to every calibration score gets p = 1.
    assert conformal_pvalues([0.0], {"scores": np.zeros(5), "labels": np.zeros(5, int)})[0] == 1.0


def test_benjamini_hochberg_matches_the_step_up_rule():
    rng = np.random.default_rng(1)
    p = np.r_[rng.uniform(0, 0.001, 30), rng.uniform(0, 1, 300)]
    rejected = benjamini_hochberg(p, 0.1)
    order = np.sort(p)
    k = np.max(np.flatnonzero(order <= 0.1 * np.arange(1, len(p) + 1) / len(p))) + 1
    assert rejected.sum() == k and np.all(p[rejected] <= order[k - 1])
    assert not benjamini_hochberg(np.ones(10), 0.1).any()
    with pytest.raises(GlobsmlError, match=r"must lie in \(0, 1\)"):
        benjamini_hochberg(p, 1.5)


def test_fdr_threshold_keeps_the_rate_on_average():
    rng = np.random.default_rng(2)
    fdp = []
    for _ in range(40):
        cal_scores, cal_labels = _mixture(rng, 1000, 300)
        scores, labels = _mixture(rng, 1000, 300)
        threshold, p = fdr_threshold(scores, {"scores": cal_scores, "labels": cal_labels}, 0.1)
        chosen = scores > threshold
        # One rule: the selection is a threshold on p_gc, the same as BH on the p-values.
        np.testing.assert_array_equal(chosen, benjamini_hochberg(p, 0.1))
        fdp.append(np.sum(chosen & (labels == 0)) / max(1, chosen.sum()))
    assert np.mean(fdp) <= 0.1 + 3 * np.std(fdp) / np.sqrt(len(fdp))
    assert 0.03 < np.mean(fdp)  # not trivially empty


def test_shift_is_reported_when_the_non_gcs_look_different():
    rng = np.random.default_rng(3)
    cal_scores, cal_labels = _mixture(rng, 3000, 600)
    calibration = {"scores": cal_scores, "labels": cal_labels}
    same, _ = _mixture(rng, 3000, 1500)  # another GC fraction is no shift
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationShiftWarning)
        assert not calibration_shift(same, calibration)["shifted"]
    shifted, _ = _mixture(rng, 3000, 600, null_shift=0.1)
    with pytest.warns(CalibrationShiftWarning, match="not guaranteed"):
        out = calibration_shift(shifted, calibration, where="NGC 4486")
    assert out["shifted"] and out["target_above"] > out["calibration_above"]


def test_bundle_keeps_the_calibration_scores(tmp_path, tiny_data):
    from .conftest import TEST_MODEL

    bundle = train_bundle(tiny_data, TEST_MODEL, setup="all2all", quick=True, out=tmp_path / "b.zip",
                          calibration_fraction=0.2)
    back = load_bundle(tmp_path / "b.zip")
    np.testing.assert_array_equal(back.calibration["scores"], bundle.calibration["scores"])
    np.testing.assert_array_equal(back.calibration["labels"], bundle.calibration["labels"])
    assert back.manifest["calibration"]["n_sources"] == len(back.calibration["labels"]) > 0
    cat = predict_catalogue(back, data=tiny_data, fdr=0.1)
    threshold, p = fdr_threshold(cat["p_gc"].to_numpy(), back.calibration, 0.1)
    np.testing.assert_array_equal(cat["p_value"].to_numpy(), p)
    np.testing.assert_array_equal(cat["is_gc"].to_numpy(), cat["p_gc"].to_numpy() > threshold)
    with pytest.raises(GlobsmlError, match="a threshold or an FDR level, not both"):
        predict_catalogue(back, data=tiny_data, fdr=0.1, threshold=0.5)
    none = train_bundle(tiny_data, TEST_MODEL, setup="all2all", quick=True, calibration_fraction=0)
    assert none.calibration is None
    with pytest.raises(GlobsmlError, match="keeps no calibration data"):
        predict_catalogue(none, data=tiny_data, fdr=0.1)
