"""ROC and FDR-TPR curves as tables of operating points."""

import numpy as np
import pandas as pd

from ._metrics import _inputs, _ranking

__all__ = ["roc_curve_points", "fdr_tpr_curve"]


def _points(y_true, y_score):
    y, s = _inputs(y_true, y_score)
    scores, tp, fp = _ranking(y, s)
    n_pos = int(y.sum())
    # The first point is "nothing called a GC" (threshold +inf).
    return np.r_[np.inf, scores], np.r_[0, tp], np.r_[0, fp], n_pos, len(y) - n_pos


def roc_curve_points(y_true, y_score):
    """Operating points of the ROC curve, one per distinct score.

    Returns
    -------
    pandas.DataFrame
        Columns ``threshold`` (sources with ``y_score >= threshold`` are
        called GCs; the first row, ``inf``, calls none), ``fpr``, ``tpr``.
        ``tpr`` is NaN when there is no GC, ``fpr`` NaN when there is no
        non-GC.
    """
    thr, tp, fp, n_pos, n_neg = _points(y_true, y_score)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "threshold": thr,
                "fpr": fp / n_neg if n_neg else np.full(len(thr), np.nan),
                "tpr": tp / n_pos if n_pos else np.full(len(thr), np.nan),
            }
        )


def fdr_tpr_curve(y_true, y_score):
    """Operating points of the TPR-versus-FDR curve, one per distinct score.

    Returns
    -------
    pandas.DataFrame
        Columns ``threshold`` (as in :func:`roc_curve_points`), ``fdr`` (0
        where nothing is called a GC, by convention) and ``tpr`` (NaN when
        there is no GC). The last row (every source called) has
        ``fdr = N / (N + P)``.
    """
    thr, tp, fp, n_pos, _ = _points(y_true, y_score)
    called = tp + fp
    fdr = np.divide(fp, called, out=np.zeros(len(thr)), where=called > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = tp / n_pos if n_pos else np.full(len(thr), np.nan)
    return pd.DataFrame({"threshold": thr, "fdr": fdr, "tpr": tpr})
