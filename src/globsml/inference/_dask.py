"""Survey-scale prediction over partitioned catalogues, on a dask.distributed cluster.

A *partitioned catalogue* is a directory of Parquet files (any names,
sorted); each row group of each file is one partition. A file may have a
*cut-out stack* beside it: ``NAME.npy`` next to ``NAME.parquet``, an
(n, 2, 20, 20) array whose frame i belongs to row i of the file (read as a
memory map, so only the frames of one partition are ever in memory).
:func:`write_partitions` makes such a directory.

Each partition becomes one task that reads only its rows, predicts (after
computing the features from the cut-outs when a tabular bundle meets a
partition without features) and writes ``part.NNNNN.parquet`` to the output
directory, so memory is bounded by the partition size and an interrupted
run resumes where it stopped.

Faults: an output partition counts as done only when it reads back as the
partition's catalogue (right number of rows) and, once recorded, matches
the size and sha256 recorded when it was written; anything else is
recomputed. A lock keeps two runs out of one output directory; temporary
files of a killed run are removed by the next one. A failing partition
(unreadable input, dead worker, lost scheduler) ends the run with one line
naming it, after the healthy partitions are written.
"""

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._checks import check_threshold
from .._errors import GlobsmlError
from .._io import atomic_path
from ..data import CUTOUT_SHAPE
from ._bundle import Bundle, load_bundle
from ._catalogue import PHOTOMETRY_COLUMNS, POSITION_COLUMNS
from ._predict import _with_input_columns, catalogue_frame, features_from_cutouts

__all__ = ["Partition", "write_partitions", "list_partitions", "predict_partitions", "read_partitioned"]

RUN_FILE = "_globsml_run.json"
#: Size and sha256 of every output partition written, by file name.
DONE_FILE = "_globsml_done.json"
LOCK_FILE = "_globsml.lock"


@dataclass(frozen=True)
class Partition:
    """One unit of work: a row group of a Parquet file (and its cut-out frames)."""

    index: int
    path: str
    row_group: int
    offset: int
    n_rows: int
    stack: str = ""


def write_partitions(table, directory, *, rows_per_partition=250_000, cutouts=None, prefix="part"):
    """Write a table (and cut-outs) as a partitioned catalogue.

    Parameters
    ----------
    table : pandas.DataFrame
    directory : str or Path
        Created if needed; files ``{prefix}.NNNNN.parquet`` (+ ``.npy``).
    rows_per_partition : int
        Rows per file (one row group each).
    cutouts : array-like, optional
        (n, 2, 20, 20) cut-outs aligned with ``table``'s rows.

    Returns
    -------
    list of Path
        The Parquet files written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if cutouts is not None and (len(cutouts) != len(table) or tuple(cutouts.shape[1:]) != CUTOUT_SHAPE):
        raise GlobsmlError(f"cut-outs must be ({len(table)}, 2, 20, 20), got {getattr(cutouts, 'shape', None)}")
    paths = []
    for i, start in enumerate(range(0, max(len(table), 1), int(rows_per_partition))):
        part = table.iloc[start : start + rows_per_partition]
        path = directory / f"{prefix}.{i:05d}.parquet"
        with atomic_path(path) as tmp:
            part.to_parquet(tmp, index=False, row_group_size=max(len(part), 1))
        if cutouts is not None:
            with atomic_path(path.with_suffix(".npy")) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, np.asarray(cutouts[start : start + rows_per_partition], dtype=np.float32))
        paths.append(path)
    return paths


def list_partitions(source):
    """The partitions of a Parquet file or a directory of Parquet files."""
    import pyarrow.parquet as pq

    source = Path(source).absolute()  # paths travel to workers that may run elsewhere
    if source.is_dir():
        files = sorted(p for p in source.glob("*.parquet") if not p.name.startswith((".", "_")))
    elif source.is_file():
        files = [source]
    else:
        raise GlobsmlError(f"{source}: no such Parquet file or directory")
    if not files:
        raise GlobsmlError(f"{source}: no *.parquet files (a partitioned catalogue is a directory of them)")
    parts = []
    for path in files:
        try:
            meta = pq.ParquetFile(path).metadata
        except Exception as exc:
            raise GlobsmlError(f"{path}: not a readable Parquet file ({exc})") from None
        stack = path.with_suffix(".npy")
        if stack.is_file():
            try:
                shape = np.load(stack, mmap_mode="r").shape
            except (OSError, ValueError) as exc:
                raise GlobsmlError(f"{stack}: not a readable cut-out stack ({exc})") from None
            if shape != (meta.num_rows, *CUTOUT_SHAPE):
                raise GlobsmlError(
                    f"{stack}: cut-out stack has shape {shape}, expected ({meta.num_rows}, 2, 20, 20) for {path.name}"
                )
        offset = 0
        for rg in range(meta.num_row_groups):
            n = meta.row_group(rg).num_rows
            parts.append(Partition(len(parts), str(path), rg, offset, n, str(stack) if stack.is_file() else ""))
            offset += n
    return parts


# -- worker side ---------------------------------------------------------------
_BUNDLES = {}


def _worker_bundle(ref):
    """The bundle of a task; loaded once per worker process from its path."""
    if isinstance(ref, Bundle):
        return ref
    if ref not in _BUNDLES:
        _BUNDLES[ref] = load_bundle(ref)
    return _BUNDLES[ref]


def _read_rows(part, columns):
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(part.path)
    names = set(pf.schema_arrow.names)
    wanted = [c for c in columns if c in names]
    return pf.read_row_group(part.row_group, columns=wanted).to_pandas()


def _predict_partition(bundle, part, *, ebv=None):
    """(rows, (p_gc, p_gc_std)) of one partition."""
    base = ["galaxy", "ID", *POSITION_COLUMNS, *PHOTOMETRY_COLUMNS, "pGC"]
    if bundle.input == "features":
        rows = _read_rows(part, [*base, *bundle.features])
        if all(c in rows.columns for c in bundle.features):
            return rows, bundle.predict_proba(rows, return_std=True)
        if not part.stack:
            missing = [c for c in bundle.features if c not in rows.columns]
            raise GlobsmlError(
                f"{part.path}: lacks feature column(s) {', '.join(missing[:5])}{'...' if len(missing) > 5 else ''} "
                "and has no cut-out stack (.npy) to compute them from"
            )
        frames = np.load(part.stack, mmap_mode="r")[part.offset : part.offset + part.n_rows]
        pieces = []
        galaxies = rows["galaxy"].astype(str).to_numpy()
        for galaxy in pd.unique(galaxies):
            where = np.flatnonzero(galaxies == galaxy)
            gal_ebv = ebv.get(galaxy) if isinstance(ebv, dict) else ebv
            feats = features_from_cutouts(np.asarray(frames[where], dtype=np.float32), galaxy=galaxy,
                                          ids=rows["ID"].to_numpy()[where], ebv=gal_ebv)
            feats = _with_input_columns(feats, rows.iloc[where])
            feats.index = where
            pieces.append(feats)
        feats = pd.concat(pieces).sort_index()
        return feats, bundle.predict_proba(feats, return_std=True)
    if not part.stack:
        raise GlobsmlError(
            f"{part.path}: bundle {bundle.name!r} needs cut-outs, and there is no {Path(part.path).stem}.npy"
        )
    rows = _read_rows(part, base)
    frames = np.load(part.stack, mmap_mode="r")[part.offset : part.offset + part.n_rows]
    return rows, bundle.predict_proba(frames, return_std=True)


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run_partition(ref, part, out_path, threshold, ebv):
    """Task body: predict one partition and write its catalogue; return counts, size and digest."""
    bundle = _worker_bundle(ref)
    rows, (p, std) = _predict_partition(bundle, part, ebv=ebv)
    cat = catalogue_frame(rows, p, bundle.threshold if threshold is None else threshold, p_gc_std=std)
    with atomic_path(out_path) as tmp:
        cat.to_parquet(tmp, index=False)
        record = {"size": os.path.getsize(tmp), "sha256": _file_digest(tmp)}
    return part.index, len(cat), int(cat["is_gc"].sum()), record


# -- driver side ---------------------------------------------------------------
def _bundle_ref(bundle):
    """What travels to the workers: a path or name (loaded there) or the object."""
    if isinstance(bundle, Bundle):
        return str(bundle.path) if bundle.path is not None and not getattr(bundle, "_changed", False) else bundle
    return str(bundle)


def _run_identity(bundle, source, threshold, parts):
    return {
        "source": str(Path(source).resolve()),
        "bundle": bundle.manifest.get("digest") if bundle.manifest else bundle.name,
        "threshold": threshold,
        "partitions": [asdict(p) | {"path": str(Path(p.path).name)} for p in parts],
    }


def _prepare_out(out, identity):
    out = Path(out).absolute()
    out.mkdir(parents=True, exist_ok=True)
    run_file = out / RUN_FILE
    if run_file.exists():
        previous = json.loads(run_file.read_text())
        if previous != identity:
            raise GlobsmlError(
                f"{out}: holds the output of another run (other input, bundle or threshold); "
                "remove it or choose another --out"
            )
    else:
        stray = [p.name for p in out.glob("*.parquet")]
        if stray:
            raise GlobsmlError(f"{out}: already holds Parquet files ({stray[0]}...) not written by this run")
        with atomic_path(run_file) as tmp:
            tmp.write_text(json.dumps(identity, indent=1))
    for stale in out.glob(".*.tmp*"):  # left by a run killed while writing
        stale.unlink(missing_ok=True)
    return out


@contextlib.contextmanager
def _locked(out):
    """Hold the output directory's lock: a second run on it fails at once."""
    import fcntl

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK_FILE, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GlobsmlError(f"{out}: another run is writing to it (locked); wait for it or choose another --out") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_done(out):
    try:
        done = json.loads((out / DONE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return done if isinstance(done, dict) else {}


def _write_done(out, done):
    with atomic_path(out / DONE_FILE) as tmp:
        tmp.write_text(json.dumps(done, indent=0, sort_keys=True))


def _finished(path, part, record):
    """Counts of an output partition that is whole, or None (missing, damaged, empty, other size)."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return None
    if record is not None and (record.get("size") != path.stat().st_size or record.get("sha256") != _file_digest(path)):
        return None
    try:
        table = pq.read_table(path, columns=["is_gc"])
    except Exception:  # truncated, empty or not Parquet: recompute it
        return None
    if table.num_rows != part.n_rows:
        return None
    return table.num_rows, int(table.column("is_gc").to_numpy().sum())


def _failure(part, exc):
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"partition {part.index} ({Path(part.path).name}, row group {part.row_group}): {text}"


def predict_partitions(bundle, source, *, out, engine="dask", scheduler=None, n_workers=2, processes=True,
                       memory_limit="1GiB", threshold=None, ebv=None, progress=True):
    """Predict every partition of a partitioned catalogue; write a Parquet dataset.

    Parameters
    ----------
    bundle : Bundle, str or Path
        A bundle (saved bundles travel to the workers as their path), or a
        published network's name.
    source : str or Path
        A partitioned catalogue (see :func:`write_partitions`).
    out : str or Path
        Output directory: one ``part.NNNNN.parquet`` per partition.
        Partitions already there from the same run are skipped (resume).
    engine : {"dask", "serial"}
        ``"dask"``: tasks on a dask.distributed cluster; ``"serial"``: the
        same tasks one after the other in this process.
    scheduler : str, optional
        Address of a running scheduler (paths must be visible to its
        workers); a :class:`distributed.LocalCluster` otherwise.
    n_workers : int
        Workers of the LocalCluster (one thread each).
    processes : bool
        LocalCluster workers as processes (True) or threads.
    memory_limit : str
        Memory limit per LocalCluster worker.
    threshold : float, optional
        The bundle's threshold by default.
    ebv : float or dict, optional
        E(B-V) for features computed from cut-outs.
    progress : bool
        Show a progress bar over partitions.

    Returns
    -------
    dict
        ``n_sources``, ``n_candidates``, ``n_partitions``, ``n_skipped``, ``out``.
    """
    if engine not in ("dask", "serial"):
        raise GlobsmlError(f"unknown engine {engine!r}; use 'dask' or 'serial'")
    bundle = load_bundle(bundle)
    parts = list_partitions(source)
    threshold = check_threshold(bundle.threshold if threshold is None else threshold)
    with _locked(out):
        out = _prepare_out(out, _run_identity(bundle, source, threshold, parts))
        return _predict_locked(bundle, parts, out, engine=engine, scheduler=scheduler, n_workers=n_workers,
                               processes=processes, memory_limit=memory_limit, threshold=threshold, ebv=ebv,
                               progress=progress)


def _predict_locked(bundle, parts, out, *, engine, scheduler, n_workers, processes, memory_limit, threshold, ebv,
                    progress):
    records = _read_done(out)
    counts, todo = {}, []
    for part in parts:
        path = out / f"part.{part.index:05d}.parquet"
        finished = _finished(path, part, records.get(path.name))
        if finished is None:
            path.unlink(missing_ok=True)
            records.pop(path.name, None)
            todo.append((part, path))
        else:
            counts[part.index] = finished
    n_skipped = len(counts)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(parts), initial=n_skipped, desc="partitions", unit="part")
    failures = []

    def finished_one(result):
        index, n, n_gc, record = result
        counts[index] = (n, n_gc)
        records[f"part.{index:05d}.parquet"] = record
        _write_done(out, records)
        if bar is not None:
            bar.update()

    ref = _bundle_ref(bundle)
    try:
        if engine == "serial":
            for part, path in todo:
                try:
                    finished_one(_run_partition(ref, part, path, threshold, ebv))
                except (GlobsmlError, OSError, ValueError) as exc:
                    failures.append(_failure(part, exc))
        else:
            _run_dask(ref, todo, threshold, ebv, scheduler=scheduler, n_workers=n_workers, processes=processes,
                      memory_limit=memory_limit, on_result=finished_one, failures=failures)
    finally:
        if bar is not None:
            bar.close()
    if failures:
        raise GlobsmlError(
            f"{len(failures)} of {len(parts)} partition(s) failed, first {failures[0]}; the other partitions "
            f"are written to {out}; rerun the same command to retry the failed ones"
        )
    return {
        "n_sources": int(sum(n for n, _ in counts.values())),
        "n_candidates": int(sum(g for _, g in counts.values())),
        "n_partitions": len(parts),
        "n_skipped": n_skipped,
        "out": str(out),
    }


def _run_dask(ref, todo, threshold, ebv, *, scheduler, n_workers, processes, memory_limit, on_result, failures):
    """Run the partitions on a cluster; ``on_result`` records each one as it arrives, ``failures`` collects lines."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            # Only this machine may reach the cluster and its dashboards (free ports: 8787 may
            # be taken). Thread workers share this process, whose memory (everything the caller
            # loaded) a per-worker limit would count: past it the workers pause and the run hangs.
            local = {"host": "127.0.0.1"} if processes else {}  # thread workers talk in-process already
            cluster = LocalCluster(n_workers=int(n_workers), threads_per_worker=1, processes=processes,
                                   memory_limit=memory_limit if processes else 0, **local,
                                   dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0")
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise GlobsmlError(f"cannot reach the dask scheduler {scheduler or '(local cluster)'}: {exc}") from None
    by_key = {}
    try:
        ref_future = client.scatter(ref, broadcast=True) if isinstance(ref, Bundle) else ref
        futures = []
        for part, path in todo:
            future = client.submit(_run_partition, ref_future, part, str(Path(path).absolute()), threshold, ebv,
                                   key=f"globsml-part-{part.index}-{os.getpid()}", retries=1)
            by_key[future.key] = part
            futures.append(future)
        for future in as_completed(futures):
            try:
                on_result(future.result())
            except GlobsmlError as exc:
                failures.append(_failure(by_key[future.key], exc))
            except Exception as exc:  # a worker died, the scheduler was lost, a task raised
                failures.append(_failure(by_key[future.key], f"{type(exc).__name__}: {exc}"))
            finally:
                future.release()  # the result is on disk: nothing to keep on the cluster
    except (OSError, TimeoutError) as exc:
        failures.append(f"the dask scheduler was lost ({type(exc).__name__}: {exc})")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def read_partitioned(directory):
    """Read a partitioned output (or catalogue) directory into one DataFrame, in partition order."""
    directory = Path(directory)
    files = sorted(p for p in directory.glob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:
        raise GlobsmlError(f"{directory}: no *.parquet files")
    return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)
