"""How good is a GC detector: metrics per galaxy and pooled, errors, curves.

Everything takes ``y_true`` (1 for a GC, i.e. pGC >= 0.5) and ``p_gc``
(predicted probability, or hard 0/1 predictions). A source is predicted to
be a GC when ``p_gc > threshold`` (0.5).

Conventions for undefined values (documented in :mod:`._metrics`): FDR is 0
when nothing is predicted to be a GC; TPR, ROC AUC, average precision,
AUC(FDR,TPR) and TPR@FDR are NaN without GCs; FPR is NaN without non-GCs;
AUC(FDR,TPR) is also NaN without non-GCs. Nothing warns.

:func:`evaluate` gives all metrics and counts at once, pooled and per
galaxy, and the lists of missed (FN), fake (FP) and found (TP) GCs.
"""

from ._curves import roc_curve_points, fdr_tpr_curve
from ._metrics import (
    tpr, fdr, fpr, roc_auc, average_precision, rescaled_auc_fdr_tpr, tpr_at_fdr, counts, metric_label,
    COUNT_NAMES, METRIC_LABELS,
)
from ._per_galaxy import Evaluation, evaluate, metric_names, ERROR_KINDS
from ._plots import plot_roc, plot_fdr_tpr, plot_per_galaxy

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
    "roc_curve_points",
    "fdr_tpr_curve",
    "Evaluation",
    "evaluate",
    "metric_names",
    "ERROR_KINDS",
    "plot_roc",
    "plot_fdr_tpr",
    "plot_per_galaxy",
]
