"""Is adaboost's change within its own seed noise? (issue 21, point 3)

The grid's adaboost now seeds its first boosting round with ``random_state``
itself and lets that round's 50-tree forest be the first half of the
``forest`` model of the same seed (grown once, ``SharedForestClassifier``):
before (b662c61) the first round's forest was seeded with a number drawn from
``random_state`` and, given the uniform weights, drew its bootstrap samples
with ``RandomState.choice(p=uniform)`` instead of ``randint`` (scikit-learn
>= 1.7), i.e. the same distribution by another random path. Only random
numbers change, so the new model must be as far from the old one as the old
one is from itself under another seed.

On one split (the first of SETUP, e.g. All2All seed 0, of DATA_DIR) this fits the old adaboost (the
b662c61 construction: scikit-learn's ``AdaBoostClassifier`` of
``RandomForestClassifier(50)``, 10 rounds, ``random_state=s``) and the new
one (``make_model("adaboost", random_state=s)``) for seeds 0..N-1, and
records the test metrics of each, their mean and standard deviation per
version, and the per-source probability differences: mean and 99th
percentile |p_old(s) - p_old(s')| over pairs of old seeds (the seed noise)
next to |p_old(s) - p_new(s)| and |p_new(s) - p_new(s')|. Usage::

    PYTHONPATH=src python benchmarks/adaboost_seed_noise.py DATA_DIR [N_SEEDS [SETUP]]

``SETUP`` (default ``all2all``) picks the set-up whose first split is fitted.
Writes ``benchmarks/results/adaboost_seed_noise_<SETUP>.json`` and ``.md``.
"""

import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from threadpoolctl import threadpool_limits

from globsml import load_dataset
from globsml.evaluation import average_precision, fdr, roc_auc, tpr
from globsml.experiments._fit import model_inputs, training_rows
from globsml.experiments._setups import setup_runs
from globsml.models import make_model, tabular_pipeline

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]


def old_adaboost(seed):
    """adaboost as b662c61 builds it (models/_tabular.py: _adaboost)."""
    base = RandomForestClassifier(n_estimators=50, n_jobs=-1, random_state=seed)
    return tabular_pipeline(AdaBoostClassifier(estimator=base, n_estimators=10, random_state=seed),
                            random_state=seed)


def metrics(y, p):
    return {"TPR": tpr(y, p), "FDR": fdr(y, p), "ROC AUC": roc_auc(y, p), "AP": average_precision(y, p),
            "Brier": float(np.mean((p - y) ** 2))}


def pair_stats(ps, pairs):
    d = np.concatenate([np.abs(ps[a] - ps[b]) for a, b in pairs])
    return {"mean_abs_dp": round(float(d.mean()), 5), "p99_abs_dp": round(float(np.quantile(d, 0.99)), 4),
            "frac_label_flips_at_0.5": round(float(np.mean(np.concatenate(
                [(ps[a] > 0.5) != (ps[b] > 0.5) for a, b in pairs]))), 5)}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ds = load_dataset(argv[0])
    n_seeds = int(argv[1]) if len(argv) > 1 else 5
    setup = argv[2] if len(argv) > 2 else "all2all"
    features = ds.features()
    _, split = next(iter(setup_runs(setup, ds, seeds=1)))
    train = training_rows(ds, "features", split.train, features)
    X, y = model_inputs(ds, "features", train, features), ds.y[train]
    Xt, yt = model_inputs(ds, "features", split.test, features), ds.y[split.test]
    p = {"old": {}, "new": {}}
    cpu = {"old": 0.0, "new": 0.0}
    with threadpool_limits(limits=1):
        for seed in range(n_seeds):
            for version, make in (("old", old_adaboost), ("new", lambda s: make_model("adaboost", random_state=s))):
                c0 = time.process_time()
                p[version][seed] = make(seed).fit(X, y).predict_proba(Xt)[:, 1]
                cpu[version] += time.process_time() - c0
                print(version, seed, metrics(yt, p[version][seed]), flush=True)
    rows = {v: {s: metrics(yt, p[v][s]) for s in p[v]} for v in p}
    summary = {v: {m: {"mean": round(float(np.mean([r[m] for r in rows[v].values()])), 5),
                       "std": round(float(np.std([r[m] for r in rows[v].values()], ddof=1)), 5)}
                   for m in next(iter(rows[v].values()))} for v in rows}
    seeds = range(n_seeds)
    pairs_old = [(a, b) for a, b in itertools.combinations(seeds, 2)]
    both = {("old", s): p["old"][s] for s in seeds} | {("new", s): p["new"][s] for s in seeds}
    dp = {"old seed vs old seed": pair_stats(both, [(("old", a), ("old", b)) for a, b in pairs_old]),
          "new seed vs new seed": pair_stats(both, [(("new", a), ("new", b)) for a, b in pairs_old]),
          "old vs new, same seed": pair_stats(both, [(("old", s), ("new", s)) for s in seeds])}
    record = {"data": argv[0], "split": f"{setup}, first split", "n_train": int(len(y)), "n_test": int(len(yt)),
              "n_seeds": n_seeds, "cpu_s_all_fits": {k: round(v, 1) for k, v in cpu.items()},
              "metrics_per_seed": rows, "summary": summary, "p_gc_differences": dp,
              "command": "PYTHONPATH=src python benchmarks/adaboost_seed_noise.py " + " ".join(argv)}
    out = ROOT / "benchmarks" / "results" / f"adaboost_seed_noise_{setup}"
    write_text(out.with_suffix(".json"), json.dumps(record, indent=1) + "\n")
    lines = ["# adaboost before (b662c61) and after sharing its first round with the forest: seed noise", "",
             f"Command: `{record['command']}`; {record['split']} ({record['n_train']} training, "
             f"{record['n_test']} test rows), seeds 0..{n_seeds - 1}, each version fitted alone (no sharing: "
             "the new one gives the same numbers with or without the forest, tests/models/test_reuse.py).", "",
             "Test metrics, mean and standard deviation over the seeds:", "",
             "| metric | old mean | old std | new mean | new std | (new - old) / old std |", "|---|---|---|---|---|---|"]
    for m in summary["old"]:
        o, n = summary["old"][m], summary["new"][m]
        z = (n["mean"] - o["mean"]) / o["std"] if o["std"] > 0 else float("nan")
        lines.append(f"| {m} | {o['mean']:.4f} | {o['std']:.4f} | {n['mean']:.4f} | {n['std']:.4f} | {z:+.2f} |")
    lines += ["", "Per-source p_gc differences on the test rows:", "",
              "| pairs | mean abs dp | 99th pct abs dp | fraction of sources changing side of 0.5 |", "|---|---|---|---|"]
    for k, v in dp.items():
        lines.append(f"| {k} | {v['mean_abs_dp']} | {v['p99_abs_dp']} | {v['frac_label_flips_at_0.5']} |")
    write_text(out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
