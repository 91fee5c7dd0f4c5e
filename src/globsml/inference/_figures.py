"""Figures of candidate catalogues."""

import numpy as np

from .._errors import GlobsmlError

__all__ = ["plot_candidate_colours"]


def plot_candidate_colours(catalogue, sources, *, column="colour", bins=None, title=None):
    """Histograms of a colour for all sources and for the GC candidates.

    Left: numbers of sources; right: the two distributions normalised, to
    compare their shapes.

    Parameters
    ----------
    catalogue : pandas.DataFrame
        A candidate catalogue (``galaxy``, ``ID``, ``is_gc``, ``p_gc``).
    sources : pandas.DataFrame
        The input table, holding ``column`` (``colour`` = m3_g - m3_z, the
        published g-z), joined to the catalogue on (galaxy, ID).
    column : str
        The colour column.
    bins : array-like, optional
        Bin edges (default: 0.05 mag from -0.5 to 2.5); sources outside
        are counted in the legend.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if column not in sources.columns:
        raise GlobsmlError(f"the source table has no column {column!r}")
    merged = catalogue.loc[:, ["galaxy", "ID", "is_gc", "p_gc"]].merge(
        sources.loc[:, ["galaxy", "ID", column]], on=["galaxy", "ID"], how="left", validate="one_to_one"
    )
    colour = merged[column].to_numpy(dtype=float)
    finite = np.isfinite(colour)
    cand = merged["is_gc"].to_numpy(dtype=bool)
    bins = np.arange(-0.5, 2.5001, 0.05) if bins is None else np.asarray(bins, dtype=float)
    inside = finite & (colour >= bins[0]) & (colour <= bins[-1])
    groups = {
        "all sources": finite,
        "GC candidates": finite & cand,
    }
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, density in zip(axes, (False, True)):
        for (label, mask), style in zip(groups.items(), (
            {"histtype": "stepfilled", "color": "0.85", "edgecolor": "0.5"},
            {"histtype": "step", "color": "C3", "linewidth": 2},
        )):
            outside = int((mask & ~inside).sum())
            text = f"{label} ({int(mask.sum())}" + (f", {outside} off the axis)" if outside else ")")
            if mask.any():
                ax.hist(colour[mask & inside], bins=bins, density=density, label=text, **style)
        if (finite & cand).any():
            med = float(np.median(colour[finite & cand]))
            ax.axvline(med, color="C3", linestyle="--", linewidth=1, label=f"candidates' median {med:.2f}")
        ax.set_xlabel(f"g - z ({column}, mag)")
        ax.set_ylabel("normalised" if density else "sources per bin")
        ax.legend(frameon=False, fontsize=8)
    axes[0].set_title("numbers", fontsize=10)
    axes[1].set_title("shapes", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
