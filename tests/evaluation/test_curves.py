import numpy as np
from sklearn.metrics import roc_curve

from globsml.evaluation import fdr_tpr_curve, roc_curve_points


def test_roc_points_hand_made_and_match_scikit_learn():
    y = [1, 0, 1, 0]
    s = [0.9, 0.8, 0.8, 0.1]
    pts = roc_curve_points(y, s)
    assert pts["threshold"].tolist() == [np.inf, 0.9, 0.8, 0.1]
    assert pts["tpr"].tolist() == [0, 0.5, 1, 1]
    assert pts["fpr"].tolist() == [0, 0, 0.5, 1]
    f, t, _ = roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(pts["fpr"], f)
    np.testing.assert_allclose(pts["tpr"], t)


def test_fdr_tpr_curve_hand_made():
    pts = fdr_tpr_curve([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    assert pts["fdr"].tolist() == [0, 0, 0.5, 1 / 3, 0.5]
    assert pts["tpr"].tolist() == [0, 0.5, 0.5, 1, 1]


def test_curves_degenerate():
    pts = fdr_tpr_curve([0, 0], [0.3, 0.2])
    assert pts["tpr"].isna().all() and pts["fdr"].tolist() == [0, 1, 1]
    roc = roc_curve_points([1, 1], [0.3, 0.2])
    assert roc["fpr"].isna().all() and roc["tpr"].tolist() == [0, 0.5, 1]
