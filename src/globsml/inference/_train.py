"""Train a registered model under a set-up and save it as a bundle."""

import inspect

import numpy as np

from .._errors import GlobsmlError
from ..data import FEATURES, GCDataset, load_dataset
from ._bundle import Bundle
from ._predict import evaluate_predictions, metrics_summary

__all__ = ["train_bundle", "SETUPS", "CALIBRATION_FRACTION"]


def _catboost_fast(random_state=0, iterations=300, depth=6, thread_count=1, **params):
    """The survey-scale fast path (see :mod:`globsml.inference._fast`)."""
    from ._fast import FastCatBoostClassifier

    return FastCatBoostClassifier(iterations=iterations, depth=depth, random_seed=random_state,
                                  thread_count=thread_count, verbose=0, allow_writing_files=False,
                                  use_best_model=False, **params)


def _register_fast_path():
    from ..models import model_names, register_model

    if "catboost-fast" not in model_names():
        register_model("catboost-fast", _catboost_fast, published=False, quick={"iterations": 50},
                       description="CatBoost, 300 trees on raw float32 features, no rescaling step: "
                                   "the fast path for survey-scale prediction (globsml.inference)")

#: Set-ups a bundle can be trained under (those of :mod:`globsml.experiments`
#: that give one model): All2All (random 76:4:20 split, seeded) and
#: Cluster2Cluster (train on one cluster, test on the other).
SETUPS = ("all2all", "virgo2fornax", "fornax2virgo")


def _split(ds, setup, seed):
    """The set-up's :class:`globsml.experiments.Split` (train, validation, test rows)."""
    from ..experiments import all2all_split, cluster2cluster_split

    key = str(setup).lower()
    if key == "all2all":
        split = all2all_split(len(ds), seed=seed)
    elif key in ("virgo2fornax", "fornax2virgo"):
        split = cluster2cluster_split(ds.cluster, train_cluster="Virgo" if key == "virgo2fornax" else "Fornax",
                                      seed=seed)
    else:
        raise GlobsmlError(f"unknown set-up {setup!r} for a bundle; known set-ups: {', '.join(SETUPS)}")
    for what in ("train", "test"):
        if len(getattr(split, what)) == 0:
            raise GlobsmlError(f"{ds.name or 'data'}: set-up {setup!r} leaves no {what} sources")
    return split


#: Default fraction of the training part kept aside as calibration data.
CALIBRATION_FRACTION = 0.1


def _calibration_split(train, y, fraction, seed):
    """(rows to fit on, calibration rows) of the training rows, stratified by label."""
    try:
        fraction = float(fraction)
    except (TypeError, ValueError):
        raise GlobsmlError(f"calibration_fraction must be a number in [0, 1), got {fraction!r}") from None
    if not 0.0 <= fraction < 1.0:
        raise GlobsmlError(f"calibration_fraction must lie in [0, 1), got {fraction}")
    n_cal = int(round(fraction * len(train)))
    if n_cal == 0:
        return train, train[:0]
    from sklearn.model_selection import train_test_split

    labels = y[train]
    stratify = labels if np.bincount(labels.astype(int), minlength=2).min() >= 2 else None
    fit, cal = train_test_split(train, test_size=n_cal, random_state=seed, stratify=stratify)
    return np.sort(fit), np.sort(cal)


def _describe(ds, rows):
    sub = ds.select(rows)
    y = sub.y
    out = {}
    for cluster in sorted(set(sub.cluster)):
        mask = sub.cluster == cluster
        out[str(cluster)] = {
            "n_sources": int(mask.sum()),
            "n_gcs": int(y[mask].sum()),
            "n_galaxies": int(sub.sources.loc[mask, "galaxy"].nunique()),
        }
    return out


def _complete(ds, rows):
    """Training rows the published preprocessing keeps (no NaN photometry)."""
    from ..preprocessing import complete_rows

    return rows[np.asarray(complete_rows(ds.sources.iloc[rows]), dtype=bool)]


def _inputs(ds, rows, kind):
    if kind == "images":
        return ds.images(rows)
    return ds.features().iloc[rows]


def train_bundle(data, model, *, setup, seed=0, out=None, threshold=0.5, quick=False, params=None,
                 calibration_fraction=CALIBRATION_FRACTION, progress=False):
    """Fit a registered model under a set-up, validate it, and save a bundle.

    Parameters
    ----------
    data : str, Path or GCDataset
        A labelled data set (``None`` is not accepted: say which data).
    model : str
        A registry name (``"forest"``, ``"hgb"``, ``"cnn"``...), or
        ``"catboost-fast"``, the fast path for survey-scale prediction
        (:class:`~globsml.inference._fast.FastCatBoostClassifier`, registered
        here so that the workers of a Dask run need not import the models).
        A published pretrained network is not refitted, only validated and
        bundled.
    setup : str
        ``"all2all"`` (random 76:4:20 train/validation/test split),
        ``"virgo2fornax"`` or ``"fornax2virgo"`` (train 95:5 on one
        cluster, test on the other), as :mod:`globsml.experiments`. Models
        whose ``fit`` takes ``eval_set`` get the validation part; the
        bundle's metrics are those of the test part.
    seed : int
        Seed of the model and the split; same seed, same bundle.
    out : str or Path, optional
        Where to save the bundle (a directory, or a ``.zip`` file).
    threshold : float
        The bundle's decision threshold on p_gc.
    quick : bool
        The model's fast profile (fewer trees / epochs).
    params : dict, optional
        Overrides of the model's defaults.
    calibration_fraction : float
        Fraction of the training part held out of the fit (stratified by
        label, seeded) and kept in the bundle with its p_gc: the
        calibration data of ``predict --fdr`` (conformal p-values). ``0``
        fits on the whole training part and keeps no calibration data. A
        published network keeps none (it saw its training data).
    progress : bool
        Show progress (forwarded to image prediction).

    Returns
    -------
    Bundle
        Fitted; saved when ``out`` is given.
    """
    from ..models import make_model, model_spec

    _register_fast_path()
    if data is None:
        raise GlobsmlError("train_bundle needs the training data (a labelled data directory or GCDataset)")
    ds = data if isinstance(data, GCDataset) else load_dataset(data)
    if not ds.labelled:
        raise GlobsmlError(f"{ds.name or 'data'}: training needs labels (a pGC column)")
    spec = model_spec(model)
    split = _split(ds, setup, seed)
    train, val, test = split.train, split.validation, split.test
    if spec.input == "features":
        train = _complete(ds, train)
    y = ds.y
    estimator = make_model(model, random_state=seed, quick=quick, **dict(params or {}))
    pretrained = getattr(estimator, "pretrained", False)
    train, calibration = _calibration_split(train, y, 0.0 if pretrained else calibration_fraction, seed)
    if len(np.unique(y[train])) < 2:
        raise GlobsmlError(f"{ds.name or 'data'}: the training part of {setup!r} holds only one class")
    if not pretrained:  # published networks are only validated
        fit_kw = {}
        if len(val) and "eval_set" in inspect.signature(estimator.fit).parameters:
            fit_kw["eval_set"] = (_inputs(ds, val, spec.input), y[val])
        estimator.fit(_inputs(ds, train, spec.input), y[train], **fit_kw)
    bundle = Bundle(
        estimator,
        input=spec.input,
        name=model,
        features=list(FEATURES),
        threshold=threshold,
    )
    if len(calibration):
        bundle.calibration = {"scores": bundle.predict_proba(_inputs(ds, calibration, spec.input)),
                              "labels": y[calibration]}
    p_test = bundle.predict_proba(_inputs(ds, test, spec.input), progress=progress)
    test_sources = ds.sources.iloc[test]
    metrics = evaluate_predictions(y[test], p_test, galaxy=test_sources["galaxy"].to_numpy(),
                                   ids=test_sources["ID"].to_numpy(), threshold=threshold)
    bundle.metrics = metrics_summary(metrics)
    bundle.training = {
        "data": str(ds.name),
        "setup": str(setup),
        "seed": int(seed),
        "quick": bool(quick),
        "params": dict(params or {}),
        "train": _describe(ds, train),
        "calibration": _describe(ds, calibration) if bundle.calibration is not None else {},
        "validation": _describe(ds, val),
        "test": _describe(ds, test),
    }
    if out is not None:
        bundle.save(out)
    return bundle
