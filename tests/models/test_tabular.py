"""The tabular models of the registry: fit/predict on small data, determinism, calibration."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from threadpoolctl import threadpool_limits

from globsml import GlobsmlError
from globsml.data import FEATURES
from globsml.models import (
    ScaledNystroem,
    ValidationCalibratedClassifier,
    final_estimator,
    make_model,
    model_spec,
)
from globsml.preprocessing import complete_rows

TABULAR = ["logistic", "svm-linear", "svm-rbf", "knn", "1nn", "tree", "forest", "adaboost",
           "catboost", "hgb", "calibrated-forest"]


def _frame(n, seed):
    """GC-like (compact, CI ~ 0.5) and contaminant rows of the 29 raw features, some NaN."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    X = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=list(FEATURES))
    shift = np.where(y == 1, 1.0, -0.5)
    for col in ("CI_g", "CI_z", "colour", "m3_g", "area", "eccentricity"):
        X[col] = X[col] + shift
    X["area"] = np.exp(X["area"])  # positive, skewed like pixel areas
    X["eccentricity"] = 1 / (1 + np.exp(-X["eccentricity"]))
    X["eccentricity_z"] = 1 / (1 + np.exp(-X["eccentricity_z"]))
    X.loc[rng.choice(n, size=n // 50, replace=False), "CI_z"] = np.nan
    return X, y


@pytest.fixture(autouse=True)
def one_thread():
    # As the benchmark does: OpenMP threads busy-wait, and on a loaded 2-core
    # machine a two-thread HistGradientBoosting fit is many times slower.
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def data():
    X, y = _frame(600, 0)
    keep = complete_rows(X)
    Xt, yt = _frame(200, 1)
    return X[keep].reset_index(drop=True), y[keep], Xt, yt


@pytest.mark.parametrize("name", TABULAR)
def test_fit_predict_deterministic(name, data):
    X, y, Xt, yt = data
    spec = model_spec(name)
    assert spec.input == "features"
    p1 = make_model(name, random_state=3, quick=True).fit(X, y).predict_proba(Xt)
    assert p1.shape == (len(Xt), 2)
    assert np.all((p1 >= 0) & (p1 <= 1)) and np.allclose(p1.sum(axis=1), 1)
    # NaN in test rows is imputed with the training median, never propagated.
    assert np.isfinite(p1).all()
    # Separable-ish data: every model must beat chance clearly.
    acc = np.mean((p1[:, 1] > 0.5) == yt)
    assert acc > 0.75, (name, acc)
    p2 = make_model(name, random_state=3, quick=True).fit(X, y).predict_proba(Xt)
    np.testing.assert_array_equal(p1, p2)


def test_published_defaults():
    forest = final_estimator(make_model("forest"))
    assert forest.n_estimators == 100
    assert final_estimator(make_model("forest", quick=True)).n_estimators == 20
    assert final_estimator(make_model("knn")).n_neighbors == 12
    assert final_estimator(make_model("1nn")).n_neighbors == 1
    ada = final_estimator(make_model("adaboost"))
    assert isinstance(ada.estimator, RandomForestClassifier) and ada.estimator.n_estimators == 50
    assert ada.n_estimators == 10
    assert final_estimator(make_model("catboost")).get_params()["iterations"] == 1000
    assert not model_spec("hgb").published and model_spec("forest").published


def test_random_state_changes_forest(data):
    X, y, Xt, _ = data
    a = make_model("forest", random_state=0, quick=True).fit(X, y).predict_proba(Xt)
    b = make_model("forest", random_state=1, quick=True).fit(X, y).predict_proba(Xt)
    assert not np.array_equal(a, b)


def test_calibration_uses_eval_set(data):
    X, y, Xt, yt = data
    model = make_model("forest", quick=True, calibrate=True)
    assert isinstance(model, ValidationCalibratedClassifier)
    model.fit(X, y, eval_set=(Xt, yt))
    assert model.method_ == "sigmoid"  # 200 validation rows < 1000: isotonic would overfit
    p = model.predict_proba(Xt)[:, 1]
    # Calibrated on these very rows: mean p_gc matches the GC fraction closely.
    assert abs(p.mean() - yt.mean()) < 0.05
    assert set(model.predict(Xt)) <= {0, 1}
    # Without an eval_set a stratified 5 % is held out of the training data.
    held = make_model("calibrated-forest", quick=True).fit(X, y)
    assert held.method_ == "sigmoid"
    assert final_estimator(held).n_estimators == 20


def test_calibration_needs_both_classes(data):
    X, y, Xt, _ = data
    with pytest.raises(GlobsmlError, match="only one class"):
        make_model("logistic", calibrate=True).fit(X, y, eval_set=(Xt[:5], np.zeros(5, int)))
    with pytest.raises(GlobsmlError, match="method"):
        make_model("logistic", calibrate="beta").fit(X, y)


def test_scaled_nystroem_gamma_is_svc_scale():
    X = np.random.default_rng(0).normal(scale=2.0, size=(300, 4))
    t = ScaledNystroem(50, random_state=0).fit(X)
    assert t.gamma_ == pytest.approx(1 / (4 * X.var()))
    assert t.transform(X).shape == (300, 50)
