"""The data model: one object joining table rows and cut-outs by (galaxy, ID)."""

from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import DataFormatError, GlobsmlError
from ._clusters import cluster_of
from ._cutouts import cutout_count, image_files, read_cutouts
from ._schema import (
    CUTOUT_SHAPE,
    FEATURES,
    GC_THRESHOLD,
    IMAGE_DIRNAME,
    IMAGE_SUFFIX,
    INDEX_COLUMN,
    TABLE_FILENAME,
)

__all__ = ["GCDataset", "load_dataset", "read_table", "locate"]


def read_table(path):
    """Read a source table in the published CSV format.

    The unnamed pandas index column of the published file is dropped (it is
    the row number). Only the columns that joining needs (``galaxy``, ``ID``)
    are checked here; :func:`globsml.data.validate` checks everything.

    Raises
    ------
    DataFormatError
        If the file cannot be parsed or lacks ``galaxy`` or ``ID``.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, low_memory=False)
    except FileNotFoundError:
        raise DataFormatError(f"{path}: no such file") from None
    except Exception as exc:
        raise DataFormatError(f"{path}: not a readable CSV table ({exc})") from None
    if INDEX_COLUMN in table.columns:
        table = table.drop(columns=INDEX_COLUMN)
    missing = [c for c in ("galaxy", "ID") if c not in table.columns]
    if missing:
        raise DataFormatError(f"{path}: missing column(s) {', '.join(missing)}")
    table["galaxy"] = table["galaxy"].fillna("").astype(str)  # a missing name is caught as empty, not "nan"
    return table


def _shown(value):
    """A value as the user wrote it: text quoted, numbers plain (not ``np.float64(1.5)``)."""
    value = value.item() if isinstance(value, np.generic) else value
    return repr(value) if isinstance(value, str) else str(value)


def _first(sources, mask):
    """``galaxy G, ID i`` (and the row) of the first flagged source, and how many are flagged."""
    row = int(np.flatnonzero(mask)[0])
    src = sources.iloc[row]
    return f"galaxy {_shown(src['galaxy'])}, ID {_shown(src['ID'])} (row {row}; {int(mask.sum())} such row(s))"


def _checked_keys(sources, name):
    """``sources`` with integer IDs, after checking the (galaxy, ID) keys that join rows and frames.

    Raises
    ------
    DataFormatError
        On an empty galaxy name, an ID that is not a non-negative integer,
        or a (galaxy, ID) pair that appears twice.
    """
    where = name or "table"
    galaxy = sources["galaxy"]
    blank = (galaxy.isna() | (galaxy.astype(str).str.strip() == "")).to_numpy()
    if blank.any():
        raise DataFormatError(f"{where}: empty galaxy name in row {int(np.flatnonzero(blank)[0])} "
                              f"({int(blank.sum())} such row(s)); every source needs its galaxy")
    if not pd.api.types.is_integer_dtype(sources["ID"]):
        ids = pd.to_numeric(sources["ID"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(ids) & (ids >= 0) & (ids == np.floor(ids)))
        if bad.any():
            raise DataFormatError(f"{where}: {_first(sources, bad)}: the ID must be a non-negative integer "
                                  "(frame i of the galaxy's cut-out file is ID i)")
        sources = sources.assign(ID=ids.astype(np.int64))
    elif (sources["ID"] < 0).any():
        raise DataFormatError(f"{where}: {_first(sources, (sources['ID'] < 0).to_numpy())}: negative ID")
    dup = sources.duplicated(["galaxy", "ID"], keep=False).to_numpy()
    if dup.any():
        raise DataFormatError(f"{where}: {_first(sources, dup)}: (galaxy, ID) appears more than once; "
                              "each source must have its own key")
    return sources


def locate(path):
    """Find the table file and the cut-out directory of a data location.

    ``path`` may be a data directory (``ACS_sources_original.csv`` and/or
    ``ImageData/``), a directory of ``*_images.fits`` files (images only), a
    directory holding exactly one ``*.csv`` table, or a CSV file.

    Returns
    -------
    table : Path or None
    image_dir : Path or None

    Raises
    ------
    GlobsmlError
        If ``path`` does not exist or holds neither a table nor cut-outs.
    """
    path = Path(path)
    if not path.exists():
        raise GlobsmlError(f"{path}: no such file or directory")
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise GlobsmlError(f"{path}: expected a data directory or a .csv table")
        return path, None
    table = path / TABLE_FILENAME
    if not table.is_file():
        csvs = sorted(path.glob("*.csv"))
        if len(csvs) > 1:
            raise GlobsmlError(
                f"{path}: {len(csvs)} CSV files and no {TABLE_FILENAME}; name the table file instead"
            )
        table = csvs[0] if csvs else None
    image_dir = path / IMAGE_DIRNAME
    if not image_dir.is_dir():
        image_dir = path if any(path.glob(f"*{IMAGE_SUFFIX}")) else None
    if table is None and image_dir is None:
        raise GlobsmlError(
            f"{path}: holds neither {TABLE_FILENAME} (or another .csv table) "
            f"nor cut-outs ({IMAGE_DIRNAME}/<galaxy>{IMAGE_SUFFIX})"
        )
    return table, image_dir


class GCDataset:
    """Sources of the published data format: a table, cut-outs, or both.

    Rows of :attr:`sources` and cut-out frames are joined by (galaxy, ID):
    frame ``i`` of ``<galaxy>_images.fits`` is source ``ID == i``. Cut-outs
    are memory-mapped and read only when asked for.

    Parameters
    ----------
    sources : pandas.DataFrame
        One row per source with at least ``galaxy`` and ``ID``. Labelled when
        it has ``pGC``.
    image_files : dict of str to Path, optional
        Cut-out file of each galaxy that has one.
    name : str, optional
        Where the data came from, for messages.

    Attributes
    ----------
    sources : pandas.DataFrame
        The table (with a ``cluster`` column, derived from the galaxy name
        where the file has none), index 0..n-1.
    image_files : dict of str to Path
    """

    def __init__(self, sources, *, image_files=None, name=""):
        sources = _checked_keys(sources.reset_index(drop=True), name)
        if "cluster" not in sources.columns:
            sources = sources.assign(cluster=sources["galaxy"].map(cluster_of))
        self.sources = sources
        self.image_files = dict(image_files or {})
        self.name = str(name)
        self._arrays = {}

    def __getstate__(self):
        # The open memory maps stay behind: a copy sent to a worker process
        # reopens the files it needs instead of pickling every cut-out.
        state = self.__dict__.copy()
        state["_arrays"] = {}
        return state

    # -- what is there -------------------------------------------------
    def __len__(self):
        return len(self.sources)

    def __repr__(self):
        kind = "labelled" if self.labelled else "unlabelled"
        return (
            f"<GCDataset {self.name!r}: {len(self)} {kind} sources in "
            f"{len(self.galaxies)} galaxies, table={self.has_table}, images={self.has_images}>"
        )

    @property
    def galaxies(self):
        """Galaxy names, in order of first appearance."""
        return list(pd.unique(self.sources["galaxy"]))

    @property
    def labelled(self):
        """Whether the table carries the catalogue probability ``pGC``."""
        return "pGC" in self.sources.columns

    @property
    def has_table(self):
        """Whether features beyond (galaxy, ID, cluster) are present."""
        return any(c in self.sources.columns for c in FEATURES)

    @property
    def has_images(self):
        """Whether every source has a cut-out file."""
        return bool(self.image_files) and set(self.galaxies) <= set(self.image_files)

    @property
    def y(self):
        """Labels: 1 for a GC (pGC >= 0.5), 0 otherwise."""
        if not self.labelled:
            raise GlobsmlError(f"{self.name or 'data'}: unlabelled (no pGC column)")
        raw = self.sources["pGC"]
        p_gc = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for bad, what in (
            (np.isnan(p_gc) & raw.notna().to_numpy(), "is not a number"),
            (raw.isna().to_numpy(), "is missing (a NaN label is not a non-GC: drop or label these sources)"),
            (~np.isnan(p_gc) & ((p_gc < 0) | (p_gc > 1)), "lies outside [0, 1]"),
        ):
            if bad.any():
                value = raw.iloc[int(np.flatnonzero(bad)[0])]
                raise DataFormatError(f"{self.name or 'data'}: {_first(self.sources, bad)}: pGC {_shown(value)} {what}")
        return (p_gc >= GC_THRESHOLD).astype(np.int64)

    @property
    def cluster(self):
        """The cluster (Fornax or Virgo) of each source."""
        return self.sources["cluster"].to_numpy()

    def features(self, columns=FEATURES):
        """The feature columns as a DataFrame (the 29 published ones by default)."""
        missing = [c for c in columns if c not in self.sources.columns]
        if missing:
            raise GlobsmlError(
                f"{self.name or 'data'}: no feature column(s) {', '.join(missing)}; "
                "compute them from the cut-outs with `globsml features`"
            )
        return self.sources.loc[:, list(columns)]

    # -- cut-outs --------------------------------------------------------
    def cutouts(self, galaxy):
        """The memory-mapped (n, 2, 20, 20) cut-out array of one galaxy."""
        if galaxy not in self._arrays:
            if galaxy not in self.image_files:
                raise GlobsmlError(f"{self.name or 'data'}: no cut-outs for galaxy {galaxy}")
            self._arrays[galaxy] = read_cutouts(self.image_files[galaxy], memmap=True)
        return self._arrays[galaxy]

    def images(self, rows=None, *, dtype=np.float32):
        """Cut-outs of the given rows (all by default), gathered into memory.

        Parameters
        ----------
        rows : array-like of int or bool, optional
            Positions in :attr:`sources`.

        Returns
        -------
        numpy.ndarray
            (n, 2, 20, 20) array in native byte order; NaN stays NaN.
        """
        src = self.sources if rows is None else self.sources.iloc[np.asarray(rows)]
        out = np.empty((len(src), *CUTOUT_SHAPE), dtype=dtype)
        galaxies = src["galaxy"].to_numpy()
        ids = src["ID"].to_numpy()
        for galaxy in pd.unique(galaxies):
            where = np.flatnonzero(galaxies == galaxy)
            frames = self.cutouts(galaxy)
            gid = ids[where]
            if len(gid) and (gid.min() < 0 or gid.max() >= len(frames)):
                raise DataFormatError(
                    f"{self.image_files[galaxy]}: has {len(frames)} cut-outs, "
                    f"the table asks for ID {int(gid.max())}"
                )
            out[where] = frames[gid]
        return out

    # -- subsets ---------------------------------------------------------
    def select(self, rows):
        """A new dataset of the given rows (positions or a boolean mask)."""
        rows = np.asarray(rows)
        sub = GCDataset(self.sources.iloc[rows] if rows.dtype != bool else self.sources[rows],
                        image_files=self.image_files, name=self.name)
        sub._arrays = self._arrays  # share opened memory maps
        return sub

    def in_cluster(self, cluster):
        """The sources of one cluster (``"Fornax"`` or ``"Virgo"``)."""
        return self.select(self.cluster == cluster)


def load_dataset(path=None, *, table=None, images=None):
    """Load a data set in the published format.

    Parameters
    ----------
    path : str or Path, optional
        A data directory, an image directory or a CSV table (see
        :func:`locate`). The embedded default data set, the mock survey, is
        :func:`globsml.experiments.resolve_dataset` ``(None)`` (a layer above
        both the data and the mock).
    table, images : str or Path, optional
        Give the table file and/or the cut-out directory explicitly instead.

    Returns
    -------
    GCDataset
        Table + images, table only or images only (then the sources are the
        frames of each cut-out file, with ``ID`` 0..n-1).
    """
    if path is None and table is None and images is None:
        raise GlobsmlError(
            "load_dataset: name the data (a data directory, an image directory or a table); the "
            "embedded mock survey is globsml.experiments.resolve_dataset(None)"
        )
    if path is not None:
        table_path, image_dir = locate(path)
    else:
        table_path, image_dir = table, images
    name = str(path if path is not None else (table or images))
    files = image_files(image_dir) if image_dir is not None else {}
    if table_path is not None:
        sources = read_table(table_path)
    else:
        if not files:
            raise GlobsmlError(f"{image_dir}: no <galaxy>{IMAGE_SUFFIX} files")
        counts = {g: cutout_count(p) for g, p in files.items()}
        sources = pd.DataFrame(
            {
                "ID": np.concatenate([np.arange(n) for n in counts.values()]).astype(np.int64),
                "galaxy": np.repeat(list(counts), list(counts.values())),
            }
        )
    return GCDataset(sources, image_files=files, name=name)
