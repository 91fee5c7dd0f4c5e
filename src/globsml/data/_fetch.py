"""Download the published data set, verified file by file.

The published data set lives in the public repository ``dodo47/GCDetection``
(folder ``data/``; the trained networks under ``experiments/``). Every file
is listed in a manifest shipped with globsml (``registry/published_files.tsv``
and ``registry/published_models.tsv``: repository path, git blob SHA-1, size
in bytes where known) and is checked against its git blob SHA-1, the hash git
itself gives the file: ``sha1(b"blob <size>\\0" + content)``.

Why not pooch: pooch verifies files with plain ``hashlib`` digests of the
content (md5/sha1/sha256...), so a git blob SHA-1, which hashes a header
before the content, cannot be given as a known hash without re-implementing
the check in a custom processor; and its downloaders always start from byte
zero, they do not resume an interrupted download. Both are what this module
is for, so it is written with :mod:`urllib` (HTTP ``Range`` requests on a
``.part`` file) and :mod:`hashlib`.

Layout of the fetched directory: ``data/<x>`` goes to ``DIR/<x>`` (so ``DIR``
is a data directory: ``ACS_sources_original.csv``, ``ImageData/``,
``NGC1427a/``), a trained network ``experiments/.../<name>`` to
``DIR/models/<name>``. ``DIR/.globsml-verified.tsv`` records each verified
file with its size and modification time: a file whose record matches is
skipped without re-hashing (``rehash=True`` hashes every file again).

The URL of a file is ``base_url`` with ``{commit}`` and ``{path}`` filled in.
The default points at ``raw.githubusercontent.com``; should the repository
keep large files in git-LFS, raw URLs serve small pointer files instead (the
SHA-1 check then fails, and the message says so): pass
``base_url="https://media.githubusercontent.com/media/dodo47/GCDetection/{commit}/{path}"``
or a mirror.
"""

import csv
import fnmatch
import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath

from .._errors import DataFormatError, GlobsmlError

__all__ = [
    "PUBLISHED_REPOSITORY",
    "PUBLISHED_COMMIT",
    "DEFAULT_BASE_URL",
    "ManifestEntry",
    "FetchResult",
    "FetchError",
    "published_manifest",
    "read_manifest",
    "git_blob_sha1",
    "fetch",
]

PUBLISHED_REPOSITORY = "dodo47/GCDetection"
#: The commit of the published data set.
PUBLISHED_COMMIT = "a5060d4eb8700f4ea0f80b70f9e35712d0eee509"
#: Where a file is downloaded from; ``{commit}`` and ``{path}`` are filled in.
DEFAULT_BASE_URL = f"https://raw.githubusercontent.com/{PUBLISHED_REPOSITORY}/{{commit}}/{{path}}"

#: Name of the record of verified files inside the fetched directory.
RECORD_NAME = ".globsml-verified.tsv"
_MANIFEST_COLUMNS = ("path", "git_blob_sha1", "size_bytes")
_CHUNK = 1 << 16
_TIMEOUT_S = 60


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a manifest.

    Attributes
    ----------
    path : str
        Path in the repository (``data/ImageData/FCC100_images.fits``).
    git_blob_sha1 : str
        What ``git hash-object`` prints for the file.
    size : int or None
        Size in bytes, ``None`` where the manifest does not know it.
    """

    path: str
    git_blob_sha1: str
    size: int | None = None

    @property
    def target(self):
        """Where the file goes, relative to the fetched directory (POSIX form)."""
        parts = PurePosixPath(self.path).parts
        if parts and parts[0] == "data" and len(parts) > 1:
            return str(PurePosixPath(*parts[1:]))
        if parts and parts[0] == "experiments":
            return f"models/{parts[-1]}"
        return self.path


def read_manifest(source):
    """Read a manifest in globsml's TSV format.

    Parameters
    ----------
    source : str, Path or file object
        Tab-separated with a header ``path  git_blob_sha1  size_bytes``
        (an empty size means unknown).

    Returns
    -------
    list of ManifestEntry
    """
    if hasattr(source, "read"):
        return _parse_manifest(source.read().splitlines(), getattr(source, "name", "manifest"))
    path = Path(source)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise GlobsmlError(f"{path}: cannot read the manifest ({exc.strerror or exc})") from None
    return _parse_manifest(lines, path)


def _parse_manifest(lines, name):
    rows = list(csv.reader(lines, delimiter="\t"))
    if not rows or tuple(rows[0][:3]) != _MANIFEST_COLUMNS:
        raise DataFormatError(f"{name}: expected a TSV header {' '.join(_MANIFEST_COLUMNS)}")
    entries = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) < 2:
            raise DataFormatError(f"{name}, line {lineno}: expected path, git_blob_sha1, size_bytes")
        path, sha1 = row[0], row[1].lower()
        size = row[2] if len(row) > 2 else ""
        if len(sha1) != 40 or any(c not in "0123456789abcdef" for c in sha1):
            raise DataFormatError(f"{name}, line {lineno}: {sha1!r} is not a 40-digit hex SHA-1")
        try:
            size = int(size) if size.strip() else None
        except ValueError:
            raise DataFormatError(f"{name}, line {lineno}: size {size!r} is not an integer") from None
        entries.append(ManifestEntry(path, sha1, size))
    return entries


def published_manifest(models=False):
    """The files of the published data set (or, with ``models=True``, its trained networks).

    Returns
    -------
    list of ManifestEntry
    """
    name = "published_models.tsv" if models else "published_files.tsv"
    with resources.files(__package__).joinpath(f"registry/{name}").open() as fh:
        return read_manifest(fh)


def git_blob_sha1(path):
    """The git blob SHA-1 of a file (what ``git hash-object FILE`` prints)."""
    path = Path(path)
    digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class FetchResult:
    """What :func:`fetch` did.

    Attributes
    ----------
    directory : Path
    downloaded : list of str
        Targets downloaded from scratch.
    resumed : list of str
        Targets whose interrupted download was resumed.
    skipped : list of str
        Targets already present and verified, so not downloaded.
    rehashed : list of str
        Those of ``skipped`` that were verified by hashing them now (no
        matching record); the others were trusted from the record of
        verified files (same SHA-1, size and modification time).
    """

    directory: Path
    downloaded: list = field(default_factory=list)
    resumed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    rehashed: list = field(default_factory=list)

    def summary(self):
        """One line saying what happened."""
        n_record = len(self.skipped) - len(self.rehashed)
        return (
            f"{self.directory}: {len(self.downloaded)} file(s) downloaded, {len(self.resumed)} resumed, "
            f"{len(self.skipped)} already verified ({n_record} by the record of verified files, "
            f"{len(self.rehashed)} re-hashed); every file matches its git blob SHA-1"
        )


class FetchError(GlobsmlError):
    """Some files could not be fetched or failed verification.

    Attributes
    ----------
    failures : list of str
        One line per failed file.
    result : FetchResult
        What did succeed.
    """

    def __init__(self, message, failures, result):
        super().__init__(message)
        self.failures = list(failures)
        self.result = result


class _CorruptDownload(Exception):
    pass


def _url(base_url, entry):
    template = base_url if "{path}" in base_url else base_url.rstrip("/") + "/{path}"
    return template.format(commit=PUBLISHED_COMMIT, path=entry.path)


def _check_base_url(base_url):
    """Refuse a URL template that cannot be filled in or fetched from."""
    try:
        url = _url(str(base_url), ManifestEntry("data/x", "0" * 40))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise GlobsmlError(
            f"--base-url {base_url!r}: not a URL template ({type(exc).__name__}: {exc}); "
            "only {commit} and {path} are filled in (write a literal brace as {{ or }})"
        ) from None
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https", "file"):
        raise GlobsmlError(f"--base-url {base_url!r}: expected an http://, https:// or file:// URL")


def _check_targets(directory, entries):
    """Refuse, before anything is downloaded, a manifest file that would land outside ``directory``.

    Absolute paths, ``..`` parts and paths that resolve (through symlinks
    already in ``directory``) elsewhere are refused.
    """
    root = directory.resolve()
    for entry in entries:
        target = PurePosixPath(entry.target)
        if (not entry.target or target.is_absolute() or ".." in target.parts or "\\" in entry.target
                or "\0" in entry.target or target.name in ("", ".", RECORD_NAME)):
            raise GlobsmlError(
                f"manifest path {entry.path!r}: would be written to {entry.target!r}, outside {directory} "
                "or over its record; only relative paths inside DIR are fetched"
            )
        final = (root / target).resolve()
        if not final.is_relative_to(root) or final == root:
            raise GlobsmlError(
                f"manifest path {entry.path!r}: {directory / target} resolves to {final}, outside {directory}; "
                "refusing to follow the link"
            )


def _read_record(directory):
    record = {}
    try:
        lines = (directory / RECORD_NAME).read_text().splitlines()
    except OSError:
        return record
    for line in lines:
        parts = line.split("\t")
        if len(parts) == 4:
            try:
                record[parts[0]] = (parts[1], int(parts[2]), int(parts[3]))
            except ValueError:
                continue  # a damaged line only costs a re-hash
    return record


def _write_record(directory, record):
    # Written next to its final name and renamed, so that an interruption
    # never leaves a half-written record.
    tmp = directory / f"{RECORD_NAME}.tmp"
    tmp.write_text("".join(f"{k}\t{s}\t{n}\t{t}\n" for k, (s, n, t) in sorted(record.items())))
    os.replace(tmp, directory / RECORD_NAME)


def _is_recorded(record, entry, path):
    if entry.target not in record:
        return False
    sha1, size, mtime = record[entry.target]
    st = path.stat()
    return sha1 == entry.git_blob_sha1 and size == st.st_size and mtime == st.st_mtime_ns


def _mismatch_message(entry, part, actual):
    msg = f"{entry.target}: git blob SHA-1 {actual}, expected {entry.git_blob_sha1}"
    size = part.stat().st_size
    if entry.size is not None and size != entry.size:
        msg += f" (size {size} bytes, expected {entry.size})"
    with part.open("rb") as fh:
        if fh.read(40).startswith(b"version https://git-lfs"):
            msg += (
                "; the server sent a git-LFS pointer, not the file: use --base-url "
                "https://media.githubusercontent.com/media/dodo47/GCDetection/{commit}/{path}"
            )
    return msg + "; the bad download was removed"


def _download(url, part, entry, bar, *, count_existing=True):
    """Download ``url`` into ``part``, resuming from its current length.

    ``count_existing``: add the bytes already in ``part`` to the progress
    bar (not on a retry, whose bytes the bar has seen arrive).
    Returns True when an existing partial file was resumed.
    """
    start = part.stat().st_size if part.exists() else 0
    if entry.size is not None and start > entry.size:
        part.unlink()  # longer than the file can be: not a prefix of it
        start = 0
    request = urllib.request.Request(url, headers={"User-Agent": "globsml"})
    if start:
        request.add_header("Range", f"bytes={start}-")
    try:
        response = urllib.request.urlopen(request, timeout=_TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:
            return True  # the partial file is already complete: verification decides
        raise
    with response:
        resumed = bool(start) and response.status == 206
        if resumed and not (response.headers.get("Content-Range") or "").startswith(f"bytes {start}-"):
            # a range other than the one asked for: do not splice it in
            raise GlobsmlError(
                f"{entry.target}: {url} answered Range bytes={start}- with "
                f"Content-Range {response.headers.get('Content-Range')!r}; remove {part} and rerun"
            )
        if start and not resumed:
            start = 0  # the server ignored the range: start over
        if bar is not None and start and count_existing:
            bar.update(start)
        with part.open("ab" if resumed else "wb") as fh:
            while chunk := response.read(_CHUNK):
                fh.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            length = response.headers.get("Content-Length")
        if length is not None and part.stat().st_size != start + int(length):
            raise http.client.IncompleteRead(b"", int(length) - (part.stat().st_size - start))
    return resumed


#: Errors after which a download is retried (once) from where it stopped.
_DROPPED = (
    http.client.IncompleteRead,
    http.client.RemoteDisconnected,
    ConnectionError,
    socket.timeout,
    TimeoutError,
)


def _fetch_one(entry, directory, base_url, bar):
    final = directory / entry.target
    part = final.with_name(final.name + ".part")
    final.parent.mkdir(parents=True, exist_ok=True)
    url = _url(base_url, entry)
    had_part = part.exists() and part.stat().st_size > 0
    try:
        return _fetch_into(entry, part, final, url, bar)
    except _CorruptDownload:
        if not had_part:
            raise
        # The partial file kept from an earlier run may belong to another
        # version of the file (it was removed with the failure): start over once.
        return _fetch_into(entry, part, final, url, bar)


def _fetch_into(entry, part, final, url, bar):
    resumed = False
    for attempt in (1, 2):
        try:
            resumed = _download(url, part, entry, bar, count_existing=attempt == 1) or resumed
            break
        except urllib.error.HTTPError as exc:
            raise GlobsmlError(f"{entry.target}: {url} answered HTTP {exc.code} {exc.reason}") from None
        except _DROPPED as exc:
            if attempt == 2:
                raise GlobsmlError(
                    f"{entry.target}: the connection dropped twice ({type(exc).__name__}); "
                    f"rerun to resume from the {part.stat().st_size if part.exists() else 0} bytes kept"
                ) from None
        except urllib.error.URLError as exc:
            if attempt == 2 or not isinstance(exc.reason, (ConnectionError, socket.timeout, TimeoutError)):
                raise GlobsmlError(f"{entry.target}: cannot reach {url} ({exc.reason})") from None
    actual = git_blob_sha1(part)
    if actual != entry.git_blob_sha1:
        message = _mismatch_message(entry, part, actual)
        part.unlink()
        raise _CorruptDownload(message)
    os.replace(part, final)
    return resumed


def _select(entries, only):
    if not only:
        return list(entries)
    patterns = [only] if isinstance(only, str) else list(only)
    return [
        e for e in entries
        if any(fnmatch.fnmatch(e.target, p) or fnmatch.fnmatch(e.path, p) for p in patterns)
    ]


def fetch(directory, *, models=False, base_url=DEFAULT_BASE_URL, manifest=None, only=None,
          rehash=False, progress=True):
    """Download the published data set into ``directory``, verifying every file.

    Parameters
    ----------
    directory : str or Path
        Becomes a data directory in the published layout (created if needed).
    models : bool, optional
        Also fetch the published trained networks (into ``directory/models/``).
    base_url : str, optional
        URL template of a file; ``{commit}`` and ``{path}`` (the repository
        path) are filled in; without ``{path}``, ``/<path>`` is appended.
    manifest : str, Path or list of ManifestEntry, optional
        Fetch these files instead of the published ones (then ``models`` is ignored).
    only : str or list of str, optional
        Shell patterns; fetch only files whose target (``ImageData/FCC*``) or
        repository path matches one.
    rehash : bool, optional
        Re-hash files already present instead of trusting the record of
        verified files (size and modification time).
    progress : bool, optional
        Show a tqdm progress bar of the bytes.

    Returns
    -------
    FetchResult

    Raises
    ------
    FetchError
        After trying every file, if some could not be downloaded or did not
        match their git blob SHA-1 (bad downloads are removed; partial ones
        from dropped connections are kept to resume).
    """
    from tqdm.auto import tqdm

    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise GlobsmlError(f"{directory}: exists and is not a directory")
    if manifest is None:
        entries = published_manifest(False) + (published_manifest(True) if models else [])
    elif isinstance(manifest, (str, os.PathLike)):
        entries = read_manifest(manifest)
    else:
        entries = list(manifest)
    entries = _select(entries, only)
    if not entries:
        raise GlobsmlError(f"no file of the manifest matches {only!r}")
    _check_base_url(base_url)
    _check_targets(directory, entries)
    directory.mkdir(parents=True, exist_ok=True)
    record = _read_record(directory)
    result = FetchResult(directory)
    failures = []

    todo = []
    for entry in entries:
        final = directory / entry.target
        if final.is_file():
            # a partial download left beside a complete file is of no use
            final.with_name(final.name + ".part").unlink(missing_ok=True)
            if not rehash and _is_recorded(record, entry, final):
                result.skipped.append(entry.target)
                continue
            # Present but not (or differently) recorded: a copy from elsewhere
            # or a file changed since; hashing decides.
            if git_blob_sha1(final) == entry.git_blob_sha1:
                st = final.stat()
                record[entry.target] = (entry.git_blob_sha1, st.st_size, st.st_mtime_ns)
                result.skipped.append(entry.target)
                result.rehashed.append(entry.target)
                continue
        todo.append(entry)
    _write_record(directory, record)

    total = sum(e.size or 0 for e in todo)
    bar = tqdm(total=total or None, unit="B", unit_scale=True, unit_divisor=1024,
               desc="globsml fetch", disable=not progress or not todo)
    try:
        for entry in todo:
            bar.set_postfix_str(entry.target, refresh=False)
            try:
                resumed = _fetch_one(entry, directory, base_url, bar)
            except (_CorruptDownload, GlobsmlError) as exc:
                failures.append(str(exc))
                continue
            st = (directory / entry.target).stat()
            record[entry.target] = (entry.git_blob_sha1, st.st_size, st.st_mtime_ns)
            _write_record(directory, record)
            (result.resumed if resumed else result.downloaded).append(entry.target)
    finally:
        bar.close()
    if failures:
        raise FetchError(
            f"{len(failures)} of {len(entries)} file(s) failed in {directory}; "
            "rerun the same command to retry (verified files are skipped)",
            failures,
            result,
        )
    return result
