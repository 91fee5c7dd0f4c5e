"""One fit that adapts a tabular model to unlabelled target sources."""

import numpy as np

from .._errors import GlobsmlError
from ._self_training import self_train
from ._soft import fit_soft_labels
from ._weights import domain_weights

__all__ = ["ADAPTATIONS", "adapt_fit"]

#: The adaptations :func:`adapt_fit` knows, in the order they are applied.
ADAPTATIONS = ("weights", "self-training")


def adapt_fit(estimator, X, y, X_target, *, methods=("weights",), confidence=0.9, rounds=2, random_state=0):
    """Fit ``estimator`` on labelled sources, adapted to unlabelled target sources.

    Parameters
    ----------
    estimator : classifier
        Unfitted; a scikit-learn classifier taking ``sample_weight`` or a
        pipeline ending in one (the registered tabular models).
    X, y : DataFrame, array_like
        Labelled training features and labels (0/1, or soft labels in
        [0, 1]).
    X_target : DataFrame
        Features of the target's sources (same columns), unlabelled.
    methods : sequence of str
        Any of :data:`ADAPTATIONS`: ``"weights"`` weighs each training
        source by the density ratio target/training of a domain classifier
        (:func:`domain_weights`); ``"self-training"`` adds the target's
        confident predictions as labels (:func:`self_train`).
    confidence, rounds : float, int
        Of the self-training.
    random_state : int
        Seed of the domain classifier's folds.

    Returns
    -------
    estimator
        Fitted.
    record : dict
        What was done, for the bundle: the methods, the domain classifier's
        ROC AUC (0.5: the target looks like the training data) and the
        effective number of training sources after weighting.
    """
    methods = tuple(methods)
    unknown = sorted(set(methods) - set(ADAPTATIONS))
    if unknown or not methods:
        raise GlobsmlError(f"unknown adaptation {', '.join(unknown) or '(none given)'}; "
                           f"known: {', '.join(ADAPTATIONS)}")
    if len(X_target) == 0:
        raise GlobsmlError("adaptation needs target sources; the target holds none")
    y = np.asarray(y, dtype=float)
    record = {"methods": [m for m in ADAPTATIONS if m in methods], "n_target": int(len(X_target))}
    weights = None
    if "weights" in methods:
        weights, auc = domain_weights(X, X_target, random_state=random_state, return_auc=True)
        record["domain_auc"] = round(auc, 4)
        record["effective_training_sources"] = round(float(weights.sum() ** 2 / (weights**2).sum()), 1)
    if "self-training" in methods:
        fitted = self_train(estimator, X, y, X_target, confidence=confidence, rounds=rounds, sample_weight=weights)
        record.update(confidence=float(confidence), rounds=int(rounds))
    else:
        fitted = fit_soft_labels(estimator, X, y, sample_weight=weights)
    return fitted, record
