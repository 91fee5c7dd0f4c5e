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

from . import _curves, _metrics, _per_galaxy, _plots
from ._curves import *  # noqa: F403
from ._metrics import *  # noqa: F403
from ._per_galaxy import *  # noqa: F403
from ._plots import *  # noqa: F403

__all__ = [*_metrics.__all__, *_curves.__all__, *_per_galaxy.__all__, *_plots.__all__]
