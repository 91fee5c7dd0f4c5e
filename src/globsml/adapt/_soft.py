"""Fitting a scikit-learn classifier to probabilities instead of hard labels.

Distillation from a teacher, labels from proportions and pseudo-labels all
give each source a probability ``q`` of being a GC rather than a label. A
classifier minimising the log loss is fitted to ``q`` exactly by showing it
each source twice, once as a GC with weight ``q`` and once as a non-GC
with weight ``1 - q`` (the weighted log loss of the pair is the cross
entropy with ``q``).
"""

import numpy as np

from .._errors import GlobsmlError

__all__ = ["fit_soft_labels"]


def fit_soft_labels(estimator, X, q, *, sample_weight=None):
    """Fit ``estimator`` to soft labels ``q`` in [0, 1].

    Parameters
    ----------
    estimator : classifier
        Any scikit-learn classifier whose ``fit`` takes ``sample_weight``,
        or a :class:`~sklearn.pipeline.Pipeline` ending in one (the weights
        go to its last step), as the registered models are.
    X : DataFrame or array_like
        Features, one row per source.
    q : array_like
        Probability of each source being a GC.
    sample_weight : array_like, optional
        Weights of the sources (importance weights), multiplied in.

    Returns
    -------
    estimator
        Fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.linspace(-3, 3, 200)[:, None]
    >>> q = 1 / (1 + np.exp(-2 * X[:, 0]))
    >>> clf = fit_soft_labels(LogisticRegression(C=1e6), X, q)
    >>> round(float(clf.coef_[0, 0]), 1)
    2.0
    """
    q = np.asarray(q, dtype=float)
    if q.ndim != 1 or len(q) != len(X):
        raise GlobsmlError(f"fit_soft_labels: {len(q)} soft labels for {len(X)} sources")
    if not np.all(np.isfinite(q)) or q.min(initial=0) < 0 or q.max(initial=0) > 1:
        raise GlobsmlError("fit_soft_labels: soft labels must be finite and in [0, 1]")
    w = np.ones(len(q)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if w.shape != q.shape or not np.all(np.isfinite(w)) or w.min(initial=0) < 0:
        raise GlobsmlError("fit_soft_labels: sample_weight must be finite, >= 0, one per source")
    if hasattr(X, "iloc"):
        import pandas as pd

        X2 = pd.concat([X, X], ignore_index=True)
    else:
        X2 = np.concatenate([np.asarray(X), np.asarray(X)])
    y2 = np.r_[np.ones(len(q), dtype=int), np.zeros(len(q), dtype=int)]
    w2 = np.r_[w * q, w * (1 - q)]
    keep = w2 > 0
    if hasattr(X2, "iloc"):
        X2 = X2.iloc[np.flatnonzero(keep)]
    else:
        X2 = X2[keep]
    if len(np.unique(y2[keep])) < 2:
        raise GlobsmlError("fit_soft_labels: the soft labels hold a single class")
    return estimator.fit(X2, y2[keep], **_weight_param(estimator, w2[keep]))


def _weight_param(estimator, weights):
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        return {f"{estimator.steps[-1][0]}__sample_weight": weights}
    return {"sample_weight": weights}
