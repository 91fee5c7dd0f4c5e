"""Facts about the published data set, shipped as package data."""

from importlib import resources

import pandas as pd

__all__ = ["published_galaxies", "published_results", "PUBLISHED_TOTALS", "PUBLICATION"]

#: The publication whose figures the registry holds.
PUBLICATION = "Dold & Fahrion 2022 (A&A 663, A81)"
#: Published totals per cluster: (galaxies, sources, GCs).
PUBLISHED_TOTALS = {"Fornax": (43, 21767, 6161), "Virgo": (98, 63162, 12395)}


def published_galaxies():
    """The 141 galaxies of the published data set.

    Returns
    -------
    pandas.DataFrame
        Columns ``galaxy``, ``cluster``, ``n_sources`` and ``n_gcs`` (pGC >= 0.5)
        as printed by the published experiments; ``<NA>`` where they do not
        print it (some Virgo galaxies).
    """
    with resources.files(__package__).joinpath("registry/published_galaxies.csv").open() as fh:
        table = pd.read_csv(fh, dtype={"n_sources": "Int64", "n_gcs": "Int64"})
    return table


def published_results():
    """The publication's test figures, where it prints them.

    Returns
    -------
    pandas.DataFrame
        One row per published (set-up, model): ``setup`` and ``model``
        (registry names of :mod:`globsml.experiments` and
        :mod:`globsml.models`), ``tpr``, ``fdr``, ``fpr`` and ``roc_auc``
        (NaN where it is not printed) and ``what`` (the published set-up
        in words).

    Examples
    --------
    >>> from globsml.data import published_results
    >>> published_results().loc[:, ["setup", "model", "tpr"]].to_numpy().tolist()[0]
    ['virgo2fornax', 'forest', 0.909]
    """
    with resources.files(__package__).joinpath("registry/published_results.csv").open() as fh:
        table = pd.read_csv(fh, dtype={"fpr": float})
    return table
