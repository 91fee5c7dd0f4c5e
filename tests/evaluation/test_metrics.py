import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from globsml import GlobsmlError
from globsml.evaluation import (
    average_precision,
    counts,
    fdr,
    fpr,
    metric_label,
    rescaled_auc_fdr_tpr,
    roc_auc,
    tpr,
    tpr_at_fdr,
)

# Hand-made case: 4 GCs, 6 non-GCs.
Y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
P = np.array([0.9, 0.8, 0.6, 0.2, 0.7, 0.55, 0.3, 0.1, 0.05, 0.5])
# p > 0.5: GCs at 0.9, 0.8, 0.6 found (TP 3, FN 1); non-GCs at 0.7, 0.55 fake (FP 2);
# 0.5 is NOT > 0.5, so it is not predicted.


@pytest.fixture(autouse=True)
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_threshold_metrics_hand_made():
    assert counts(Y, P) == {"n_sources": 10, "n_gcs": 4, "n_found": 3, "n_fake": 2}
    assert tpr(Y, P) == 3 / 4
    assert fdr(Y, P) == 2 / 5
    assert fpr(Y, P) == 2 / 6
    # another threshold
    assert tpr(Y, P, threshold=0.75) == 2 / 4 and fdr(Y, P, threshold=0.75) == 0.0
    # hard predictions pass through
    assert tpr(Y, (P > 0.5).astype(int)) == 3 / 4


def test_degenerate_threshold_metrics():
    no_gc = np.zeros(3, int)
    assert np.isnan(tpr(no_gc, [0.9, 0.1, 0.2]))
    assert fdr(no_gc, [0.9, 0.1, 0.2]) == 1.0  # predicted GCs where there are none
    assert fdr(no_gc, [0.1, 0.1, 0.2]) == 0.0  # nothing predicted: no false discovery
    assert fdr([1, 1, 0], [0.1, 0.2, 0.3]) == 0.0
    assert tpr([1, 1, 0], [0.1, 0.2, 0.3]) == 0.0
    all_gc = np.ones(3, int)
    assert np.isnan(fpr(all_gc, [0.9, 0.1, 0.2]))
    everything = [0.9, 0.9, 0.9]  # all predicted
    assert tpr([1, 0, 0], everything) == 1.0 and fdr([1, 0, 0], everything) == 2 / 3
    assert fpr([1, 0, 0], everything) == 1.0


def test_roc_auc_hand_made():
    # Pairs (GC, non-GC) ranked correctly: GC 0.9 beats all 6; 0.8 beats 6;
    # 0.6 beats 0.55, 0.3, 0.1, 0.05, 0.5 (5 of 6); 0.2 beats 0.1, 0.05 (2).
    assert roc_auc(Y, P) == pytest.approx((6 + 6 + 5 + 2) / 24)
    assert roc_auc([1, 0], [0.5, 0.5]) == 0.5  # a tie counts half
    assert np.isnan(roc_auc([0, 0], [0.1, 0.2])) and np.isnan(roc_auc([1, 1], [0.1, 0.2]))


def test_average_precision_hand_made():
    # Ranking: 0.9 GC, 0.8 GC, 0.7 no, 0.6 GC, 0.55 no, 0.5 no, 0.3 no, 0.2 GC, ...
    # precision at each GC: 1/1, 2/2, 3/4, 4/8; AP = mean = (1 + 1 + 0.75 + 0.5) / 4
    assert average_precision(Y, P) == pytest.approx((1 + 1 + 0.75 + 0.5) / 4)
    assert np.isnan(average_precision([0, 0], [0.3, 0.4]))
    assert average_precision([1, 1], [0.3, 0.4]) == 1.0


def test_ranking_metrics_agree_with_scikit_learn_with_ties():
    rng = np.random.default_rng(3)
    for _ in range(20):
        y = rng.integers(0, 2, 60)
        if y.min() == y.max():
            continue
        s = np.round(rng.random(60) + 0.4 * y, 1)  # many ties
        assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
        assert average_precision(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_rescaled_auc_fdr_tpr_reference_cases():
    y = np.array([1, 1, 0, 0, 0])
    assert rescaled_auc_fdr_tpr(y, [0.9, 0.8, 0.3, 0.2, 0.1]) == pytest.approx(1.0)  # perfect
    assert rescaled_auc_fdr_tpr(y, np.full(5, 0.5)) == pytest.approx(0.0, abs=1e-15)  # no information
    assert rescaled_auc_fdr_tpr(y, [0.1, 0.2, 0.3, 0.4, 0.5]) < 0  # reversed
    assert np.isnan(rescaled_auc_fdr_tpr([0, 0, 0], [0.1, 0.2, 0.3]))  # no GC
    assert np.isnan(rescaled_auc_fdr_tpr([1, 1], [0.1, 0.2]))  # no non-GC: FDR_max = 0


def test_rescaled_auc_fdr_tpr_by_hand():
    # Ranking GC, non-GC, GC (P = 2, N = 1, FDR_max = 1/3). Path:
    # (0, 0) -> (0, 1/2) -> FDR 1/2 at TPR 1/2 -> then the second GC:
    # FDR = 1/(2 + a), TPR = (1 + a)/2 for a in [0, 1], ending at (1/3, 1).
    # Area: the horizontal move at TPR 1/2 from FDR 0 to 1/2 adds 1/2 * 1/2 = 1/4;
    # the last step adds integral (1+a)/2 * d(1/(2+a)) = -1/2 * integral (1+a)/(2+a)^2 da
    # = -1/2 * [ln(3/2) + 1/3 - 1/2]
    area = 0.25 - 0.5 * (np.log(1.5) + 1 / 3 - 1 / 2)
    assert rescaled_auc_fdr_tpr([1, 0, 1], [0.9, 0.5, 0.1]) == pytest.approx(area / (1 / 3))


def test_rescaled_auc_fdr_tpr_matches_fine_numerical_integration():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 40)
    s = np.round(rng.random(40) + 0.5 * y, 1)
    # Integrate the path numerically: inside each tie group let a fraction a be called.
    xs, ys = [0.0], [0.0]
    tp = fp = 0
    for value in np.unique(s)[::-1]:
        group = y[s == value]
        dt, df = group.sum(), len(group) - group.sum()
        for a in np.linspace(1e-9, 1, 2001):
            t, f = tp + a * dt, fp + a * df
            xs.append(f / (t + f))
            ys.append(t / y.sum())
        tp, fp = tp + dt, fp + df
    area = np.trapezoid(ys, xs)
    fdr_max = (y == 0).mean()
    assert rescaled_auc_fdr_tpr(y, s) == pytest.approx(area / fdr_max, abs=1e-5)


def test_tpr_at_fdr_hand_made_ranking():
    # Ranking of Y/P: GC, GC, no, GC, no, no, no, GC, no, no
    # FDR after each: 0, 0, 1/3, 1/4, 2/5, 3/6, 4/7, 4/8, 5/9, 6/10
    assert tpr_at_fdr(Y, P, 0.0) == 2 / 4
    assert tpr_at_fdr(Y, P, 0.10) == 2 / 4
    assert tpr_at_fdr(Y, P, 0.25) == 3 / 4  # FDR exactly 1/4 counts
    assert tpr_at_fdr(Y, P, 0.5) == 1.0
    value, thr = tpr_at_fdr(Y, P, 0.25, return_threshold=True)
    assert thr == pytest.approx((0.6 + 0.55) / 2)
    assert tpr(Y, P, threshold=thr) == value and fdr(Y, P, threshold=thr) <= 0.25
    # top source is fake: only "nothing predicted" qualifies at FDR 0.05
    assert tpr_at_fdr([0, 1, 1], [0.9, 0.5, 0.4], 0.05, return_threshold=True) == (0.0, np.inf)
    v, t = tpr_at_fdr([0, 1, 1], [0.9, 0.5, 0.4], 1.0, return_threshold=True)
    assert v == 1.0 and t < 0.4 and tpr([0, 1, 1], [0.9, 0.5, 0.4], threshold=t) == 1.0
    assert np.isnan(tpr_at_fdr([0, 0], [0.2, 0.1], 0.1))
    # ties cannot be split: a GC tied with a non-GC at the top gives FDR 1/2
    assert tpr_at_fdr([1, 0, 1], [0.9, 0.9, 0.1], 0.1) == 0.0


def test_bad_input_messages():
    with pytest.raises(GlobsmlError, match="labels must be 0 or 1.*2"):
        tpr([0, 2], [0.1, 0.2])
    with pytest.raises(GlobsmlError, match="expected 2 values"):
        tpr([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(GlobsmlError, match="not finite"):
        roc_auc([0, 1], [0.1, np.nan])
    with pytest.raises(GlobsmlError, match="fdr must be in"):
        tpr_at_fdr([0, 1], [0.1, 0.2], 5)


def test_labels():
    assert metric_label("tpr_at_fdr_0.05") == "TPR@FDR=0.05"
    assert metric_label("auc_fdr_tpr") == "AUC(FDR,TPR)"
    assert metric_label("n_fake") == "fake GCs"


def test_bad_types_give_clear_messages():
    with pytest.raises(GlobsmlError, match="labels must be 0 or 1"):
        tpr(["GC", "no"], [0.1, 0.2])
    with pytest.raises(GlobsmlError, match="found nan"):
        tpr(np.array([1.0, np.nan]), [0.1, 0.2])
    with pytest.raises(GlobsmlError, match="expected numbers"):
        tpr([0, 1], ["a", "b"])
