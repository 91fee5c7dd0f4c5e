"""Figures of ROC and FDR-TPR curves (matplotlib, no pyplot state)."""

import numpy as np
from matplotlib.figure import Figure

from ..data import GC_THRESHOLD
from ._curves import fdr_tpr_curve, roc_curve_points
from ._metrics import _inputs, metric_label, rescaled_auc_fdr_tpr, roc_auc

__all__ = ["plot_roc", "plot_fdr_tpr", "plot_per_galaxy"]


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


def plot_fdr_tpr(curves, *, ax=None, threshold=GC_THRESHOLD, title="TPR versus FDR", figsize=(5, 4.5)):
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


def plot_per_galaxy(per_galaxy, *, metrics=("tpr", "fdr"), x="n_gcs", ax=None, title=None,
                    figsize=(6, 4.5)):
    """Per-galaxy metrics against the number of GCs (or another column) of each galaxy.

    Galaxies where a metric is undefined (NaN, e.g. TPR without GCs) are
    left out of that metric's points; the x axis is logarithmic for counts
    (symmetric-logarithmic when some are 0).

    Parameters
    ----------
    per_galaxy : pandas.DataFrame
        :attr:`Evaluation.per_galaxy <globsml.evaluation.Evaluation.per_galaxy>`.
    metrics : sequence of str, optional
        Columns to plot, one colour each.
    x : str, optional
        Column for the x axis (``"n_gcs"`` or ``"n_sources"``...).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    missing = [c for c in (x, *metrics) if c not in per_galaxy.columns]
    if missing:
        raise ValueError(f"per_galaxy has no column(s) {', '.join(missing)}")
    fig, ax = _axes(ax, figsize)
    xs = per_galaxy[x].to_numpy(dtype=float)
    for metric in metrics:
        ys = per_galaxy[metric].to_numpy(dtype=float)
        ok = np.isfinite(ys) & np.isfinite(xs)
        ax.scatter(xs[ok], ys[ok], s=14, alpha=0.75,
                   label=f"{metric_label(metric)} ({int(ok.sum())} galaxies)")
    if x.startswith("n_") and len(xs):
        # Counts span orders of magnitude; symlog keeps galaxies with 0 GCs.
        if np.nanmin(xs) > 0:
            ax.set_xscale("log")
        else:
            ax.set_xscale("symlog", linthresh=1)
    ax.set(xlabel=f"{metric_label(x)} per galaxy", ylabel="value", ylim=(-0.02, 1.02),
           title=title or "Per-galaxy metrics")
    ax.legend(loc="best", fontsize="small")
    return fig
