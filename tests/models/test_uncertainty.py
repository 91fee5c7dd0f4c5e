"""p_gc_std for every model family: trees, boosted forests, virtual ensembles, neighbours, MC dropout."""

import numpy as np
import pandas as pd
import pytest

from globsml.data import FEATURES
from globsml.models import make_model, predict_proba_std


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(500, len(FEATURES))), columns=list(FEATURES))
    y = (X["colour"] + 0.7 * rng.normal(size=len(X)) > 0).astype(int).to_numpy()
    return X, y


FAMILIES = ["forest", "calibrated-forest", "adaboost", "hgb", "catboost", "knn"]


@pytest.mark.parametrize("name", FAMILIES)
def test_ensembles_give_a_spread_beside_the_same_p_gc(table, name):
    if name == "catboost":
        pytest.importorskip("catboost")
    X, y = table
    model = make_model(name, quick=True).fit(X[:400], y[:400])
    p, std = predict_proba_std(model, X[400:])
    np.testing.assert_array_equal(p, model.predict_proba(X[400:])[:, 1])
    assert np.all(np.isfinite(std)) and np.all(std >= 0) and np.all(std <= 0.5 + 1e-12)
    assert std.max() > 0  # the members disagree somewhere
    # Same seed, same numbers.
    np.testing.assert_array_equal(predict_proba_std(model, X[400:])[1], std)


def test_forest_spread_is_that_of_its_trees(table):
    X, y = table
    model = make_model("forest", quick=True).fit(X[:400], y[:400])
    Xt = model[:-1].transform(X[400:])
    per_tree = np.stack([t.predict_proba(np.asarray(Xt, dtype=np.float32))[:, 1] for t in model[-1].estimators_])
    np.testing.assert_allclose(predict_proba_std(model, X[400:])[1], per_tree.std(axis=0), rtol=1e-12)


def test_knn_spread_is_that_of_the_neighbour_votes(table):
    X, y = table
    model = make_model("knn").fit(X[:400], y[:400])
    p, std = predict_proba_std(model, X[400:])
    np.testing.assert_allclose(std, np.sqrt(p * (1 - p)), atol=1e-12)


def test_single_models_have_no_spread(table):
    X, y = table
    model = make_model("logistic").fit(X[:400], y[:400])
    p, std = predict_proba_std(model, X[400:])
    assert np.isnan(std).all() and np.all((p > 0) & (p < 1))


def test_cnn_spread_over_the_mc_dropout_passes():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2, 20, 20)).astype(np.float32)
    X[:60, :, 8:12, 8:12] += 3.0
    y = np.r_[np.ones(60, int), np.zeros(60, int)]
    model = make_model("cnn", quick=True, mc_passes=30).fit(X, y)
    p, std = predict_proba_std(model, X[:20])
    np.testing.assert_array_equal(p, model.predict_proba(X[:20])[:, 1])  # the same passes
    assert np.all(std > 0)
    model.set_params(mc_passes=1)
    p1, std1 = predict_proba_std(model, X[:20])
    assert np.isnan(std1).all()
