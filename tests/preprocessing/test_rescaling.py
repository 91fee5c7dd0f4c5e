import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError
from globsml.data import FEATURES
from globsml.preprocessing import PUBLISHED_SCHEMES, SCHEMES, FeatureRescaler

TRAIN = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 10.0]})
TEST = pd.DataFrame({"a": [0.0, 5.0, 20.0]})


def _fit_one(scheme):
    return FeatureRescaler(schemes={"a": scheme}).fit(TRAIN)


# Hand-computed statistics of TRAIN = [1, 2, 3, 4, 10]:
# mean 4, sample std sqrt(((-3)^2+(-2)^2+(-1)^2+0^2+6^2)/4) = sqrt(50/4) = sqrt(12.5),
# max 10; linear-interpolated percentiles at positions q/100*4 of the sorted values:
# p90 -> 3.6: 4 + 0.6*6 = 7.6; p95 -> 3.8: 4 + 0.8*6 = 8.8; p99 -> 3.96: 4 + 0.96*6 = 9.76.
@pytest.mark.parametrize(
    "scheme, offset, scale",
    [
        ("norm", 4.0, np.sqrt(12.5)),
        ("maxdiv", 0.0, 10.0),
        ("meandiv", 0.0, 4.0),
        ("p90div", 0.0, 7.6),
        ("p95div", 0.0, 8.8),
        ("p99div", 0.0, 9.76),
        ("none", 0.0, 1.0),
    ],
)
def test_each_scheme_matches_hand_computed_statistics(scheme, offset, scale):
    r = _fit_one(scheme)
    assert r.offset_[0] == pytest.approx(offset)
    assert r.scale_[0] == pytest.approx(scale)
    # test data are scaled with the TRAINING statistics, not their own
    expected = (np.array([0.0, 5.0, 20.0]) - offset) / scale
    np.testing.assert_allclose(r.transform(TEST)[:, 0], expected)


def test_norm_gives_zero_mean_unit_sample_std_on_training_data():
    out = _fit_one("norm").transform(TRAIN)[:, 0]
    assert out.mean() == pytest.approx(0.0, abs=1e-12)
    assert out.std(ddof=1) == pytest.approx(1.0)


def test_fit_ignores_test_data_statistics():
    r = _fit_one("maxdiv")
    r.transform(pd.DataFrame({"a": [1000.0]}))
    assert r.scale_[0] == 10.0


def test_mixed_schemes_per_column_and_column_order_of_test_data():
    train = pd.DataFrame({"x": [2.0, 4.0], "e": [0.1, 0.9], "m": [20.0, 22.0]})
    r = FeatureRescaler(schemes={"x": "maxdiv", "e": "none", "m": "norm"}).fit(train)
    test = pd.DataFrame({"m": [21.0], "e": [0.5], "x": [8.0]})  # other column order
    out = r.transform(test)
    # m: mean 21, sample std sqrt(2) -> 0; x: 8/4 = 2; e unchanged
    np.testing.assert_allclose(out, [[2.0, 0.5, 0.0]])


@pytest.mark.parametrize("values", [[3.0, 3.0, 3.0], [0.0, 0.0, 0.0], [np.nan, np.nan, np.nan], [5.0]])
@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_degenerate_scale_never_gives_inf(scheme, values):
    train = pd.DataFrame({"a": values})
    with np.errstate(all="raise"):
        r = FeatureRescaler(schemes={"a": scheme}).fit(train)
    assert np.isfinite(r.scale_).all() and (r.scale_ != 0).all()
    assert np.isfinite(r.offset_).all()
    out = r.transform(pd.DataFrame({"a": [1.0, 7.0]}))
    assert np.isfinite(out).all()


def test_constant_column_norm_is_only_shifted():
    r = FeatureRescaler(schemes={"a": "norm"}).fit(pd.DataFrame({"a": [3.0, 3.0]}))
    np.testing.assert_allclose(r.transform(pd.DataFrame({"a": [3.0, 5.0]}))[:, 0], [0.0, 2.0])


def test_nan_ignored_when_fitting_and_kept_when_transforming():
    train = pd.DataFrame({"a": [1.0, np.nan, 3.0]})
    r = FeatureRescaler(schemes={"a": "meandiv"}).fit(train)
    assert r.scale_[0] == 2.0
    out = r.transform(pd.DataFrame({"a": [np.nan, 4.0]}))[:, 0]
    assert np.isnan(out[0]) and out[1] == 2.0


def test_input_is_not_modified():
    train = TRAIN.copy()
    r = _fit_one("norm")
    r.transform(train)
    pd.testing.assert_frame_equal(train, TRAIN)


def test_published_schemes_cover_the_29_features_in_order():
    assert tuple(PUBLISHED_SCHEMES) == FEATURES
    assert set(PUBLISHED_SCHEMES.values()) <= set(SCHEMES)
    assert PUBLISHED_SCHEMES["eccentricity"] == PUBLISHED_SCHEMES["eccentricity_z"] == "none"
    for f in ("m3_g", "m5_z", "CI_g", "CI5_z", "colour"):
        assert PUBLISHED_SCHEMES[f] == "norm"


def test_default_schemes_on_29_features_and_array_input():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.uniform(1, 2, size=(40, 29)), columns=FEATURES)
    r = FeatureRescaler().fit(X)
    np.testing.assert_allclose(r.transform(X.to_numpy()), r.transform(X))
    for j, f in enumerate(FEATURES):
        col = X[f].to_numpy()
        scheme = PUBLISHED_SCHEMES[f]
        expected = {
            "none": col,
            "norm": (col - col.mean()) / col.std(ddof=1),
            "maxdiv": col / col.max(),
            "p95div": col / np.percentile(col, 95),
            "p99div": col / np.percentile(col, 99),
        }[scheme]
        np.testing.assert_allclose(r.transform(X)[:, j], expected, err_msg=f)


def test_set_output_pandas_and_feature_names():
    r = FeatureRescaler(schemes={"a": "maxdiv", "b": "none"}).set_output(transform="pandas")
    X = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}, index=[10, 11])
    out = r.fit(X).transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["a", "b"] and list(out.index) == [10, 11]
    assert list(r.get_feature_names_out()) == ["a", "b"]
    np.testing.assert_allclose(r.inverse_transform(out.to_numpy()), X.to_numpy())


def test_errors_name_the_column_or_scheme():
    with pytest.raises(GlobsmlError, match="'a'.*unknown"):
        FeatureRescaler(schemes={"a": "log"}).fit(TRAIN)
    with pytest.raises(GlobsmlError, match="no rescaling scheme for column.*zz"):
        FeatureRescaler(schemes={"a": "none"}).fit(TRAIN.assign(zz=1.0))
    r = _fit_one("none")
    with pytest.raises(GlobsmlError, match="missing feature column.*a"):
        r.transform(pd.DataFrame({"b": [1.0]}))
    with pytest.raises(GlobsmlError, match="29 columns"):
        FeatureRescaler().fit(np.zeros((3, 4)))
    with pytest.raises(GlobsmlError, match="galaxy are not numeric"):
        FeatureRescaler(schemes={"a": "none", "galaxy": "none"}).fit(TRAIN.assign(galaxy="x"))
