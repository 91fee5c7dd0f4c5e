import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from globsml import GlobsmlError
from globsml.data import FEATURES
from globsml.explain import permutation_importances


@pytest.fixture(scope="module")
def model_and_data():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(300, len(FEATURES))), columns=list(FEATURES))
    y = (X["colour"] > 0).astype(int).to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    return model, X, y


def test_feature_deciding_the_label_ranks_first(model_and_data):
    model, X, y = model_and_data
    table = permutation_importances(model, X, y, n_repeats=3, seed=0)
    assert list(table.columns) == ["feature", "importance", "std"]
    assert len(table) == len(FEATURES) and set(table["feature"]) == set(FEATURES)
    assert table["feature"].iloc[0] == "colour"
    assert table["importance"].iloc[0] > 0.3  # AUC falls from ~1 towards 0.5
    assert table["importance"].iloc[1:].abs().max() < 0.05
    assert table["importance"].is_monotonic_decreasing


def test_same_seed_same_numbers(model_and_data):
    model, X, y = model_and_data
    a = permutation_importances(model, X, y, n_repeats=2, seed=5)
    b = permutation_importances(model, X, y, n_repeats=2, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = permutation_importances(model, X, y, n_repeats=2, seed=6)
    assert not np.allclose(a.sort_values("feature")["importance"], c.sort_values("feature")["importance"])


def test_bad_labels(model_and_data):
    model, X, y = model_and_data
    with pytest.raises(GlobsmlError, match="both"):
        permutation_importances(model, X, np.ones(len(X)))
    with pytest.raises(GlobsmlError, match="labels"):
        permutation_importances(model, X, y[:10])
