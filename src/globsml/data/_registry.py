"""Facts about the published data set, shipped as package data."""

from importlib import resources

import pandas as pd

__all__ = ["published_galaxies", "PUBLISHED_TOTALS"]

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
