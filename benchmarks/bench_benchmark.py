"""Time ``globsml benchmark`` on the full-size mock: all tabular models, all set-ups.

Target (issue 4): every model of the publication (+ hgb and calibrated-forest)
in All2All (10 seeds), Virgo2Fornax, Fornax2Virgo and leave-galaxies-out
(5 folds) on the full-size mock (84,929 sources) in under 15 minutes on 2
cores.

Usage::

    nice python benchmarks/bench_benchmark.py [--data DIR] [--seeds 10] [--quick] [--out DIR]
                                              [--models ...] [--setups ...]

Uses the full-size mock (``globsml.mock.default_mock_path()``) unless ``--data`` is
given, and refuses to run without data (it never makes the mock itself: that
takes long). Writes ``benchmarks/results/bench_benchmark.json`` (wall time,
load average, per-model fit/predict times, the configuration) and
``benchmarks/results/bench_benchmark.md`` (the results table). The output
directory is fresh for each measurement (resumed runs would not be timed): an
``--out`` that holds a previous benchmark's output is emptied first, any other
non-empty folder is refused.
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]


def _load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


def main(argv=None):
    from globsml import load_dataset
    from globsml.experiments import DEFAULT_MODELS, display_table, markdown_table, run_benchmark
    from globsml.cli._benchmark import parse_params
    from globsml.mock import default_mock_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="data directory (default: the full-size mock)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--setups", nargs="+", default=["all"])
    parser.add_argument("--out", default=None, help="keep the benchmark output here (default: temp)")
    parser.add_argument("--param", action="append", default=[], metavar="MODEL:KEY=VALUE",
                        help="model parameter override, as in `globsml benchmark --param`")
    parser.add_argument("--jobs", type=int, default=0,
                        help="worker processes (default 0: one per CPU core)")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    args = parser.parse_args(argv)
    params = parse_params(args.param)

    data = Path(args.data) if args.data else default_mock_path()
    if not (data / "ACS_sources_original.csv").is_file():
        print(f"no data at {data}: make the full-size mock first (`globsml mock`)", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="globsml-bench-"))
    if out.exists() and any(out.iterdir()):
        # time every run: nothing may be resumed; but only a benchmark's own output is removed
        if not ((out / "config.json").is_file() and (out / "runs").is_dir()):
            print(f"{out}: not empty and not a benchmark output; choose another --out", file=sys.stderr)
            return 2
        shutil.rmtree(out)
    marker = data / ".globsml-mock.json"
    mock = json.loads(marker.read_text()) if marker.is_file() else None  # scale, seed of a mock
    load_before = _load_average()
    t0 = time.perf_counter()
    ds = load_dataset(data)
    t_load = time.perf_counter() - t0
    result = run_benchmark(ds, models=args.models, setups=args.setups, seeds=args.seeds,
                           n_folds=args.folds, out=out, quick=args.quick, progress=True,
                           jobs=args.jobs or None, params=params)
    wall = time.perf_counter() - t0
    runs = result.runs
    per_model = (runs.groupby("model", sort=False)[["fit_s", "predict_s"]].sum().round(1)
                 .reset_index().to_dict(orient="records"))
    record = {
        "what": "globsml benchmark (run_benchmark), every run timed (nothing resumed)",
        "mock": mock,
        "data": str(data), "n_sources": len(ds), "models": args.models, "setups": args.setups,
        "seeds": args.seeds, "folds": args.folds, "quick": args.quick, "params": params, "jobs": args.jobs or os.cpu_count(), "n_runs": int(len(runs)),
        "wall_s": round(wall, 1), "load_s": round(t_load, 1),
        "target_s": 900, "under_15_min": wall < 900,
        "fit_predict_s_per_model": per_model,
        "cpus": os.cpu_count(), "load_average_before": load_before, "load_average_after": _load_average(),
        "python": platform.python_version(), "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    # The 15-minute target (issue 4) is for the default models in every set-up.
    full_grid = list(args.models) == list(DEFAULT_MODELS) and args.setups == ["all"] and args.seeds >= 10
    record["target_applies"] = full_grid
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    tag = f"_{args.tag}" if args.tag else ""
    write_text(results / f"bench_benchmark{tag}.json", json.dumps(record, indent=1) + "\n")
    table = markdown_table(display_table(result.table))
    scale_note = f", mock survey scale {mock['scale']} seed {mock['seed']}" if mock else ""
    cmd = "python benchmarks/bench_benchmark.py " + " ".join(argv if argv is not None else sys.argv[1:])
    write_text(results / f"bench_benchmark{tag}.md",
        f"# globsml benchmark on {data.name} ({len(ds)} sources{scale_note})\n\n"
        f"Command: `{cmd.strip()}`\n\n"
        f"Wall time {wall / 60:.1f} min for {len(runs)} runs on {os.cpu_count()} cores "
        f"(load average before {load_before}, after {record['load_average_after']})"
        + (f"; target 15 min: {'met' if wall < 900 else 'NOT met'}" if full_grid else "")
        + f".\n\n{table}\n"
        "Seconds of fitting and predicting per model, summed over its runs (in "
        f"{record['jobs']} worker processes):\n\n| model | fit s | predict s |\n|---|---|---|\n"
        + "".join(f"| {r['model']} | {r['fit_s']} | {r['predict_s']} |\n" for r in per_model))
    print(table)
    print(json.dumps({k: record[k] for k in ("wall_s", "n_runs", "under_15_min")}))
    print(f"output: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
