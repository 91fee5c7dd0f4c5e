"""Survey-scale prediction on Dask: a >= 10-million-row catalogue, with its peak memory.

1. Train a tabular bundle on a mock survey (``globsml train``, in a
   subprocess, so that the measured run carries nothing of it).
2. Make a catalogue of ``--rows`` sources by resampling the mock's table
   (positions, IDs and the 29 features), written partition by partition as
   Parquet files of ``--rows-per-partition`` rows (never all in memory).
3. Run ``globsml predict --engine dask`` on it (a LocalCluster of
   ``--workers`` worker processes) as a subprocess, and sample the resident
   memory of that process and all its children (scheduler, nannies,
   workers) every 0.1 s: the peak of the sum (RSS, which counts shared
   library pages once per process, so it over-states; and PSS, which
   shares them out) is the figure.
4. Check the output: one row per input row, and one partition predicted
   again in memory gives the same p_gc.

Results go to ``benchmarks/results/bench_dask.json``. Target of issue 7:
peak memory under 2 GB for 10 million rows.

Run (heavy: minutes, GBs of disk in --work; late, with nice)::

    nice python benchmarks/bench_dask.py --data DIR --work /tmp/globsml-bench-dask
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

TARGET_PEAK_BYTES = 2 * 1000**3
KEEP = ("galaxy", "ID", "xcentroid", "ycentroid", "sky_centroid.ra", "sky_centroid.dec")


class MemorySampler(threading.Thread):
    """Peak of the summed memory of a process tree, sampled in a thread."""

    def __init__(self, pid, interval=0.1):
        super().__init__(daemon=True)
        import psutil

        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self):
        import psutil

        while not self._halt.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            rss = pss = 0
            n = 0
            for p in procs:
                try:
                    info = p.memory_full_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
                n += 1
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_processes = max(self.peak_processes, n)
            self.samples += 1
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()


def make_catalogue(table, directory, rows, rows_per_partition, seed=0):
    """Resample ``table`` into ``rows`` rows of partitioned Parquet; return the file count."""
    from globsml.data import FEATURES
    from globsml.inference import write_partitions

    columns = [c for c in (*KEEP, *FEATURES) if c in table.columns]
    base = table.loc[:, columns].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    n_parts = -(-rows // rows_per_partition)
    for i in range(n_parts):
        path = directory / f"part.{i:05d}.parquet"
        if path.exists():  # resumable: partitions are deterministic
            continue
        n = min(rows_per_partition, rows - i * rows_per_partition)
        part = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
        # Resampled rows get IDs of their own so that every row is one source.
        part["ID"] = np.arange(i * rows_per_partition, i * rows_per_partition + n, dtype=np.int64)
        write_partitions(part, directory, rows_per_partition=n, prefix=f"tmp{i:05d}")
        os.replace(directory / f"tmp{i:05d}.00000.parquet", path)
    return n_parts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="labelled mock data directory (default: globsml's default mock)")
    parser.add_argument("--model", default="catboost", help="registry model of the bundle (default catboost)")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rows-per-partition", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", default="/tmp/globsml-bench-dask", help="scratch directory (GBs)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_dask.json"))
    args = parser.parse_args(argv)

    import pandas as pd

    import globsml
    from globsml._io import atomic_path
    from globsml.inference import list_partitions, load_bundle, predict_catalogue

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.data:
        data = Path(args.data)
    else:
        from globsml.mock import default_data_dir

        data = default_data_dir()
    bundle = work / f"{args.model}.bundle"
    if not bundle.exists():
        print(f"[dask] training {args.model} on {data}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "globsml", "train", "--data", str(data), "--model", args.model,
                        "--setup", "all2all", "--out", str(bundle)], check=True)
    catalogue = work / f"catalogue-{args.rows}-{args.rows_per_partition}"
    t0 = time.perf_counter()
    ds = globsml.load_dataset(data)
    n_parts = make_catalogue(ds.sources, catalogue, args.rows, args.rows_per_partition)
    t_make = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in catalogue.glob("*.parquet"))
    print(f"[dask] catalogue: {args.rows:,} rows in {n_parts} partitions, {size / 1e9:.2f} GB", file=sys.stderr)

    out = work / "candidates"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "globsml", "predict", "--model", str(bundle), "--table", str(catalogue),
           "--out", str(out), "--engine", "dask", "--workers", str(args.workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    sampler = MemorySampler(proc.pid)
    sampler.start()
    code = proc.wait()
    sampler.stop()
    wall = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"globsml predict failed with exit code {code}")

    # Check: every row is there, and one partition agrees with the in-memory path.
    import pyarrow.parquet as pq

    n_out = sum(pq.ParquetFile(p).metadata.num_rows for p in out.glob("part.*.parquet"))
    part = list_partitions(catalogue)[n_parts // 2]
    table = pd.read_parquet(part.path)
    expected = predict_catalogue(load_bundle(bundle), table=table)
    got = pd.read_parquet(out / f"part.{part.index:05d}.parquet")
    same = bool(np.array_equal(got["p_gc"].to_numpy(), expected["p_gc"].to_numpy()))
    record = {
        "benchmark": "Dask prediction over a partitioned Parquet catalogue",
        "command": "nice python benchmarks/bench_dask.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "predict_command": " ".join(["globsml", *cmd[3:]]),
        "globsml_version": globsml.__version__,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_at_end": list(os.getloadavg())},
        "model": args.model,
        "training_data": {"path": str(data), "n_sources": len(ds)},
        "rows": args.rows,
        "rows_per_partition": args.rows_per_partition,
        "partitions": n_parts,
        "catalogue_bytes_on_disk": size,
        "catalogue_make_s": round(t_make, 1),
        "workers": args.workers,
        "wall_s": round(wall, 1),
        "sources_per_second": round(args.rows / wall),
        "output_rows": int(n_out),
        "output_rows_match": int(n_out) == args.rows,
        "partition_checked_in_memory": part.index,
        "same_p_gc_as_in_memory": same,
        "peak_memory_rss_sum_bytes": sampler.peak_rss,
        "peak_memory_pss_sum_bytes": sampler.peak_pss,
        "peak_processes": sampler.peak_processes,
        "memory_samples": sampler.samples,
        "target_peak_bytes": TARGET_PEAK_BYTES,
        "meets_target": sampler.peak_rss < TARGET_PEAK_BYTES,
    }
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(json.dumps(record, indent=1))
    print(json.dumps({k: record[k] for k in ("rows", "wall_s", "sources_per_second", "peak_memory_rss_sum_bytes",
                                             "peak_memory_pss_sum_bytes", "same_p_gc_as_in_memory",
                                             "meets_target")}, indent=1))
    if not args.keep:
        shutil.rmtree(catalogue, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
