"""Figures of ROC and FDR-TPR curves (matplotlib, no pyplot state)."""

import numpy as np
from matplotlib.figure import Figure

from ._curves import fdr_tpr_curve, roc_curve_points
from ._metrics import _inputs, rescaled_auc_fdr_tpr, roc_auc

__all__ = ["plot_roc", "plot_fdr_tpr"]


def _axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    # A bare Figure (not pyplot) needs no display and leaks no global state.
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots()


def _items(curves):
    if not curves:
        raise ValueError("curves: give at least one label -> (y_true, p_gc)")
    for label, pair in curves.items():
        y_true, y_score = pair
        yield label, y_true, y_score


def plot_roc(curves, *, ax=None, title="ROC curve", figsize=(5, 4.5)):
    """ROC curves of several predictions on one axes.

    Parameters
    ----------
    curves : dict of str to (y_true, p_gc)
        Legend label -> labels and scores; the legend adds the ROC AUC.
    ax : matplotlib.axes.Axes, optional
        Draw into these; a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, figsize)
    for label, y_true, y_score in _items(curves):
        pts = roc_curve_points(y_true, y_score)
        auc = roc_auc(y_true, y_score)
        ax.plot(pts["fpr"], pts["tpr"], drawstyle="default", label=f"{label} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls=":", label="random")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="false-positive rate (FPR)",
           ylabel="true-positive rate (TPR)", title=title)
    ax.legend(loc="lower right", fontsize="small", title="ROC AUC", title_fontsize="small")
    return fig


def plot_fdr_tpr(curves, *, ax=None, threshold=0.5, title="TPR versus FDR", figsize=(5, 4.5)):
    """TPR-versus-FDR curves of several predictions, with the operating point marked.

    Parameters
    ----------
    curves : dict of str to (y_true, p_gc)
        Legend label -> labels and scores; the legend adds the rescaled
        AUC(FDR,TPR) (:func:`~globsml.evaluation.rescaled_auc_fdr_tpr`).
    ax : matplotlib.axes.Axes, optional
    threshold : float or None, optional
        Mark the operating point ``p_gc > threshold`` of each curve (None:
        no marker).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, figsize)
    for label, y_true, y_score in _items(curves):
        pts = fdr_tpr_curve(y_true, y_score)
        auc = rescaled_auc_fdr_tpr(y_true, y_score)
        (line,) = ax.plot(pts["fdr"], pts["tpr"], label=f"{label} (AUC {auc:.3f})")
        if threshold is not None:
            y, s = _inputs(y_true, y_score)
            pred = s > threshold
            tp, fp = np.count_nonzero(y & pred), np.count_nonzero(~y & pred)
            if y.any():
                ax.plot(fp / (tp + fp) if tp + fp else 0.0, tp / y.sum(), "o",
                        color=line.get_color(), ms=5)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="false-discovery rate (FDR)",
           ylabel="true-positive rate (TPR)", title=title)
    if threshold is not None:
        ax.plot([], [], "o", color="0.3", ms=5, label=f"p_gc > {threshold:g}")
    ax.legend(loc="lower right", fontsize="small", title="rescaled AUC(FDR,TPR)",
              title_fontsize="small")
    return fig
