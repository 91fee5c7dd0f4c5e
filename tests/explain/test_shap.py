import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from globsml import GlobsmlError
from globsml.data import FEATURES
from globsml.explain import shap_values
from globsml.explain._shap import _class1


@pytest.fixture(scope="module")
def colour_data():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(300, len(FEATURES))), columns=list(FEATURES))
    y = (X["colour"] > 0.2).astype(int).to_numpy()
    return X, y


def test_forest_in_a_pipeline(colour_data):
    X, y = colour_data
    model = make_pipeline(SimpleImputer(), StandardScaler(), RandomForestClassifier(30, random_state=0)).fit(X, y)
    sv = shap_values(model, X.iloc[:40])
    assert sv.values.shape == (40, len(FEATURES))
    assert sv.feature_names == list(FEATURES)  # raw names, not x0..x28
    assert sv.output == "probability"
    assert sv.mean_abs().index[0] == "colour"
    # Forest SHAP values add up to p_gc (class 1 of the (n, f, 2) output).
    total = sv.values.sum(axis=1) + sv.base_value
    np.testing.assert_allclose(total, model.predict_proba(X.iloc[:40])[:, 1], atol=1e-6)


def test_boosted_trees_give_log_odds(colour_data):
    X, y = colour_data
    model = make_pipeline(StandardScaler(), HistGradientBoostingClassifier(max_iter=30, random_state=0)).fit(X, y)
    sv = shap_values(model, X.iloc[:30])
    assert sv.values.shape == (30, len(FEATURES))
    assert sv.output == "log-odds"
    assert sv.mean_abs().index[0] == "colour"
    assert sv.mean_abs().iloc[0] > 10 * sv.mean_abs().iloc[1]


def test_bare_estimator_and_catboost(colour_data):
    X, y = colour_data
    forest = RandomForestClassifier(20, random_state=0).fit(X, y)
    assert shap_values(forest, X.iloc[:10]).mean_abs().index[0] == "colour"
    catboost = pytest.importorskip("catboost")
    cat = catboost.CatBoostClassifier(iterations=30, verbose=0, random_seed=0, thread_count=1).fit(X, y)
    assert shap_values(cat, X.iloc[:10]).mean_abs().index[0] == "colour"


def test_not_a_tree_model(colour_data):
    X, y = colour_data
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(GlobsmlError, match="LogisticRegression"):
        shap_values(model, X.iloc[:5])


def test_class1_normalisation():
    v = np.arange(12.0).reshape(2, 3, 2)
    values, base = _class1(v, [0.3, 0.7], 3)
    np.testing.assert_array_equal(values, v[:, :, 1])
    assert base == 0.7
    values, base = _class1([v[:, :, 0], v[:, :, 1]], [0.3, 0.7], 3)  # old SHAP: a list per class
    np.testing.assert_array_equal(values, v[:, :, 1])
    values, base = _class1(v[:, :, 0], -1.5, 3)  # one margin output
    np.testing.assert_array_equal(values, v[:, :, 0])
    assert base == -1.5
    with pytest.raises(GlobsmlError):
        _class1(np.zeros((2, 4)), 0.0, 3)
