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
"""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import GlobsmlError
from .._io import atomic_path
from ..data import CUTOUT_SHAPE
from ._bundle import Bundle, load_bundle
from ._catalogue import PHOTOMETRY_COLUMNS, POSITION_COLUMNS
from ._predict import _with_input_columns, catalogue_frame, features_from_cutouts

__all__ = ["Partition", "write_partitions", "list_partitions", "predict_partitions", "read_partitioned"]

RUN_FILE = "_globsml_run.json"


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

    source = Path(source)
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
            shape = np.load(stack, mmap_mode="r").shape
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


def _run_partition(ref, part, out_path, threshold, ebv):
    """Task body: predict one partition and write its catalogue; return counts."""
    bundle = _worker_bundle(ref)
    rows, (p, std) = _predict_partition(bundle, part, ebv=ebv)
    cat = catalogue_frame(rows, p, bundle.threshold if threshold is None else threshold, p_gc_std=std)
    with atomic_path(out_path) as tmp:
        cat.to_parquet(tmp, index=False)
    return part.index, len(cat), int(cat["is_gc"].sum())


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
    out = Path(out)
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
    return out


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
    bundle = load_bundle(bundle)
    parts = list_partitions(source)
    threshold = bundle.threshold if threshold is None else float(threshold)
    out = _prepare_out(out, _run_identity(bundle, source, threshold, parts))
    todo = [(p, out / f"part.{p.index:05d}.parquet") for p in parts]
    done = [t for t in todo if t[1].exists()]
    todo = [t for t in todo if not t[1].exists()]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(parts), initial=len(done), desc="partitions", unit="part")
    ref = _bundle_ref(bundle)
    results = []
    if engine == "serial":
        for part, path in todo:
            results.append(_run_partition(ref, part, path, threshold, ebv))
            if bar is not None:
                bar.update()
    elif engine == "dask":
        results = _run_dask(ref, todo, threshold, ebv, scheduler=scheduler, n_workers=n_workers,
                            processes=processes, memory_limit=memory_limit, bar=bar)
    else:
        raise GlobsmlError(f"unknown engine {engine!r}; use 'dask' or 'serial'")
    if bar is not None:
        bar.close()
    n_sources = sum(r[1] for r in results)
    n_cands = sum(r[2] for r in results)
    if done:  # count what an earlier, interrupted run wrote
        import pyarrow.parquet as pq

        for _, path in done:
            col = pq.read_table(path, columns=["is_gc"]).column("is_gc").to_numpy()
            n_sources += len(col)
            n_cands += int(col.sum())
    return {
        "n_sources": int(n_sources),
        "n_candidates": int(n_cands),
        "n_partitions": len(parts),
        "n_skipped": len(done),
        "out": str(out),
    }


def _run_dask(ref, todo, threshold, ebv, *, scheduler, n_workers, processes, memory_limit, bar):
    from distributed import Client, LocalCluster, as_completed

    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        # Dashboards on free ports: 8787 may be taken by another cluster on the machine.
        # Thread workers share this process, whose memory (everything the caller loaded)
        # a per-worker limit would count: past it the workers pause and the run hangs.
        cluster = LocalCluster(n_workers=int(n_workers), threads_per_worker=1, processes=processes,
                               memory_limit=memory_limit if processes else 0, dashboard_address=":0",
                               worker_dashboard_address=":0")
        client = Client(cluster)
    try:
        ref_future = client.scatter(ref, broadcast=True) if isinstance(ref, Bundle) else ref
        futures = [
            client.submit(_run_partition, ref_future, part, str(path), threshold, ebv,
                          key=f"globsml-part-{part.index}-{os.getpid()}")
            for part, path in todo
        ]
        results = []
        for future in as_completed(futures):
            results.append(future.result())
            if bar is not None:
                bar.update()
        return results
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
