"""In-memory prediction throughput: tree ensembles on tables, CNNs on cut-outs.

Trains each model once on a mock survey, then times ``predict_proba`` on a
table of ``--rows`` sources resampled from the mock (or on ``--cutouts``
cut-outs). Throughput "per core" is sources per CPU-second of this
process with every thread pool limited to one thread: on a shared machine
(2 cores for several developers) wall-clock time measures the neighbours
too, CPU time measures the model. Wall-clock figures are recorded beside
it, and a run with all threads of the machine.

The target of issue 7 is >= 1 million sources per second per core for a
tree ensemble on tables; the JSON says which model reaches it.

Run (heavy: minutes; late, with nice)::

    nice python benchmarks/bench_predict.py --data DIR --out benchmarks/results/bench_predict.json
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

TARGET_PER_CORE = 1_000_000


def _timed(func, repeat):
    """Best (CPU seconds, wall seconds) over ``repeat`` calls."""
    best = (np.inf, np.inf)
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        func()
        best = min(best, (time.process_time() - c0, time.perf_counter() - w0))
    return best


def _rates(n, cpu, wall):
    return {"cpu_s": round(cpu, 4), "wall_s": round(wall, 4),
            "per_cpu_second": round(n / cpu), "per_wall_second": round(n / wall)}


def _tabular_models():
    """(label, factory, note): registry models plus the fast path."""
    from globsml.models import make_model

    def registry(name, **params):
        return lambda: make_model(name, **params)

    from globsml.inference._train import _register_fast_path

    _register_fast_path()

    def lightgbm_pipeline():
        from lightgbm import LGBMClassifier
        from sklearn.pipeline import Pipeline

        from globsml.preprocessing import make_preprocessor

        return Pipeline([("preprocess", make_preprocessor()),
                         ("model", LGBMClassifier(n_estimators=300, random_state=0, n_jobs=1, verbose=-1))])

    return [
        ("forest", registry("forest", n_jobs=1), "registry 'forest': 100 fully grown trees (published)"),
        ("hgb", registry("hgb"), "registry 'hgb': 300 rounds"),
        ("catboost", registry("catboost", thread_count=1), "registry 'catboost': 1000 oblivious trees (published)"),
        ("lightgbm", lightgbm_pipeline, "LightGBM 300 rounds behind the published preprocessing (not in the registry)"),
        ("catboost-fast", registry("catboost-fast"),
         "fast path 'catboost-fast' (globsml.inference): CatBoost 300 trees on raw float32 features, "
         "no rescaling step; input a DataFrame as for the others"),
    ]


def bench_tables(ds, rows, repeat, names):
    from threadpoolctl import threadpool_limits

    from globsml.data import FEATURES
    from globsml.preprocessing import complete_rows

    X = ds.features()
    y = ds.y
    keep = np.asarray(complete_rows(X), dtype=bool)
    rng = np.random.default_rng(0)
    big = X.iloc[rng.integers(0, len(X), rows)].reset_index(drop=True)
    big32 = np.ascontiguousarray(big.to_numpy(dtype=np.float32))
    results = {}
    for label, factory, note in _tabular_models():
        if names and label not in names:
            continue
        print(f"[tables] {label}: fitting on {keep.sum()} mock sources", file=sys.stderr, flush=True)
        model = factory()
        # One thread for fitting too: OpenMP pools spin badly on an oversubscribed machine.
        with threadpool_limits(1):
            model.fit(X[keep], y[keep])
        entry = {"note": note, "rows": rows}
        with threadpool_limits(1):
            if label == "catboost-fast":
                cpu, wall = _timed(lambda: model.predict_proba(big)[:, 1], repeat)
                entry["one_thread"] = _rates(rows, cpu, wall)
                cpu, wall = _timed(lambda: model.predict_proba(big32)[:, 1], repeat)
                entry["one_thread_float32_array_input"] = _rates(rows, cpu, wall)
            else:
                cpu, wall = _timed(lambda: model.predict_proba(big)[:, 1], repeat)
                entry["one_thread"] = _rates(rows, cpu, wall)
                pre = model[:-1].transform(big)
                cpu, wall = _timed(lambda: model[-1].predict_proba(pre)[:, 1], repeat)
                entry["one_thread_estimator_only"] = _rates(rows, cpu, wall)
                cpu, wall = _timed(lambda: model[:-1].transform(big), repeat)
                entry["one_thread_preprocessing_only"] = _rates(rows, cpu, wall)
        entry["meets_target_per_core"] = entry["one_thread"]["per_cpu_second"] >= TARGET_PER_CORE
        results[label] = entry
        print(f"[tables] {label}: {entry['one_thread']['per_cpu_second']:,} sources per CPU-second (1 thread)",
              file=sys.stderr, flush=True)
    return results, list(FEATURES)


def bench_cnn(ds, n_cutouts, repeat, published_passes):
    import torch

    from globsml.models import make_model, model_names

    rng = np.random.default_rng(0)
    rows = rng.integers(0, len(ds), n_cutouts)
    cut = ds.images(np.sort(rows))
    results = {}
    print(f"[cnn] fitting 'cnn' (quick) on {len(ds)} mock cut-outs", file=sys.stderr, flush=True)
    cnn = make_model("cnn", quick=True).fit(ds.images(), ds.y)
    candidates = [(f"cnn (quick, mc_passes={cnn.get_params().get('mc_passes', 1)})", cnn,
                   max(int(cnn.get_params().get("mc_passes", 1) or 1), 1))]
    if os.environ.get("GLOBSML_PUBLISHED_MODELS") and "published-cnn-virgo2fornax" in model_names():
        for passes in published_passes:
            model = make_model("published-cnn-virgo2fornax", mc_passes=passes)
            candidates.append((f"published-cnn-virgo2fornax/mc_passes={passes}", model, max(passes, 1)))
    for label, model, passes in candidates:
        n = n_cutouts if passes <= 1 else max(200, n_cutouts // passes)
        x = cut[:n]
        entry = {"cutouts": int(n), "forward_passes_per_cutout": int(passes)}
        for threads in (1, torch.get_num_threads()):
            old = torch.get_num_threads()
            torch.set_num_threads(threads)
            if hasattr(model, "n_threads"):
                model.set_params(n_threads=threads)
            try:
                cpu, wall = _timed(lambda: model.predict_proba(x), repeat)
            finally:
                torch.set_num_threads(old)
            entry[f"threads_{threads}"] = _rates(n, cpu, wall)
        results[label] = entry
        print(f"[cnn] {label}: {entry['threads_1']['per_cpu_second']:,} cut-outs per CPU-second (1 thread)",
              file=sys.stderr, flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="labelled mock data directory (default: globsml's default mock)")
    parser.add_argument("--rows", type=int, default=2_000_000, help="table rows to predict (default 2,000,000)")
    parser.add_argument("--cutouts", type=int, default=20_000, help="cut-outs for the CNN (default 20,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timings per figure; the best is kept")
    parser.add_argument("--models", default="", help="comma-separated subset of the table models")
    parser.add_argument("--published-passes", default="1,200",
                        help="MC-dropout passes to time for the published CNN (needs $GLOBSML_PUBLISHED_MODELS)")
    parser.add_argument("--skip-cnn", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_predict.json"))
    args = parser.parse_args(argv)

    import globsml
    from globsml._io import atomic_path

    from globsml.experiments import resolve_dataset

    ds = resolve_dataset(args.data)  # None: the default mock
    names = [n for n in args.models.split(",") if n]
    tables, _ = bench_tables(ds, args.rows, args.repeat, names)
    record = {
        "benchmark": "in-memory prediction throughput",
        "command": "nice python benchmarks/bench_predict.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "globsml_version": globsml.__version__,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_at_start": list(os.getloadavg())},
        "training_data": {"path": str(ds.name), "n_sources": len(ds)},
        "target_sources_per_second_per_core": TARGET_PER_CORE,
        "tables": tables,
        "models_meeting_target": [k for k, v in tables.items() if v["meets_target_per_core"]],
    }
    if not args.skip_cnn:
        passes = [int(p) for p in args.published_passes.split(",") if p]
        record["cnn"] = bench_cnn(ds, args.cutouts, args.repeat, passes)
    record["load_average_at_end"] = list(os.getloadavg())
    out = Path(args.out)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(record, indent=1))
    print(json.dumps({k: v["one_thread"]["per_cpu_second"] for k, v in tables.items()}, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
