import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from globsml import GlobsmlError
from globsml.data import FEATURES
from globsml.explain import (
    LIME_KERNEL_WIDTH,
    lime_explain,
    lime_stability,
    ridge_confidence_intervals,
    stability_indices,
)


@pytest.fixture(scope="module")
def colour_data():
    """29 noise features; the label is colour > 0 by construction."""
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(500, len(FEATURES))), columns=list(FEATURES))
    y = (X["colour"] > 0).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module", params=["logistic", "forest"])
def fitted(request, colour_data):
    X, y = colour_data
    if request.param == "logistic":
        model = make_pipeline(StandardScaler(), LogisticRegression())
    else:
        model = RandomForestClassifier(n_estimators=30, random_state=0)
    return model.fit(X, y)


def test_published_kernel_width():
    assert LIME_KERNEL_WIDTH == 1.75


def test_feature_deciding_the_label_ranks_first(fitted, colour_data):
    X, _ = colour_data
    colour = X["colour"].to_numpy()
    # Two sources near the cut and two in each outer quartile of colour.
    near = np.argsort(np.abs(colour))[:2]
    red, blue = np.flatnonzero(colour > 0.9)[:2], np.flatnonzero(colour < -0.9)[:2]
    for row in (*near, *red, *blue):
        expl = lime_explain(fitted, X.iloc[row], X, num_samples=400, seed=0)
        assert expl.features[0] == "colour"
        # Its weight outweighs every noise feature's clearly.
        assert abs(expl.weights[0]) > 2 * np.abs(expl.weights[1:]).max()
    for rows, sign in ((red, 1), (blue, -1)):
        for row in rows:
            # In the outer quartiles the source's colour bin is purely GC (red)
            # or purely non-GC (blue): LIME's weight has that sign.
            expl = lime_explain(fitted, X.iloc[row], X, num_samples=400, seed=0)
            assert np.sign(expl.weights[0]) == sign


def test_shapes_and_values(fitted, colour_data):
    X, _ = colour_data
    expl = lime_explain(fitted, X.iloc[5], X, num_features=6, num_samples=300, seed=3)
    assert len(expl.features) == len(expl.weights) == len(expl.rules) == 6
    assert len(set(expl.features)) == 6 and set(expl.features) <= set(FEATURES)
    assert all(f in r for f, r in zip(expl.features, expl.rules))
    assert np.all(np.abs(expl.weights[:-1]) >= np.abs(expl.weights[1:]))  # sorted by |weight|
    assert 0.0 <= expl.p_gc <= 1.0
    assert expl.p_gc == pytest.approx(fitted.predict_proba(X.iloc[[5]])[0, 1])
    assert set(expl.intervals) == set(expl.features)
    for f, w in zip(expl.features, expl.weights):
        lo, hi = expl.intervals[f]
        assert lo < w < hi
    table = expl.as_frame()
    assert list(table.columns) == ["feature", "rule", "weight", "ci_low", "ci_high"]
    assert len(table) == 6


def test_same_seed_same_explanation(fitted, colour_data):
    X, _ = colour_data
    a = lime_explain(fitted, X.iloc[4], X, num_samples=300, seed=11)
    b = lime_explain(fitted, X.iloc[4], X, num_samples=300, seed=11)
    c = lime_explain(fitted, X.iloc[4], X, num_samples=300, seed=12)
    assert a.features == b.features
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.array_equal(a.weights, c.weights)


def test_nan_in_source_is_filled_with_training_median(fitted, colour_data):
    X, _ = colour_data
    x = X.iloc[2].copy()
    x["m3_g"] = np.nan
    expl = lime_explain(fitted, x, X, num_samples=200, seed=0)
    assert expl.filled == ["m3_g"]
    assert np.isfinite(expl.weights).all()


def test_training_rows_with_nan_are_left_out(fitted, colour_data):
    X, _ = colour_data
    Xn = X.copy()
    Xn.loc[:9, "CI_g"] = np.nan
    expl = lime_explain(fitted, X.iloc[20], Xn, num_samples=200, seed=0)
    assert np.isfinite(expl.weights).all()


def test_bad_input(fitted, colour_data):
    X, _ = colour_data
    with pytest.raises(GlobsmlError, match="feature column"):
        lime_explain(fitted, X.iloc[0], X.drop(columns="colour"), num_samples=50)
    with pytest.raises(GlobsmlError, match="29 features"):
        lime_explain(fitted, np.zeros(5), X, num_samples=50)
    with pytest.raises(GlobsmlError, match="at least 10"):
        lime_explain(fitted, X.iloc[0], X.iloc[:5], num_samples=50)


def test_stability_indices_by_hand():
    calls = [
        {"a": (0.0, 1.0), "b": (0.0, 1.0)},
        {"a": (0.5, 2.0), "c": (0.0, 1.0)},
        {"a": (1.5, 3.0), "b": (2.0, 3.0)},
    ]
    vsi, csi = stability_indices(calls)
    # pairs share {a}, {a, b}, {a}: 4 of 3 * 2 selected variables.
    assert vsi == pytest.approx(100 * 4 / 6)
    # a: 2 of 3 pairs overlap; b: 0 of 1; c: in one call only (ignored).
    assert csi == pytest.approx((100 * 2 / 3 + 0) / 2)
    assert stability_indices([calls[0], calls[0]]) == (100.0, 100.0)
    # Touching intervals do not overlap (open intervals, as lime-stability).
    assert stability_indices([{"a": (0, 1)}, {"a": (1, 2)}]) == (100.0, 0.0)
    with pytest.raises(GlobsmlError):
        stability_indices([calls[0]])
    with pytest.raises(GlobsmlError):
        stability_indices([calls[0], {"a": (0, 1)}])


def test_ridge_intervals_cover_the_truth_95_percent():
    # Unit weights and a negligible ridge penalty: the intervals are the
    # classical least-squares ones and must cover the true slopes ~95 %.
    rng = np.random.default_rng(0)
    beta = np.array([1.0, -0.5, 0.0])
    hits = []
    for _ in range(300):
        X = rng.normal(size=(200, 3))
        y = 0.3 + X @ beta + rng.normal(0, 1.0, 200)
        Xc = X - X.mean(axis=0)
        coef = np.linalg.lstsq(np.column_stack([np.ones(200), Xc]), y, rcond=None)[0][1:]
        ci = ridge_confidence_intervals(Xc, y, np.ones(200), coef, alpha=1e-9)
        hits.append((ci[:, 0] < beta) & (beta < ci[:, 1]))
    coverage = np.mean(hits, axis=0)
    assert np.all(np.abs(coverage - 0.95) < 0.04), coverage


def test_lime_stability(fitted, colour_data):
    X, _ = colour_data
    stab = lime_stability(fitted, X.iloc[1], X, n_calls=4, num_features=1, num_samples=300, seed=0)
    assert len(stab.explanations) == 4
    # Only colour matters: every call selects it, and the calls agree.
    assert stab.vsi == 100.0
    assert all(e.features == ["colour"] for e in stab.explanations)
    assert 0.0 <= stab.csi <= 100.0
    again = lime_stability(fitted, X.iloc[1], X, n_calls=4, num_features=1, num_samples=300, seed=0)
    assert (again.vsi, again.csi) == (stab.vsi, stab.csi)
    noisy = lime_stability(fitted, X.iloc[1], X, n_calls=4, num_features=8, num_samples=300, seed=0)
    assert 0.0 < noisy.vsi < 100.0  # the noise features change from call to call


@pytest.mark.parametrize("name", ["logistic", "forest", "hgb", "knn"])
def test_registry_models(name, synthetic_dir):
    """LIME takes every tabular registry model (a Pipeline on the raw features) as it is."""
    import globsml
    from globsml.explain import training_side
    from globsml.models import make_model, model_names
    from globsml.preprocessing import drop_incomplete

    if name not in model_names():
        pytest.skip(f"model {name!r} is not registered")
    data = globsml.load_dataset(synthetic_dir)
    training, _ = training_side(data, "FCC1")
    model = make_model(name, quick=True).fit(*drop_incomplete(training.features(), training.y))
    expl = lime_explain(model, data.features().iloc[5], training.features(), num_samples=300, seed=0)
    assert expl.features[0] == "colour"
