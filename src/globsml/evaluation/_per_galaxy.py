"""Evaluate predictions pooled and per galaxy, with the lists of errors."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._errors import GlobsmlError
from ..data import GC_THRESHOLD
from ._metrics import (
    COUNT_NAMES,
    _auc_fdr_tpr,
    _average_precision,
    _labels,
    _ranking,
    _roc_auc,
    _scores,
    _tpr_at_fdr,
)

__all__ = ["Evaluation", "evaluate", "metric_names", "ERROR_KINDS"]

#: Kinds of entries in :attr:`Evaluation.errors`: missed GCs, fake GCs, found GCs.
ERROR_KINDS = ("FN", "FP", "TP")

#: Default FDR levels of the TPR@FDR columns.
DEFAULT_FDR_LEVELS = (0.05, 0.10)


def _level_key(level):
    return f"tpr_at_fdr_{level:g}"


def metric_names(fdr_levels=DEFAULT_FDR_LEVELS):
    """Keys of :attr:`Evaluation.pooled` and columns of :attr:`Evaluation.per_galaxy`, in order."""
    return (
        *COUNT_NAMES,
        "tpr",
        "fdr",
        "fpr",
        "roc_auc",
        "average_precision",
        "auc_fdr_tpr",
        *(_level_key(f) for f in fdr_levels),
    )


def _all_metrics(y, s, threshold, fdr_levels):
    pred = s > threshold
    n_pos = int(np.count_nonzero(y))
    n_neg = len(y) - n_pos
    tp = int(np.count_nonzero(y & pred))
    fp = int(np.count_nonzero(~y & pred))
    scores, ctp, cfp = _ranking(y, s)
    out = {
        "n_sources": len(y),
        "n_gcs": n_pos,
        "n_found": tp,
        "n_fake": fp,
        "tpr": tp / n_pos if n_pos else np.nan,
        "fdr": fp / (tp + fp) if tp + fp else 0.0,
        "fpr": fp / n_neg if n_neg else np.nan,
        "roc_auc": _roc_auc(ctp, cfp, n_pos, n_neg),
        "average_precision": _average_precision(ctp, cfp, n_pos),
        "auc_fdr_tpr": _auc_fdr_tpr(ctp, cfp, n_pos, n_neg),
    }
    for level in fdr_levels:
        out[_level_key(level)] = _tpr_at_fdr(scores, ctp, cfp, n_pos, level)[0]
    return out


@dataclass(frozen=True)
class Evaluation:
    """Metrics of one set of predictions, pooled and per galaxy.

    Attributes
    ----------
    pooled : dict
        Every metric over all sources, keys :func:`metric_names` (counts as
        int, rates as float, NaN where undefined).
    per_galaxy : pandas.DataFrame
        One row per galaxy (order of first appearance): ``galaxy`` and the
        same metrics. Empty when no galaxies were given.
    errors : pandas.DataFrame
        Columns ``galaxy``, ``ID``, ``kind`` (``"FN"`` missed GC, ``"FP"``
        fake GC, ``"TP"`` found GC) and ``p_gc``; sorted by galaxy (first
        appearance), kind in that order, then ID.
    predictions : pandas.DataFrame
        ``galaxy``, ``ID``, ``y_true``, ``p_gc``, ``y_pred`` of every source.
    threshold : float
    fdr_levels : tuple of float
    """

    pooled: dict
    per_galaxy: pd.DataFrame
    errors: pd.DataFrame
    predictions: pd.DataFrame = field(repr=False)
    threshold: float = GC_THRESHOLD
    fdr_levels: tuple = DEFAULT_FDR_LEVELS

    def summary(self):
        """The pooled metrics as a one-row DataFrame."""
        return pd.DataFrame([self.pooled], columns=list(self.pooled))

    def ids(self, kind, galaxy=None):
        """IDs of one kind of error (``"FN"``, ``"FP"`` or ``"TP"``), optionally of one galaxy."""
        if kind not in ERROR_KINDS:
            raise GlobsmlError(f"kind must be one of {', '.join(ERROR_KINDS)}, got {kind!r}")
        rows = self.errors["kind"] == kind
        if galaxy is not None:
            rows &= self.errors["galaxy"] == galaxy
        return self.errors.loc[rows, "ID"].tolist()


def evaluate(y_true, p_gc, *, galaxy=None, ids=None, threshold=GC_THRESHOLD, fdr_levels=DEFAULT_FDR_LEVELS):
    """Evaluate GC predictions pooled over all sources and per galaxy.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        1 for a GC (pGC >= 0.5).
    p_gc : array-like of float
        Predicted probability of being a GC (or hard 0/1 predictions).
    galaxy : array-like of str, optional
        Galaxy of each source; gives :attr:`Evaluation.per_galaxy`.
    ids : array-like, optional
        ID of each source within its galaxy (the published ``ID``); 0..n-1
        by position when not given.
    threshold : float, optional
        A source is predicted to be a GC when ``p_gc > threshold``.
    fdr_levels : sequence of float, optional
        FDR levels of the ``tpr_at_fdr_<level>`` metrics.

    Returns
    -------
    Evaluation

    Notes
    -----
    The conventions for degenerate cases (no GC, nothing predicted) are
    those of :mod:`globsml.evaluation` (FDR 0 when nothing is predicted,
    other undefined rates NaN); a galaxy without GCs gets NaN TPR, ROC AUC,
    AP, AUC(FDR,TPR) and TPR@FDR, without warnings.

    Examples
    --------
    >>> from globsml.evaluation import evaluate
    >>> ev = evaluate([1, 1, 0, 0, 1], [0.9, 0.4, 0.6, 0.1, 0.8], galaxy=["FCC47"] * 5)
    >>> ev.pooled["tpr"], round(ev.pooled["fdr"], 3)
    (0.6666666666666666, 0.333)
    >>> ev.per_galaxy["galaxy"].tolist()
    ['FCC47']
    """
    y = _labels(y_true)
    n = len(y)
    s = _scores(p_gc, n)
    fdr_levels = tuple(float(f) for f in fdr_levels)
    for level in fdr_levels:
        if not 0.0 <= level <= 1.0:
            raise GlobsmlError(f"evaluate: FDR levels must be in [0, 1], got {level}")
    if ids is None:
        id_values = np.arange(n)
    else:
        id_values = np.asarray(ids)
        if id_values.shape != (n,):
            raise GlobsmlError(f"ids: expected {n} values (one per source), got shape {id_values.shape}")
    if galaxy is None:
        gal = np.full(n, None, dtype=object)
    else:
        gal = np.asarray(galaxy, dtype=object)
        if gal.shape != (n,):
            raise GlobsmlError(f"galaxy: expected {n} values (one per source), got shape {gal.shape}")
        missing = pd.isna(gal)
        if missing.any():
            raise GlobsmlError(
                f"galaxy: {int(missing.sum())} source(s) have no galaxy name "
                f"(first at position {int(np.flatnonzero(missing)[0])})"
            )
    threshold = float(threshold)
    names = metric_names(fdr_levels)

    pooled = _all_metrics(y, s, threshold, fdr_levels)
    rows = []
    if galaxy is not None and n:
        codes, uniques = pd.factorize(gal, sort=False)
        order = np.argsort(codes, kind="mergesort")
        bounds = np.r_[0, np.cumsum(np.bincount(codes, minlength=len(uniques)))]
        for k, name in enumerate(uniques):
            idx = order[bounds[k] : bounds[k + 1]]
            rows.append({"galaxy": name, **_all_metrics(y[idx], s[idx], threshold, fdr_levels)})
    per_galaxy = pd.DataFrame(rows, columns=["galaxy", *names])
    if per_galaxy.empty:
        per_galaxy = per_galaxy.astype({c: "int64" for c in COUNT_NAMES})

    pred = s > threshold
    predictions = pd.DataFrame(
        {"galaxy": gal, "ID": id_values, "y_true": y.astype(np.int64), "p_gc": s,
         "y_pred": pred.astype(np.int64)}
    )
    kind = np.full(n, "", dtype=object)
    kind[y & ~pred] = "FN"
    kind[~y & pred] = "FP"
    kind[y & pred] = "TP"
    keep = kind != ""
    errors = predictions.loc[keep, ["galaxy", "ID", "p_gc"]].assign(kind=kind[keep])
    gal_rank = pd.factorize(errors["galaxy"].to_numpy(), sort=False, use_na_sentinel=False)[0]
    kind_rank = pd.Categorical(errors["kind"], categories=ERROR_KINDS).codes
    errors = errors.assign(_g=gal_rank, _k=kind_rank).sort_values(
        ["_g", "_k", "ID"], kind="mergesort"
    )
    errors = errors.loc[:, ["galaxy", "ID", "kind", "p_gc"]].reset_index(drop=True)
    return Evaluation(
        pooled=pooled,
        per_galaxy=per_galaxy,
        errors=errors,
        predictions=predictions,
        threshold=threshold,
        fdr_levels=fdr_levels,
    )
