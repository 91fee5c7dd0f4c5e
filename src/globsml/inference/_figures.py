"""Figures of candidate catalogues."""

import numpy as np

from .._errors import GlobsmlError

__all__ = ["plot_candidate_colours"]


def plot_candidate_colours(catalogue, sources, *, column="colour", bins=None, title=None, ax=None):
    """Histogram of a colour for all sources and for the GC candidates.

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
        Bin edges (default: 0.05 mag from -0.5 to 2.5).
    title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    if ax is None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if column not in sources.columns:
        raise GlobsmlError(f"the source table has no column {column!r}")
    merged = catalogue.loc[:, ["galaxy", "ID", "is_gc", "p_gc"]].merge(
        sources.loc[:, ["galaxy", "ID", column]], on=["galaxy", "ID"], how="left", validate="one_to_one"
    )
    colour = merged[column].to_numpy(dtype=float)
    finite = np.isfinite(colour)
    cand = merged["is_gc"].to_numpy(dtype=bool)
    bins = np.arange(-0.5, 2.5001, 0.05) if bins is None else np.asarray(bins)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
    else:
        fig = ax.figure
    ax.hist(colour[finite], bins=bins, histtype="stepfilled", color="0.85", edgecolor="0.5",
            label=f"all sources ({finite.sum()})")
    ax.hist(colour[finite & cand], bins=bins, histtype="step", color="C3", linewidth=2,
            label=f"GC candidates ({(finite & cand).sum()})")
    if (finite & cand).any():
        med = float(np.median(colour[finite & cand]))
        ax.axvline(med, color="C3", linestyle="--", linewidth=1)
        ax.text(med, ax.get_ylim()[1] * 0.95, f" median {med:.2f}", color="C3", va="top", fontsize=9)
    ax.set_xlabel("g - z (m3_g - m3_z, mag)")
    ax.set_ylabel("sources per 0.05 mag" if bins is None or np.allclose(np.diff(bins), 0.05) else "sources")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(frameon=False)
    return fig
