import numpy as np
import pandas as pd
import pytest

from globsml import GlobsmlError
from globsml.data import PHOTOMETRIC_FEATURES
from globsml.preprocessing import TrainingMedianImputer, complete_rows, drop_incomplete


def test_imputer_replaces_missing_test_values_by_training_median():
    train = pd.DataFrame({"a": [1.0, 2.0, 10.0, np.nan], "b": [5.0, 7.0, np.inf, 6.0]})
    test = pd.DataFrame({"a": [np.nan, 4.0], "b": [-np.inf, np.nan]})
    imp = TrainingMedianImputer().fit(train)
    # a: median of 1, 2, 10 = 2; b: inf is missing -> median of 5, 7, 6 = 6
    np.testing.assert_array_equal(imp.medians_, [2.0, 6.0])
    np.testing.assert_array_equal(imp.transform(test), [[2.0, 6.0], [4.0, 6.0]])


def test_imputer_really_writes_under_copy_on_write_and_leaves_input_alone():
    # The published `df[col][df[col].isna()] = median` is a no-op with pandas 3.
    test = pd.DataFrame({"a": [np.nan, 1.0]})
    before = test.copy()
    out = TrainingMedianImputer().set_output(transform="pandas").fit(
        pd.DataFrame({"a": [3.0]})).transform(test)
    assert out["a"].tolist() == [3.0, 1.0]
    pd.testing.assert_frame_equal(test, before)


def test_imputer_refuses_an_all_missing_training_column():
    with pytest.raises(GlobsmlError, match="'?b'?.*no finite value"):
        TrainingMedianImputer().fit(pd.DataFrame({"a": [1.0], "b": [np.nan]}))


def _photometric(rows):
    return pd.DataFrame(rows, columns=list(PHOTOMETRIC_FEATURES))


def test_complete_rows_and_drop_incomplete():
    ok = [20.0] * len(PHOTOMETRIC_FEATURES)
    bad_ci = ok.copy()
    bad_ci[PHOTOMETRIC_FEATURES.index("CI4_z")] = np.nan
    bad_colour = ok.copy()
    bad_colour[PHOTOMETRIC_FEATURES.index("colour")] = np.nan
    X = _photometric([ok, bad_ci, ok, bad_colour]).assign(area=[np.nan, 1.0, 2.0, 3.0])
    X.index = [7, 8, 9, 10]
    mask = complete_rows(X)  # NaN in a non-photometric column (area) does not count
    assert mask.tolist() == [True, False, True, False]
    assert drop_incomplete(X).index.tolist() == [7, 9]
    y = np.array([1, 0, 0, 1])
    galaxy = pd.Series(["g1", "g1", "g2", "g2"], index=X.index)
    Xk, yk, gk, none = drop_incomplete(X, y, galaxy, None)
    assert Xk.index.tolist() == [7, 9] and yk.tolist() == [1, 0]
    assert gk.tolist() == ["g1", "g2"] and none is None


def test_complete_rows_errors():
    with pytest.raises(GlobsmlError, match="missing column.*colour"):
        complete_rows(pd.DataFrame({"CI_g": [1.0]}))
    with pytest.raises(GlobsmlError, match="DataFrame"):
        complete_rows(np.zeros((2, 13)))
    X = _photometric([[1.0] * len(PHOTOMETRIC_FEATURES)])
    with pytest.raises(GlobsmlError, match="argument 2 has 2 rows"):
        drop_incomplete(X, [0, 1])
