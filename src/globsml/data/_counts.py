"""Known numbers of GCs per galaxy: the publication's, or a user's table of them."""

from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import DataFormatError
from ._registry import published_galaxies

__all__ = ["read_galaxy_counts"]

#: The size above which a table of numbers of GCs is refused unread (one row per galaxy).
_MAX_BYTES = 16 * 2**20


def read_galaxy_counts(path):
    """Known numbers of GCs per galaxy, from a CSV table or the publication.

    Parameters
    ----------
    path : str or Path
        A CSV table with the columns ``galaxy`` and ``n_gcs`` (an empty
        ``n_gcs``: unknown), as ``galaxies.csv`` of the published data;
        or ``"published"``: the publication's numbers
        (:func:`published_galaxies`).

    Returns
    -------
    pandas.Series
        Float numbers of GCs indexed by galaxy name (NaN: unknown).

    Raises
    ------
    DataFormatError
        If the file is missing, unreadable, lacks a column, names a galaxy
        twice or holds a number of GCs that is not a positive number.

    Examples
    --------
    >>> counts = read_galaxy_counts("published")
    >>> int(counts["FCC100"])
    34
    """
    if str(path) == "published" and not Path(path).exists():
        table = published_galaxies()
        return pd.Series(table["n_gcs"].to_numpy(dtype=float, na_value=np.nan),
                         index=table["galaxy"].astype(str), name="n_gcs")
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: no such file (a CSV table of galaxy,n_gcs, or 'published')")
    if path.stat().st_size > _MAX_BYTES:
        raise DataFormatError(f"{path}: {path.stat().st_size} bytes; a table of numbers of GCs per galaxy "
                              f"is expected to be far smaller (at most {_MAX_BYTES} bytes)")
    try:
        table = pd.read_csv(path, dtype={"galaxy": str, "n_gcs": str}, low_memory=False)
    except Exception as exc:
        raise DataFormatError(f"{path}: not a readable CSV table ({exc})") from None
    missing = [c for c in ("galaxy", "n_gcs") if c not in table.columns]
    if missing:
        raise DataFormatError(f"{path}: missing column(s) {', '.join(missing)}; expected galaxy,n_gcs")
    galaxy = table["galaxy"].fillna("").str.strip()
    if (galaxy == "").any():
        raise DataFormatError(f"{path}: empty galaxy name in row {int(np.flatnonzero(galaxy == '')[0])}")
    twice = galaxy[galaxy.duplicated()]
    if len(twice):
        raise DataFormatError(f"{path}: galaxy {twice.iloc[0]} is named twice")
    n = pd.to_numeric(table["n_gcs"], errors="coerce")
    bad = (n.isna() & table["n_gcs"].notna()) | (n <= 0) | np.isinf(n)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataFormatError(f"{path}: n_gcs of galaxy {galaxy.iloc[row]} is {table['n_gcs'].iloc[row]!r}; "
                              "expected a positive number (or nothing, when unknown)")
    return pd.Series(n.to_numpy(dtype=float), index=galaxy.to_numpy(), name="n_gcs")
