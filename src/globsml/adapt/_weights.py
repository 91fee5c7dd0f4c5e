"""Importance weights of training sources from a domain classifier.

Under covariate shift (the same GCs, seen under other conditions) a model
fitted with each training source weighted by ``p_target(x) / p_train(x)``
minimises the target's risk. The density ratio is estimated as the mock's
realism critic does: a classifier told to separate training from target
sources, whose odds are the ratio up to the constant ``n_train/n_target``.
The odds are estimated out of fold, so that no source weighs itself.
"""

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold

from .._errors import GlobsmlError

__all__ = ["domain_weights"]


def domain_weights(X_train, X_target, *, clip=20.0, n_splits=5, max_iter=200, random_state=0,
                   return_auc=False):
    """Weights that make the training sources look like the target's.

    Parameters
    ----------
    X_train, X_target : array_like or DataFrame
        Features of the labelled training sources and of the unlabelled
        target sources (same columns; NaN allowed).
    clip : float
        Weights are clipped to ``[1/clip, clip]`` times their median before
        normalising, so that a few training sources cannot carry the fit.
    n_splits : int
        Folds of the out-of-fold estimate.
    max_iter : int
        Boosting iterations of the domain classifier.
    random_state : int
        Seed of the folds and the classifier.
    return_auc : bool
        Also return the domain classifier's out-of-fold ROC AUC (0.5: the
        two sets look alike; 1: they do not overlap and weighting cannot
        help).

    Returns
    -------
    weights : numpy.ndarray
        One weight per training source, mean 1.
    auc : float
        Only with ``return_auc``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> w = domain_weights(rng.normal(0, 1, (2000, 1)), rng.normal(1, 1, (2000, 1)))
    >>> bool(w[:10].mean() > 0) and round(float(w.mean()), 6)
    1.0
    """
    from sklearn.metrics import roc_auc_score

    a = np.asarray(X_train, dtype=float)
    b = np.asarray(X_target, dtype=float)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise GlobsmlError(f"domain_weights: training {a.shape} and target {b.shape} features must be "
                           "2-d with the same columns")
    if len(a) < n_splits or len(b) < n_splits:
        raise GlobsmlError(f"domain_weights: need at least {n_splits} training and target sources, got "
                           f"{len(a)} and {len(b)}")
    if not clip > 1:
        raise GlobsmlError(f"domain_weights: clip must be > 1, got {clip}")
    X = np.vstack([a, b])
    d = np.r_[np.zeros(len(a)), np.ones(len(b))]
    score = np.empty(len(X))
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for fit, held in folds.split(X, d):
        clf = HistGradientBoostingClassifier(max_iter=max_iter, learning_rate=0.1, max_leaf_nodes=15,
                                             l2_regularization=1.0, random_state=random_state)
        clf.fit(X[fit], d[fit])
        score[held] = clf.predict_proba(X[held])[:, 1]
    p = np.clip(score[: len(a)], 1e-6, 1 - 1e-6)
    w = p / (1 - p) * len(a) / len(b)
    mid = np.median(w)
    w = np.clip(w, mid / clip, mid * clip)
    w = w / w.mean()
    if return_auc:
        return w, float(roc_auc_score(d, score))
    return w
