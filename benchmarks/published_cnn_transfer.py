"""The published CNNs, trained on REAL cut-outs, on a data set of ours (the mock survey).

Dold & Fahrion's Virgo-trained CNN classifies the data's Fornax cut-outs and
the Fornax-trained one its Virgo cut-outs, without retraining (MC dropout,
200 passes, p > 0.5). On the mock this measures realism from the other side
of the two-sample test in ``mock_realism.py``: a network that learnt GCs on
real images finds the mock's GCs only as far as they look real. For
reference, the published Virgo2Fornax CNN on the real Fornax cut-outs gives
per-galaxy counts within a few sources of the published ones
(``python -m globsml.models._port_check``).

Usage::

    python benchmarks/published_cnn_transfer.py --data DIR [--models DIR]

``--models`` is the folder of the published files (default
``$GLOBSML_PUBLISHED_MODELS``, else ``../shared/gcdata/published_models``).
Writes ``benchmarks/results/published_cnn_transfer.{json,md}``.
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
RUNS = (("published-cnn-virgo2fornax", "Fornax"), ("published-cnn-fornax2virgo", "Virgo"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="labelled data with cut-outs (default: the mock)")
    parser.add_argument("--models", default=os.environ.get("GLOBSML_PUBLISHED_MODELS")
                        or str(ROOT.parent / "shared" / "gcdata" / "published_models"))
    parser.add_argument("--mc-passes", type=int, default=200)
    args = parser.parse_args(argv)

    from globsml.experiments import resolve_dataset
    from globsml.evaluation import evaluate
    from globsml.models import make_model

    ds = resolve_dataset(args.data)  # None: the default mock
    results = {"data": ds.name, "mc_passes": args.mc_passes, "runs": []}
    for name, cluster in RUNS:
        rows = np.flatnonzero(ds.cluster == cluster)
        net = make_model(name, path=args.models, mc_passes=args.mc_passes)
        p_gc = net.predict_proba(ds.images(rows))[:, 1]
        ev = evaluate(ds.y[rows], p_gc, galaxy=ds.sources["galaxy"].iloc[rows].to_numpy())
        results["runs"].append({"network": name, "tested_on": cluster, "n": int(len(rows)),
                                **{k: round(float(ev.pooled[k]), 3) for k in ("tpr", "fdr", "fpr", "roc_auc")}})
    out = ROOT / "benchmarks" / "results" / "published_cnn_transfer"
    write_text(out.with_suffix(".json"), json.dumps(results, indent=1) + "\n")
    lines = [f"# The published CNNs (trained on real cut-outs) on {ds.name}", "",
             "Command: `python benchmarks/published_cnn_transfer.py"
             + (f" --data {args.data}" if args.data else "") + "`", "",
             "| network | tested on | sources | TPR | FDR | FPR | ROC AUC |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['network']} | {r['tested_on']} | {r['n']} | {r['tpr']:.3f} | {r['fdr']:.3f} | "
              f"{r['fpr']:.3f} | {r['roc_auc']:.3f} |" for r in results["runs"]]
    write_text(out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
