import numpy as np
import pandas as pd

from globsml.data import FEATURES
from globsml.preprocessing import PUBLISHED_SCHEMES, make_preprocessor


def test_preprocessor_imputes_with_train_median_then_rescales_with_train_statistics():
    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.uniform(1.0, 3.0, size=(30, 29)), columns=FEATURES)
    train.iloc[0, FEATURES.index("m3_g")] = np.nan
    test = pd.DataFrame(rng.uniform(1.0, 3.0, size=(4, 29)), columns=FEATURES, index=[5, 6, 7, 8])
    test.iloc[2, FEATURES.index("m3_g")] = np.nan
    test.iloc[1, FEATURES.index("area")] = np.nan

    pre = make_preprocessor().fit(train)
    out = pre.transform(test)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(FEATURES) and list(out.index) == [5, 6, 7, 8]
    assert np.isfinite(out.to_numpy()).all()

    # by hand: m3_g is standardised with the training mean/std of the imputed column
    m3 = train["m3_g"].fillna(train["m3_g"].median())
    expected = (m3.median() - m3.mean()) / m3.std(ddof=1)
    assert np.isclose(out.loc[7, "m3_g"], expected)
    area = train["area"]
    assert PUBLISHED_SCHEMES["area"] == "p95div"
    assert np.isclose(out.loc[6, "area"], area.median() / np.percentile(area, 95))


def test_preprocessor_custom_schemes_and_step_names():
    pre = make_preprocessor({f: "none" for f in FEATURES})
    assert [name for name, _ in pre.steps] == ["impute", "rescale"]
    X = pd.DataFrame(np.arange(58.0).reshape(2, 29), columns=FEATURES)
    np.testing.assert_array_equal(pre.fit_transform(X).to_numpy(), X.to_numpy())


def test_preprocessor_is_a_clonable_picklable_sklearn_step_in_front_of_a_model():
    import pickle

    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(10, 2, size=(60, 29)), columns=FEATURES)
    y = (X["colour"] > 10).astype(int)
    X.iloc[::7, FEATURES.index("CI_g")] = np.nan
    model = make_pipeline(make_preprocessor(), LogisticRegression())
    model.fit(X, y)
    p = model.predict_proba(X)[:, 1]
    assert np.isfinite(p).all()
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X)[:, 1], p)
    fresh = clone(model)
    assert fresh.get_params()["pipeline__rescale__schemes"] is None
    np.testing.assert_array_equal(fresh.fit(X, y).predict_proba(X)[:, 1], p)  # deterministic


def test_preprocessor_accepts_nullable_pandas_dtypes():
    X = pd.DataFrame(np.arange(87.0).reshape(3, 29), columns=FEATURES).astype("Float64")
    X.iloc[1, 0] = pd.NA
    out = make_preprocessor().fit(X).transform(X)
    assert np.isfinite(out.to_numpy(dtype=float)).all()
