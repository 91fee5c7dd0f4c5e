"""Reuse of identical fits inside one benchmark run group.

Two registry models can fit the very same estimator on the very same data:
``calibrated-forest`` fits the ``forest`` (same parameters, same seed) and
then calibrates it on the validation split. Fits are deterministic given
their parameters and data, so the second one can take the first one's
fitted estimator instead of growing 100 trees again. The cache is off
unless a caller switches it on with :func:`reusing_fits` (the benchmark
does, around the models of one split), so that nothing is held in memory
behind a user's back. Inside the block every fit is kept until the block
ends (other models may be fitted between two that share a fit), so a block
should hold the models of one training set only.

Beyond identical fits, two kinds of shared work are kept here (their
estimators are in :mod:`globsml.models._tabular`): the trees of a random
forest, by seed and data (a forest of n trees is the first n trees of the
same forest with more, so ``forest`` and the first round of ``adaboost``
grow their common 50 trees once), and the neighbour search of k-nearest
neighbours on the same training and query rows (``1nn`` takes the nearest of
the 12 that ``knn`` found).
"""

from contextlib import contextmanager

import joblib

__all__ = ["reusing_fits", "fit_or_reuse", "fit_key", "reused", "sharing", "lookup", "keep"]

_CACHE = None  # a dict while reusing_fits() is active


@contextmanager
def reusing_fits():
    """Within this block, :func:`fit_or_reuse` returns an earlier identical fit."""
    global _CACHE
    outer = _CACHE
    _CACHE = {} if outer is None else outer
    try:
        yield
    finally:
        if outer is None:
            _CACHE = None


def fit_key(*parts):
    """The fingerprint of a fit: what decides it (class, parameters, data), hashed.

    joblib's hash: arrays and frames by content, stable across processes and
    runs, so it also keys training checkpoints on disk.
    """
    return joblib.hash(parts)


def sharing():
    """Whether a :func:`reusing_fits` block is active (shared work is kept)."""
    return _CACHE is not None


def lookup(key):
    """What :func:`keep` stored under ``key`` in the active block; None outside a block or if nothing."""
    return None if _CACHE is None else _CACHE.get(key)


def keep(key, value):
    """Store ``value`` under ``key`` for the rest of the active block (nothing outside a block)."""
    if _CACHE is not None:
        _CACHE[key] = value


def reused(key, fit):
    """``fit()``, or what it returned under the same ``key`` earlier within :func:`reusing_fits`."""
    if _CACHE is None:
        return fit()
    if key not in _CACHE:
        _CACHE[key] = fit()
    return _CACHE[key]


def fit_or_reuse(estimator, X, y):
    """``estimator.fit(X, y)``, or the same fit done earlier within :func:`reusing_fits`.

    Parameters
    ----------
    estimator : unfitted scikit-learn estimator
    X, y : training data

    Returns
    -------
    estimator
        The fitted estimator: ``estimator`` itself, or the earlier identical
        fit (shared: do not fit it again).
    """
    if _CACHE is None or not hasattr(estimator, "get_params"):
        return estimator.fit(X, y)  # nothing to reuse, or no parameters to know a fit by
    # The parameters (nested estimators included) and the data decide a fit.
    key = fit_key(type(estimator).__qualname__, estimator.get_params(deep=True), X, y)
    return reused(key, lambda: estimator.fit(X, y))
