"""Figures of ROC and FDR-TPR curves (matplotlib, no pyplot state)."""

import numpy as np
from matplotlib.figure import Figure

from ..data import GC_THRESHOLD
from ._curves import fdr_tpr_curve, roc_curve_points
from ._metrics import _inputs, fdr, metric_label, rescaled_auc_fdr_tpr, roc_auc, tpr

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


def _plot_curves(curves, *, ax, figsize, curve, auc, xlabel, title, legend_title, decorate=None):
    """Curves of several predictions on one axes, each labelled with its AUC.

    Parameters
    ----------
    curves : dict of str to (y_true, p_gc)
    curve : callable
        ``curve(y_true, p_gc)``: the (x, TPR) points of one curve.
    auc : callable
        ``auc(y_true, p_gc)``: the area shown in the legend.
    decorate : callable, optional
        ``decorate(ax, line, y_true, p_gc)`` after each curve, and
        ``decorate(ax, None, None, None)`` once after all of them.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, figsize)
    for label, y_true, y_score in _items(curves):
        (line,) = ax.plot(*curve(y_true, y_score), label=f"{label} (AUC {auc(y_true, y_score):.3f})")
        if decorate is not None:
            decorate(ax, line, y_true, y_score)
    if decorate is not None:
        decorate(ax, None, None, None)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel=xlabel, ylabel="true-positive rate (TPR)", title=title)
    ax.legend(loc="lower right", fontsize="small", title=legend_title, title_fontsize="small")
    return fig


def _roc_points(y_true, y_score):
    pts = roc_curve_points(y_true, y_score)
    return pts["fpr"], pts["tpr"]


def _fdr_tpr_points(y_true, y_score):
    pts = fdr_tpr_curve(y_true, y_score)
    return pts["fdr"], pts["tpr"]


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
    def random_guess(ax, line, y_true, y_score):
        if line is None:
            ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls=":", label="random")

    return _plot_curves(curves, ax=ax, figsize=figsize, curve=_roc_points, auc=roc_auc,
                        xlabel="false-positive rate (FPR)", title=title, legend_title="ROC AUC",
                        decorate=random_guess)


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
    def operating_point(ax, line, y_true, y_score):
        if line is None:
            ax.plot([], [], "o", color="0.3", ms=5, label=f"p_gc > {threshold:g}")
        elif _inputs(y_true, y_score)[0].any():
            ax.plot(fdr(y_true, y_score, threshold=threshold), tpr(y_true, y_score, threshold=threshold), "o",
                    color=line.get_color(), ms=5)

    return _plot_curves(curves, ax=ax, figsize=figsize, curve=_fdr_tpr_points, auc=rescaled_auc_fdr_tpr,
                        xlabel="false-discovery rate (FDR)", title=title, legend_title="rescaled AUC(FDR,TPR)",
                        decorate=None if threshold is None else operating_point)


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
