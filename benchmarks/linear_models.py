"""Why the linear models trail on the mock: GCs are a window, not a half-space.

On the full-size mock, logistic regression and the linear SVM reach a much
lower TPR and a higher FDR than every other model (All2All: TPR ~0.77,
FDR ~0.19 against ~0.89 / ~0.05). This script measures why: the share of GCs
in deciles of colour and concentration rises and then falls again (GCs sit
in a colour window between blue and red background galaxies, and a
concentration window between point sources and extended galaxies), which
no single hyperplane can carve out. The same logistic regression on
quadratic terms of the features (which can bound a window) is run next to
it, on the same random 76:24 split.

Usage::

    python benchmarks/linear_models.py [--data DIR] [--seed 0]

Writes ``benchmarks/results/linear_models.{json,md}``.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
WINDOW_FEATURES = ("colour", "CI_g", "CI_z", "m4_g", "semimajor_sigma", "eccentricity")


def _rates(y, p):
    pred = p > 0.5
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    return {"TPR": round(tp / max(tp + fn, 1), 3), "FDR": round(fp / max(tp + fp, 1), 3)}


def main(argv=None):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    from globsml.experiments import resolve_dataset
    from globsml.models import make_model
    from globsml.preprocessing import complete_rows, make_preprocessor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="labelled data (default: the full-size mock)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    ds = resolve_dataset(args.data)  # None: the default mock
    X, y = ds.features(), ds.y
    keep = complete_rows(X)
    X, y = X[keep].reset_index(drop=True), y[keep]
    rows = np.random.default_rng(args.seed).permutation(len(y))
    n_train = int(0.76 * len(y))
    tr, te = rows[:n_train], rows[n_train:]

    results = {"data": ds.name, "n_sources": int(len(y)), "n_train": int(len(tr)), "n_test": int(len(te))}
    for name in ("logistic", "svm-linear", "forest"):
        model = make_model(name, random_state=args.seed).fit(X.iloc[tr], y[tr])
        results[name] = _rates(y[te], model.predict_proba(X.iloc[te])[:, 1])
    quadratic = make_pipeline(make_preprocessor(), PolynomialFeatures(2), StandardScaler(),
                              LogisticRegression(max_iter=3000))
    quadratic.fit(X.iloc[tr], y[tr])
    results["logistic on quadratic terms"] = _rates(y[te], quadratic.predict_proba(X.iloc[te])[:, 1])
    deciles = {}
    for f in WINDOW_FEATURES:
        bins = pd.qcut(X[f], 10, labels=False, duplicates="drop")
        deciles[f] = [round(float(v), 3) for v in pd.Series(y).groupby(bins.to_numpy()).mean()]
    results["gc_share_per_decile"] = deciles

    out = ROOT / "benchmarks" / "results" / "linear_models"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out.with_suffix(".json"), json.dumps(results, indent=1) + "\n")
    lines = [f"# Linear models on {ds.name} ({len(y)} sources with complete photometry)", "",
             "Command: `python benchmarks/linear_models.py" + (f" --data {args.data}" if args.data else "")
             + "`", "", f"One random split, {len(tr)} training and {len(te)} test sources.", "",
             "| model | TPR | FDR |", "|---|---|---|"]
    for name in ("logistic", "svm-linear", "logistic on quadratic terms", "forest"):
        lines.append(f"| {name} | {results[name]['TPR']:.3f} | {results[name]['FDR']:.3f} |")
    lines += ["", "Share of GCs in each decile of a feature (lowest decile first):", "",
              "| feature | GC share per decile |", "|---|---|"]
    lines += [f"| {f} | {' '.join(f'{v:.2f}' for v in vals)} |" for f, vals in deciles.items()]
    write_text(out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
