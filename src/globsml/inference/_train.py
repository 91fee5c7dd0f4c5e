"""Train a registered model under a set-up and save it as a bundle."""

from dataclasses import replace

import numpy as np
import pandas as pd

from .._checks import check_threshold
from .._errors import GlobsmlError
from ..data import FEATURES, GC_THRESHOLD
from ..experiments import fit_on_split, get_setup, model_inputs, resolve_dataset, training_rows
from ..models import model_spec
from ._bundle import Bundle
from ._predict import evaluate_predictions, metrics_summary

__all__ = ["train_bundle", "CALIBRATION_FRACTION"]


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


def _split(ds, setup, seed):
    """The set-up's :class:`globsml.experiments.Split` of the model trained with ``seed``."""
    split = get_setup(setup).split(ds, seed=seed)
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


def _target_features(adapt_to, *, ebv=None, progress=False):
    """Features of the unlabelled target: its table's, or measured on its cut-outs."""
    from ._predict import dataset_features

    ds = resolve_dataset(adapt_to)
    return dataset_features(ds, ebv=ebv, progress=progress), ds


def _fit_adapted(model, ds, split, adapt_to, *, adaptation, ebv, seed, quick, params, progress, context,
                 labels=None):
    """:func:`globsml.experiments.fit_on_split`, with the fit adapted to unlabelled target data.

    Returns (estimator, train rows, what the adaptation did).
    """
    from ..adapt import adapt_fit

    _check_tabular(model, "--adapt-to adapts")
    target, target_ds = _target_features(adapt_to, ebv=ebv, progress=progress)
    adapted = {}

    def fit(estimator, X, y):
        fitted, done = adapt_fit(estimator, X, y, target[list(FEATURES)], methods=adaptation, random_state=seed)
        adapted.update(done, target=str(target_ds.name), galaxies=int(target["galaxy"].nunique()))
        return fitted

    estimator, train = fit_on_split(model, ds, split, seed=seed, quick=quick, params=params, context=context, fit=fit,
                                    labels=labels)
    return estimator, train, adapted


def _check_tabular(model, what):
    spec = model_spec(model)
    if spec.input != "features" or spec.pretrained:
        raise GlobsmlError(f"{what} tabular models; {model!r} is not one")


def _taught(ds, teacher, *, ebv=None, progress=False):
    """``ds`` labelled by a teacher: its p_gc on every source becomes the source's pGC.

    The data need no labels of their own (any they have are replaced);
    tabular students need features, measured on the cut-outs where the data
    hold none. Returns (the labelled data set, what the teacher was).
    """
    from ..data import GCDataset
    from ._bundle import load_bundle
    from ._predict import dataset_features

    teacher = load_bundle(teacher)
    name = ds.name or "data"
    if teacher.input == "images" and not ds.has_images:
        missing = sorted(set(ds.galaxies) - set(ds.image_files or {}))
        raise GlobsmlError(f"{name}: the teacher {teacher.name!r} looks at cut-outs, and galaxy {missing[0]}"
                           + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                           + " has no <galaxy>_images.fits")
    sources = dataset_features(ds, ebv=ebv, progress=progress).drop(columns=["pGC"], errors="ignore")
    featured = GCDataset(sources, image_files=ds.image_files, name=ds.name)
    rows = np.arange(len(sources))
    p_gc = teacher.predict_proba(model_inputs(featured, teacher.input, rows), progress=progress)
    labelled = GCDataset(sources.assign(pGC=p_gc), image_files=ds.image_files, name=ds.name)
    return labelled, {"name": str(teacher.name), "labels": "the teacher's p_gc on the training data (soft labels)",
                      "mean_p_gc": round(float(np.mean(p_gc)), 4) if len(p_gc) else None}


def _threshold_from_counts(fit, ds, split, counts, *, spec, adapted, seed, progress, n_folds=4):
    """The threshold that reproduces known numbers of GCs on galaxies held out of the fit, and its record."""
    from ..adapt import count_threshold, galaxy_count_errors, galaxy_folds

    galaxy = ds.sources["galaxy"].to_numpy().astype(str)
    counted = sorted(set(pd.Series(counts).dropna().index.astype(str)) & set(galaxy))
    if len(counted) < 2:
        raise GlobsmlError(f"{ds.name or 'data'}: fitting a threshold to numbers of GCs needs at least two galaxies "
                           f"of the data with a known number; {len(counted)} found")
    folds = galaxy_folds(counted, min(n_folds, len(counted)), seed=seed)
    held_p, held_galaxy = [], []
    for k, held in enumerate(folds):
        if progress:
            print(f"threshold fit: fold {k + 1}/{len(folds)} ({len(held)} galaxies held out)", flush=True)
        out = np.isin(galaxy, held)
        rows = np.flatnonzero(out)
        fold_split = replace(split, train=split.train[~out[split.train]],
                             validation=split.validation[~out[split.validation]])
        estimator = fit(fold_split, ds.select(rows) if adapted else None)[0]
        held_p.append(Bundle(estimator, input=spec.input, name="fold", features=list(FEATURES))
                      .predict_proba(model_inputs(ds, spec.input, rows)))
        held_galaxy.append(galaxy[rows])
    held_p, held_galaxy = np.concatenate(held_p), np.concatenate(held_galaxy)
    threshold, error = count_threshold(held_p, held_galaxy, counts)
    rel = galaxy_count_errors(held_p, held_galaxy, counts, threshold=threshold)
    # how far a galaxy's count strays, galaxy by galaxy: what `predict --counts` reports beside its interval
    spread = {f"{q}": round(float(np.percentile(rel, q)), 4) for q in (50, 68, 90)}
    return threshold, {"threshold": threshold, "median_abs_rel_count_error": round(error, 4),
                       "abs_rel_count_error_percentiles": spread, "galaxies": len(counted), "folds": len(folds)}


def train_bundle(data, model, *, setup, seed=0, out=None, threshold=GC_THRESHOLD, quick=False, params=None,
                 calibration_fraction=CALIBRATION_FRACTION, progress=False, adapt_to=None, adaptation=("weights",),
                 ebv=None, teacher=None, data_ebv=None, fit_threshold=None):
    """Fit a registered model under a set-up, validate it, and save a bundle.

    Parameters
    ----------
    data : str, Path or GCDataset
        A labelled data set (``None`` is not accepted: say which data); with
        ``teacher``, any data set the teacher can read (cut-outs alone for a
        published network), labelled or not.
    model : str
        A registry name (``"forest"``, ``"hgb"``, ``"cnn"``...), or
        ``"catboost-fast"``, the fast path for survey-scale prediction
        (:class:`~globsml.inference._fast.FastCatBoostClassifier`, registered
        here so that the workers of a Dask run need not import the models).
        A published pretrained network is not refitted, only validated and
        bundled.
    setup : str
        A set-up of :data:`globsml.experiments.SETUPS` that gives one model
        per seed (``globsml.experiments.setup_names(one_model=True)``:
        ``"all2all"``, ``"virgo2fornax"``, ``"fornax2virgo"``). The model
        is fitted by :func:`globsml.experiments.fit_on_split`, as the
        benchmark fits it; the bundle's metrics are those of the test part.
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
    adapt_to : str, Path or GCDataset, optional
        Unlabelled target data (a directory of cut-outs, a data directory or
        a table): the model is fitted adapted to it
        (:func:`globsml.adapt.adapt_fit`) and the bundle records what it was
        adapted to (``bundle.training["adaptation"]``). Tabular models only.
    adaptation : sequence of str
        The adaptations (:data:`globsml.adapt.ADAPTATIONS`): ``"weights"``,
        ``"self-training"``.
    ebv : float, optional
        E(B-V) for features measured on the target's cut-outs.
    teacher : str, Path or Bundle, optional
        A trained bundle or a published network (e.g.
        ``"published-cnn-virgo2fornax"``) whose p_gc on ``data`` are the
        labels: the model is fitted to them as soft labels
        (:func:`globsml.adapt.fit_soft_labels`, distillation), so ``data``
        need no labels of its own. Tabular models only. The bundle's test
        metrics and its calibration data (of ``predict --fdr``) are then
        against the teacher's decisions, and ``bundle.training["teacher"]``
        says so.
    data_ebv : float, optional
        E(B-V) for features measured on ``data``'s cut-outs (with
        ``teacher``, when ``data`` holds cut-outs alone).
    fit_threshold : pandas.Series or dict, optional
        Known numbers of GCs of galaxies of ``data`` (all of a galaxy's
        sources are counted; NaN: unknown). The bundle's threshold becomes
        the one that reproduces them best (:func:`globsml.adapt.count_threshold`)
        when each galaxy is predicted by the same recipe fitted without it
        (four folds of the counted galaxies, :func:`globsml.adapt.galaxy_folds`;
        with ``adapt_to``, each fold is adapted to its held-out galaxies,
        which play the target). ``bundle.training["threshold_fit"]``
        records the fit.

    Examples
    --------
    A tabular model taught by a published network on unlabelled cut-outs,
    then self-trained on the target's (the method of
    ``docs/guide/adapting.rst``)::

        bundle = train_bundle("virgo_cutouts/", "hgb", setup="all2all",
                              teacher="published-cnn-virgo2fornax", data_ebv=0.029,
                              adapt_to="my_cutouts/", adaptation=("self-training",), ebv=0.015)

    Returns
    -------
    Bundle
        Fitted; saved when ``out`` is given.
    """
    check_threshold(threshold)
    if fit_threshold is not None and threshold != GC_THRESHOLD:
        raise GlobsmlError("give a threshold or the numbers of GCs to fit one to, not both")
    _register_fast_path()
    if data is None:
        raise GlobsmlError("train_bundle needs the training data (a labelled data directory or GCDataset)")
    ds = resolve_dataset(data)
    taught, labels = None, None
    if teacher is not None:
        _check_tabular(model, "--teacher teaches")
        ds, taught = _taught(ds, teacher, ebv=data_ebv, progress=progress)
        labels = ds.sources["pGC"].to_numpy(dtype=float)
    elif not ds.labelled:
        raise GlobsmlError(f"{ds.name or 'data'}: training needs labels (a pGC column), or a teacher (--teacher)")
    spec = model_spec(model)
    split = _split(ds, setup, seed)
    val, test = split.validation, split.test
    context = f"{ds.name or 'data'}, set-up {setup!r}"
    y = ds.y
    # the calibration part of `predict --fdr`: held out of the rows the model would train on
    rows = training_rows(ds, spec.input, split.train, context=context)
    keep, calibration = _calibration_split(rows, y, 0.0 if spec.pretrained else calibration_fraction, seed)
    split = replace(split, train=keep)

    def fit(split, target):
        """(estimator, train rows, what the adaptation did) of this training's recipe on ``split``."""
        if target is not None:
            return _fit_adapted(model, ds, split, target, adaptation=adaptation, ebv=ebv, seed=seed, quick=quick,
                                params=params, progress=progress, context=context, labels=labels)
        if taught is not None:
            from ..adapt import fit_soft_labels

            return (*fit_on_split(model, ds, split, seed=seed, quick=quick, params=params, context=context,
                                  fit=fit_soft_labels, labels=labels), None)
        return (*fit_on_split(model, ds, split, seed=seed, quick=quick, params=params, context=context), None)

    fitted_threshold = None
    if fit_threshold is not None:
        threshold, fitted_threshold = _threshold_from_counts(fit, ds, split, fit_threshold, spec=spec,
                                                             adapted=adapt_to is not None, seed=seed,
                                                             progress=progress)
    estimator, train, adapted = fit(split, adapt_to)
    bundle = Bundle(
        estimator,
        input=spec.input,
        name=model,
        features=list(FEATURES),
        threshold=threshold,
    )
    if len(calibration):
        bundle.calibration = {"scores": bundle.predict_proba(model_inputs(ds, spec.input, calibration)),
                              "labels": y[calibration]}
    p_test = bundle.predict_proba(model_inputs(ds, spec.input, test), progress=progress)
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
        "train_share": float(np.mean(y[train])),
    }
    if adapted is not None:
        bundle.training["adaptation"] = adapted
    if taught is not None:
        bundle.training["teacher"] = taught
    if fitted_threshold is not None:
        bundle.training["threshold_fit"] = fitted_threshold
    if out is not None:
        bundle.save(out)
    return bundle
