"""Detection metrics: TPR, FDR, FPR, ROC AUC, average precision, AUC(FDR,TPR).

Conventions (they matter for galaxies with few sources):

- A source is **predicted** to be a GC when ``p_gc > threshold`` (strictly,
  default 0.5, as the published code calls ``p > 0.5`` a GC). Hard 0/1
  predictions pass through unchanged with the default threshold.
- ``tpr = TP / (TP + FN)`` is **NaN when there is no GC**.
- ``fdr = FP / (TP + FP)`` is **0 when nothing is predicted** to be a GC: no
  discovery, so no false discovery (the Benjamini-Hochberg convention
  ``FP / max(TP + FP, 1)``). It is 1 when GCs are predicted where there are
  none.
- ``fpr = FP / (FP + TN)`` is **NaN when every source is a GC**.
- ``roc_auc`` is NaN unless both classes are present; ``average_precision``
  is NaN when there is no GC.
- ``rescaled_auc_fdr_tpr`` and ``tpr_at_fdr``: see their docstrings; NaN
  when there is no GC (and, for the former, when every source is a GC).

Ranking metrics treat tied scores as one step (a threshold cannot split
them), as scikit-learn does. No function here warns about degenerate input:
undefined values are NaN.
"""

import numpy as np

from .._errors import GlobsmlError
from ..data import GC_THRESHOLD

__all__ = [
    "tpr",
    "fdr",
    "fpr",
    "roc_auc",
    "average_precision",
    "rescaled_auc_fdr_tpr",
    "tpr_at_fdr",
    "counts",
    "metric_label",
    "COUNT_NAMES",
    "METRIC_LABELS",
]

#: Count columns, in report order: sources, GCs, found GCs (TP), fake GCs (FP).
COUNT_NAMES = ("n_sources", "n_gcs", "n_found", "n_fake")

#: How reports print each metric key.
METRIC_LABELS = {
    "n_sources": "sources",
    "n_gcs": "GCs",
    "n_found": "found GCs",
    "n_fake": "fake GCs",
    "tpr": "TPR",
    "fdr": "FDR",
    "fpr": "FPR",
    "roc_auc": "ROC AUC",
    "average_precision": "AP",
    "auc_fdr_tpr": "AUC(FDR,TPR)",
}


def metric_label(key):
    """The printed name of a metric key (``"tpr_at_fdr_0.05"`` -> ``"TPR@FDR=0.05"``)."""
    if key.startswith("tpr_at_fdr_"):
        return f"TPR@FDR={key[len('tpr_at_fdr_'):]}"
    return METRIC_LABELS.get(key, key)


# -- input -------------------------------------------------------------------
def _labels(y_true, what="y_true"):
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise GlobsmlError(f"{what}: expected a 1-D array of 0/1 labels, got shape {y.shape}")
    if y.dtype == bool:
        return y
    try:
        yf = y.astype(float)
    except (TypeError, ValueError):
        raise GlobsmlError(f"{what}: labels must be 0 or 1 (1 = GC), got {y.dtype} values") from None
    bad = ~np.isin(yf, (0.0, 1.0))
    if bad.any():
        raise GlobsmlError(
            f"{what}: labels must be 0 or 1 (1 = GC), found {float(yf[bad][0]):g} "
            f"({int(bad.sum())} such value(s))"
        )
    return yf == 1.0


def _scores(y_score, n, what="p_gc"):
    try:
        s = np.asarray(y_score, dtype=float)
    except (TypeError, ValueError):
        raise GlobsmlError(f"{what}: expected numbers (probabilities of being a GC)") from None
    if s.ndim != 1 or len(s) != n:
        raise GlobsmlError(f"{what}: expected {n} values (one per source), got shape {s.shape}")
    bad = ~np.isfinite(s)
    if bad.any():
        raise GlobsmlError(f"{what}: {int(bad.sum())} value(s) are not finite (first: {float(s[bad][0]):g})")
    return s


def _inputs(y_true, y_score):
    y = _labels(y_true)
    return y, _scores(y_score, len(y))


def _ratio(num, den, empty):
    return float(num) / float(den) if den else empty


# -- threshold metrics -----------------------------------------------------------
def _confusion(y, s, threshold):
    pred = s > threshold
    tp = int(np.count_nonzero(y & pred))
    fp = int(np.count_nonzero(~y & pred))
    n_pos = int(np.count_nonzero(y))
    return tp, fp, n_pos, len(y) - n_pos


def counts(y_true, y_score, *, threshold=GC_THRESHOLD):
    """Numbers of sources, GCs, found GCs (true positives) and fake GCs (false positives).

    Returns
    -------
    dict
        ``{"n_sources", "n_gcs", "n_found", "n_fake"}`` as ints.
    """
    y, s = _inputs(y_true, y_score)
    tp, fp, n_pos, _ = _confusion(y, s, threshold)
    return {"n_sources": len(y), "n_gcs": n_pos, "n_found": tp, "n_fake": fp}


def tpr(y_true, y_score, *, threshold=GC_THRESHOLD):
    """True-positive rate (recall, completeness): found GCs / GCs; NaN without GCs.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        1 for a GC.
    y_score : array-like of float
        ``p_gc`` or hard 0/1 predictions; a source is predicted to be a GC
        when ``y_score > threshold``.
    threshold : float, optional
    """
    tp, _, n_pos, _ = _confusion(*_inputs(y_true, y_score), threshold)
    return _ratio(tp, n_pos, np.nan)


def fdr(y_true, y_score, *, threshold=GC_THRESHOLD):
    """False-discovery rate: fake GCs / predicted GCs; 0 when nothing is predicted.

    See :func:`tpr` for the parameters.
    """
    tp, fp, _, _ = _confusion(*_inputs(y_true, y_score), threshold)
    return _ratio(fp, tp + fp, 0.0)


def fpr(y_true, y_score, *, threshold=GC_THRESHOLD):
    """False-positive rate: fake GCs / non-GCs; NaN when every source is a GC.

    See :func:`tpr` for the parameters.
    """
    _, fp, _, n_neg = _confusion(*_inputs(y_true, y_score), threshold)
    return _ratio(fp, n_neg, np.nan)


# -- ranking metrics -------------------------------------------------------------
def _ranking(y, s):
    """Cumulative (tp, fp) after each group of tied scores, in decreasing score.

    Returns the distinct scores (decreasing) and int arrays ``tp``, ``fp``:
    predicting every source with ``score >= scores[k]`` gives ``tp[k]`` true
    and ``fp[k]`` false positives.
    """
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    y_sorted = y[order]
    ends = np.r_[np.flatnonzero(np.diff(s_sorted)), len(s_sorted) - 1] if len(s) else np.array([], int)
    tp = np.cumsum(y_sorted, dtype=np.int64)[ends]
    fp = ends + 1 - tp
    return s_sorted[ends], tp, fp


def _roc_auc(tp, fp, n_pos, n_neg):
    if not n_pos or not n_neg:
        return np.nan
    x = np.r_[0, fp] / n_neg
    y = np.r_[0, tp] / n_pos
    return float(np.trapezoid(y, x))


def _average_precision(tp, fp, n_pos):
    if not n_pos:
        return np.nan
    recall = np.r_[0, tp] / n_pos
    precision = tp / (tp + fp)
    return float(np.sum(np.diff(recall) * precision))


def _auc_fdr_tpr(tp, fp, n_pos, n_neg):
    if not n_pos or not n_neg:
        return np.nan
    t0 = np.r_[0, tp[:-1]].astype(float)
    f0 = np.r_[0, fp[:-1]].astype(float)
    dt = tp - t0
    df = fp - f0
    s0 = t0 + f0
    ds = dt + df
    # Inside a group of ties, sources are called GCs in random order: TP and
    # FP grow linearly with the fraction a of the group called, so
    # FDR(a) = (f0 + a df) / (s0 + a ds) and TPR(a) = (t0 + a dt) / P.
    # The integral of TPR dFDR over the group, in closed form (u = s0 + a ds):
    #   C / (P ds) * [(t0 - s0 r)(1/s0 - 1/s1) + r ln(s1/s0)],
    # C = df s0 - f0 ds, r = dt / ds. The first group (s0 = 0) has a constant
    # FDR, hence no area; its jump from the FDR = 0 of "nothing predicted"
    # happens at TPR = 0 and adds none either.
    area = np.zeros(len(tp))
    k = s0 > 0
    s1 = s0[k] + ds[k]
    r = dt[k] / ds[k]
    c = df[k] * s0[k] - f0[k] * ds[k]
    inner = (t0[k] - s0[k] * r) * ds[k] / (s0[k] * s1) + r * np.log1p(ds[k] / s0[k])
    area[k] = c / (n_pos * ds[k]) * inner
    fdr_max = n_neg / (n_pos + n_neg)
    return float(area.sum() / fdr_max)


def roc_auc(y_true, y_score):
    """Area under the ROC curve; NaN unless both GCs and non-GCs are present.

    Equal to ``sklearn.metrics.roc_auc_score`` where that is defined.
    """
    y, s = _inputs(y_true, y_score)
    _, tp, fp = _ranking(y, s)
    n_pos = int(y.sum())
    return _roc_auc(tp, fp, n_pos, len(y) - n_pos)


def average_precision(y_true, y_score):
    """Average precision (area under the precision-recall steps); NaN without GCs.

    Equal to ``sklearn.metrics.average_precision_score`` where that is defined.
    """
    y, s = _inputs(y_true, y_score)
    _, tp, fp = _ranking(y, s)
    return _average_precision(tp, fp, int(y.sum()))


def rescaled_auc_fdr_tpr(y_true, y_score):
    """Rescaled area under the TPR-versus-FDR curve, the publication's "AUC(FDR,TPR)".

    Sources are called GCs one by one in decreasing ``y_score``; the curve is
    the path of (FDR, TPR) this traces, from (0, 0) (nothing called, FDR = 0
    by convention) to (FDR_max, 1) (everything called), where
    ``FDR_max = N / (N + P)`` is the fraction of non-GCs. The metric is the
    area under that path, ``integral of TPR dFDR``, divided by ``FDR_max``:

    - 1 for a perfect ranking (every GC before every non-GC: the path runs up
      the TPR axis, then along TPR = 1);
    - about 0 for an uninformative ranking (FDR stays near FDR_max while TPR
      grows), and exactly 0 when all scores are equal;
    - negative when the ranking is worse than random (non-GCs first).

    The path is integrated exactly: tied scores are one step along which
    true and false positives grow in proportion (random order within the
    tie), which is what makes a constant score give 0 rather than the 0.5
    of a straight line from (0, 0) to (FDR_max, 1).

    The published code is not available here; this is our definition of
    "the area under the FDR-TPR curve, rescaled so that a perfect detector
    scores 1". It is **NaN when there is no GC or no non-GC** (TPR, resp.
    the rescaling, divides by zero).
    """
    y, s = _inputs(y_true, y_score)
    _, tp, fp = _ranking(y, s)
    n_pos = int(y.sum())
    return _auc_fdr_tpr(tp, fp, n_pos, len(y) - n_pos)


def _tpr_at_fdr(scores, tp, fp, n_pos, level):
    if not n_pos:
        return np.nan, np.nan
    fdr_k = fp / (tp + fp)
    # A tiny tolerance so that an FDR of exactly `level` (e.g. 1/20 = 0.05)
    # is not lost to rounding.
    ok = np.flatnonzero(fdr_k <= level + 1e-12)
    if not len(ok):
        return 0.0, np.inf  # only "nothing predicted" (FDR = 0) qualifies
    best = ok[np.argmax(tp[ok])]  # the first (highest threshold) of the best
    if best + 1 < len(scores):
        thr = 0.5 * (scores[best] + scores[best + 1])
    else:
        thr = float(np.nextafter(scores[best], -np.inf))
    return float(tp[best] / n_pos), float(thr)


def tpr_at_fdr(y_true, y_score, fdr, *, return_threshold=False):
    """The highest TPR reached at a false-discovery rate of at most ``fdr``.

    Every threshold between distinct scores is tried (ties cannot be split);
    calling nothing a GC (TPR 0, FDR 0 by convention) always qualifies, so
    the result is 0 when even the top-ranked source is not a GC.

    Parameters
    ----------
    y_true : array-like of {0, 1}
    y_score : array-like of float
    fdr : float
        The FDR allowed, in [0, 1] (e.g. 0.05 or 0.10).
    return_threshold : bool, optional
        Also return a threshold ``t`` that reaches it with the rule
        ``y_score > t`` (midway to the next lower distinct score; ``inf``
        when nothing may be called a GC).

    Returns
    -------
    float or (float, float)
        NaN (and threshold NaN) when there is no GC.
    """
    if not 0.0 <= float(fdr) <= 1.0:
        raise GlobsmlError(f"tpr_at_fdr: fdr must be in [0, 1], got {fdr}")
    y, s = _inputs(y_true, y_score)
    scores, tp, fp = _ranking(y, s)
    value, thr = _tpr_at_fdr(scores, tp, fp, int(y.sum()), float(fdr))
    return (value, thr) if return_threshold else value
