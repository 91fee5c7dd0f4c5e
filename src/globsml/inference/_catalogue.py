"""Candidate catalogues on disk: CSV, FITS table or Parquet, chosen by extension."""

from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import GlobsmlError
from .._io import atomic_path

__all__ = ["CATALOGUE_FORMATS", "POSITION_COLUMNS", "catalogue_format", "write_catalogue", "read_catalogue"]

#: File extensions and the format each one selects.
CATALOGUE_FORMATS = {
    ".csv": "csv",
    ".fits": "fits",
    ".fit": "fits",
    ".fts": "fits",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: Position columns copied from the input when it has them.
POSITION_COLUMNS = ("xcentroid", "ycentroid", "sky_centroid.ra", "sky_centroid.dec")


def catalogue_format(path):
    """The format (``"csv"``, ``"fits"`` or ``"parquet"``) of a catalogue file name."""
    suffix = Path(path).suffix.lower()
    try:
        return CATALOGUE_FORMATS[suffix]
    except KeyError:
        raise GlobsmlError(
            f"{path}: unknown catalogue format {suffix or '(no extension)'!r}; "
            f"use one of {', '.join(sorted(CATALOGUE_FORMATS))}"
        ) from None


def write_catalogue(catalogue, path):
    """Write a catalogue atomically, in the format of the extension of ``path``.

    Parameters
    ----------
    catalogue : pandas.DataFrame
    path : str or Path
        ``.csv``, ``.fits`` (``.fit``, ``.fts``) or ``.parquet`` (``.pq``).

    Returns
    -------
    Path
    """
    path = Path(path)
    fmt = catalogue_format(path)
    with atomic_path(path) as tmp:
        if fmt == "csv":
            catalogue.to_csv(tmp, index=False)
        elif fmt == "parquet":
            catalogue.to_parquet(tmp, index=False)
        else:
            from astropy.table import Table

            table = Table.from_pandas(_fits_ready(catalogue))
            table.write(tmp, format="fits", overwrite=True)
    return path


def _fits_ready(catalogue):
    """Columns FITS can hold: plain strings and numbers, booleans as bool."""
    out = {}
    for name, col in catalogue.items():
        if pd.api.types.is_bool_dtype(col):
            out[name] = col.to_numpy(dtype=bool)
        elif pd.api.types.is_numeric_dtype(col):
            out[name] = col.to_numpy(dtype=np.float64 if pd.api.types.is_float_dtype(col) else np.int64,
                                     na_value=np.nan if pd.api.types.is_float_dtype(col) else 0)
        else:
            out[name] = col.astype(str).to_numpy(dtype=str)
    return pd.DataFrame(out)


def read_catalogue(path):
    """Read a catalogue written by :func:`write_catalogue` into a DataFrame."""
    path = Path(path)
    fmt = catalogue_format(path)
    if not path.exists():
        raise GlobsmlError(f"{path}: no such catalogue")
    try:
        if fmt == "csv":
            return pd.read_csv(path)
        if fmt == "parquet":
            return pd.read_parquet(path)
        from astropy.table import Table

        table = Table.read(path, format="fits")
        frame = table.to_pandas()
        for name in frame.columns:
            if frame[name].dtype == object:
                frame[name] = frame[name].map(lambda v: v.decode() if isinstance(v, bytes) else v).astype(str)
        return frame
    except GlobsmlError:
        raise
    except Exception as exc:
        raise GlobsmlError(f"{path}: not a readable {fmt} catalogue ({exc})") from None
