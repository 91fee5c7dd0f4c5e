"""Self-training: the target's own confident predictions as extra labels."""

import numpy as np
from sklearn.base import clone

from .._errors import GlobsmlError
from ._soft import fit_soft_labels

__all__ = ["self_train"]


def self_train(estimator, X_train, q_train, X_target, *, confidence=0.9, rounds=2, target_weight=1.0,
               sample_weight=None):
    """Fit on labelled sources plus the target's confidently predicted ones.

    Each round fits a clone of ``estimator`` to the training sources (soft
    or hard labels ``q_train``) together with the target sources whose
    predicted probability is above ``confidence`` (pseudo-GCs) or below
    ``1 - confidence`` (pseudo-non-GCs); the next round predicts the
    target again with that fit. The target's ambiguous sources never get
    a label, so the boundary moves only where the target itself is sure.

    Parameters
    ----------
    estimator : classifier
        Unfitted; its ``fit`` must take ``sample_weight``.
    X_train : DataFrame or array_like
        Labelled training features.
    q_train : array_like
        Their labels (0/1) or soft labels in [0, 1].
    X_target : DataFrame or array_like
        Unlabelled target features (same columns).
    confidence : float
        In (0.5, 1): how sure a prediction must be to become a label.
    rounds : int
        Number of refits with pseudo-labels (0: the plain fit).
    target_weight : float
        The pseudo-labelled target sources together weigh this many times
        the training sources (1: as much; with less the training sources,
        far more numerous near the old boundary, keep it where it was).
    sample_weight : array_like, optional
        Weights of the training sources.

    Returns
    -------
    estimator
        The last fit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(0, 1, (400, 1)); y = (X[:, 0] > 0).astype(int)
    >>> clf = self_train(LogisticRegression(), X, y, X + 0.3, rounds=1)
    >>> clf.predict([[2.0]]).tolist()
    [1]
    """
    if not 0.5 < confidence < 1:
        raise GlobsmlError(f"self_train: confidence must be in (0.5, 1), got {confidence}")
    if not target_weight > 0:
        raise GlobsmlError(f"self_train: target_weight must be > 0, got {target_weight}")
    if int(rounds) < 0:
        raise GlobsmlError(f"self_train: rounds must be >= 0, got {rounds}")
    q_train = np.asarray(q_train, dtype=float)
    w_train = np.ones(len(q_train)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    fitted = fit_soft_labels(clone(estimator), X_train, q_train, sample_weight=w_train)
    for _ in range(int(rounds)):
        p = fitted.predict_proba(X_target)[:, 1]
        sure = (p > confidence) | (p < 1 - confidence)
        if not sure.any():
            break
        X_all = _stack(X_train, _take(X_target, np.flatnonzero(sure)))
        q_all = np.r_[q_train, (p[sure] > 0.5).astype(float)]
        w_all = np.r_[w_train, np.full(int(sure.sum()), target_weight * w_train.sum() / sure.sum())]
        fitted = fit_soft_labels(clone(estimator), X_all, q_all, sample_weight=w_all)
    return fitted


def _take(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows]


def _stack(a, b):
    if hasattr(a, "iloc"):
        import pandas as pd

        return pd.concat([a, b], ignore_index=True)
    return np.concatenate([np.asarray(a), np.asarray(b)])
