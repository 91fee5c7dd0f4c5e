"""Check a data directory against the published format.

:func:`validate` never raises for a bad file: every problem becomes one line
of :attr:`ValidationReport.problems` naming the file, galaxy, column and value
and what was expected. Only a path that does not exist (a usage error) raises.

Cut-out files are checked from their headers and their size on disk (the
array the header promises must be fully present), without reading pixels,
so that the whole published set is checked in seconds. NaN pixels are legal
(frames that run off the detector).

The table is read with pandas directly rather than with
:func:`globsml.data.read_table`, which drops the index column, casts
``galaxy`` and refuses a table without ``galaxy``/``ID``: here every column
must be seen as the file has it, and a missing column is one problem among
others rather than the end of the check.
"""

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits

from .._errors import GlobsmlError
from ._clusters import CLUSTERS, cluster_of
from ._cutouts import _check_header, check_data_size, galaxy_of_image_file
from ._dataset import locate
from ._schema import (
    FEATURE_TABLE_COLUMNS,
    GC_THRESHOLD,
    IMAGE_DIRNAME,
    IMAGE_SUFFIX,
    INDEX_COLUMN,
    INTEGER_COLUMNS,
    LABEL_COLUMNS,
    NON_NULL_COLUMNS,
    OPTIONAL_COLUMNS,
    PUBLISHED_COLUMNS,
    STRING_COLUMNS,
)

__all__ = ["ValidationReport", "validate"]

#: Name of the optional sub-folder of the published data directory.
SUBFOLDER = "NGC1427a"

#: Columns whose type is not checked: the catalogue ID of a match may be a
#: number or a string depending on the catalogue.
_FREE_COLUMNS = ("HST_ID",)
#: Columns that may hold booleans as well as numbers.
_BOOLEAN_COLUMNS = ("matched",)


@dataclass
class ValidationReport:
    """What :func:`validate` found.

    Attributes
    ----------
    path : str
        What was checked.
    problems : list of str
        One line per problem; empty when the data are fine.
    mode : str
        ``"table+images"``, ``"table only"`` or ``"images only"``.
    table, image_dir : Path or None
        The table file and cut-out directory that were found.
    labelled : bool
        Whether the table carries catalogue labels (``pGC``).
    clusters : dict
        Per cluster (and ``"unknown"`` for galaxies that cannot be placed):
        ``galaxies``, ``sources``, ``gcs``, ``non_gcs``, ``unlabelled``.
    galaxies_with_cutouts, galaxies_without_cutouts : list of str
        Galaxies of the data with and without a cut-out file.
    subfolder : ValidationReport or None
        Report of the optional ``NGC1427a/`` sub-folder.
    """

    path: str
    problems: list = field(default_factory=list)
    mode: str = ""
    table: Path | None = None
    image_dir: Path | None = None
    labelled: bool = False
    clusters: dict = field(default_factory=dict)
    galaxies_with_cutouts: list = field(default_factory=list)
    galaxies_without_cutouts: list = field(default_factory=list)
    subfolder: "ValidationReport | None" = None

    @property
    def ok(self):
        """True when no problem was found (here and in the sub-folder)."""
        return not self.problems

    @property
    def n_galaxies(self):
        """Number of galaxies."""
        return sum(c["galaxies"] for c in self.clusters.values())

    @property
    def n_sources(self):
        """Number of sources (table rows, or cut-out frames when images only)."""
        return sum(c["sources"] for c in self.clusters.values())

    @property
    def n_unlabelled(self):
        """Number of sources without a label."""
        return sum(c["unlabelled"] for c in self.clusters.values())

    def summary(self):
        """What is there, as printable lines."""
        kind = "labelled" if self.labelled else "unlabelled"
        lines = [
            f"{self.path}: {self.mode}, {self.n_galaxies:,} galaxies, {self.n_sources:,} {kind} sources",
        ]
        if self.table is not None:
            lines.append(f"  table: {self.table}")
        if self.image_dir is not None:
            lines.append(f"  cut-outs: {self.image_dir}")
        for name, c in self.clusters.items():
            labels = (
                f"{c['gcs']:,} GCs, {c['non_gcs']:,} non-GCs"
                + (f", {c['unlabelled']:,} unlabelled" if c["unlabelled"] else "")
                if self.labelled
                else f"{c['unlabelled']:,} unlabelled"
            )
            lines.append(f"  {name}: {c['galaxies']:,} galaxies, {c['sources']:,} sources ({labels})")
        lines.append(
            f"  galaxies with cut-outs: {len(self.galaxies_with_cutouts):,}, "
            f"without: {len(self.galaxies_without_cutouts):,}"
            + (f" ({_shorten(self.galaxies_without_cutouts)})" if self.galaxies_without_cutouts else "")
        )
        if self.subfolder is not None:
            sub = self.subfolder.summary().splitlines()
            lines.append(f"  sub-folder {sub[0]}")
            lines.extend("  " + line for line in sub[1:])
        lines.append("  OK" if self.ok else f"  {len(self.problems)} problem(s)")
        return "\n".join(lines)

    def __str__(self):
        return "\n".join([*self.problems, self.summary()])


def _shorten(names, k=8):
    names = list(names)
    return ", ".join(names[:k]) + (f", ... ({len(names) - k} more)" if len(names) > k else "")


def _fmt(value):
    """repr of a value as the file shows it (``7.5``, not ``np.float64(7.5)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _where(table, mask, k=3):
    """Describe the first rows where ``mask`` holds: 'row 4 (galaxy FCC1, ID 3)'."""
    rows = np.flatnonzero(np.asarray(mask))
    out = []
    for r in rows[:k]:
        desc = []
        if "galaxy" in table.columns:
            desc.append(f"galaxy {table['galaxy'].iat[r]}")
        if "ID" in table.columns:
            desc.append(f"ID {table['ID'].iat[r]}")
        out.append(f"row {r + 1}" + (f" ({', '.join(desc)})" if desc else ""))
    more = f" and {len(rows) - k} more" if len(rows) > k else ""
    return ", ".join(out) + more


# --------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------
def _check_columns(name, table, labelled):
    expected = PUBLISHED_COLUMNS if labelled else FEATURE_TABLE_COLUMNS
    kind = "a labelled (published) table" if labelled else "an unlabelled feature table"
    problems = []
    missing = [c for c in expected if c not in table.columns]
    if missing:
        problems.append(f"{name}: missing column(s) {', '.join(missing)}; expected for {kind}")
    # An unlabelled table may still say which cluster each galaxy is in.
    allowed = set(expected) | set(OPTIONAL_COLUMNS) | {"cluster"}
    unexpected = [c for c in table.columns if c not in allowed]
    if unexpected:
        extra = ""
        if not labelled and any(c in LABEL_COLUMNS for c in unexpected):
            extra = " (a labelled table needs all of " + ", ".join(LABEL_COLUMNS) + ")"
        problems.append(
            f"{name}: unexpected column(s) {', '.join(map(str, unexpected))}; not in the published "
            f"schema of {kind}{extra}"
        )
    return problems


def _check_types(name, table):
    """Type problems, and the columns converted to numbers where they are fine."""
    problems = []
    numeric = {}
    for col in table.columns:
        if col in STRING_COLUMNS or col in _FREE_COLUMNS:
            continue
        values = table[col]
        if col in _BOOLEAN_COLUMNS and pd.api.types.is_bool_dtype(values):
            numeric[col] = values.astype(float)
            continue
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            converted = values.astype(float)
        else:
            converted = pd.to_numeric(values, errors="coerce")
            if col in _BOOLEAN_COLUMNS:
                lowered = values.astype(str).str.lower()
                converted = converted.where(~lowered.isin(["true", "false"]), lowered.eq("true").astype(float))
            bad = converted.isna() & values.notna()
            if bad.any():
                first = values[bad].iloc[0]
                problems.append(
                    f"{name}: column {col} holds {_fmt(first)} at {_where(table, bad)}; expected a number"
                )
                continue
            converted = converted.astype(float)
        if col in INTEGER_COLUMNS:
            finite = np.isfinite(converted)
            bad = finite & (converted != np.round(converted))
            if bad.any():
                problems.append(
                    f"{name}: column {col} holds {_fmt(converted[bad].iloc[0])} at {_where(table, bad)}; "
                    "expected an integer"
                )
                continue
        numeric[col] = converted
    return problems, numeric


def _check_values(name, table, numeric):
    problems = []
    for col in table.columns:
        if col in numeric:
            values = numeric[col].to_numpy()
            inf = np.isinf(values)
            if inf.any():
                problems.append(
                    f"{name}: column {col} is infinite at {_where(table, inf)}; inf is never allowed"
                )
            null = np.isnan(values)
        else:
            null = table[col].isna().to_numpy()
        if col in NON_NULL_COLUMNS and null.any():
            problems.append(
                f"{name}: column {col} is empty/NaN at {_where(table, null)}; "
                f"{col} must always have a value"
            )
    if "pGC" in numeric:
        p = numeric["pGC"].to_numpy()
        bad = (p < 0) | (p > 1)
        if bad.any():
            problems.append(
                f"{name}: column pGC holds {_fmt(p[bad][0])} at {_where(table, bad)}; "
                "expected a probability in [0, 1]"
            )
    return problems


def _check_ids(name, table, numeric):
    """Duplicate (galaxy, ID) and IDs that are not 0..n-1 within a galaxy."""
    if "galaxy" not in table.columns or "ID" not in numeric:
        return []
    ids = numeric["ID"]
    if ids.isna().any():
        return []  # reported as NaN already
    problems = []
    galaxies = table["galaxy"].astype(str)
    keys = pd.DataFrame({"galaxy": galaxies, "ID": ids.astype(np.int64)})
    dup = keys.duplicated(keep=False).to_numpy()
    if dup.any():
        problems.append(f"{name}: duplicate (galaxy, ID) at {_where(table, dup, k=4)}; each must be unique")
    for galaxy, group in keys.groupby("galaxy", sort=False)["ID"]:
        got = np.unique(group.to_numpy())
        n = len(group)
        if len(got) == n and got[0] == 0 and got[-1] == n - 1:
            continue
        expected = np.arange(n)
        missing = np.setdiff1d(expected, got)
        extra = np.setdiff1d(got, expected)
        detail = []
        if len(missing):
            detail.append("missing " + _shorten(map(str, missing), 5))
        if len(extra):
            detail.append("unexpected " + _shorten(map(str, extra), 5))
        if not detail:
            detail.append("repeated IDs")
        problems.append(
            f"{name}: galaxy {galaxy}: IDs are not 0..{n - 1} for its {n} rows ({'; '.join(detail)})"
        )
    return problems


def _check_clusters(name, table):
    galaxies = table["galaxy"].astype(str)
    problems = []
    if "cluster" in table.columns:
        cluster = table["cluster"]
        bad = ~cluster.isin(CLUSTERS) & cluster.notna()
        for value in pd.unique(cluster[bad])[:5]:
            where = bad & (cluster == value)
            problems.append(
                f"{name}: column cluster holds {_fmt(value)} at {_where(table, where, k=1)}; "
                f"expected one of {', '.join(CLUSTERS)}"
            )
        placed = galaxies.map(cluster_of)
        clash = cluster.isin(CLUSTERS) & placed.notna() & (placed != cluster)
        for galaxy in pd.unique(galaxies[clash])[:5]:
            where = clash & (galaxies == galaxy)
            problems.append(
                f"{name}: galaxy {galaxy} is in {cluster_of(galaxy)} by its name, the cluster column "
                f"says {cluster[where].iloc[0]!r} at {_where(table, where, k=1)}"
            )
    else:
        unknown = [g for g in pd.unique(galaxies) if cluster_of(g) is None]
        if unknown:
            problems.append(
                f"{name}: cannot tell the cluster of galaxy/galaxies {_shorten(unknown)}: no cluster "
                "column, and the name is not FCC*, IC2006, NGC1340, NGC1427a (Fornax) or VCC* (Virgo)"
            )
    return problems


def _read_table(path, report):
    """The table as the file has it (index column kept, no type changes)."""
    try:
        table = pd.read_csv(path, low_memory=False)
    except Exception as exc:  # pandas raises ParserError, UnicodeDecodeError, EmptyDataError...
        report.problems.append(f"{path}: not a readable CSV table ({type(exc).__name__}: {exc})".replace("\n", " "))
        return None
    if not len(table.columns) or (len(table.columns) == 1 and not len(table)):
        report.problems.append(f"{path}: empty table; expected the published columns")
        return None
    return table


def _check_table(path, report):
    """Check the table; return (galaxy -> row count, per-row clusters, labels) or None."""
    table = _read_table(path, report)
    if table is None:
        return None
    name = str(path)
    labelled = any(c in table.columns for c in ("pGC", "matched"))
    report.labelled = labelled
    report.problems += _check_columns(name, table, labelled)
    type_problems, numeric = _check_types(name, table)
    report.problems += type_problems
    report.problems += _check_values(name, table, numeric)
    report.problems += _check_ids(name, table, numeric)
    if "galaxy" not in table.columns:
        return None
    galaxies = table["galaxy"].astype(str)
    report.problems += _check_clusters(name, table)
    if "cluster" in table.columns:
        clusters = table["cluster"].where(table["cluster"].isin(CLUSTERS), "unknown")
    else:
        clusters = galaxies.map(lambda g: cluster_of(g) or "unknown")
    if "pGC" in numeric:
        p = numeric["pGC"]
        labels = pd.Series(np.where(p.isna(), -1, (p >= GC_THRESHOLD).astype(int)), index=table.index)
    else:
        labels = pd.Series(-1, index=table.index)
    counts = galaxies.value_counts(sort=False)
    return {"galaxy": galaxies, "cluster": clusters.astype(str), "label": labels}, counts.to_dict()


# --------------------------------------------------------------------------
# the cut-outs
# --------------------------------------------------------------------------
def _check_cutout_file(path):
    """Number of frames of a cut-out file, or a problem line.

    Reads the headers only; the file must hold the whole array its header
    promises (a truncated download is caught here, pixels are not read).
    """
    size = path.stat().st_size
    if size == 0:
        return None, f"{path}: empty file; expected a FITS file with an (n, 2, 20, 20) array in HDU 1"
    try:
        with open(path, "rb") as fh:
            start = fh.read(30)
        if not start.startswith(b"SIMPLE  ="):
            return None, f"{path}: not a FITS file (starts with {start[:16]!r}, expected 'SIMPLE  =')"
        # astropy reports damaged headers as warnings; they become part of
        # the problem line instead of noise on the terminal.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hdul = fits.open(path, memmap=True, lazy_load_hdus=False, ignore_missing_end=False)
        with hdul:
            if len(hdul) < 2:
                hint = ""
                if any("Header size is not multiple of 2880" in str(w.message) for w in caught):
                    hint = " (the file ends inside a header: truncated or corrupt)"
                return None, f"{path}: expected the cut-outs in HDU 1, the file has {len(hdul)} HDU(s){hint}"
            hdu = hdul[1]
            shape = _check_header(path, hdu.header)
            if hdu.header.get("BSCALE", 1) != 1 or hdu.header.get("BZERO", 0) != 0:
                return None, f"{path}: scaled data (BSCALE/BZERO); expected plain floating point"
            check_data_size(path, hdu)
    except GlobsmlError as exc:
        return None, str(exc)
    except Exception as exc:  # astropy raises OSError, ValueError, VerifyError...
        return None, f"{path}: unreadable FITS file ({type(exc).__name__}: {exc})".replace("\n", " ")
    return shape[0], None


def _check_images(image_dir, report):
    counts = {}
    for path in sorted(image_dir.iterdir()):
        if not path.name.endswith(IMAGE_SUFFIX):
            continue
        if not path.is_file():
            report.problems.append(f"{path}: not a regular file")
            continue
        galaxy = galaxy_of_image_file(path)
        try:
            n, problem = _check_cutout_file(path)
        except Exception as exc:  # never a traceback: anything else is a problem too
            n, problem = None, f"{path}: cannot be checked ({type(exc).__name__}: {exc})"
        if problem:
            report.problems.append(problem)
        counts[galaxy] = n
    if not counts:
        report.problems.append(f"{image_dir}: no <galaxy>{IMAGE_SUFFIX} files")
    return counts


# --------------------------------------------------------------------------
def _tally(report, rows):
    clusters = {}
    frame = pd.DataFrame(rows)
    for cluster, group in frame.groupby("cluster", sort=True):
        label = group["label"].to_numpy()
        clusters[cluster] = {
            "galaxies": int(group["galaxy"].nunique()),
            "sources": len(group),
            "gcs": int((label == 1).sum()),
            "non_gcs": int((label == 0).sum()),
            "unlabelled": int((label == -1).sum()),
        }
    order = [c for c in (*CLUSTERS, "unknown") if c in clusters]
    report.clusters = {c: clusters[c] for c in order}


def _validate(path, table_path, image_dir):
    report = ValidationReport(str(path), table=table_path, image_dir=image_dir)
    report.mode = (
        "table+images" if table_path is not None and image_dir is not None
        else "table only" if table_path is not None
        else "images only"
    )
    table_counts = None
    rows = None
    if table_path is not None:
        checked = _check_table(table_path, report)
        if checked is not None:
            rows, table_counts = checked
    frame_counts = _check_images(image_dir, report) if image_dir is not None else None

    if table_counts is not None and frame_counts is not None:
        for galaxy, n_rows in table_counts.items():
            if galaxy not in frame_counts:
                report.problems.append(
                    f"{table_path}: galaxy {galaxy} has {n_rows:,} rows but no "
                    f"{image_dir / (galaxy + IMAGE_SUFFIX)}"
                )
            elif frame_counts[galaxy] is not None and frame_counts[galaxy] != n_rows:
                report.problems.append(
                    f"{image_dir / (galaxy + IMAGE_SUFFIX)}: holds {frame_counts[galaxy]:,} cut-outs, "
                    f"the table has {n_rows:,} rows for galaxy {galaxy}; expected one cut-out per row"
                )
        for galaxy in frame_counts:
            if galaxy not in table_counts:
                report.problems.append(
                    f"{image_dir / (galaxy + IMAGE_SUFFIX)}: galaxy {galaxy} is not in the table {table_path}"
                )
    if rows is None and frame_counts is not None:
        # images only (or an unusable table): the sources are the frames
        good = {g: n for g, n in frame_counts.items() if n is not None}
        galaxies = np.repeat(list(good), list(good.values()))
        rows = {
            "galaxy": galaxies,
            "cluster": [cluster_of(g) or "unknown" for g in galaxies],
            "label": np.full(len(galaxies), -1),
        }
        if table_path is None:
            unknown = [g for g in frame_counts if cluster_of(g) is None]
            if unknown:
                report.problems.append(
                    f"{image_dir}: cannot tell the cluster of galaxy/galaxies {_shorten(unknown)}: "
                    "the name is not FCC*, IC2006, NGC1340, NGC1427a (Fornax) or VCC* (Virgo)"
                )
    if rows is not None:
        _tally(report, rows)
        data_galaxies = list(pd.unique(pd.Series(rows["galaxy"])))
    else:
        data_galaxies = []
    have = set(frame_counts or ())
    report.galaxies_with_cutouts = [g for g in data_galaxies if g in have]
    report.galaxies_without_cutouts = [g for g in data_galaxies if g not in have]
    return report


def validate(path):
    """Check a data location against the published format.

    Parameters
    ----------
    path : str or Path
        A data directory (``ACS_sources_original.csv`` and/or ``ImageData/``,
        optionally ``NGC1427a/``), a directory of cut-outs, a directory
        holding one CSV table, or a CSV file.

    Returns
    -------
    ValidationReport
        ``.ok`` is False when problems were found; ``.problems`` lists them,
        one line each; ``.summary()`` says what is there.

    Raises
    ------
    GlobsmlError
        Only when ``path`` does not exist or holds no data at all.
    """
    path = Path(path)
    sub = path / SUBFOLDER if path.is_dir() else None
    has_sub = sub is not None and sub.is_dir()
    try:
        table_path, image_dir = locate(path)
    except GlobsmlError:
        # Only a directory that holds nothing but the sub-folder is fine;
        # anything else locate() refused (several CSV tables...) stays an error.
        if not has_sub or any(path.glob("*.csv")) or (path / IMAGE_DIRNAME).is_dir():
            raise
        table_path = image_dir = None
    if table_path is None and image_dir is None:
        report = ValidationReport(str(path), mode="sub-folder only")
    else:
        try:
            report = _validate(path, table_path, image_dir)
        except Exception as exc:  # a bug or a file nobody foresaw: still one line, no traceback
            report = ValidationReport(str(path), table=table_path, image_dir=image_dir)
            report.problems.append(f"{path}: cannot be checked ({type(exc).__name__}: {exc})")
    if has_sub:
        try:
            sub_table, sub_images = locate(sub)
            report.subfolder = _validate(sub, sub_table, sub_images)
        except Exception as exc:
            report.subfolder = ValidationReport(str(sub))
            report.subfolder.problems.append(f"{sub}: cannot be checked ({exc})")
        report.problems += report.subfolder.problems
    return report
