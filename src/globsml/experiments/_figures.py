"""Figures of a benchmark: curves per set-up, a summary, feature importances."""

import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib import colors as plt_colors
from matplotlib.figure import Figure

from ..data import GC_THRESHOLD
from ..evaluation import plot_fdr_tpr, plot_roc
from ._setups import setup_title

__all__ = ["curve_figures", "reliability_figure", "summary_figure", "importance_figure"]


def _pooled_curves(preds, setup, models):
    """label -> (y_true, p_gc) of each model, the runs of the set-up concatenated."""
    curves = {}
    for model in models:
        parts = [p for (m, s, _), p in sorted(preds.items(), key=lambda kv: kv[0][2])
                 if m == model and s == setup]
        if parts:
            frame = pd.concat(parts, ignore_index=True)
            curves[model] = (frame["y_true"].to_numpy(), frame["p_gc"].to_numpy())
    return curves


def curve_figures(preds, setup, models, *, threshold=GC_THRESHOLD):
    """ROC and TPR-versus-FDR figures of one set-up, one curve per model.

    Parameters
    ----------
    preds : dict of (model, setup, seed) to DataFrame
        Test predictions (``y_true``, ``p_gc``) of each run; the runs of a
        model are pooled into one curve.
    setup : str
    models : sequence of str
        Models to draw, in legend order.
    threshold : float

    Returns
    -------
    (Figure, Figure) or None
        None when the set-up has no runs.
    """
    curves = _pooled_curves(preds, setup, models)
    if not curves:
        return None
    title = setup_title(setup)
    figs = []
    for plot, name in ((plot_roc, "ROC"), (plot_fdr_tpr, "TPR versus FDR")):
        fig = Figure(figsize=(6.5, 5.5), layout="constrained")
        ax = fig.subplots()
        # Ten default colours are too few for the grid: vary the line style too.
        ax.set_prop_cycle(cycler(color=list(plt_colors.TABLEAU_COLORS) * 2)
                          + cycler(linestyle=["-"] * 10 + ["--"] * 10))
        kw = {"threshold": threshold} if plot is plot_fdr_tpr else {}
        plot(curves, ax=ax, title=f"{title}: {name}", **kw)
        figs.append(fig)
    return tuple(figs)


def reliability_figure(preds, setup, models, *, bins=10):
    """Calibration (reliability) curves of one set-up: fraction of GCs per bin of p_gc.

    A calibrated model lies on the diagonal: of the sources given p_gc = 0.8,
    80 % are GCs. Models with only 0/1 outputs (1nn, tree) give two points.

    Parameters
    ----------
    preds : dict of (model, setup, seed) to DataFrame
    setup : str
    models : sequence of str
    bins : int
        Equal-width bins of p_gc in [0, 1].

    Returns
    -------
    matplotlib.figure.Figure or None
        None when the set-up has no runs.
    """
    curves = _pooled_curves(preds, setup, models)
    if not curves:
        return None
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.subplots()
    ax.set_prop_cycle(cycler(color=list(plt_colors.TABLEAU_COLORS) * 2)
                      + cycler(linestyle=["-"] * 10 + ["--"] * 10))
    edges = np.linspace(0.0, 1.0, bins + 1)
    for model, (y, p) in curves.items():
        which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
        n = np.bincount(which, minlength=bins)
        keep = n > 0
        frac = np.bincount(which, weights=y, minlength=bins)[keep] / n[keep]
        mean_p = np.bincount(which, weights=p, minlength=bins)[keep] / n[keep]
        ax.plot(mean_p, frac, marker="o", ms=3, label=model)
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls=":", label="calibrated")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="mean p_gc in bin", ylabel="fraction of GCs",
           title=f"{setup_title(setup)}: calibration")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def summary_figure(table, *, models, setups):
    """TPR and FDR (mean and std over runs) of every model, grouped by set-up.

    Parameters
    ----------
    table : pandas.DataFrame
        The results table (``tpr_mean``, ``tpr_std``, ``fdr_mean``, ...).
    models, setups : sequence of str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(max(6.0, 1.1 * len(models) + 2.5), 6.5), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(models))
    width = 0.8 / max(len(setups), 1)
    for i, setup in enumerate(setups):
        rows = table[table["setup"] == setup].set_index("model").reindex(models)
        for ax, metric in zip(axes, ("tpr", "fdr")):
            ax.bar(x + (i - (len(setups) - 1) / 2) * width, rows[f"{metric}_mean"], width,
                   yerr=rows[f"{metric}_std"].fillna(0.0), capsize=2, label=setup_title(setup))
    axes[0].set(ylabel="TPR (found / GCs)", ylim=(0, 1.05), title="Benchmark (mean and std over runs)")
    axes[1].set(ylabel="FDR (fake / predicted GCs)")
    axes[1].set_xticks(x, models, rotation=30, ha="right")
    axes[1].set_ylim(bottom=0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", fontsize="small", ncols=min(len(setups), 4))
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    return fig


_IMPORTANCE_ORDER = ("forest", "catboost", "adaboost", "tree", "hgb", "calibrated-forest")


def importance_figure(importances, *, top=29, max_models=4):
    """Feature importances (mean over runs, with std) of the models that have them.

    Parameters
    ----------
    importances : pandas.DataFrame
        Columns ``model``, ``feature``, ``importance`` (one row per run and
        feature; normalised to sum 1 per run).
    top : int
        Features shown (sorted by the first model's mean importance).
    max_models : int
        Panels at most (forest, catboost, adaboost, tree first).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if importances.empty:
        fig = Figure(figsize=(6, 1.5))
        fig.text(0.5, 0.5, "none of the models has feature importances\n"
                 "(use forest, tree, adaboost or catboost; or `globsml explain`)",
                 ha="center", va="center")
        return fig
    present = list(pd.unique(importances["model"]))
    # The forest first (features are sorted by it), then the other ensembles;
    # at most four panels.
    models = ([m for m in _IMPORTANCE_ORDER if m in present]
              + [m for m in present if m not in _IMPORTANCE_ORDER])[:max_models]
    stats = importances.groupby(["model", "feature"], sort=False)["importance"].agg(["mean", "std"])
    order = stats.loc[models[0]].sort_values("mean", ascending=True).index[-top:]
    fig = Figure(figsize=(2.8 * len(models) + 1.5, 0.22 * len(order) + 1.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(models), sharey=True))
    y = np.arange(len(order))
    for ax, model in zip(axes, models):
        s = stats.loc[model].reindex(order)
        ax.barh(y, s["mean"], xerr=s["std"].fillna(0.0), color="C0", capsize=1.5)
        ax.set(title=model, xlabel="importance (sums to 1)")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, order, fontsize="small")
    fig.suptitle("Feature importances (impurity; CatBoost: prediction change), mean over runs")
    return fig
