"""fit_or_reuse: identical fits are done once, and only inside reusing_fits()."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from globsml.models import fit_or_reuse, make_model, reusing_fits


class CountingClassifier(ClassifierMixin, BaseEstimator):
    fits = 0

    def __init__(self, shift=0.0):
        self.shift = shift

    def fit(self, X, y):
        CountingClassifier.fits += 1
        self.mean_ = np.asarray(X).mean() + self.shift
        return self


def test_reuse_only_inside_the_block_and_only_for_identical_fits():
    X, y = np.arange(20.0).reshape(10, 2), np.r_[np.zeros(5), np.ones(5)]
    CountingClassifier.fits = 0
    fit_or_reuse(CountingClassifier(), X, y)
    fit_or_reuse(CountingClassifier(), X, y)
    assert CountingClassifier.fits == 2  # no cache outside reusing_fits()
    with reusing_fits():
        a = fit_or_reuse(CountingClassifier(), X, y)
        b = fit_or_reuse(CountingClassifier(), X, y)
        assert b is a and CountingClassifier.fits == 3
        c = fit_or_reuse(CountingClassifier(shift=1.0), X, y)  # other parameters
        d = fit_or_reuse(CountingClassifier(), X, y + 0.0 * X[:, 0] + (np.arange(10) == 0))  # other labels
        assert c is not a and d is not a and CountingClassifier.fits == 5
    fit_or_reuse(CountingClassifier(), X, y)
    assert CountingClassifier.fits == 6  # the cache went with the block


def test_calibrated_forest_takes_the_forest_fit():
    rng = np.random.default_rng(0)
    import pandas as pd

    from globsml.data import FEATURES

    X = pd.DataFrame(rng.normal(size=(300, len(FEATURES))), columns=list(FEATURES))
    y = (X["m3_g"] + rng.normal(scale=0.5, size=300) > 0).astype(int).to_numpy()
    X_val, y_val = X.iloc[:100], y[:100]
    with reusing_fits():
        forest = fit_or_reuse(make_model("forest", quick=True, random_state=3), X, y)
        fit_or_reuse(make_model("tree", random_state=3), X, y)  # another model in between
        calibrated = make_model("calibrated-forest", quick=True, random_state=3).fit(X, y, eval_set=(X_val, y_val))
    assert calibrated.estimator_ is forest
    fresh = make_model("calibrated-forest", quick=True, random_state=3).fit(X, y, eval_set=(X_val, y_val))
    assert fresh.estimator_ is not forest
    np.testing.assert_array_equal(fresh.predict_proba(X), calibrated.predict_proba(X))
