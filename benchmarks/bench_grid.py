"""The published grid, this code against a baseline checkout, side by side in one run (issue 21, point 3).

Runs ``globsml benchmark`` (the 11 default classical models, published
settings: not ``--quick``) once with the baseline's sources and once with
this checkout's, one after the other on the same machine, each in a fresh
output directory, and records for each: wall seconds, CPU seconds of the
child processes (user + system: on a machine shared with other work the
wall clock also counts other people's work), the per-model fit/predict
seconds from ``runs.csv``, and how far the two results tables are apart
(per model and set-up, the largest difference of every metric) together with
the spread of the same metric over the All2All seeds (the models' own seed
noise).

Usage::

    nice python benchmarks/bench_grid.py --data DIR --baseline SRC [--setups ...] [--seeds N]
                                         [--tag TAG] [--order new-first]

``SRC`` is the ``src`` folder of a baseline checkout (e.g. ``git worktree add
--detach ../base f2ca81b`` and ``../base/src``). Writes
``benchmarks/results/bench_grid[_TAG].json`` and ``.md``.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
#: Columns ``<metric>_mean`` / ``<metric>_std`` of the benchmark's results.csv.
METRICS = ["tpr", "fdr", "fpr", "roc_auc", "auc_fdr_tpr", "average_precision", "brier"]


def _load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_grid(src, data, out, *, setups, seeds, jobs, models=None):
    """Run ``globsml benchmark`` with ``src`` first on the path; wall and child CPU seconds."""
    if out.exists():
        shutil.rmtree(out)
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "globsml", "benchmark", "--data", str(data), "--out", str(out),
           "--seeds", str(seeds), "--no-progress", "--setups", *setups]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if models:
        cmd += ["--models", *models]
    load = _load_average()
    c0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return {"src": str(src), "command": "PYTHONPATH=" + str(src) + " " + " ".join(cmd[1:]),
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "load_average_before": load, "load_average_after": _load_average(), **run_seconds(out)}


def run_seconds(out):
    """Per model, the wall and CPU seconds of its fits and predictions summed over its runs (runs.csv).

    The CPU seconds are each run's process time in its worker: they add up to
    what the runs cost on free cores, whatever else the machine did (the
    child-process CPU above misses worker processes that are not waited for).
    """
    runs = pd.read_csv(out / "runs.csv")
    cols = [c for c in ("fit_s", "predict_s", "fit_cpu_s", "predict_cpu_s") if c in runs.columns]
    per_model = runs.groupby("model", sort=False)[cols].sum().round(1)
    cpu = float(runs[["fit_cpu_s", "predict_cpu_s"]].to_numpy().sum()) if "fit_cpu_s" in cols else None
    return {"n_runs": int(len(runs)), "runs_cpu_s": None if cpu is None else round(cpu, 1),
            "fit_predict_s_per_model": per_model.reset_index().to_dict(orient="records")}


def compare(out_base, out_new):
    """Largest difference per model and set-up of each metric, next to the All2All seed spread."""
    base = pd.read_csv(out_base / "results.csv")
    new = pd.read_csv(out_new / "results.csv")
    keys = ["model", "setup"]
    metrics = [m for m in METRICS if f"{m}_mean" in base.columns]
    merged = base.merge(new, on=keys, suffixes=("_base", "_new"))
    rows = []
    for _, r in merged.iterrows():
        row = {"model": r["model"], "setup": r["setup"]}
        for m in metrics:
            row[m] = abs(float(r[f"{m}_mean_new"]) - float(r[f"{m}_mean_base"]))
            std = f"{m}_std_base"
            if std in merged.columns:
                row[f"{m} seed std"] = float(r[std])
        rows.append(row)
    diff = pd.DataFrame(rows)
    return diff, metrics


def _pred_diff(out_base, out_new):
    """Largest |p_gc| difference of any test source, per model, over every run."""
    out = {}
    for path in sorted((out_base / "runs").glob("*/*/run*/predictions.csv")):
        rel = path.relative_to(out_base)
        other = out_new / rel
        if not other.is_file():
            continue
        model = rel.parts[2]
        pa, pb = pd.read_csv(path)["p_gc"].to_numpy(), pd.read_csv(other)["p_gc"].to_numpy()
        out[model] = max(out.get(model, 0.0), float(np.max(np.abs(pa - pb))) if len(pa) else 0.0)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="labelled data directory (a mock survey)")
    parser.add_argument("--baseline", required=True, help="the src folder of the baseline checkout")
    parser.add_argument("--setups", nargs="+", default=["all"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: the default)")
    parser.add_argument("--order", choices=["baseline-first", "new-first"], default="baseline-first")
    parser.add_argument("--only", choices=["both", "new", "baseline", "report"], default="both",
                        help="'report': no runs, rewrite the report from --keep and the tag's JSON")
    parser.add_argument("--tag", default="")
    parser.add_argument("--keep", default=None, help="keep the two outputs under this folder")
    args = parser.parse_args(argv)

    data = Path(args.data).resolve()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="globsml-grid-"))
    work.mkdir(parents=True, exist_ok=True)
    sides = {"baseline": Path(args.baseline).resolve(), "new": ROOT / "src"}
    order = ["baseline", "new"] if args.order == "baseline-first" else ["new", "baseline"]
    if args.only in ("new", "baseline"):
        order = [args.only]
    marker = data / ".globsml-mock.json"
    record = {"what": "globsml benchmark, published settings, baseline and this checkout one after the other",
              "data": str(data), "mock": json.loads(marker.read_text()) if marker.is_file() else None,
              "setups": args.setups, "seeds": args.seeds, "models": args.models, "jobs": args.jobs or None,
              "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "command": "python benchmarks/bench_grid.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    if args.only == "report":  # the runs are there: the record of the run, the run times again from runs.csv
        stored = ROOT / "benchmarks" / "results" / f"bench_grid_{args.tag}.json"
        missing = [str(p) for p in (stored, *(work / side / "runs.csv" for side in order)) if not p.is_file()]
        if missing:
            parser.error(f"--only report needs the earlier run's record and outputs; missing: {', '.join(missing)}")
        old = json.loads(stored.read_text())
        record = {**old, "report_command": record["command"]}
        for side in order:
            record[side].update(run_seconds(work / side))
    for side in order if args.only != "report" else ():
        print(f"running {side} ({sides[side]}) ...", flush=True)
        record[side] = run_grid(sides[side], data, work / side, setups=args.setups, seeds=args.seeds,
                                jobs=args.jobs, models=args.models)
        print(side, {k: record[side][k] for k in ("wall_s", "cpu_s", "n_runs")}, flush=True)
    lines = [f"# The published grid: baseline vs this checkout ({args.tag or 'run'})", "",
             f"Command: `{record['command']}`", "",
             f"Data: {data} ({record['mock']}); {os.cpu_count()} CPUs, shared with other sessions: "
             "the wall clock counts their work too, CPU seconds (user + system of the benchmark's "
             "processes) do not.", "",
             "| code | wall s | CPU s of the runs (sum of fit + predict process time) | child-process CPU s "
             "(misses workers not waited for) | runs | load before | load after |", "|---|---|---|---|---|---|---|"]
    for side in order:
        r = record[side]
        lines.append(f"| {side} | {r['wall_s']} | {r.get('runs_cpu_s')} | {r['cpu_s']} | {r['n_runs']} "
                     f"| {r['load_average_before']} | {r['load_average_after']} |")
    if args.only in ("both", "report"):
        b, n = record["baseline"], record["new"]
        record["wall_ratio"] = round(b["wall_s"] / n["wall_s"], 2)
        record["cpu_ratio"] = round(b["cpu_s"] / n["cpu_s"], 2)
        if b.get("runs_cpu_s") and n.get("runs_cpu_s"):
            record["runs_cpu_ratio"] = round(b["runs_cpu_s"] / n["runs_cpu_s"], 3)
        cpu_ratio = (f"CPU of the runs {record['runs_cpu_ratio']}x" if "runs_cpu_ratio" in record else
                     f"child-process CPU {record['cpu_ratio']}x (the baseline records no CPU time per run)")
        lines += ["", f"Baseline / new: wall {record['wall_ratio']}x, {cpu_ratio}.", ""]
        diff, metrics = compare(work / "baseline", work / "new")
        record["metric_abs_diff"] = diff.round(5).to_dict(orient="records")
        record["max_abs_p_gc_diff_per_model"] = _pred_diff(work / "baseline", work / "new")
        lines += ["Fit + predict CPU seconds per model (process time), summed over its runs:", "",
                  "| model | baseline fit | baseline predict | new fit | new predict | max abs p_gc difference |",
                  "|---|---|---|---|---|---|"]
        nb = {r["model"]: r for r in n["fit_predict_s_per_model"]}
        for r in b["fit_predict_s_per_model"]:
            q = nb.get(r["model"], {})
            lines.append(f"| {r['model']} | {r.get('fit_cpu_s')} | {r.get('predict_cpu_s')} | {q.get('fit_cpu_s')} | "
                         f"{q.get('predict_cpu_s')} | {record['max_abs_p_gc_diff_per_model'].get(r['model'], float('nan')):.3g} |")
        lines += ["", "Largest absolute difference of each metric (new - baseline), per model and set-up; "
                  "for All2All the baseline's standard deviation over the seeds is the model's own seed noise:", "",
                  "| model | set-up | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
        for _, r in diff.iterrows():
            cells = []
            for m in metrics:
                s = r.get(f"{m} seed std")
                cells.append(f"{r[m]:.4f}" + (f" (std {s:.4f})" if s is not None and np.isfinite(s) else ""))
            lines.append(f"| {r['model']} | {r['setup']} | " + " | ".join(cells) + " |")
    tag = f"_{args.tag}" if args.tag else ""
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    from globsml._io import atomic_path

    with atomic_path(results / f"bench_grid{tag}.json") as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
    with atomic_path(results / f"bench_grid{tag}.md") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
