"""Candidate catalogues astronomers can use: astropy QTables with units, sky positions and provenance.

A catalogue is built as a pandas DataFrame by the prediction code
(:func:`~globsml.inference.catalogue_frame`) and becomes, at the boundary, an
astropy :class:`~astropy.table.QTable` (:func:`catalogue_table`): pixel
positions in ``pix``, magnitudes and colour in ``mag``, the sky position as
one :class:`~astropy.coordinates.SkyCoord` column ``sky_centroid`` (ICRS)
where the input has ``sky_centroid.ra``/``.dec``, a description of every
column, and the provenance in ``meta`` (:func:`catalogue_provenance`). It is
written, by the extension of the file name, as

- ECSV (``.ecsv``): units, coordinates, descriptions and provenance;
- FITS (``.fits``, ``.fit``, ``.fts``): units in ``TUNITn``, the provenance
  as header keywords, the coordinates as astropy's serialised columns;
- VOTable (``.vot``, ``.votable``, ``.xml``): units, descriptions, UCDs
  (``pos.eq.ra;meta.main``... so TOPCAT finds the positions) and the
  provenance as ``INFO`` elements;
- Parquet (``.parquet``, ``.pq``): units, coordinates and provenance in the
  astropy metadata;
- CSV (``.csv``): plain columns (``sky_centroid.ra``/``.dec`` in degrees),
  no units or provenance.

:func:`read_catalogue` reads any of them back to the same table
(``as_table=True``) or to the DataFrame. :func:`write_regions` writes a ds9
region file of the candidates (the optional ``regions`` package).
"""

import datetime
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import GlobsmlError
from .._io import atomic_path

__all__ = [
    "CATALOGUE_FORMATS",
    "POSITION_COLUMNS",
    "PHOTOMETRY_COLUMNS",
    "COLUMN_DESCRIPTIONS",
    "catalogue_format",
    "catalogue_table",
    "catalogue_dataframe",
    "catalogue_provenance",
    "write_catalogue",
    "read_catalogue",
    "write_regions",
]

#: File extensions and the format each one selects.
CATALOGUE_FORMATS = {
    ".csv": "csv",
    ".ecsv": "ecsv",
    ".fits": "fits",
    ".fit": "fits",
    ".fts": "fits",
    ".vot": "votable",
    ".votable": "votable",
    ".xml": "votable",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: Position columns copied from the input when it has them.
POSITION_COLUMNS = ("xcentroid", "ycentroid", "sky_centroid.ra", "sky_centroid.dec")
#: Photometry copied from the input when it has it (4-pixel-aperture magnitudes, g - z colour).
PHOTOMETRY_COLUMNS = ("m4_g", "m4_z", "colour")
_SKY = ("sky_centroid.ra", "sky_centroid.dec")
SKY_COLUMN = "sky_centroid"

#: What each catalogue column holds (written as the column descriptions).
COLUMN_DESCRIPTIONS = {
    "galaxy": "host galaxy",
    "ID": "source ID within its galaxy (frame index of its cut-out)",
    "p_gc": "probability that the source is a globular cluster (the model's p_gc)",
    "p_gc_std": "spread of p_gc over the model's members (trees, virtual ensemble, MC-dropout passes); "
                "NaN for a single model",
    "p_value": "conformal p-value of 'not a GC' against the bundle's calibration non-GCs",
    "is_gc": "GC candidate: p_gc > threshold (meta THRESH)",
    "xcentroid": "x centroid in the g frame (published convention)",
    "ycentroid": "y centroid in the g frame (published convention)",
    SKY_COLUMN: "sky position of the centroid (ICRS)",
    "sky_centroid.ra": "right ascension of the centroid (ICRS)",
    "sky_centroid.dec": "declination of the centroid (ICRS)",
    "m4_g": "F475W (g) AB magnitude in a 4-pixel aperture, extinction corrected",
    "m4_z": "F850LP (z) AB magnitude in a 4-pixel aperture, extinction corrected",
    "colour": "g - z colour",
    "pGC": "catalogue GC probability of the input (label), when given",
}

_UCDS = {
    "sky_centroid.ra": "pos.eq.ra;meta.main",
    "sky_centroid.dec": "pos.eq.dec;meta.main",
    "xcentroid": "pos.cartesian.x;instr.det",
    "ycentroid": "pos.cartesian.y;instr.det",
    "m4_g": "phot.mag;em.opt.B",
    "m4_z": "phot.mag;em.opt.I",
    "colour": "phot.color",
    "p_gc": "stat.probability",
    "galaxy": "meta.id.parent",
    "ID": "meta.id",
}


def _units():
    import astropy.units as u

    return {"xcentroid": u.pix, "ycentroid": u.pix, "sky_centroid.ra": u.deg, "sky_centroid.dec": u.deg,
            "m4_g": u.mag, "m4_z": u.mag, "colour": u.mag}


def catalogue_format(path):
    """The format (``"csv"``, ``"ecsv"``, ``"fits"``, ``"votable"`` or ``"parquet"``) of a file name."""
    suffix = Path(path).suffix.lower()
    try:
        return CATALOGUE_FORMATS[suffix]
    except KeyError:
        raise GlobsmlError(
            f"{path}: unknown catalogue format {suffix or '(no extension)'!r}; "
            f"use one of {', '.join(sorted(CATALOGUE_FORMATS))}"
        ) from None


def catalogue_provenance(bundle, *, threshold, fdr=None, data=None):
    """The provenance of a catalogue, as flat FITS-safe ``meta`` keys.

    Parameters
    ----------
    bundle : Bundle
        The bundle that predicted.
    threshold : float
        The threshold of ``is_gc``.
    fdr : float, optional
        The false discovery rate asked for, when the threshold was chosen by it.
    data : str, optional
        What was predicted on.

    Returns
    -------
    dict
        ``CREATOR``, ``GSMLVER`` (globsml version), ``MODEL``, ``BUNDLE``
        (the bundle's manifest digest, ``unsaved`` when it was never saved),
        ``SETUP`` and ``TRAINDAT`` (training set-up and data), ``THRESH``,
        ``SELECT`` (how the threshold was chosen), ``FDR`` (when asked for),
        ``INPUT`` and ``DATE`` (UTC, ISO 8601).
    """
    from .._version import __version__

    training = bundle.training or {}
    meta = {
        "CREATOR": "globsml",
        "GSMLVER": __version__,
        "MODEL": bundle.name,
        "BUNDLE": (bundle.manifest or {}).get("digest", "unsaved"),
        "SETUP": str(training.get("setup", "")),
        "TRAINDAT": str(training.get("data", training.get("source", ""))),
        "THRESH": float(threshold),
        "SELECT": "p_gc > THRESH" if fdr is None else f"p_gc > THRESH, chosen for FDR <= {float(fdr):g} "
                                                      "(conformal p-values, Benjamini-Hochberg)",
    }
    if fdr is not None:
        meta["FDR"] = float(fdr)
    if data is not None:
        meta["INPUT"] = str(data)
    meta["DATE"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return meta


def catalogue_table(catalogue, meta=None):
    """The catalogue as an astropy QTable with units, sky positions and descriptions.

    Parameters
    ----------
    catalogue : pandas.DataFrame or astropy.table.Table
        From :func:`~globsml.inference.catalogue_frame` (or a table already).
    meta : dict, optional
        Provenance (:func:`catalogue_provenance`), merged into ``meta``.

    Returns
    -------
    astropy.table.QTable

    Examples
    --------
    >>> import pandas as pd
    >>> from globsml.inference import catalogue_table
    >>> frame = pd.DataFrame({"galaxy": ["FCC47"], "ID": [3], "p_gc": [0.9], "is_gc": [True],
    ...                       "xcentroid": [120.5], "ycentroid": [88.0],
    ...                       "sky_centroid.ra": [63.0], "sky_centroid.dec": [-13.3]})
    >>> table = catalogue_table(frame, {"MODEL": "forest"})
    >>> table["xcentroid"].unit, table["sky_centroid"].dec.deg[0], table.meta["MODEL"]
    (Unit("pix"), np.float64(-13.3), 'forest')
    """
    from astropy.table import QTable, Table

    table = QTable(catalogue, copy=True) if isinstance(catalogue, Table) else _table_from_frame(catalogue)
    for name in table.colnames:
        if name in COLUMN_DESCRIPTIONS and not table[name].info.description:
            table[name].info.description = COLUMN_DESCRIPTIONS[name]
    table.meta.update(meta or {})
    return table


def _table_from_frame(frame, *, sky=True):
    """QTable of a DataFrame: units on the known columns; ``sky``: ra/dec as one SkyCoord column."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.table import QTable

    units = _units()
    with_sky = sky and all(c in frame.columns for c in _SKY)
    table = QTable()
    for name in frame.columns:
        if with_sky and name in _SKY:
            continue
        col = frame[name]
        if pd.api.types.is_bool_dtype(col):
            values = col.to_numpy(dtype=bool)
        elif pd.api.types.is_integer_dtype(col):
            values = col.to_numpy(dtype=np.int64)
        elif pd.api.types.is_numeric_dtype(col):
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        elif all(isinstance(v, str) for v in col):
            values = col.to_numpy(dtype=str)
        else:
            raise GlobsmlError(f"catalogue column {name!r} holds values that are neither numbers nor text")
        table[name] = values * units[name] if name in units else values
    if with_sky:
        coords = SkyCoord(frame[_SKY[0]].to_numpy(dtype=np.float64) * u.deg,
                          frame[_SKY[1]].to_numpy(dtype=np.float64) * u.deg, frame="icrs")
        columns = list(frame.columns)
        where = sum(c not in _SKY for c in columns[: columns.index(_SKY[0])])
        table.add_column(coords, name=SKY_COLUMN, index=where)
    return table


def catalogue_dataframe(table):
    """A catalogue table as a DataFrame: plain values, ``sky_centroid.ra``/``.dec`` in degrees."""
    from astropy.coordinates import SkyCoord

    out = {}
    for name in table.colnames:
        col = table[name]
        if isinstance(col, SkyCoord):
            icrs = col.icrs
            out["sky_centroid.ra"] = np.asarray(icrs.ra.deg, dtype=np.float64)
            out["sky_centroid.dec"] = np.asarray(icrs.dec.deg, dtype=np.float64)
            continue
        values = np.asarray(getattr(col, "value", col))
        if values.dtype.kind in "SU":
            values = values.astype(str).astype(object)
        out[name] = values
    frame = pd.DataFrame(out)
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].astype(str)
    return frame


def write_catalogue(catalogue, path, *, meta=None):
    """Write a catalogue atomically, in the format of the extension of ``path``.

    Parameters
    ----------
    catalogue : pandas.DataFrame or astropy.table.Table
    path : str or Path
        ``.ecsv``, ``.fits`` (``.fit``, ``.fts``), ``.vot`` (``.votable``,
        ``.xml``), ``.parquet`` (``.pq``) or ``.csv``.
    meta : dict, optional
        Provenance to record (:func:`catalogue_provenance`); CSV keeps none.

    Returns
    -------
    Path
    """
    path = Path(path)
    fmt = catalogue_format(path)
    table = catalogue_table(catalogue, meta)
    with atomic_path(path) as tmp:
        if fmt == "csv":
            catalogue_dataframe(table).to_csv(tmp, index=False)
        elif fmt == "votable":
            _write_votable(table, tmp)
        else:
            table.write(tmp, format={"ecsv": "ascii.ecsv"}.get(fmt, fmt), overwrite=True)
    return path


def _write_votable(table, path):
    """VOTable: positions as two columns with UCDs, provenance as INFO elements (JSON values)."""
    from astropy.io.votable.tree import Info
    from astropy.io.votable import from_table

    plain = _table_from_frame(catalogue_dataframe(table), sky=False)  # no mixin columns in a VOTable
    for name in plain.colnames:
        plain[name].info.description = COLUMN_DESCRIPTIONS.get(name, table[name].info.description
                                                               if name in table.colnames else None)
    votable = from_table(plain)
    vtable = votable.get_first_table()
    for field in vtable.fields:
        if field.name in _UCDS:
            field.ucd = _UCDS[field.name]
    for key, value in table.meta.items():
        vtable.infos.append(Info(name=str(key), value=json.dumps(value)))
    votable.to_xml(str(path))


def _read_votable(path):
    from astropy.io.votable import parse

    vtable = parse(str(path)).get_first_table()
    table = vtable.to_table(use_names_over_ids=True)
    meta = {}
    for info in vtable.infos:
        try:
            meta[info.name] = json.loads(info.value)
        except (TypeError, ValueError):
            meta[info.name] = info.value
    return _from_flat(_filled(table).to_pandas(), meta)


def _filled(table):
    """Masked float columns back to NaN (VOTable writes NaN as null)."""
    from astropy.table import Table

    table = Table(table, masked=False, copy=False)
    for name in table.colnames:
        col = table[name]
        if hasattr(col, "mask") and col.dtype.kind == "f":
            table[name] = np.ma.filled(col, np.nan)
    return table


def _from_flat(frame, meta):
    """A DataFrame with plain columns (CSV, VOTable) to the catalogue table."""
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].map(lambda v: v.decode() if isinstance(v, bytes) else v).astype(str)
    return catalogue_table(frame, meta)


def read_catalogue(path, *, as_table=False):
    """Read a catalogue written by :func:`write_catalogue`.

    Parameters
    ----------
    path : str or Path
    as_table : bool
        Return the astropy QTable (units, ``sky_centroid`` SkyCoord,
        provenance in ``meta``) instead of a DataFrame.

    Returns
    -------
    pandas.DataFrame or astropy.table.QTable
    """
    path = Path(path)
    fmt = catalogue_format(path)
    if not path.is_file():
        raise GlobsmlError(f"{path}: no such catalogue")
    try:
        if fmt == "csv":
            table = _from_flat(pd.read_csv(path), {})
        elif fmt == "votable":
            table = _read_votable(path)
        else:
            from astropy.table import QTable

            table = QTable.read(path, format={"ecsv": "ascii.ecsv"}.get(fmt, fmt))
            for name in table.colnames:  # FITS text comes back as bytes
                if getattr(table[name], "dtype", None) is not None and table[name].dtype.kind == "S":
                    table[name] = np.char.decode(table[name], "utf-8")
            if SKY_COLUMN not in table.colnames and all(c in table.colnames for c in _SKY):
                # a catalogue written without astropy (e.g. the partitions of a Dask run)
                table = _from_flat(catalogue_dataframe(table), dict(table.meta))
            else:
                table = catalogue_table(table)
    except GlobsmlError:
        raise
    except Exception as exc:
        raise GlobsmlError(f"{path}: not a readable {fmt} catalogue ({exc})") from None
    return table if as_table else catalogue_dataframe(table)


def write_regions(catalogue, path, *, radius=None, candidates_only=True):
    """Write a ds9 region file of the candidates (needs the ``regions`` package).

    Circles at the sky positions where the catalogue has them (ICRS), at
    the pixel positions otherwise, each labelled ``galaxy ID``.

    Parameters
    ----------
    catalogue : pandas.DataFrame or astropy.table.Table
    path : str or Path
        The region file (``.reg``).
    radius : astropy.units.Quantity, optional
        Circle radius: 0.5 arcsec on the sky, 10 pixels on the frame by default.
    candidates_only : bool
        Only the rows with ``is_gc`` (all rows otherwise).

    Returns
    -------
    Path
    """
    try:
        from regions import CirclePixelRegion, CircleSkyRegion, PixCoord, Regions
    except ImportError:
        raise GlobsmlError("region files need the regions package: pip install 'globsml[catalogue]'") from None
    import astropy.units as u

    path = Path(path)
    if path.suffix.lower() != ".reg":
        raise GlobsmlError(f"{path}: a ds9 region file must end in .reg")
    table = catalogue_table(catalogue)
    if candidates_only and "is_gc" in table.colnames:
        table = table[np.asarray(table["is_gc"], dtype=bool)]
    shapes = []
    if SKY_COLUMN in table.colnames:
        r = 0.5 * u.arcsec if radius is None else radius
        for row, coord in zip(table, table[SKY_COLUMN]):
            if np.isfinite(coord.ra.deg) and np.isfinite(coord.dec.deg):
                shapes.append(CircleSkyRegion(coord, r, meta={"text": f"{row['galaxy']} {row['ID']}"}))
    elif "xcentroid" in table.colnames:
        r = 10.0 if radius is None else u.Quantity(radius, u.pix).value
        for row in table:
            # 0-based pixels as photutils; regions writes ds9's 1-based ones.
            centre = PixCoord(row["xcentroid"].value, row["ycentroid"].value)
            shapes.append(CirclePixelRegion(centre, r, meta={"text": f"{row['galaxy']} {row['ID']}"}))
    else:
        raise GlobsmlError(f"{path}: the catalogue has no positions (sky_centroid or xcentroid/ycentroid)")
    with atomic_path(path) as tmp:
        Regions(shapes).write(str(tmp), format="ds9", overwrite=True)
    return path
