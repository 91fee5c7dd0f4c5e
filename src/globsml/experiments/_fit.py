"""The one way to fit a registered model on a split, as the benchmark, ``train`` and ``explain`` do."""

import inspect

import numpy as np

from .._errors import GlobsmlError
from ..models import fit_or_reuse, make_model, model_spec
from ..preprocessing import complete_rows

__all__ = ["fit_on_split", "model_inputs", "training_rows"]


def model_inputs(data, kind, rows, features=None):
    """What a model of input ``kind`` takes for ``rows`` of ``data``.

    Parameters
    ----------
    data : GCDataset
    kind : {"features", "images"}
        The registry's :attr:`~globsml.models.ModelSpec.input`.
    rows : array of int
        Row positions.
    features : pandas.DataFrame, optional
        ``data.features()``, when the caller has it already.

    Returns
    -------
    pandas.DataFrame or numpy.ndarray
        The raw features of the rows, or their (n, 2, 20, 20) cut-outs.
    """
    if kind == "images":
        return data.images(rows)
    if features is None:
        features = data.features()
    return features.iloc[rows]


def _fit_accepts_eval_set(model):
    try:
        return "eval_set" in inspect.signature(model.fit).parameters
    except (TypeError, ValueError):
        return False


def training_rows(data, kind, rows, features=None, *, context=None):
    """The rows a model of input ``kind`` trains on, out of ``rows``.

    Tabular models, as published, train on the rows without NaN photometry
    (their test rows are imputed by the model).

    Raises
    ------
    GlobsmlError
        When the rows hold only one class, naming ``context`` (e.g. the run).
    """
    rows = np.asarray(rows, dtype=np.int64)
    if kind == "features":
        rows = rows[complete_rows(model_inputs(data, kind, rows, features))]
    if len(np.unique(data.y[rows])) < 2:
        raise GlobsmlError(
            f"{context or data.name or 'data'}: the training set ({len(rows)} sources) holds only one "
            "class; the data need GCs and non-GCs"
        )
    return rows


def fit_on_split(model, data, split, *, seed=0, quick=False, params=None, features=None, context=None, fit=None,
                 labels=None, n_jobs=None):
    """Fit a registered model on a split's training rows.

    This is the central step of ``globsml benchmark``, ``globsml train`` and
    ``globsml explain``: tabular models train on the rows without NaN
    photometry (test rows are imputed by the model), models whose ``fit``
    takes ``eval_set`` get the validation rows for early stopping or
    calibration, and identical fits inside :func:`globsml.models.reusing_fits`
    are done once. A published, pretrained network is returned unfitted.

    Parameters
    ----------
    model : str
        A registry name.
    data : GCDataset
        Labelled data.
    split : Split
        Row positions; its ``train`` and ``validation`` parts are used.
    seed : int
        The model's ``random_state``.
    quick : bool
        The model's quick profile (fewer trees, epochs).
    params : dict, optional
        Overrides of the model's parameters.
    features : pandas.DataFrame, optional
        ``data.features()``, when the caller has it already.
    context : str, optional
        Names the run in error messages (e.g. ``"All2All run 3"``).
    fit : callable, optional
        ``fit(estimator, X_train, y_train)`` returning the fitted estimator,
        instead of the plain fit: ``globsml train --adapt-to`` adapts the fit
        to a target this way (:func:`globsml.adapt.adapt_fit`).
    labels : array_like, optional
        One label per row of ``data`` given to ``fit`` instead of
        ``data.y``: soft labels in [0, 1], a teacher's probabilities
        (``globsml train --teacher``). Needs ``fit``, since a plain
        classifier takes only hard labels.
    n_jobs : int, optional
        Every ``n_jobs`` of the estimator (a forest's trees, a neighbour
        search), for a caller that runs several fits side by side; None
        keeps the model's own (all cores). No result depends on it.

    Returns
    -------
    estimator : fitted classifier
    train : numpy.ndarray
        The row positions it was fitted on.
    """
    spec = model_spec(model)
    if spec.input == "features" and features is None:
        features = data.features()
    if labels is not None and fit is None:
        raise GlobsmlError("fit_on_split: labels (soft labels) need a fit that takes them")
    train = training_rows(data, spec.input, split.train, features, context=context)
    y = data.y if labels is None else np.asarray(labels, dtype=float)
    estimator = make_model(model, random_state=seed, quick=quick, **(params or {}))
    if n_jobs is not None:
        estimator = _set_n_jobs(estimator, n_jobs)
    if getattr(estimator, "pretrained", False):  # published networks predict, they are not fitted
        return estimator, train
    X_train = model_inputs(data, spec.input, train, features)
    if fit is not None:
        return fit(estimator, X_train, y[train]), train
    if len(split.validation) and _fit_accepts_eval_set(estimator):
        eval_set = (model_inputs(data, spec.input, split.validation, features), y[split.validation])
        return estimator.fit(X_train, y[train], eval_set=eval_set), train
    return fit_or_reuse(estimator, X_train, y[train]), train


def _set_n_jobs(estimator, n_jobs):
    """``estimator`` with every ``n_jobs`` parameter, nested ones too, set to ``n_jobs``.

    Parameters left at None (one worker, scikit-learn's default) stay None:
    scikit-learn >= 1.8 warns that LogisticRegression's ``n_jobs`` has no effect.
    """
    if not hasattr(estimator, "get_params"):
        return estimator
    names = [k for k, v in estimator.get_params(deep=True).items()
             if (k == "n_jobs" or k.endswith("__n_jobs")) and v is not None]
    return estimator.set_params(**{k: int(n_jobs) for k in names})
