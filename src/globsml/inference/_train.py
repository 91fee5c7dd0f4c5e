"""Train a registered model under a set-up and save it as a bundle."""

import numpy as np

from .._errors import GlobsmlError
from ..data import FEATURES, GCDataset, load_dataset
from ._bundle import Bundle
from ._predict import evaluate_predictions, metrics_summary

__all__ = ["train_bundle", "SETUPS"]

#: Set-ups that train_bundle understands without :mod:`globsml.experiments`:
#: train on one cluster, validate on the other, or a stratified random split.
SETUPS = ("virgo2fornax", "fornax2virgo", "random")


def _split(ds, setup, seed):
    """Positions of the training and validation rows of a set-up."""
    key = str(setup).lower().replace("_", "").replace("-", "")
    if key in ("virgo2fornax", "fornax2virgo"):
        train_c, val_c = ("Virgo", "Fornax") if key == "virgo2fornax" else ("Fornax", "Virgo")
        train = np.flatnonzero(ds.cluster == train_c)
        val = np.flatnonzero(ds.cluster == val_c)
    elif key == "random":
        from sklearn.model_selection import train_test_split

        idx = np.arange(len(ds))
        train, val = train_test_split(idx, test_size=0.25, random_state=seed, stratify=ds.y)
        train, val = np.sort(train), np.sort(val)
    else:
        raise GlobsmlError(f"unknown set-up {setup!r}; known set-ups: {', '.join(SETUPS)}")
    for what, rows, cl in (("training", train, setup), ("validation", val, setup)):
        if len(rows) == 0:
            raise GlobsmlError(f"{ds.name or 'data'}: set-up {cl!r} leaves no {what} sources")
    return train, val


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
    try:
        from ..preprocessing import complete_rows
    except ImportError:  # pragma: no cover - preprocessing is part of globsml
        return rows
    keep = np.asarray(complete_rows(ds.sources.iloc[rows]))
    if keep.dtype == bool:
        return rows[keep]
    return rows[np.isin(np.arange(len(rows)), keep)] if keep.size and keep.max() < len(rows) else rows


def _inputs(ds, rows, kind):
    if kind == "images":
        return ds.images(rows)
    return ds.features().iloc[rows]


def train_bundle(data, model, *, setup, seed=0, out=None, threshold=0.5, quick=False, params=None,
                 progress=False):
    """Fit a registered model under a set-up, validate it, and save a bundle.

    Parameters
    ----------
    data : str, Path or GCDataset
        A labelled data set (``None`` is not accepted: say which data).
    model : str
        A registry name (``"forest"``, ``"hgb"``, ``"cnn"``...). A published
        pretrained network is not refitted, only validated and bundled.
    setup : str
        ``"virgo2fornax"``, ``"fornax2virgo"`` (train on one cluster,
        validate on the other) or ``"random"`` (stratified 75/25 split).
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
    progress : bool
        Show progress (forwarded to image prediction).

    Returns
    -------
    Bundle
        Fitted; saved when ``out`` is given.
    """
    from ..models import make_model, model_spec

    ds = data if isinstance(data, GCDataset) else load_dataset(data)
    if not ds.labelled:
        raise GlobsmlError(f"{ds.name or 'data'}: training needs labels (a pGC column)")
    spec = model_spec(model)
    train, val = _split(ds, setup, seed)
    if spec.input == "features":
        train = _complete(ds, train)
    estimator = make_model(model, random_state=seed, quick=quick, **dict(params or {}))
    y = ds.y
    if not getattr(estimator, "pretrained", False):  # published networks are only validated
        estimator.fit(_inputs(ds, train, spec.input), y[train])
    bundle = Bundle(
        estimator,
        input=spec.input,
        name=model,
        features=list(FEATURES),
        threshold=threshold,
    )
    p_val = bundle.predict_proba(_inputs(ds, val, spec.input), progress=progress)
    val_sources = ds.sources.iloc[val]
    metrics = evaluate_predictions(y[val], p_val, galaxy=val_sources["galaxy"].to_numpy(),
                                   ids=val_sources["ID"].to_numpy(), threshold=threshold)
    bundle.metrics = metrics_summary(metrics)
    bundle.training = {
        "data": str(ds.name),
        "setup": str(setup),
        "seed": int(seed),
        "quick": bool(quick),
        "params": dict(params or {}),
        "train": _describe(ds, train),
        "validation": _describe(ds, val),
    }
    if out is not None:
        bundle.save(out)
    return bundle
