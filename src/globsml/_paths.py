"""Output-path guards: checked before any work, so that no minutes are lost and nothing is overwritten.

Every command that writes a file asks :func:`check_output_file` (or
:func:`check_output_dir`) first: an output that is a directory, has an
extension the writer cannot write, lies in a place that cannot be
written, is one of the command's inputs, or is an existing file that is
not this command's kind of output (unless ``--overwrite``) is refused with
one line naming the path.
"""

import csv
import os
from pathlib import Path

from ._errors import GlobsmlError

__all__ = ["check_output_file", "check_output_dir", "input_files", "file_columns", "is_inside"]


def _writable_place(path, option):
    """Refuse a path whose nearest existing ancestor is not a writable directory."""
    parent = Path(os.path.abspath(path)).parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise GlobsmlError(f"{option} {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise GlobsmlError(f"{option} {path}: cannot write in {parent} (permission denied)")


def _same(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def input_files(*paths):
    """The files of the inputs: a file itself, or the files in a directory and in its sub-directories.

    Parameters
    ----------
    *paths : str, Path or None
        Input files or directories (``None`` is skipped).

    Returns
    -------
    list of Path
    """
    out = []
    for path in paths:
        if path is None:
            continue
        path = Path(path)
        if path.is_dir():
            out.extend(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            out.append(path)
    return out


def file_columns(path):
    """Column names of a table file (CSV/ECSV, FITS table, Parquet), or None if it is none of them."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".ecsv", ".txt"):
            with open(path, newline="", errors="replace") as fh:
                for line in fh:
                    if line.strip() and not line.startswith("#"):
                        delimiter = " " if suffix == ".ecsv" and "," not in line else ","
                        return next(csv.reader([line], delimiter=delimiter))
            return None
        if suffix in (".fits", ".fit", ".fts"):
            from astropy.io import fits

            with fits.open(path, memmap=True, lazy_load_hdus=True) as hdul:
                for hdu in hdul:
                    if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)):
                        return list(hdu.columns.names)
            return None
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
    except Exception:  # unreadable: not a table this command wrote
        return None
    return None


def check_output_file(path, *, suffixes=None, inputs=(), own=None, overwrite=False, option="--out",
                      kind="output"):
    """Refuse an output file that cannot or must not be written; return it as a Path.

    Parameters
    ----------
    path : str or Path
        The output file.
    suffixes : collection of str, optional
        The extensions the writer understands (lower case, with the dot).
    inputs : iterable of path
        The command's input files: never replaced, ``overwrite`` or not.
    own : callable, optional
        ``own(path) -> bool``: whether an existing file is this command's
        kind of output (then it is replaced); without it every existing
        file needs ``overwrite``.
    overwrite : bool
        Replace an existing file of any kind (not an input).
    option : str
        The option that named the path, for messages.
    kind : str
        What the command writes (``"catalogue"``...), for messages.

    Raises
    ------
    GlobsmlError
    """
    path = Path(path)
    if path.is_dir():
        raise GlobsmlError(f"{option} {path}: is a directory; give a {kind} file name")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise GlobsmlError(
            f"{option} {path}: unknown {kind} format {path.suffix or '(no extension)'!r}; "
            f"use one of {', '.join(sorted(suffixes))}"
        )
    _writable_place(path, option)
    for source in inputs:
        if _same(path, source):
            raise GlobsmlError(f"{option} {path}: is an input of this command; refusing to overwrite it")
    if path.exists() and not overwrite and not (own is not None and own(path)):
        raise GlobsmlError(
            f"{option} {path}: exists and is not a {kind} that globsml wrote; refusing to overwrite it "
            "(choose another name, or --overwrite)"
        )
    return path


def check_output_dir(path, *, option="--out"):
    """Refuse an output directory that is a file or cannot be made or written; return it as a Path."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise GlobsmlError(f"{option} {path}: exists and is not a directory")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise GlobsmlError(f"{option} {path}: cannot write in it (permission denied)")
    else:
        _writable_place(path, option)
    return path


def is_inside(path, directory):
    """Whether ``path`` (resolved, through symlinks) lies inside ``directory``."""
    return Path(path).resolve().is_relative_to(Path(directory).resolve())
