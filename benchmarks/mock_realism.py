"""How real is the mock survey? Two measurements, against the REAL data.

(a) Classifier two-sample test. For the galaxies whose real cut-outs are in
    ``../shared/gcdata/ImageData``: real versus mock cut-outs of the same
    galaxies (an equal number per galaxy and class). A gradient-boosted
    classifier (HistGradientBoosting) on ``cutout_features`` of both, and a
    small CNN (torch) on the pixels, cross-validated with the galaxies
    grouped (GroupKFold). ROC AUC 0.5 means indistinguishable; targets
    <= 0.65, aim 0.55. Permutation importance names the features that give
    the mock away. Reported on all galaxies and on the held-out half, the
    galaxies whose real cut-outs the mock's realism critic
    (``benchmarks/calibrate_critic.py``) never saw: that is the honest
    figure, since the critic was trained to tell the same real cut-outs
    from the mock.
(b) Difficulty. The published random forest set-up (default
    RandomForestClassifier, the 29 FEATURES, rows with NaN dropped) trained
    on the mock's Virgo, tested on its Fornax, and back; TPR, FDR and ROC
    AUC next to the published figures (:func:`globsml.data.published_results`).

Usage::

    nice python benchmarks/mock_realism.py --mock DIR [--real ../shared/gcdata]

``DIR`` is a full-size mock (``globsml mock DIR``); without ``--mock`` one
is made into a temporary directory (``--scale`` shrinks it; the two-sample
test then compares scaled numbers per galaxy). Writes
``benchmarks/results/mock_realism.json`` and ``.md`` and prints them.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]


def _published():
    """The publication's random-forest figures per Cluster2Cluster set-up, keyed as this script prints them."""
    from globsml.data import published_results

    table = published_results()
    names = {"virgo2fornax": "Virgo->Fornax", "fornax2virgo": "Fornax->Virgo"}
    rows = table[(table["model"] == "forest") & table["setup"].isin(names)]
    return {names[r.setup]: {"TPR": r.tpr, "FDR": r.fdr, "AUC": r.roc_auc} for r in rows.itertuples()}


PUBLISHED = _published()


def _real_features(real_dir, galaxies, cache):
    """cutout_features of the real cut-outs (cached in a scratch file, never in the project)."""
    from globsml.data import read_cutouts
    from globsml.features import cutout_features

    if cache is not None and Path(cache).is_file():
        table = pd.read_parquet(cache)
        if set(galaxies) <= set(table["galaxy"]):
            return table[table["galaxy"].isin(galaxies)].reset_index(drop=True)
    parts = []
    for g in galaxies:
        parts.append(cutout_features(read_cutouts(real_dir / f"{g}_images.fits", memmap=False), galaxy=g))
    table = pd.concat(parts, ignore_index=True)
    if cache is not None:
        table.to_parquet(cache)
    return table


def _mock_features(rows, cutouts):
    """cutout_features of mock cut-outs, with the ``galaxy`` and ``ID`` of their table rows."""
    from globsml.features import cutout_features

    feats = cutout_features(cutouts)
    feats["galaxy"] = rows["galaxy"].to_numpy()
    feats["ID"] = rows["ID"].to_numpy()
    return feats


def _sample(table, per_galaxy, rng):
    idx = []
    for _, rows in table.groupby("galaxy", sort=True).indices.items():
        idx.append(rng.choice(rows, min(per_galaxy, len(rows)), replace=False))
    return np.sort(np.concatenate(idx))


def two_sample_features(real, mock, *, seed=0, folds=5):
    """Out-of-fold ROC AUC of HistGradientBoosting telling mock from real; permutation importance."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    from globsml.data import FEATURES

    X = np.array(pd.concat([real.loc[:, FEATURES], mock.loc[:, FEATURES]], ignore_index=True).to_numpy(float))
    X[~np.isfinite(X)] = np.nan
    y = np.r_[np.zeros(len(real)), np.ones(len(mock))]
    groups = np.r_[real["galaxy"].to_numpy(), mock["galaxy"].to_numpy()]
    oof = np.zeros(len(y))
    importances = []
    for k, (tr, te) in enumerate(GroupKFold(n_splits=folds).split(X, y, groups)):
        clf = HistGradientBoostingClassifier(random_state=seed).fit(X[tr], y[tr])
        oof[te] = clf.predict_proba(X[te])[:, 1]
        if k < 2:
            sub = te if len(te) <= 6000 else np.random.default_rng(seed).choice(te, 6000, replace=False)
            pi = permutation_importance(clf, X[sub], y[sub], scoring="roc_auc", n_repeats=3, random_state=seed)
            importances.append(pi.importances_mean)
    imp = pd.Series(np.mean(importances, axis=0), index=list(FEATURES)).sort_values(ascending=False)
    per_fold = [roc_auc_score(y[te], oof[te]) for _, te in GroupKFold(n_splits=folds).split(X, y, groups)]
    return {"auc": float(roc_auc_score(y, oof)), "auc_per_fold": [round(a, 4) for a in per_fold],
            "n_real": int(len(real)), "n_mock": int(len(mock)),
            "give_away": {k: round(float(v), 4) for k, v in imp.head(8).items()}}


def _cnn():
    import torch
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(2, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1),
    ), torch


def two_sample_pixels(real_img, mock_img, groups, *, seed=0, folds=3, epochs=6):
    """Out-of-fold ROC AUC of a small CNN telling mock from real pixels (asinh-stretched, NaN -> 0)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    X = np.concatenate([real_img, mock_img]).astype(np.float32)
    X = np.arcsinh(np.nan_to_num(X, nan=0.0) / 0.01)
    y = np.r_[np.zeros(len(real_img)), np.ones(len(mock_img))].astype(np.float32)
    oof = np.zeros(len(y))
    for k, (tr, te) in enumerate(GroupKFold(n_splits=folds).split(X, y, groups)):
        net, torch = _cnn()
        torch.manual_seed(seed + k)
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        xt, yt = torch.from_numpy(X[tr]), torch.from_numpy(y[tr])
        gen = torch.Generator().manual_seed(seed + k)
        for _ in range(epochs):
            perm = torch.randperm(len(tr), generator=gen)
            for s in range(0, len(tr), 256):
                b = perm[s : s + 256]
                opt.zero_grad()
                loss = loss_fn(net(xt[b]).squeeze(1), yt[b])
                loss.backward()
                opt.step()
        with torch.no_grad():
            oof[te] = torch.sigmoid(net(torch.from_numpy(X[te])).squeeze(1)).numpy()
    return {"auc": float(roc_auc_score(y, oof)), "epochs": epochs, "folds": folds, "n": int(len(y))}


def difficulty(table, *, seed=0):
    """The published RF set-up on the mock: train on one cluster, test on the other."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score

    from globsml.data import FEATURES

    t = table.replace([np.inf, -np.inf], np.nan).dropna(subset=list(FEATURES))
    y = (t["pGC"].to_numpy() >= 0.5).astype(int)
    out = {}
    for train, test in (("Virgo", "Fornax"), ("Fornax", "Virgo")):
        tr, te = (t["cluster"] == train).to_numpy(), (t["cluster"] == test).to_numpy()
        rf = RandomForestClassifier(random_state=seed, n_jobs=2).fit(t.loc[tr, list(FEATURES)], y[tr])
        p = rf.predict_proba(t.loc[te, list(FEATURES)])[:, 1]
        pred = p > 0.5
        tp = int((pred & (y[te] == 1)).sum())
        fp = int((pred & (y[te] == 0)).sum())
        fn = int((~pred & (y[te] == 1)).sum())
        name = f"{train}->{test}"
        out[name] = {"TPR": tp / max(tp + fn, 1), "FDR": fp / max(tp + fp, 1),
                     "AUC": float(roc_auc_score(y[te], p)), "n_train": int(tr.sum()), "n_test": int(te.sum()),
                     "published": PUBLISHED[name]}
        out[name]["max_abs_diff"] = max(abs(out[name][k] - PUBLISHED[name][k]) for k in ("TPR", "FDR", "AUC"))
    out["dropped_nan_rows"] = int(len(table) - len(t))
    return out


def _markdown(res):
    a, b = res["two_sample"], res["difficulty"]
    lines = ["# How real is the mock survey", "", f"Command: `{res['command']}`", "",
             "## (a) Classifier two-sample test, real vs mock cut-outs of the same galaxies", "",
             "| classifier | ROC AUC | target |", "|---|---|---|",
             f"| HistGradientBoosting on cutout_features (29 FEATURES), all galaxies | {a['features']['auc']:.3f} | <= 0.65 (aim 0.55) |"]
    if "pixels" in a:
        lines.append(f"| small CNN on pixels, all galaxies | {a['pixels']['auc']:.3f} | <= 0.65 (aim 0.55) |")
    if "features_held_out" in a:
        lines.append(f"| HistGradientBoosting on features, {a['held_out_galaxies']} held-out galaxies | "
                     f"{a['features_held_out']['auc']:.3f} | <= 0.65 (aim 0.55) |")
    if "pixels_held_out" in a:
        lines.append(f"| small CNN on pixels, {a['held_out_galaxies']} held-out galaxies | "
                     f"{a['pixels_held_out']['auc']:.3f} | <= 0.65 (aim 0.55) |")
    if a.get("held_out_galaxies"):
        lines += ["", "Held out: the galaxies whose real cut-outs the mock's realism critic was not "
                  "calibrated on (`benchmarks/calibrate_critic.py` uses every other galaxy)."]
    lines += ["", f"{a['features']['n_real']} real and {a['features']['n_mock']} mock sources, "
              f"{a['galaxies']} galaxies, GroupKFold by galaxy.", "",
              "Features that give the mock away (permutation importance, drop in ROC AUC):", ""]
    lines += [f"- {k}: {v:.4f}" for k, v in a["features"]["give_away"].items()]
    lines += ["", "## (b) Difficulty: published RF set-up on the mock", "",
              "| set-up | TPR (published) | FDR (published) | ROC AUC (published) | max abs diff |",
              "|---|---|---|---|---|"]
    for name in PUBLISHED:
        r = b[name]
        p = r["published"]
        lines.append(f"| {name} | {r['TPR']:.3f} ({p['TPR']}) | {r['FDR']:.3f} ({p['FDR']}) | "
                     f"{r['AUC']:.3f} ({p['AUC']}) | {r['max_abs_diff']:.3f} |")
    lines += ["", f"Target: every figure within 0.03 of the published one. Rows with NaN features dropped: "
              f"{b['dropped_nan_rows']}.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mock", help="a mock survey directory (default: make one)")
    parser.add_argument("--scale", type=float, default=1.0, help="scale of the mock to make without --mock")
    parser.add_argument("--real", default=str(ROOT.parent / "shared" / "gcdata"))
    parser.add_argument("--per-galaxy", type=int, default=150, help="sources per galaxy and class in (a)")
    parser.add_argument("--cnn-epochs", type=int, default=6)
    parser.add_argument("--no-cnn", action="store_true")
    parser.add_argument("--real-cache", default="/tmp/globsml_real_features.parquet",
                        help="scratch file for the real cut-outs' features (outside the project)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mock_realism"))
    args = parser.parse_args(argv)

    from globsml import load_dataset
    from globsml.data import image_files, read_cutouts

    t0 = time.perf_counter()
    real_dir = Path(args.real) / "ImageData"
    real_files = image_files(real_dir)
    if not real_files:
        raise SystemExit(f"{real_dir}: no real cut-outs")
    tmp = tempfile.TemporaryDirectory()
    if args.mock:
        mock_dir = Path(args.mock)
    else:
        from globsml.mock import make_mock_survey

        mock_dir = make_mock_survey(Path(tmp.name) / "mock", seed=args.seed, scale=args.scale)
    mock = load_dataset(mock_dir)
    galaxies = sorted(set(real_files) & set(mock.galaxies))
    rng = np.random.default_rng(args.seed)

    # (a) two-sample test, on all galaxies and on those the realism critic
    # was not calibrated on (held out: the honest figure)
    from globsml.mock._critic import realism_critic

    critic = realism_critic()
    calibrated = set(critic.galaxies) if critic is not None else set()
    held_out = [g for g in galaxies if g not in calibrated]
    real = _real_features(real_dir, galaxies, args.real_cache)
    mock_rows = np.flatnonzero(mock.sources["galaxy"].isin(galaxies))
    mock_t = mock.sources.iloc[mock_rows].reset_index(drop=True)
    ri, mi = _sample(real, args.per_galaxy, rng), _sample(mock_t, args.per_galaxy, rng)
    real_s = real.iloc[ri].reset_index(drop=True)
    # the mock's features measured on its cut-outs exactly as the real ones
    # are (no extinction correction: the real galaxies' E(B-V) is not known
    # here, and the mock table's magnitudes carry its own)
    mock_s = _mock_features(mock_t.iloc[mi].reset_index(drop=True), mock.images(mock_rows[mi]))
    two = {"galaxies": len(galaxies), "held_out_galaxies": len(held_out)}
    subsets = {"all": galaxies, "held_out": held_out} if calibrated else {"all": galaxies}
    for name, gals in subsets.items():
        r_sel, m_sel = real_s["galaxy"].isin(gals).to_numpy(), mock_s["galaxy"].isin(gals).to_numpy()
        key = "features" if name == "all" else f"features_{name}"
        two[key] = two_sample_features(real_s[r_sel].reset_index(drop=True), mock_s[m_sel].reset_index(drop=True),
                                       seed=args.seed)
        print(f"(a) features, {name} galaxies: ROC AUC {two[key]['auc']:.3f}", flush=True)
        if args.no_cnn:
            continue
        rs, ms = real_s[r_sel], mock_s[m_sel]
        real_img = np.concatenate([np.asarray(read_cutouts(real_files[g], memmap=False))[
            rs.loc[rs["galaxy"] == g, "ID"].to_numpy()] for g in gals])
        mock_img = mock.images(mock_rows[mi[m_sel]])
        groups = np.r_[np.concatenate([rs.loc[rs["galaxy"] == g, "galaxy"].to_numpy() for g in gals]),
                       ms["galaxy"].to_numpy()]
        key = "pixels" if name == "all" else f"pixels_{name}"
        two[key] = two_sample_pixels(real_img, mock_img, groups, seed=args.seed, epochs=args.cnn_epochs)
        print(f"(a) pixels, {name} galaxies: ROC AUC {two[key]['auc']:.3f}", flush=True)

    # (b) difficulty
    diff = difficulty(mock.sources, seed=args.seed)
    cmd = "nice python benchmarks/mock_realism.py" + (f" --mock {args.mock}" if args.mock else f" --scale {args.scale:g}")
    res = {"command": cmd, "mock": str(mock_dir), "mock_sources": len(mock), "two_sample": two,
           "difficulty": diff, "seconds": round(time.perf_counter() - t0, 1)}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out.with_suffix(".json"), json.dumps(res, indent=1) + "\n")
    md = _markdown(res)
    write_text(out.with_suffix(".md"), md)
    print(md)
    tmp.cleanup()


if __name__ == "__main__":
    main()
