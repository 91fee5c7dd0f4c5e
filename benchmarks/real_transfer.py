"""Models trained without target labels, measured on the REAL cut-outs by per-galaxy GC counts.

The real cut-outs in ``../shared/gcdata`` carry no per-source labels, but
the published number of GCs of each galaxy is known. Each method is trained
with what it is allowed in a direction (e.g. Virgo -> Fornax):

- the mock survey's training cluster (labelled);
- the training cluster's REAL cut-outs, unlabelled, with the published
  numbers of GCs of its galaxies (label proportions) and the published CNN
  trained on that cluster (a teacher);
- the target cluster's REAL cut-outs, unlabelled.

The target's numbers of GCs and the network trained on the target cluster
never enter a method: they are read only by :func:`score`. Methods and
their settings are chosen on the training cluster alone: its galaxies are
split into folds, each fold is predicted by the method trained with the
other folds (and the mock), and its counts are compared with the published
ones ("train-cluster" columns). The target is reported once per method.

For every method the per-galaxy count is the number of sources with
p_gc > 0.5 ("threshold") and the sum of p_gc ("expected"); the median
absolute relative count error and the total are reported for both.

After every choice, a diagnostic (:func:`oracle_floor`): how low the target's
median goes when the target's own counts pick the threshold (or the scale
of the summed p_gc) of each method's predictions and of both published
networks. No method may do that; it bounds what any threshold or
calibration of these models could reach on the target.

Usage::

    python benchmarks/real_transfer.py --mock DIR [--real ../shared/gcdata]
        [--direction virgo2fornax|fornax2virgo|both] [--methods a,b,...]

``DIR`` is a full-size mock survey (``globsml mock DIR``). Writes
``benchmarks/results/real_transfer.{json,md}``; the real cut-outs' features,
the published networks' scores and every method's predictions (per
direction, fold and seed) are cached under ``--cache``: delete it after
changing a method.
"""

import argparse
import functools
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _results import write_text  # noqa: E402  (benchmarks/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "real_transfer"

#: direction -> (training cluster, target cluster, the published network trained on the training cluster)
DIRECTIONS = {
    "virgo2fornax": ("Virgo", "Fornax", "Virgo2Fornax--CNN"),
    "fornax2virgo": ("Fornax", "Virgo", "Fornax2Virgo--CNN"),
}
#: Galactic E(B-V), the middle of each cluster's range (the per-galaxy values are not in the shared data).
EBV = {"Virgo": 0.029, "Fornax": 0.0145}


# -- inputs ---------------------------------------------------------------

def real_sources(real_dir, cache):
    """Features of every real cut-out, with both published networks' scores (cached)."""
    from globsml.data import FEATURES, cluster_of, image_files, read_cutouts
    from globsml.features import cutout_features
    from globsml.models import load_published_cnn

    cache = Path(cache)
    file = cache / "real_sources.parquet"
    if file.is_file():
        return pd.read_parquet(file)
    cache.mkdir(parents=True, exist_ok=True)
    teachers = {name: load_published_cnn(Path(real_dir) / "published_models" / name, mc_passes=1)
                for _, _, name in DIRECTIONS.values()}
    parts = []
    files = sorted(image_files(Path(real_dir) / "ImageData").items())
    for i, (galaxy, path) in enumerate(files):
        cutouts = read_cutouts(path, memmap=False).astype(np.float32)
        cluster = cluster_of(galaxy)
        table = cutout_features(cutouts, galaxy=galaxy, ebv=EBV[cluster])[["galaxy", "ID", *FEATURES]]
        table["cluster"] = cluster
        for name, net in teachers.items():
            table[name] = net.predict_proba(cutouts)[:, 1]
        parts.append(table)
        print(f"  real cut-outs: {i + 1}/{len(files)} galaxies", flush=True)
    out = pd.concat(parts, ignore_index=True)
    tmp = file.with_suffix(".tmp")
    out.to_parquet(tmp)
    tmp.replace(file)
    return out


def published_counts(real_dir):
    """Published numbers of GCs per galaxy (NaN where not printed)."""
    table = pd.read_csv(Path(real_dir) / "galaxies.csv")
    return table.set_index("galaxy")["n_gcs"].astype(float)


def mock_sources(mock_dir, cluster):
    """The mock survey's sources of one cluster: features and labels."""
    from globsml import load_dataset
    from globsml.data import FEATURES

    ds = load_dataset(mock_dir).in_cluster(cluster)
    X = ds.features().reset_index(drop=True)
    return X[list(FEATURES)], ds.y


# -- methods --------------------------------------------------------------
#
# Each method takes the allowed inputs and returns p_gc for the target rows:
#   method(mock, train, counts, target, seed)
# train: real training-cluster sources (features, galaxy, "teacher": the
# published network trained on that cluster); counts: published numbers of
# GCs of the train galaxies only; target: real target sources (features,
# galaxy) without any score of a network trained on the target cluster.

def _model(seed):
    from globsml.models import make_model

    return make_model("hgb", random_state=seed)


def _features(frame):
    from globsml.data import FEATURES

    return frame[list(FEATURES)]


def _fit_mock(mock_X, mock_y, seed, weights=None):
    from globsml.adapt import fit_soft_labels

    return fit_soft_labels(_model(seed), mock_X, mock_y.astype(float), sample_weight=weights)


def m_mock(mock, train, counts, target, seed):
    return _fit_mock(*mock(), seed).predict_proba(_features(target))[:, 1]


def m_mock_weights(mock, train, counts, target, seed):
    from globsml.adapt import domain_weights

    mock_X, mock_y = mock()
    w = domain_weights(mock_X, _features(target), random_state=seed)
    return _fit_mock(mock_X, mock_y, seed, w).predict_proba(_features(target))[:, 1]


def m_mock_self(mock, train, counts, target, seed):
    from globsml.adapt import self_train

    mock_X, mock_y = mock()
    fit = self_train(_model(seed), mock_X, mock_y.astype(float), _features(target), confidence=0.9, rounds=2)
    return fit.predict_proba(_features(target))[:, 1]


def _proportion_fit(p_train, train, counts, seed, rounds=1):
    """Fit on the real training cut-outs with soft labels matched to their galaxies' counts."""
    from globsml.adapt import fit_soft_labels, labels_from_proportions

    known = train["galaxy"].isin(counts.dropna().index).to_numpy()
    X = _features(train).iloc[np.flatnonzero(known)]
    galaxy = train["galaxy"].to_numpy()[known]
    p = p_train[known]
    for _ in range(rounds):
        prior = float(np.mean(p))
        q = labels_from_proportions(p, galaxy, counts, train_prior=prior)
        model = fit_soft_labels(_model(seed), X, q)
        p = model.predict_proba(X)[:, 1]
    return model


def m_llp(mock, train, counts, target, seed):
    start = _fit_mock(*mock(), seed).predict_proba(_features(train))[:, 1]
    return _proportion_fit(start, train, counts, seed).predict_proba(_features(target))[:, 1]


def m_teacher(mock, train, counts, target, seed):
    from globsml.adapt import fit_soft_labels

    model = fit_soft_labels(_model(seed), _features(train), train["teacher"].to_numpy())
    return model.predict_proba(_features(target))[:, 1]


def m_teacher_llp(mock, train, counts, target, seed):
    return _proportion_fit(train["teacher"].to_numpy(), train, counts, seed).predict_proba(_features(target))[:, 1]


def m_network(mock, train, counts, target, seed):
    return target["teacher"].to_numpy()


def m_teacher_self(mock, train, counts, target, seed):
    from globsml.adapt import self_train

    fit = self_train(_model(seed), _features(train), train["teacher"].to_numpy(), _features(target),
                     confidence=0.9, rounds=2)
    return fit.predict_proba(_features(target))[:, 1]


def m_teacher_weights(mock, train, counts, target, seed):
    from globsml.adapt import domain_weights, fit_soft_labels

    w = domain_weights(_features(train), _features(target), random_state=seed)
    model = fit_soft_labels(_model(seed), _features(train), train["teacher"].to_numpy(), sample_weight=w)
    return model.predict_proba(_features(target))[:, 1]


#: Galaxy context of the *+ctx* methods: each source also sees its galaxy's number of sources (log),
#: the teacher's mean p_gc over them (the GC share the teacher sees there) and their median z
#: magnitude (the depth). All three come from the unlabelled cut-outs and the training cluster's
#: network, which the target's rows carry too.
CONTEXT_COLUMNS = ("ctx_n", "ctx_share", "ctx_mag")


def _with_context(frame):
    grp = frame.groupby("galaxy", sort=False)
    ctx = pd.DataFrame({"ctx_n": np.log(grp.size()), "ctx_share": grp["teacher"].mean(),
                        "ctx_mag": grp["m4_z"].median()})
    return pd.concat([_features(frame).reset_index(drop=True),
                      ctx.loc[frame["galaxy"].to_numpy()].reset_index(drop=True)], axis=1)


def _context_model(seed):
    from globsml.preprocessing import PUBLISHED_SCHEMES

    return _model(seed).set_params(
        preprocess__rescale__schemes={**PUBLISHED_SCHEMES, **dict.fromkeys(CONTEXT_COLUMNS, "none")})


def m_teacher_ctx(mock, train, counts, target, seed):
    from globsml.adapt import fit_soft_labels

    model = fit_soft_labels(_context_model(seed), _with_context(train), train["teacher"].to_numpy())
    return model.predict_proba(_with_context(target))[:, 1]


def m_teacher_ctx_self(mock, train, counts, target, seed):
    from globsml.adapt import self_train

    fit = self_train(_context_model(seed), _with_context(train), train["teacher"].to_numpy(), _with_context(target),
                     confidence=0.9, rounds=2)
    return fit.predict_proba(_with_context(target))[:, 1]


#: Where the network methods find their inputs; set by :func:`main` for each direction.
CONTEXT = {"real": None, "teacher": None}


@functools.lru_cache(maxsize=None)
def _galaxy_cutouts(real_dir, galaxy):
    from globsml.data import image_files, read_cutouts

    return read_cutouts(image_files(Path(real_dir) / "ImageData")[galaxy], memmap=False).astype(np.float32)


def _cutouts(frame):
    """The real cut-outs of a frame's rows (``galaxy``, ``ID`` = index within the galaxy)."""
    return np.concatenate([_galaxy_cutouts(CONTEXT["real"], g)[frame["ID"].to_numpy()[frame["galaxy"].to_numpy() == g]]
                           for g in pd.unique(frame["galaxy"])])


def _network_adapted(method):
    """The training cluster's published network, fine-tuned towards the target's cut-outs."""
    def run(mock, train, counts, target, seed):
        from globsml.adapt import adapt_network
        from globsml.models import load_published_cnn

        network = load_published_cnn(Path(CONTEXT["real"]) / "published_models" / CONTEXT["teacher"], mc_passes=1)
        # rows of one galaxy are contiguous in the cached frames, so _cutouts keeps their order
        adapted = adapt_network(network, _cutouts(train), train["teacher"].to_numpy(), _cutouts(target),
                                method=method, random_state=seed, progress=True)
        CONTEXT.setdefault("adaptations", {})[CONTEXT["teacher"], method] = adapted.adaptation_
        print(f"  {method}: hidden-layer domain AUC {adapted.adaptation_['domain_auc_before']:.3f} -> "
              f"{adapted.adaptation_['domain_auc_after']:.3f}", flush=True)
        return adapted.predict_proba(_cutouts(target))[:, 1]
    run.method = method
    return run


#: Epochs of a student CNN: it learns the teacher's decisions on the training cut-outs, keeping
#: the epoch that agrees best with them on a validation split (as the published CNN was trained).
STUDENT_EPOCHS = 12


@functools.lru_cache(maxsize=None)
def _student(galaxies, seed):
    """A CNN trained on the real cut-outs of ``galaxies`` (training cluster) with the teacher's decisions."""
    from globsml.models import GCCNNClassifier

    train = CONTEXT["train"]
    rows = train[train["galaxy"].isin(galaxies)]
    student = GCCNNClassifier(epochs=STUDENT_EPOCHS, mc_passes=1, random_state=seed, progress=True)
    return student.fit(_cutouts(rows), (rows["teacher"].to_numpy() > 0.5).astype(int))


def _dihedral_proba(classifier, X):
    """p_gc averaged over the 8 rotations and flips of the cut-outs (a GC looks the same in all)."""
    X = np.asarray(X)
    p = [classifier.predict_proba(np.ascontiguousarray(np.rot90(x, k, axes=(-2, -1))))[:, 1]
         for k in range(4) for x in (X, X[..., ::-1])]
    return np.mean(p, axis=0)


def _student_method(adaptation=None, dihedral=False):
    """A student CNN of the training cluster's network, optionally adapted to the target's cut-outs.

    Unlike the published network, a student is trained on the training galaxies of a fold only,
    so its recipe (adaptation, rotation averaging) has held-out training-cluster figures.
    """
    def run(mock, train, counts, target, seed):
        from globsml.adapt import adapt_network

        student = _student(tuple(sorted(set(train["galaxy"]))), seed)
        target_cutouts = _cutouts(target)
        if adaptation is not None:
            student = adapt_network(student, _cutouts(train), train["teacher"].to_numpy(), target_cutouts,
                                    method=adaptation, random_state=seed, progress=True)
        if dihedral:
            return _dihedral_proba(student, target_cutouts)
        return student.predict_proba(target_cutouts)[:, 1]
    return run


STUDENT_METHODS = {
    "student": _student_method(),
    "student+rotations": _student_method(dihedral=True),
    "student+self-training": _student_method("self-training"),
    "student+adversarial": _student_method("adversarial"),
}


#: Methods that fine-tune the training cluster's published network. It was trained on the labels
#: of every training-cluster galaxy, so held-out training galaxies would be in-sample: they have
#: no training-cluster figures and are reported on the target only.
NETWORK_METHODS = {
    "network+adversarial": _network_adapted("adversarial"),
    "network+self-training": _network_adapted("self-training"),
}

METHODS = {
    "network": m_network,
    "mock": m_mock,
    "mock+weights": m_mock_weights,
    "mock+self": m_mock_self,
    "llp": m_llp,
    "teacher": m_teacher,
    "teacher+weights": m_teacher_weights,
    "teacher+self": m_teacher_self,
    "teacher+llp": m_teacher_llp,
    "teacher+ctx": m_teacher_ctx,
    "teacher+ctx+self": m_teacher_ctx_self,
    **STUDENT_METHODS,
    **NETWORK_METHODS,
}
#: Ensembles run by default: the mean p_gc of their members. Any method name
#: joining methods with "|" is such an ensemble.
ENSEMBLES = (
    "network|teacher",
    "network|teacher+llp",
    "network|teacher|teacher+llp",
    # tabular and network students without the published network itself: choosable on the training cluster
    "teacher+self|student+self-training",
    "teacher|student+rotations",
    "teacher+self|teacher+llp|student+self-training",
)


# -- measurement ----------------------------------------------------------

def score(p, galaxy, truth, *, threshold=0.5):
    """Per-galaxy counts against the published ones (``truth``: counts, NaN where unknown)."""
    from globsml.adapt import galaxy_counts

    counts = galaxy_counts(p, galaxy, threshold=threshold)
    known = truth.reindex(counts.index)
    counts = counts[known.notna()]
    known = known[known.notna()]
    out = {"n_galaxies": int(len(counts)), "true_total": float(known.sum()), "threshold_used": float(threshold)}
    for kind, col in (("threshold", "n_candidates"), ("expected", "expected")):
        rel = abs_rel_error(counts[col], known)
        out[kind] = {"median_abs_rel_error": float(rel.median()),
                     "median_interval_95": median_interval(rel.to_numpy()),
                     "total": float(counts[col].sum()),
                     "total_rel_error": float(counts[col].sum() / known.sum() - 1)}
    inside = (known >= counts["low"]) & (known <= counts["high"])
    out["interval_coverage"] = float(inside.mean())
    return out, counts.assign(published=known, abs_rel_error=abs_rel_error(counts["n_candidates"], known))


def abs_rel_error(predicted, published):
    """|predicted - published| / published, galaxy by galaxy."""
    return (predicted - published).abs() / published


def _bootstrap_rows(n, *, resamples, seed):
    """Row indices of ``resamples`` samples of n rows drawn with replacement, (resamples, n)."""
    return np.random.default_rng(seed).integers(0, n, (resamples, n))


def median_interval(errors, *, resamples=2000, seed=0):
    """95 % bootstrap interval of the median error when other galaxies like these had been observed.

    With a few dozen galaxies the median moves by about a hundredth from one sample of galaxies
    to the next: differences between methods smaller than that are not measured by one cluster.
    """
    errors = np.asarray(errors, dtype=float)
    medians = np.median(errors[_bootstrap_rows(len(errors), resamples=resamples, seed=seed)], axis=1)
    return [float(v) for v in np.percentile(medians, [2.5, 97.5])]


def with_prior_shift(p, galaxy, train_share):
    """The probabilities moved, galaxy by galaxy, to the GC share EM estimates for it."""
    from globsml.adapt import prior_shift_em

    out = np.empty_like(p)
    for name in np.unique(galaxy):
        rows = galaxy == name
        out[rows] = prior_shift_em(p[rows], train_share)[0]
    return out


def training_share(train, counts):
    """GC share of the training cluster's galaxies with a published count."""
    known = train["galaxy"].isin(counts.dropna().index)
    return float(counts.dropna().sum() / known.sum())


def train_cluster_folds(train, counts, n_folds, seed):
    """Folds of the training cluster's galaxies (only galaxies with a published count are held out)."""
    from globsml.adapt import galaxy_folds

    return galaxy_folds(set(train["galaxy"]) & set(counts.dropna().index), n_folds, seed=seed)


def agreement(p, network_p):
    """ROC AUC of p_gc against the published network's decisions (a diagnostic, not a target)."""
    from sklearn.metrics import roc_auc_score

    decided = network_p > 0.5
    return float(roc_auc_score(decided, p)) if 0 < decided.sum() < len(decided) else float("nan")


def published_reference(real_dir, truth, galaxies):
    """The published Virgo-trained networks' own Fornax counts on ``galaxies``, scored like the methods."""
    table = pd.read_csv(Path(real_dir) / "published_fornax_predictions.csv").set_index("galaxy")
    table = table[table.index.isin(galaxies)]
    rows = {}
    for column, label in (("cnn_virgo2fornax_predicted", "published CNN (200 MC passes)"),
                          ("rf_virgo2fornax_predicted", "published random forest")):
        known = truth.reindex(table.index)
        rel = abs_rel_error(table[column], known)
        rows[label] = {"median_abs_rel_error": float(rel.median()),
                       "median_interval_95": median_interval(rel.to_numpy()),
                       "total_rel_error": float(table[column].sum() / known.sum() - 1),
                       "rel_error_per_galaxy": {str(g): float(v) for g, v in rel.dropna().items()},
                       "counts_per_galaxy": {str(g): [float(table.loc[g, column]), float(known[g])]
                                             for g in rel.dropna().index}}
    return rows


def paired_median_difference(errors, reference, *, resamples=2000, seed=0):
    """Median of ``errors`` minus median of ``reference`` (dicts galaxy -> error) on their common galaxies.

    Returns the difference and its 95 % bootstrap interval, the galaxies resampled in pairs: both
    medians move with the same galaxies, so the interval is narrower than either median's.
    """
    galaxies = sorted(set(errors) & set(reference))
    a = np.array([errors[g] for g in galaxies])
    b = np.array([reference[g] for g in galaxies])
    take = _bootstrap_rows(len(galaxies), resamples=resamples, seed=seed)
    diffs = np.median(a[take], axis=1) - np.median(b[take], axis=1)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {"n_galaxies": len(galaxies), "difference": float(np.median(a) - np.median(b)),
            "interval_95": [float(low), float(high)]}


def _rel_errors(run):
    """Per-galaxy absolute relative count errors (thr) of a run, galaxy -> error."""
    return dict(zip(map(str, run["per_galaxy"]["galaxy"]), run["per_galaxy"]["abs_rel_error"]))


def chosen_on_training_cluster(runs, direction):
    """The methods with the smallest training-cluster median (thr), ties within rounding all named.

    The published network and ensembles with it are left out: their training-cluster figures are
    on galaxies they were trained on.
    """
    honest = [r for r in runs if r["direction"] == direction and r["train_cluster"] is not None
              and "network" not in r["method"]]
    if not honest:
        return []
    best = min(r["train_cluster"]["threshold"]["median_abs_rel_error"] for r in honest)
    tied = [r for r in honest if r["train_cluster"]["threshold"]["median_abs_rel_error"] <= best + 5e-4]
    # a "+t" row whose fitted threshold is 0.5 is its method's own row again
    names = {r["method"] for r in tied}
    return [r for r in tied if not (r["method"].endswith("+t") and r["method"][:-2] in names
                                    and r["target"]["threshold_used"] == 0.5)]


#: Thresholds of the diagnostic floor: every hundredth from 0.10 to 0.90.
FLOOR_THRESHOLDS = tuple(float(t) for t in np.round(np.arange(0.10, 0.901, 0.01), 2))
#: Scales of the summed p_gc tried by the diagnostic floor.
FLOOR_SCALES = np.round(np.arange(0.60, 1.401, 0.01), 2)


def oracle_floor(predictions, galaxy, truth):
    """How low the target's median count error goes when the TARGET's counts pick the threshold.

    A diagnostic of the figure, never of a choice: for each method's target predictions, the
    threshold (or the scale of the summed p_gc) that fits the target's published numbers best,
    which no method may know. If even these stay above a target figure, no threshold or
    calibration chosen without the target's counts reaches it with these models.
    """
    from globsml.adapt import count_errors

    known = truth.dropna()
    rows = []
    for name, p in predictions.items():
        errors = count_errors(p, galaxy, known, thresholds=FLOOR_THRESHOLDS)
        best = int(np.argmin(errors))
        summed = pd.Series(p).groupby(galaxy).sum()
        n = known.reindex(summed.index)
        summed, n = summed[n.notna()], n[n.notna()]
        sum_errors = [float(np.median(np.abs(c * summed - n) / n)) for c in FLOOR_SCALES]
        k = int(np.argmin(sum_errors))
        rows.append({"method": name, "threshold": FLOOR_THRESHOLDS[best], "median": float(errors[best]),
                     "at_0.5": float(errors[FLOOR_THRESHOLDS.index(0.5)]),
                     "scale": float(FLOOR_SCALES[k]), "median_sum": sum_errors[k],
                     "median_by_threshold": [round(float(e), 5) for e in errors]})
    return sorted(rows, key=lambda r: r["median"])


def write_figure(results, drawn, path):
    """Virgo -> Fornax in two panels: the count error against the threshold, and the counts galaxy by galaxy.

    ``drawn``: the names of the Fornax predictions whose :func:`oracle_floor` curves are drawn.
    """
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = {r["method"]: r["median_by_threshold"] for r in results["oracle_floor"]["virgo2fornax"]}
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.2))
    for name in drawn:
        style = {"ls": "--", "lw": 1.2} if "(published" in name else {"lw": 1.8}
        left.plot(FLOOR_THRESHOLDS, curves[name], label=name, **style)
    left.axhline(0.05, color="k", lw=1, ls=":")
    left.text(0.11, 0.051, "issue 19's figure (0.05)", va="bottom", fontsize=9)
    left.set(xlabel="threshold on p_gc", ylabel="median |n - n_published| / n_published over 36 galaxies",
             title="Fornax: count error at every threshold (the Fornax counts pick none of them)", ylim=(0, 0.3))
    left.title.set_fontsize(10)
    left.legend(fontsize=8)
    chosen = chosen_on_training_cluster(results["runs"], "virgo2fornax")
    for r in chosen:
        per = pd.DataFrame(r["per_galaxy"])
        right.scatter(per["published"], per["n_candidates"] / per["published"] - 1, s=18, alpha=0.75,
                      label=f"{r['method']} (median {r['target']['threshold']['median_abs_rel_error']:.3f})")
    reference = results["published_reference"]["published CNN (200 MC passes)"]
    predicted, published = np.array(list(reference["counts_per_galaxy"].values())).T
    right.scatter(published, predicted / published - 1, s=22, marker="x", color="k",
                  label=f"published CNN (median {reference['median_abs_rel_error']:.3f})")
    right.axhspan(-0.05, 0.05, color="0.88", label="within 5 %")
    right.axhline(0, color="k", lw=1)
    right.set(xscale="log", xlabel="published number of GCs",
              ylabel="(n - n_published) / n_published",
              title="Fornax galaxy by galaxy: the methods chosen on Virgo, and the published CNN")
    right.set_xticks([15, 20, 30, 50, 100, 200, 300])
    right.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    right.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    right.title.set_fontsize(10)
    right.legend(fontsize=8)
    fig.tight_layout()
    tmp = Path(path).with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def _cell(text):
    """Text for a markdown table cell (an ensemble's '|' would end the cell)."""
    return text.replace("|", "\\|")


def write_markdown(results, path):
    lines = ["# Models trained without target labels, on the REAL cut-outs: per-galaxy GC counts", "",
             f"Command: `{results['command']}` (seed {results['seed']}, {results['folds']} folds of the "
             "training cluster's galaxies).", "",
             "Median absolute relative error of the per-galaxy number of GCs against the published numbers, "
             "counting sources with p_gc > t (*thr*) or summing p_gc (*sum*); *total* is the relative error "
             "of the total count (thr). **train cluster**: the training cluster's galaxies, each predicted by "
             "the method trained without them (what methods are chosen on); **target**: the other cluster, "
             "reported once. *agree*: ROC AUC of p_gc against the training cluster's published CNN's "
             "decisions on the target (diagnostic). Variants: *+em* moves p_gc galaxy by galaxy to the GC "
             "share EM estimates (label shift); *+t* counts above the threshold t that fits the training "
             "cluster's counts best.", ""]
    for direction in dict.fromkeys(r["direction"] for r in results["runs"]):
        train_cluster, target_cluster, _ = DIRECTIONS[direction]
        lines += [f"## {train_cluster} -> {target_cluster}", ""]
        if direction == "virgo2fornax":
            lines += ["![Fornax count error against the threshold, and the counts galaxy by galaxy]"
                      "(real_transfer.png)", ""]
        lines += [f"| method | {train_cluster} thr | {train_cluster} sum | **{target_cluster} thr** | "
                  f"{target_cluster} thr, 95 % interval | {target_cluster} sum | {target_cluster} total | t | agree |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in results["runs"]:
            if r["direction"] != direction:
                continue
            c, t = r["train_cluster"], r["target"]
            own = ("| - | - |" if c is None else
                   f"| {c['threshold']['median_abs_rel_error']:.3f} | {c['expected']['median_abs_rel_error']:.3f} |")
            low, high = t["threshold"]["median_interval_95"]
            lines.append(f"| {_cell(r['method'])} {own} **{t['threshold']['median_abs_rel_error']:.3f}** | "
                         f"{low:.3f}-{high:.3f} | "
                         f"{t['expected']['median_abs_rel_error']:.3f} | {t['threshold']['total_rel_error']:+.3f} | "
                         f"{t['threshold_used']:.2f} | {t['agreement_auc']:.3f} |")
        chosen = chosen_on_training_cluster(results["runs"], direction)
        lines += ["", f"*network* is the published CNN trained on {train_cluster} itself: its {train_cluster} "
                  "figures are on its own training galaxies, so it (and every ensemble with it) is not chosen "
                  "on them."
                  + ("" if not chosen else
                     f" Chosen on {train_cluster} (best {train_cluster} thr among the rest, "
                     f"{chosen[0]['train_cluster']['threshold']['median_abs_rel_error']:.3f}"
                     + (", a tie" if len(chosen) > 1 else "") + "): "
                     + "; ".join(f"**{r['method']}**, {target_cluster} median "
                                 f"{r['target']['threshold']['median_abs_rel_error']:.3f}, total "
                                 f"{r['target']['threshold']['total_rel_error']:+.3f}" for r in chosen) + ".")]
        tuned = [r for r in results["runs"] if r["direction"] == direction and r["train_cluster"] is None]
        if tuned:
            lines += ["", f"*network+adversarial* / *network+self-training*: the {train_cluster}-trained published "
                      f"network fine-tuned towards the {target_cluster} cut-outs (`globsml.adapt.adapt_network`, "
                      f"3 epochs, lr 1e-4, its own {train_cluster} probabilities as labels). Having been trained on "
                      f"every {train_cluster} galaxy, it has no held-out {train_cluster} figures (-). Domain AUC of "
                      "the last hidden layer before -> after: "
                      + "; ".join(f"{r['method']} {r['target']['adaptation']['domain_auc_before']:.3f} -> "
                                  f"{r['target']['adaptation']['domain_auc_after']:.3f}" for r in tuned) + "."]
        if direction == "virgo2fornax":
            lines += ["", "Published references on the same Fornax galaxies (their own predicted counts):", ""]
            lines += [f"- {k}: median {v['median_abs_rel_error']:.3f} (95 % interval "
                      f"{v['median_interval_95'][0]:.3f}-{v['median_interval_95'][1]:.3f}), "
                      f"total {v['total_rel_error']:+.3f}"
                      for k, v in results["published_reference"].items()]
            lines += ["", "The methods chosen on Virgo against the published CNN, galaxy by galaxy (the difference "
                      "of the two medians over the same galaxies, 95 % interval with the galaxies resampled in "
                      "pairs; below zero: better than the published CNN):", ""]
            for r in chosen:
                d = r["target"]["vs_published_cnn"]
                lines.append(f"- {r['method']}: {d['difference']:+.3f} ({d['interval_95'][0]:+.3f} to "
                             f"{d['interval_95'][1]:+.3f}, {d['n_galaxies']} galaxies)")
            lines += ["", "*95 % interval*: of the median over galaxies resampled with replacement (bootstrap): "
                      "how far the median would move had other galaxies like these been observed. With 36 "
                      "galaxies, most of them with 14-80 GCs (one source is 1-7 % of the count), medians closer "
                      "together than about 0.02 are not told apart by this cluster."]
        floor = results.get("oracle_floor", {}).get(direction)
        if floor:
            shown = floor[:6] + [r for r in floor[6:] if "(published" in r["method"]]
            lines += ["", f"### How low the {target_cluster} figure can go (a diagnostic, not a choice)", "",
                      f"Each method's {target_cluster} predictions counted above the threshold that fits the "
                      f"{target_cluster} numbers of GCs best (0.10-0.90 by hundredths), or its summed p_gc scaled "
                      f"by the factor that fits them best (0.60-1.40): both chosen WITH the {target_cluster} "
                      "counts, which no method may see, so these are lower bounds for every threshold and "
                      f"calibration of these models, not results. The published networks are their stored "
                      f"scores; the one trained on {target_cluster} is on its own training galaxies. The six "
                      f"lowest of {len(floor)} rows and the published networks:", "",
                      "| predictions | at 0.5 | best threshold | median there | best scale of the sum | "
                      "median there |", "|---|---|---|---|---|---|"]
            lines += [f"| {_cell(r['method'])} | {r['at_0.5']:.3f} | {r['threshold']:.2f} | **{r['median']:.3f}** | "
                      f"{r['scale']:.2f} | {r['median_sum']:.3f} |" for r in shown]
            best_sum = min(floor, key=lambda r: r["median_sum"])
            lines += ["", f"Lowest with the {target_cluster} counts choosing: **{floor[0]['median']:.3f}** "
                      f"({floor[0]['method']}, threshold {floor[0]['threshold']:.2f}) by threshold, "
                      f"{best_sum['median_sum']:.3f} ({best_sum['method']}) by scaled sum."]
        lines.append("")
    write_text(path, "\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mock", default=None, help="a full-size mock survey directory")
    parser.add_argument("--real", default=str(ROOT.parent / "shared" / "gcdata"))
    parser.add_argument("--cache", default=str(ROOT / "benchmarks" / ".cache"))
    parser.add_argument("--direction", default="virgo2fornax", choices=[*DIRECTIONS, "both"])
    parser.add_argument("--methods", default=",".join([*METHODS, *ENSEMBLES]))
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS), help="results path without suffix (.json and .md are written)")
    args = parser.parse_args(argv)
    unknown = sorted({m for name in args.methods.split(",") for m in name.split("|")} - set(METHODS))
    if unknown:
        parser.error(f"--methods: unknown {', '.join(unknown)}; expected names of {', '.join(METHODS)}, "
                     "or members of those joined by '|'")

    from globsml.adapt import count_threshold

    real = real_sources(args.real, args.cache)
    truth = published_counts(args.real)
    directions = list(DIRECTIONS) if args.direction == "both" else [args.direction]
    results = {"command": "python benchmarks/real_transfer.py " + " ".join(argv if argv is not None else sys.argv[1:]),
               "mock": str(args.mock), "seed": args.seed, "folds": args.folds, "runs": [],
               "published_reference": published_reference(args.real, truth, set(real["galaxy"]))}
    for direction in directions:
        train_cluster, target_cluster, teacher = DIRECTIONS[direction]
        mock = functools.lru_cache(maxsize=1)(functools.partial(mock_sources, args.mock, train_cluster))
        train = real[real["cluster"] == train_cluster].reset_index(drop=True).rename(columns={teacher: "teacher"})
        target = real[real["cluster"] == target_cluster].reset_index(drop=True)
        # nothing of the target cluster but its cut-outs' features and galaxy names
        # (and the score of the published network trained on the TRAINING cluster, a teacher)
        target = target[["galaxy", "ID", *_features(target).columns, teacher]].rename(columns={teacher: "teacher"})
        train = train[["galaxy", "ID", *_features(train).columns, "teacher"]]
        train_counts = truth[truth.index.isin(train["galaxy"])]
        CONTEXT.update(real=str(args.real), teacher=teacher, train=train)
        folds = train_cluster_folds(train, train_counts, args.folds, args.seed)
        memo = {}

        def predict(name, fold, held):
            """p_gc of a method on held-out training galaxies (fold >= 0) or on the target (fold -1)."""
            if (name, fold) in memo:
                return memo[name, fold]
            if "|" in name:
                memo[name, fold] = np.mean([predict(m, fold, held) for m in name.split("|")], axis=0)
                return memo[name, fold]
            # one method's predictions take minutes to an hour (the network methods); they are
            # kept per method, fold and seed, so that a rerun measures what is new only
            mock_tag = hashlib.sha1(str(Path(args.mock).resolve() if args.mock else "").encode()).hexdigest()[:8]
            stored = (Path(args.cache) / "predictions"
                      / f"{direction}-{name}-fold{fold}-seed{args.seed}-mock{mock_tag}.json")
            if stored.is_file():
                saved = json.loads(stored.read_text())
                CONTEXT.setdefault("adaptations", {}).update(
                    {(teacher, saved["adaptation"]["method"]): saved["adaptation"]} if "adaptation" in saved else {})
                memo[name, fold] = np.asarray(saved["p_gc"])
                return memo[name, fold]
            if fold < 0:
                memo[name, fold] = METHODS[name](mock, train, train_counts, target, args.seed)
            else:
                out = train["galaxy"].isin(held).to_numpy()
                memo[name, fold] = METHODS[name](mock, train[~out], train_counts.drop(held), train[out], args.seed)
            record = {"p_gc": memo[name, fold].tolist()}
            if name in NETWORK_METHODS:
                record["adaptation"] = CONTEXT["adaptations"][teacher, NETWORK_METHODS[name].method]
            stored.parent.mkdir(parents=True, exist_ok=True)
            write_text(stored, json.dumps(record))
            return memo[name, fold]

        galaxy_train = train["galaxy"].to_numpy()
        order = np.concatenate([np.flatnonzero(np.isin(galaxy_train, held)) for held in folds])
        for name in args.methods.split(","):
            t0 = time.time()
            if name in NETWORK_METHODS:
                p = predict(name, -1, None)
                report, per_galaxy = score(p, target["galaxy"].to_numpy(), truth)
                report["agreement_auc"] = agreement(p, target["teacher"].to_numpy())
                report["adaptation"] = CONTEXT["adaptations"][teacher, NETWORK_METHODS[name].method]
                results["runs"].append({"direction": direction, "method": name, "train_cluster": None,
                                        "target": report, "seconds": round(time.time() - t0, 1),
                                        "per_galaxy": per_galaxy.reset_index().to_dict(orient="list")})
                print(f"{direction} {name:28s} target {report['threshold']['median_abs_rel_error']:.3f}/"
                      f"{report['expected']['median_abs_rel_error']:.3f} total "
                      f"{report['threshold']['total_rel_error']:+.3f} ({time.time() - t0:.0f} s)", flush=True)
                continue
            # choice: on the training cluster, fold by fold (the held-out galaxies' counts unseen)
            p_fold = np.concatenate([predict(name, k, held) for k, held in enumerate(folds)])
            share_fold = np.concatenate([np.full(np.isin(galaxy_train, held).sum(),
                                                 training_share(train[~np.isin(galaxy_train, held)],
                                                                train_counts.drop(held)))
                                         for held in folds])
            galaxy_fold = galaxy_train[order]
            # report: the target, once
            p = predict(name, -1, None)
            share = training_share(train, train_counts)
            galaxy_target = target["galaxy"].to_numpy()
            for variant in ("", "+em", "+t"):
                pf, pt, t = p_fold, p, 0.5
                if variant == "+em":
                    pf = with_prior_shift(p_fold, galaxy_fold, share_fold[0])
                    pt = with_prior_shift(p, galaxy_target, share)
                elif variant == "+t":
                    t = count_threshold(p_fold, galaxy_fold, train_counts)[0]
                choice, _ = score(pf, galaxy_fold, train_counts, threshold=t)
                report, per_galaxy = score(pt, galaxy_target, truth, threshold=t)
                report["agreement_auc"] = agreement(pt, target["teacher"].to_numpy())
                label = name + variant
                results["runs"].append({"direction": direction, "method": label, "train_cluster": choice,
                                        "target": report, "seconds": round(time.time() - t0, 1),
                                        "per_galaxy": per_galaxy.reset_index().to_dict(orient="list")})
                print(f"{direction} {label:28s} train-cluster {choice['threshold']['median_abs_rel_error']:.3f}"
                      f"/{choice['expected']['median_abs_rel_error']:.3f}  target "
                      f"{report['threshold']['median_abs_rel_error']:.3f}/{report['expected']['median_abs_rel_error']:.3f}"
                      f" total {report['threshold']['total_rel_error']:+.3f}/{report['expected']['total_rel_error']:+.3f}"
                      f" t={t:.2f} ({time.time() - t0:.0f} s)", flush=True)
        np.savez_compressed(Path(args.cache) / f"predictions_{direction}.npz",
                            **{f"{k[0]}@{k[1]}": v for k, v in memo.items()})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results["oracle_floor"] = {}
    for direction in directions:
        _, target_cluster, teacher = DIRECTIONS[direction]
        target = real[real["cluster"] == target_cluster].reset_index(drop=True)
        kept = np.load(Path(args.cache) / f"predictions_{direction}.npz")
        predictions = {key.rsplit("@", 1)[0]: kept[key] for key in kept.files if key.endswith("@-1")}
        for _, _, network in DIRECTIONS.values():
            trained_on = next(c for c, _, n in DIRECTIONS.values() if n == network)
            predictions[f"{network} (published, trained on {trained_on})"] = target[network].to_numpy()
        results["oracle_floor"][direction] = oracle_floor(predictions, target["galaxy"].to_numpy(), truth)
        if direction == "virgo2fornax":
            chosen = [r["method"].removesuffix("+t")
                      for r in chosen_on_training_cluster(results["runs"], direction)]
            # the unadapted baseline, the method of `globsml train --teacher`, and the chosen ones
            drawn = [name for name in dict.fromkeys(["mock", "teacher+self", *chosen]) if name in predictions]
            drawn += [name for name in predictions if "(published" in name]
            write_figure(results, drawn, out.with_suffix(".png"))
    if "virgo2fornax" in directions:
        cnn = results["published_reference"]["published CNN (200 MC passes)"]["rel_error_per_galaxy"]
        for r in chosen_on_training_cluster(results["runs"], "virgo2fornax"):
            r["target"]["vs_published_cnn"] = paired_median_difference(_rel_errors(r), cnn)
    write_text(out.with_suffix(".json"), json.dumps(results, indent=1) + "\n")
    write_markdown(results, out.with_suffix(".md"))
    return results


if __name__ == "__main__":
    main()
