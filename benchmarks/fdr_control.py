"""Does ``predict --fdr`` keep its promise? Realised FDR and TPR against the fixed 0.5 threshold.

For every seed and set-up (All2All, Virgo2Fornax, Fornax2Virgo) a bundle is
trained with :func:`globsml.inference.train_bundle` (10 % of the training
part held out as calibration data) and applied to the set-up's test part.
The candidates are chosen three ways: ``p_gc > 0.5`` (the published rule),
and by :func:`globsml.inference.fdr_threshold` at FDR levels 0.05 and 0.10
(conformal p-values, Benjamini-Hochberg). For each the realised FDR (false
candidates / candidates) and TPR (GCs found / GCs) are measured on the test
labels, with the shift diagnostic (:func:`globsml.inference.calibration_shift`)
of the test part against the calibration data.

The guarantee (mean realised FDR <= level) holds where the test non-GCs are
exchangeable with the calibration ones: All2All. In Cluster2Cluster the
calibration part comes from the training cluster, and the other cluster's
shift may break it; it is reported as measured.

Usage::

    python benchmarks/fdr_control.py --data MOCKDIR [--model hgb] [--seeds 10] [--quick]

Writes ``benchmarks/results/fdr_control.{json,md}`` (``--out`` to change the stem).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
SETUPS = ("all2all", "virgo2fornax", "fornax2virgo")
LEVELS = (0.05, 0.10)


def _rates(y, chosen):
    tp = int(np.sum(chosen & (y == 1)))
    fp = int(np.sum(chosen & (y == 0)))
    return {"FDR": fp / max(tp + fp, 1), "TPR": tp / max(int(np.sum(y == 1)), 1), "n_candidates": tp + fp}


def _test_rows(ds, setup, seed):
    from globsml.experiments import all2all_split, cluster2cluster_split

    if setup == "all2all":
        return all2all_split(len(ds), seed=seed).test
    return cluster2cluster_split(ds.cluster, train_cluster="Virgo" if setup == "virgo2fornax" else "Fornax",
                                 seed=seed).test


def run_one(ds, model, setup, seed, quick):
    """One bundle: the three selections' FDR and TPR on the test part, and the shift diagnostic."""
    from globsml.inference import calibration_shift, fdr_threshold, train_bundle

    bundle = train_bundle(ds, model, setup=setup, seed=seed, quick=quick)
    rows = _test_rows(ds, setup, seed)
    y = ds.y[rows]
    p = bundle.predict_proba(ds.features().iloc[rows])
    out = {"setup": setup, "seed": seed, "n_test": int(len(rows)), "n_calibration": int(len(bundle.calibration["labels"])),
           "fixed_0.5": _rates(y, p > bundle.threshold)}
    for alpha in LEVELS:
        threshold, _ = fdr_threshold(p, bundle.calibration, alpha)
        out[f"fdr_{alpha:.2f}"] = {**_rates(y, p > threshold), "threshold": threshold}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["shift"] = calibration_shift(p, bundle.calibration, warn=False)
    return out


def summarise(runs):
    """Mean and standard deviation over seeds, per set-up and selection."""
    summary = {}
    for setup in SETUPS:
        mine = [r for r in runs if r["setup"] == setup]
        if not mine:
            continue
        summary[setup] = {}
        for rule in ("fixed_0.5", *(f"fdr_{a:.2f}" for a in LEVELS)):
            entry = {}
            for metric in ("FDR", "TPR"):
                values = np.array([r[rule][metric] for r in mine])
                entry[f"{metric}_mean"] = float(values.mean())
                entry[f"{metric}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            if rule != "fixed_0.5":
                level = float(rule.split("_")[1])
                entry["level"] = level
                entry["runs_above_level"] = int(sum(r[rule]["FDR"] > level for r in mine))
            summary[setup][rule] = entry
        summary[setup]["shift_D_mean"] = float(np.mean([r["shift"]["statistic"] for r in mine]))
        summary[setup]["shift_flagged"] = int(sum(r["shift"]["shifted"] for r in mine))
        summary[setup]["n_seeds"] = len(mine)
    return summary


def markdown(summary, meta):
    lines = [
        "# FDR control: realised FDR and TPR, conformal Benjamini-Hochberg against p_gc > 0.5",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"Data: {meta['data']} ({meta['n_sources']} sources); model `{meta['model']}`"
        f"{' (quick profile)' if meta['quick'] else ''}; {meta['seeds']} seeds; "
        f"calibration part: 10 % of the training part; {meta['seconds']:.0f} s on {meta['machine']}.",
        "",
        "Mean +- standard deviation over seeds. 'above' counts the seeds whose realised FDR exceeded the level "
        "(the guarantee is on the mean, not on every seed). 'shift D' is the KS distance of the test part's "
        "p_gc from the calibration non-GCs' (below their 90 % quantile); 'flagged' counts the seeds where "
        "`predict --fdr` would warn.",
        "",
        "| set-up | rule | realised FDR | TPR | above level | shift D | flagged |",
        "|---|---|---|---|---|---|---|",
    ]
    for setup, entry in summary.items():
        for rule in ("fixed_0.5", *(f"fdr_{a:.2f}" for a in LEVELS)):
            e = entry[rule]
            name = "p_gc > 0.5" if rule == "fixed_0.5" else f"FDR <= {e['level']:.2f}"
            above = "" if rule == "fixed_0.5" else f"{e['runs_above_level']}/{entry['n_seeds']}"
            lines.append(f"| {setup} | {name} | {e['FDR_mean']:.3f} +- {e['FDR_std']:.3f} | "
                         f"{e['TPR_mean']:.3f} +- {e['TPR_std']:.3f} | {above} | "
                         f"{entry['shift_D_mean']:.3f} | {entry['shift_flagged']}/{entry['n_seeds']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    from threadpoolctl import threadpool_limits

    from globsml import load_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="labelled data directory (e.g. a mock: globsml mock DIR --scale 0.1)")
    parser.add_argument("--model", default="hgb", help="registry name (default hgb)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=SETUPS)
    parser.add_argument("--quick", action="store_true", help="the model's fast profile")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fdr_control"),
                        help="output stem (.json and .md are added)")
    args = parser.parse_args(argv)

    ds = load_dataset(args.data)
    start = time.perf_counter()
    runs = []
    with threadpool_limits(1):
        for setup in args.setups:
            for seed in range(args.seeds):
                runs.append(run_one(ds, args.model, setup, seed, args.quick))
                r = runs[-1]
                print(f"{setup} seed {seed}: 0.5 FDR {r['fixed_0.5']['FDR']:.3f} TPR {r['fixed_0.5']['TPR']:.3f}; "
                      + "; ".join(f"{a:.2f}: FDR {r[f'fdr_{a:.2f}']['FDR']:.3f} TPR {r[f'fdr_{a:.2f}']['TPR']:.3f}"
                                  for a in LEVELS)
                      + f"; shift D {r['shift']['statistic']:.3f}", flush=True)
    import platform

    meta = {
        "command": "python benchmarks/fdr_control.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "data": str(args.data), "n_sources": int(len(ds)), "model": args.model, "quick": bool(args.quick),
        "seeds": args.seeds, "seconds": time.perf_counter() - start,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPUs (shared)",
    }
    summary = summarise(runs)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out.with_suffix(".json"), json.dumps({"meta": meta, "summary": summary, "runs": runs}, indent=1))
    write_text(out.with_suffix(".md"), markdown(summary, meta))
    print(markdown(summary, meta))


if __name__ == "__main__":
    main()
