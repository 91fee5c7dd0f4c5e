"""Figures of explanations: one source on one page, and global importances."""

import numpy as np

from .._errors import GlobsmlError

__all__ = ["plot_explanation", "plot_feature_importance", "save_figure"]

_GC_COLOUR = "#1b9e77"
_NON_GC_COLOUR = "#d95f02"


def _figure(figsize):
    from matplotlib.figure import Figure

    # A bare Figure (no pyplot state): safe in loops and threads, Agg canvas.
    return Figure(figsize=figsize, layout="constrained")


def save_figure(fig, path, *, dpi=80):
    """Write a figure atomically (PNG unless the suffix says otherwise)."""
    from .._io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=str(path).rsplit(".", 1)[-1] if "." in str(path) else "png")
    return path


def _stretch(image):
    """asinh stretch of a background-subtracted band, to [0, 1]; NaN stays NaN."""
    finite = image[np.isfinite(image)]
    if not finite.size:
        return image
    lo = np.percentile(finite, 5)
    hi = np.percentile(finite, 99.8)
    scale = max(hi - lo, 1e-12)
    soft = 0.05 * scale
    return np.arcsinh((image - lo) / soft) / np.arcsinh(scale / soft)


def _show_cutout(ax, image, title):
    import matplotlib as mpl

    cmap = mpl.colormaps["gray"].with_extremes(bad="#8c510a")
    ax.imshow(np.ma.masked_invalid(_stretch(image)), cmap=cmap, origin="lower", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def _show_attribution(ax, image, attr, title, vmax):
    """The cut-out in grey with the attribution over it: green towards GC, purple against."""
    import matplotlib as mpl

    _show_cutout(ax, image, title)
    cmap = mpl.colormaps["PiYG"]
    rgba = cmap(0.5 + 0.5 * np.clip(attr / vmax, -1, 1))
    rgba[..., 3] = 0.85 * np.clip(np.abs(attr) / vmax, 0, 1) ** 0.7
    ax.imshow(rgba, origin="lower")


def _distribution(ax, values, labels, x, name):
    values = np.asarray(values, dtype=float)
    labels = np.asarray(labels)
    ok = np.isfinite(values)
    values, labels = values[ok], labels[ok]
    ax.set_title(name, fontsize=9)
    ax.set_yticks([])
    ax.tick_params(labelsize=7)
    if not values.size:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, fontsize=8)
        return
    lo, hi = np.percentile(values, [1, 99])
    if x is not None and np.isfinite(x):
        lo, hi = min(lo, x), max(hi, x)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    # Fluxes, peak values and areas span decades: a log axis shows both classes.
    log = lo > 0 and hi / max(np.median(values), 1e-12) > 8
    bins = np.geomspace(lo, hi, 31) if log else np.linspace(lo, hi, 31)
    if log:
        ax.set_xscale("log")
    for cls, colour, text in ((0, _NON_GC_COLOUR, "non-GC"), (1, _GC_COLOUR, "GC")):
        v = np.clip(values[labels == cls], lo, hi)
        if v.size:
            # Fraction of the class per bin: bins are equal on the drawn (linear or
            # log) axis, so the areas compare fairly either way.
            w = np.full(v.size, 1.0 / v.size)
            ax.hist(v, bins=bins, weights=w, histtype="stepfilled", alpha=0.35, color=colour, label=text)
            ax.hist(v, bins=bins, weights=w, histtype="step", color=colour, lw=1)
    if x is not None and np.isfinite(x):
        ax.axvline(x, color="k", lw=1.6)
    else:
        ax.text(0.5, 0.9, "source: NaN", ha="center", transform=ax.transAxes, fontsize=7)


def _lime_bars(ax, lime):
    order = np.arange(len(lime.weights))[::-1]
    weights = lime.weights[order]
    colours = [_GC_COLOUR if w > 0 else _NON_GC_COLOUR for w in weights]
    ax.barh(np.arange(len(order)), weights, color=colours)
    ax.set_yticks(np.arange(len(order)), [lime.rules[i] for i in order], fontsize=8)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("LIME weight on p_gc  (green: towards GC)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(f"LIME (kernel width 1.75), local R$^2$ = {lime.score:.2f}", fontsize=9)


def _info(ax, expl):
    ax.axis("off")
    colour = _GC_COLOUR if expl.is_candidate else _NON_GC_COLOUR
    ax.text(0.0, 0.98, expl.source, fontsize=12, weight="bold", va="top", transform=ax.transAxes)
    ax.text(0.0, 0.80, f"p_gc = {expl.p_gc:.3f}", fontsize=15, color=colour, va="top", transform=ax.transAxes)
    lines = [f"model says: {expl.verdict}", f"model: {expl.model_name}", f"trained on: {expl.trained_on}"]
    if expl.label is not None:
        truth = "GC" if expl.label else "not a GC"
        right = "right" if expl.is_candidate == bool(expl.label) else "WRONG"
        lines.append(f"catalogue: {truth} (pGC={expl.pgc_catalogue:.2f}), {right}")
    else:
        lines.append("catalogue: no label")
    if expl.stability is not None:
        lines.append(f"LIME stability: VSI {expl.stability.vsi:.0f}, CSI {expl.stability.csi:.0f}")
    if expl.lime is not None and expl.lime.filled:
        lines.append("NaN (median for LIME): " + ", ".join(expl.lime.filled[:3]))
    if expl.attribution_method:
        lines.append(f"pixels: {expl.attribution_method}; green pushes towards GC, purple away")
    import textwrap

    text = "\n".join(textwrap.fill(line, 34, subsequent_indent="  ") for line in lines)
    ax.text(0.0, 0.58, text, fontsize=8, va="top", transform=ax.transAxes, linespacing=1.3)


def plot_explanation(expl):
    """One figure: cut-outs, p_gc, the explanation and the source among the training data.

    Top row: the g and z cut-outs (asinh stretch; brown = off the
    detector), then for image models the pixel attributions over each band
    (green pushes towards GC, purple away), for tabular models the LIME bars.
    Bottom row: the source's value (black line) of the most important
    features against their GC and non-GC distributions in the reference
    data (the training data, or for a model without labelled training data
    at hand, the other sources of the galaxy split by the model's verdict).

    Parameters
    ----------
    expl : Explanation

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = _figure((12, 6.4))
    # Two sub-figures so that the long LIME labels of the top row do not
    # shift the distribution panels of the bottom row.
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.2, 1])
    grid = top.add_gridspec(1, 6)
    ax_g, ax_z = top.add_subplot(grid[0, 0]), top.add_subplot(grid[0, 1])
    if expl.cutout is not None:
        _show_cutout(ax_g, expl.cutout[0], "g (F475W)")
        _show_cutout(ax_z, expl.cutout[1], "z (F850LP)")
    else:
        for ax, band in ((ax_g, "g"), (ax_z, "z")):
            ax.axis("off")
            ax.text(0.5, 0.5, f"no {band} cut-out", ha="center", va="center", transform=ax.transAxes)
    if expl.kind == "images" and expl.attributions is not None:
        vmax = float(np.nanmax(np.abs(expl.attributions))) or 1.0
        for k, band in enumerate(("g", "z")):
            ax = top.add_subplot(grid[0, 2 + k])
            _show_attribution(ax, expl.cutout[k], expl.attributions[k], f"attribution, {band}", vmax)
        _info(top.add_subplot(grid[0, 4:]), expl)
    else:
        _info(top.add_subplot(grid[0, 2]), expl)
        if expl.lime is not None:
            _lime_bars(top.add_subplot(grid[0, 3:]), expl.lime)
    shown = [f for f in expl.shown_features if expl.reference is not None and f in expl.reference.columns][:6]
    if shown:
        axes = bottom.subplots(1, 6)
        for k, ax in enumerate(axes):
            if k >= len(shown):
                ax.axis("off")
                continue
            name = shown[k]
            x = None if expl.features is None else float(expl.features.get(name, np.nan))
            _distribution(ax, expl.reference[name], expl.reference_labels, x, name)
        bottom.supxlabel(f"black line: this source; green: GCs, orange: non-GCs (fraction per bin) of the "
                         f"{expl.reference_note}", fontsize=8)
    elif expl.reference_p_gc is not None:
        ax, note = bottom.subplots(1, 2, width_ratios=[1, 1])
        ax.hist(expl.reference_p_gc, bins=np.linspace(0, 1, 41), color="0.6")
        ax.axvline(expl.p_gc, color="k", lw=1.6)
        ax.set_xlabel(f"p_gc of the {len(expl.reference_p_gc)} sources of {expl.galaxy} (black: this source)",
                      fontsize=8)
        ax.set_yscale("log")
        ax.tick_params(labelsize=7)
        note.axis("off")
        note.text(0.02, 0.5, "No labelled training table at hand, so no feature\n"
                  "distributions: the panel shows where this source's\n"
                  f"p_gc lies among all sources of {expl.galaxy}." + (
                      f"\n{expl.reference_note}" if expl.reference_note else ""),
                  fontsize=8, va="center")
    fig.suptitle(f"Why is {expl.source} {'a GC' if expl.is_candidate else 'not a GC'} "
                 f"according to {expl.model_name}?", fontsize=11)
    return fig


def plot_feature_importance(importances, *, title="Global feature importance", top=15, xlabel=None):
    """Horizontal bars of a global importance.

    Parameters
    ----------
    importances : pandas.DataFrame, pandas.Series or ShapValues
        A permutation-importance table (``feature``, ``importance``, ``std``),
        a Series indexed by feature, or SHAP values (mean ``|SHAP|`` is shown).
    top : int
        How many features to show.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import pandas as pd

    err = None
    if hasattr(importances, "mean_abs"):
        series = importances.mean_abs()
        xlabel = xlabel or f"mean |SHAP| ({importances.output})"
    elif isinstance(importances, pd.DataFrame):
        if not {"feature", "importance"} <= set(importances.columns):
            raise GlobsmlError("an importance table needs columns 'feature' and 'importance'")
        table = importances.sort_values("importance", ascending=False)
        series = pd.Series(table["importance"].to_numpy(), index=table["feature"])
        if "std" in table:
            err = pd.Series(table["std"].to_numpy(), index=table["feature"])
        xlabel = xlabel or "drop of ROC AUC when shuffled"
    elif isinstance(importances, pd.Series):
        series = importances.sort_values(ascending=False)
    else:
        raise GlobsmlError(f"cannot plot importances of type {type(importances).__name__}")
    series = series.iloc[:top][::-1]
    fig = _figure((6, 0.3 * len(series) + 1.2))
    ax = fig.add_subplot()
    ax.barh(np.arange(len(series)), series.to_numpy(), color="#4c72b0",
            xerr=None if err is None else err.reindex(series.index).to_numpy())
    ax.set_yticks(np.arange(len(series)), series.index, fontsize=8)
    ax.set_xlabel(xlabel or "importance", fontsize=9)
    ax.set_title(title, fontsize=10)
    return fig
